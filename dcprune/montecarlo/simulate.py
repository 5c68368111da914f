"""Monte Carlo of the real regressions: diagonal problems, and the result objects.

The Python layer over :mod:`dcprune.montecarlo.kernels` (THEORY.md §1): it lays out the
latent problem of a :class:`~dcprune.Setup` coordinate by coordinate, runs the trials in
batches (:func:`~dcprune.montecarlo.batches.run_batches`: memory check, Ctrl-C between batches,
progress callback) and returns per-trial values with mean ± standard error per quantity and
width. :func:`summarize` and :func:`flag_warnings` serve the other runners too.
"""

from __future__ import annotations

import importlib
import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..checks import available_memory, finite_number, whole_number
from ..predict import Setup
from ..problems import DiagonalProblem
from ..quantities import MEASURED
from ..results import Estimate, Risks, RowsView, mean_se
from . import kernels
from .batches import run_batches
from .sampler import Sampler

__all__ = ["QUANTITIES", "SimulationRow", "Simulation", "simulate", "simulate_problem",
           "summarize", "flag_warnings", "available_memory"]

QUANTITIES = MEASURED


@dataclass(frozen=True)
class SimulationRow:
    """Estimates at one width: ``risk[name]`` (a :class:`~dcprune.results.Risks`) for every
    name of :data:`QUANTITIES`.

    ``flagged`` counts the trials in which a fit at this width was ill-conditioned (solved by
    SVD instead, THEORY.md §1; expected only near ``p = n``).
    """

    width: float
    p: int
    risk: Risks
    flagged: int

    def to_dict(self) -> dict:
        return {
            "width": self.width,
            "p": self.p,
            "flagged": self.flagged,
            "risk": {k: v.to_dict() for k, v in self.risk.items()},
        }


@dataclass(frozen=True)
class Simulation(RowsView):
    """A Monte Carlo run: per-trial ``values`` ``(trials, widths, quantities)`` and summaries."""

    setup: Setup
    s: int
    trials: int
    seed: int
    rows: tuple[SimulationRow, ...]
    values: np.ndarray = field(repr=False)
    flags: np.ndarray = field(repr=False)
    warnings: tuple[str, ...] = ()

    def to_dict(self, single: bool = False) -> dict:
        """The JSON contract of ``dcprune simulate``: the ``risk`` header plus trials and seed;
        one model's ``risk`` at top level when ``single``, else ``rows``."""
        head = self.setup.header()
        out = {
            "kappa": head["kappa"],
            "alpha": head["alpha"],
            "width": self.rows[0].width if single else None,
            "n": head["n"],
            "sigma2": head["sigma2"],
            "ridge": head["ridge"],
            "problem": head["problem"],
            "d": self.setup.d,
            "s": self.s,
            "trials": self.trials,
            "seed": self.seed,
            "warnings": list(self.warnings),
        }
        if single:
            row = self.rows[0].to_dict()
            out.update(p=row["p"], flagged=row["flagged"], risk=row["risk"])
        else:
            out["rows"] = [r.to_dict() for r in self.rows]
        return out


def _run(n, widths, s, trials, seed, ridge, sigma2, lam, beta, threads, progress):
    """Per-trial ``(values, flags)`` of a diagonal problem; trial ``t`` is seeded by ``(seed, t)``."""
    sampler = Sampler.diagonal(lam, beta, math.sqrt(sigma2))
    job = kernels.prepare(sampler, n=n, widths=widths, s=s, seed=seed, ridge=ridge)
    return run_batches([(0, trials, job.trials)], trials=trials, n_widths=len(job.widths), n=n,
                       d=sampler.d, threads=threads, progress=progress)


def summarize(values, flags, counts, n) -> tuple[SimulationRow, ...]:
    """One :class:`SimulationRow` per width from per-trial ``values`` ``(trials, widths, 11)``
    and ``flags``: mean ± standard error over trials; ``counts`` are the widths' sizes ``p``."""
    mean, se = mean_se(values)
    return tuple(
        SimulationRow(
            width=float(counts[i] / n),
            p=int(counts[i]),
            risk=Risks({q: Estimate(float(mean[i, k]), float(se[i, k])) for k, q in enumerate(QUANTITIES)}),
            flagged=int(flags[:, i].sum()),
        )
        for i in range(len(counts))
    )


def flag_warnings(rows, n: int, s: int, ridge: float, exact_width: int | None = None) -> list[str]:
    """Warnings for a run: ill-conditioned fits, and models at the interpolation peak.

    Without ridge a least-squares fit of ``p`` Gaussian columns on ``n`` samples has infinite
    expected risk when ``|p − n| ≤ 1`` (E tr W⁻¹ of a Wishart diverges there, THEORY.md §2),
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


def simulate(
    setup: Setup,
    *,
    width: float | None = None,
    points: int | None = None,
    width_min: float | None = None,
    trials: int = 100,
    seed: int = 0,
    threads: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> Simulation:
    """Monte Carlo of the real procedure for the latent problem of ``setup`` (THEORY.md §1).

    ``setup.n`` is required. Either one model of width ``width`` (default ``κ``) or the
    ``points``-width grid of :func:`dcprune.curve`. Every trial draws a training and a fresh
    sample, fits min-norm least squares (or ridge) at every width, prunes to ``s`` by
    magnitude, empirical Hessian, oracle and random, retrains on fresh and on the same data,
    and evaluates each model's population risk exactly. ``progress(k)`` is called after each
    batch of ``k`` trials.
    """
    if not setup.finite:
        raise ValueError("n is required for Monte Carlo (the experiments have a finite sample size)")
    trials = whole_number("trials", trials, 2)  # a standard error needs two
    seed = whole_number("seed", seed, 0)
    if width is not None and points is not None:
        raise ValueError("give either width or points, not both")
    if points is None:
        counts = setup.count(setup.kappa if width is None else width)
    else:
        counts = _curve_counts(setup, points, width_min)
    lam, beta = setup.spectrum.coordinates(setup.d)
    values, flags = _run(setup.n, counts.astype(np.int64), int(setup.s), trials, seed, setup.ridge,
                         setup.sigma2, lam, beta, threads, progress)
    rows = summarize(values, flags, counts, setup.n)
    return Simulation(setup, int(setup.s), trials, seed, rows, values, flags,
                      tuple(flag_warnings(rows, setup.n, int(setup.s), setup.ridge,
                                           exact_width=setup.d if setup.sigma2 == 0 else None)))


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
    values, flags = _run(n, np.array([d]), s, trials, seed, ridge, problem.sigma2, lam, beta,
                         threads, None)
    return summarize(values, flags, np.array([d]), n)[0]


def _curve_counts(setup: Setup, points: int, width_min: float | None) -> np.ndarray:
    """The width grid of :func:`dcprune.curve`, so that a simulation lines up with its curve.

    :mod:`dcprune.predict` has no public function for it yet; use it once there is one.
    """
    predict = importlib.import_module("dcprune.predict")  # the module; dcprune.predict is a function
    grid = getattr(predict, "curve_counts", None) or getattr(predict, "_curve_counts")
    return grid(setup, points, width_min)
