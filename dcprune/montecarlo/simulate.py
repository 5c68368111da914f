"""One Monte Carlo of the real regressions for every problem family, and its result.

:func:`simulate` asks the problem's family for its sampler
(:meth:`dcprune.families.Family.monte_carlo`; for diagonal problems :func:`diagonal_trials`,
which lays the latent problem out coordinate by coordinate), which runs the trials in batches
(:func:`~dcprune.montecarlo.batches.run_batches`: memory check, Ctrl-C between batches,
progress callback); the per-trial values become one :class:`Simulation`, with mean ± standard
error per quantity and width (:func:`summarize`) and warnings (:func:`flag_warnings`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from ..checks import available_memory, finite_number, whole_number
from ..coefficients import check_coefficients
from ..families.base import Family
from ..families.spectra import DiagonalProblem
from ..quantities import MEASURED
from ..results import Estimate, Risks, RowsView, mean_se
from . import kernels
from .batches import Interrupted, run_batches
from .runtime import check_threads, guard_memory, memory_rows
from .sampler import Sampler
from .students import unlabelled_count

__all__ = ["QUANTITIES", "SimulationRow", "Simulation", "SimulationInterrupted", "Trials", "simulate",
           "simulate_problem", "diagonal_trials", "split_quantized", "summarize", "flag_warnings",
           "quantized_warnings", "available_memory"]

QUANTITIES = MEASURED


class Trials(NamedTuple):
    """What a family's Monte Carlo returns: per-trial ``values`` ``(trials, widths, quantities)``,
    ``flags`` ``(trials, widths)``, for families that average feature draws ``draw``, and for
    a quantized run ``quantized`` ``(trials, widths, 4)`` (columns
    :data:`~dcprune.montecarlo.kernels.QUANTIZED_COLUMNS`)."""

    values: np.ndarray
    flags: np.ndarray
    draw: np.ndarray | None = None
    quantized: np.ndarray | None = None


@dataclass(frozen=True)
class SimulationRow:
    """Estimates at one width: ``risk[name]`` (a :class:`~dcprune.results.Risks`) for every
    name of :data:`QUANTITIES`.

    ``flagged`` counts the trials in which a fit at this width was ill-conditioned (solved by
    SVD instead, docs/theory.rst §1; expected only near ``p = n``). ``quantized``: the measured
    quantized models (a :class:`~dcprune.quantization.Quantized` of estimates) when asked for.
    """

    width: float
    p: int
    risk: Risks
    flagged: int
    quantized: object = None

    def to_dict(self) -> dict:
        out = {
            "width": self.width,
            "p": self.p,
            "flagged": self.flagged,
            "risk": {k: v.to_dict() for k, v in self.risk.items()},
        }
        if self.quantized is not None:
            out["quantized"] = self.quantized.to_dict()
        return out


@dataclass(frozen=True)
class Simulation(RowsView):
    """A Monte Carlo run of ``problem``: per-trial ``values`` ``(trials, widths, quantities)``
    and ``flags`` ``(trials, widths)``, and per-width summaries ``rows``.

    ``draw[t]`` is the feature draw of trial ``t`` for families that average over draws
    (random features), else ``None``. ``quantized``: per-trial values ``(trials, widths, 4)`` of
    the quantized models (:data:`~dcprune.montecarlo.kernels.QUANTIZED_COLUMNS`) when the run
    was quantized, else ``None``.
    """

    problem: Family
    trials: int
    seed: int
    rows: tuple[SimulationRow, ...]
    values: np.ndarray = field(repr=False)
    flags: np.ndarray = field(repr=False)
    warnings: tuple[str, ...] = ()
    draw: np.ndarray | None = field(default=None, repr=False)
    #: Whether Ctrl-C stopped the run early (``trials`` is then the number completed).
    interrupted: bool = False
    quantized: np.ndarray | None = field(default=None, repr=False)

    @property
    def s(self) -> int:
        return int(self.problem.s)

    def draw_means(self, name: str) -> np.ndarray:
        """Per-draw means of ``name``, shape ``(draws, widths)`` (families with draws only)."""
        if self.draw is None:
            raise ValueError(f"a {self.problem.name} run has no feature draws")
        k = QUANTITIES.index(name)
        return np.array([self.values[self.draw == d, :, k].mean(axis=0) for d in np.unique(self.draw)])

    def title(self) -> list[str]:
        """Comment lines that head a table of the run."""
        return self.problem.title()[:1] + [
            f"# Monte Carlo: n={self.problem.n}, s={self.s}, trials={self.trials}, seed={self.seed}; "
            f"mean ± standard error"]

    def to_dict(self, single: bool = False) -> dict:
        """The JSON contract of ``dcprune simulate``: the problem's header plus trials and seed;
        one model's ``risk`` at top level when ``single``, else ``rows``."""
        head = self.problem.header()
        out = {"kappa": head.pop("kappa"), "alpha": head.pop("alpha"),
               "width": self.rows[0].width if single else None, **head,
               "s": self.s, "trials": self.trials, "seed": self.seed, "warnings": list(self.warnings)}
        if self.interrupted:
            out["interrupted"] = True
        if single:
            row = self.rows[0].to_dict()
            out.update(p=row["p"], flagged=row["flagged"], risk=row["risk"])
            if "quantized" in row:
                out["quantized"] = row["quantized"]
        else:
            out["rows"] = [r.to_dict() for r in self.rows]
        return out


class SimulationInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped :func:`simulate`; ``partial`` is the :class:`Simulation` of the trials
    completed (``partial.interrupted`` is true). A ``KeyboardInterrupt``, so code that does not
    look for it stops as usual."""

    def __init__(self, partial: Simulation, total: int, signum: int = 2):
        self.partial, self.total, self.signum = partial, total, signum
        super().__init__(f"after {partial.trials} of {total} trials")


def diagonal_trials(n, widths, s, trials, seed, ridge, sigma2, lam, beta, threads=None, progress=None,
                    unlabelled=None, *, coefficients="fixed", quantization=None, clips=None):
    """Per-trial :class:`Trials` of the diagonal problem with per-coordinate variances ``lam``
    and weights ``beta``; trial ``t`` is seeded by ``(seed, t)``; ``unlabelled`` is
    distillation's ``M`` (``None``: the population projection). ``coefficients="gaussian"``
    draws ``β_j ~ N(0, beta_j²)`` anew in every trial; ``quantization`` (a
    :class:`~dcprune.quantization.Quantization`) also measures the quantized dense and
    magnitude-pruned models (:func:`~dcprune.montecarlo.kernels.quantized_models`; ``clips``
    ``(widths, 2)``: the theory's ranges, which the ``optimal`` rule applies)."""
    sampler = Sampler.diagonal(lam, beta, math.sqrt(sigma2))
    coef_sd = np.abs(np.asarray(beta, dtype=float)) if check_coefficients(coefficients) == "gaussian" else None
    job = kernels.prepare(sampler, n=n, widths=widths, s=s, seed=seed, ridge=ridge, unlabelled=unlabelled,
                          coef_sd=coef_sd, quantization=quantization, clips=clips)
    values, flags = run_batches([(0, trials, job.trials)], trials=trials, n_widths=len(job.widths),
                                n=memory_rows(n, job.unlabelled), d=sampler.d, threads=threads, progress=progress,
                                columns=job.columns)
    return split_quantized(values, flags)


def split_quantized(values, flags, draw=None) -> Trials:
    """:class:`Trials` of per-trial ``values`` whose columns beyond :data:`QUANTITIES` are the
    quantized models' (:data:`~dcprune.montecarlo.kernels.QUANTIZED_COLUMNS`)."""
    k = len(QUANTITIES)
    extra = values[..., k:] if values.shape[-1] > k else None
    return Trials(values[..., :k], flags, draw, extra)


def summarize(values, flags, counts, n, quantized=None, quantization=None) -> tuple[SimulationRow, ...]:
    """One :class:`SimulationRow` per width from per-trial ``values`` ``(trials, widths, quantities)``
    and ``flags``: mean ± standard error over trials; ``counts`` are the widths' sizes ``p``;
    ``quantized`` ``(trials, widths, 4)`` the quantized models' values under ``quantization``."""
    mean, se = mean_se(values)
    measured = [None] * len(counts)
    if quantized is not None:
        from ..quantization.spec import Quantized

        q_mean, q_se = mean_se(quantized)
        cell = lambda i, j: Estimate(float(q_mean[i, j]), float(q_se[i, j]))  # noqa: E731
        measured = [Quantized(quantization, {"dense": cell(i, 2), "magnitude": cell(i, 3)},
                              {"dense": cell(i, 0), "magnitude": cell(i, 1)}, measured=True)
                    for i in range(len(counts))]
    return tuple(
        SimulationRow(
            width=float(counts[i] / n),
            p=int(counts[i]),
            risk=Risks({q: Estimate(float(mean[i, k]), float(se[i, k])) for k, q in enumerate(QUANTITIES)}),
            flagged=int(flags[:, i].sum()),
            quantized=measured[i],
        )
        for i in range(len(counts))
    )


def flag_warnings(rows, n: int, s: int, ridge: float, exact_width: int | None = None) -> list[str]:
    """Warnings for a run: ill-conditioned fits, and models at the interpolation peak.

    Without ridge a least-squares fit of ``p`` Gaussian columns on ``n`` samples has infinite
    expected risk when ``|p − n| ≤ 1`` (E tr W⁻¹ of a Wishart diverges there, docs/theory.rst §2),
    so the mean of its trials estimates nothing however many there are; the same holds for
    retraining when ``|s − n| ≤ 1``. The exception is ``exact_width``: a noiseless linear
    problem fitted with every feature has nothing to amplify, and its risk is exactly 0.
    """
    out = []
    flagged = [r for r in rows if r.flagged]
    if flagged:
        shown = ", ".join(f"{r.width:g} ({r.flagged})" for r in flagged[:5])
        out.append(
            f"ill-conditioned fits (cond(X) > {kernels.COND_LIMIT:g}) were solved by SVD at width "
            f"{shown}{' and more' if len(flagged) > 5 else ''} (trials flagged in parentheses)")
    if ridge == 0:
        peak = [r for r in rows if abs(r.p - n) <= 1 and r.p != exact_width]
        if peak:
            shown = ", ".join(f"{r.width:g} (p={r.p})" for r in peak)
            verb = "is" if len(peak) == 1 else "are"
            out.append(f"width {shown} {verb} at the interpolation peak (|p - n| <= 1, n={n}): the expected "
                       "risk is infinite, so the mean and SE of these trials do not converge")
        if abs(s - n) <= 1:
            out.append(f"s={s} is at the interpolation peak of retraining (|s - n| <= 1, n={n}): "
                       "the expected retrained risk is infinite, so its mean and SE do not converge")
    return out


def quantized_warnings(quantized, rows, quantization) -> list[str]:
    """A warning per model whose quantized risk is undefined in some trials: a fixed
    sign-magnitude clip at or below that trial's pruning threshold leaves the levels on
    ``[t, c]`` no room (the mean over trials is then NaN)."""
    out = []
    for j, model in enumerate(("dense", "magnitude")):
        bad = np.isnan(quantized[:, :, j]).sum(axis=0)
        if bad.any():
            shown = ", ".join(f"{r.width:g} ({k})" for r, k in zip(rows, bad) if k)
            out.append(f"quantized.risk.{model} is undefined in some trials at width {shown}: the fixed clip c is "
                       f"at or below that trial's pruning threshold t, so {quantization.quantizer} levels on [t, c] "
                       f"have no room (trials in parentheses)")
    return out


def simulate(
    problem: Family,
    *,
    width: float | None = None,
    points: int | None = None,
    width_min: float | None = None,
    widths=None,
    trials: int = 100,
    seed: int = 0,
    threads: int | None = None,
    progress: Callable[[int], None] | None = None,
    quantization=None,
) -> Simulation:
    """Monte Carlo of the real procedure for ``problem``, of any family (docs/theory.rst §1).

    ``problem.n`` is required. One model of width ``width`` (default ``κ``), the
    ``points``-width grid of :func:`dcprune.sweep`, or the given ``widths``. Every trial draws
    a training and a fresh sample, fits min-norm least squares (or ridge) at every width,
    prunes to ``s`` by magnitude, empirical Hessian, oracle and random, retrains on fresh and
    on the same data, distills into magnitude's and the oracle's kept features (on
    ``problem.unlabelled`` fresh unlabelled inputs, or the population projection;
    docs/theory.rst §12), and evaluates each model's population risk exactly; the family supplies
    the sampler (:meth:`dcprune.families.Family.monte_carlo`). ``progress(k)`` is called after
    each batch of ``k`` trials. Trial ``t`` is seeded by ``(seed, t)``: the same seed gives the
    same numbers whatever the thread count or batching.

    With ``quantization`` (a :class:`~dcprune.Quantization`; diagonal problems) every trial also
    quantizes its dense fit and its magnitude-pruned weights with the real quantizer, the clip
    chosen by the rule from that trial's own coefficients
    (:func:`~dcprune.montecarlo.kernels.quantized_models`), and each row's ``quantized`` holds
    the measured risks and clips (docs/theory.rst §11). A diagonal problem with
    ``coefficients="gaussian"`` draws a new β per trial, from ``(seed, t)`` too.
    """
    if not isinstance(problem, Family):
        raise ValueError(f"problem must be a dcprune problem, got problem={problem!r}")
    from ..quantization.spec import Quantization

    if quantization is not None and not isinstance(quantization, Quantization):
        raise ValueError(f"quantization must be a dcprune.Quantization or None, got quantization={quantization!r}")
    if not problem.finite:
        raise ValueError("n is required for Monte Carlo (the experiments have a finite sample size)")
    trials = whole_number("trials", trials, 2)  # a standard error needs two
    seed = whole_number("seed", seed, 0)
    if sum(x is not None for x in (width, points, widths)) > 1:
        raise ValueError("give one of width, points or widths")
    if points is not None:
        counts = problem.grid(points, width_min)
    elif widths is not None:
        counts = np.unique(problem.count(widths))
    else:
        counts = problem.count(problem.kappa if width is None else width)
    counts = counts.astype(np.int64)
    # The memory guard before the family builds anything (the coordinates of a diagonal
    # problem alone are 16·d bytes; run_batches checks again, with the exact dimensions).
    dim = max(int(problem.d), int(getattr(problem, "input_dim", 0) or 0))
    guard_memory(memory_rows(problem.n, unlabelled_count(problem.unlabelled)), dim, int(counts.size),
                 trials, check_threads(threads))
    exact = problem.d if problem.sigma2 == 0 and problem.linear else None

    def result(run: Trials, **extra) -> Simulation:
        rows = summarize(run.values, run.flags, counts, problem.n, run.quantized, quantization)
        warnings = flag_warnings(rows, problem.n, int(problem.s), problem.ridge, exact_width=exact)
        if run.quantized is not None:
            warnings += quantized_warnings(run.quantized, rows, quantization)
        return Simulation(problem, len(run.values), seed, rows, run.values, run.flags, tuple(warnings), run.draw,
                          quantized=run.quantized, **extra)

    try:
        run = problem.monte_carlo(counts, trials=trials, seed=seed, threads=threads, progress=progress,
                                  quantization=quantization)
    except Interrupted as stop:
        if not stop.done:
            raise stop.cause from None
        raise SimulationInterrupted(result(split_quantized(stop.values, stop.flags), interrupted=True), trials,
                                    stop.signum) from None
    return result(run)


def simulate_problem(problem: DiagonalProblem, n: int, s: int, *, trials: int = 100, seed: int = 0,
                     ridge: float = 0.0, threads: int | None = None) -> SimulationRow:
    """Monte Carlo for a model using every coordinate of a diagonal ``problem``.

    The counterpart of :func:`dcprune.predict_problem`; ``problem.mult`` must be integers.
    """
    n = whole_number("n", n, 2)
    s = whole_number("s", s, 1)
    trials = whole_number("trials", trials, 2)  # a standard error needs two
    seed = whole_number("seed", seed, 0)
    ridge = finite_number("ridge", ridge, nonnegative=True)
    if not np.all(problem.mult == np.round(problem.mult)):
        raise ValueError("problem.mult must be whole numbers to simulate coordinates")
    counts = problem.mult.astype(np.int64)
    lam, beta = np.repeat(problem.lam, counts), np.repeat(problem.beta, counts)
    d = int(counts.sum())
    run = diagonal_trials(n, np.array([d]), s, trials, seed, ridge, problem.sigma2, lam, beta, threads)
    return summarize(run.values, run.flags, np.array([d]), n)[0]
