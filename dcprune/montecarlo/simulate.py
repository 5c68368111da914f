"""Monte Carlo of the real regressions: validation, seeding and result objects.

The Python layer over :mod:`dcprune.montecarlo.kernels` (THEORY.md §1): it lays out the
latent problem of a :class:`~dcprune.Setup` coordinate by coordinate, refuses runs that would
not fit in memory, runs the trials in batches (so a progress callback can report), and returns
per-trial values with mean ± standard error per quantity and width.
"""

from __future__ import annotations

import math
import signal
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..checks import available_memory, check_memory, finite_number, whole_number
from ..predict import Setup, _json_number
from ..problems import DiagonalProblem
from . import kernels

__all__ = ["QUANTITIES", "Estimate", "SimulationRow", "Simulation", "simulate", "simulate_problem",
           "available_memory"]

QUANTITIES = kernels.QUANTITIES


@dataclass(frozen=True)
class Estimate:
    """A Monte Carlo mean and its standard error over trials."""

    mean: float
    se: float

    def to_dict(self) -> dict:
        return {"mean": _json_number(self.mean), "se": _json_number(self.se)}


@dataclass(frozen=True)
class SimulationRow:
    """Estimates at one width: ``risk[name]`` for every name of :data:`QUANTITIES`.

    ``flagged`` counts the trials in which a fit at this width was ill-conditioned (solved by
    SVD instead, THEORY.md §1; expected only near ``p = n``).
    """

    width: float
    p: int
    risk: dict
    flagged: int

    def to_dict(self) -> dict:
        return {
            "width": self.width,
            "p": self.p,
            "flagged": self.flagged,
            "risk": {k: v.to_dict() for k, v in self.risk.items()},
        }


class RowsView:
    """Column views of a run's ``rows`` (:class:`SimulationRow`), shared by every result type."""

    rows: tuple[SimulationRow, ...]

    @property
    def widths(self) -> np.ndarray:
        """Model widths ``p/n``."""
        return np.array([r.width for r in self.rows])

    @property
    def counts(self) -> np.ndarray:
        """Model sizes ``p``."""
        return np.array([r.p for r in self.rows])

    def mean(self, name: str) -> np.ndarray:
        return np.array([r.risk[name].mean for r in self.rows])

    def se(self, name: str) -> np.ndarray:
        return np.array([r.risk[name].se for r in self.rows])


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


def _check_memory(n: int, d: int, n_widths: int, trials: int, threads: int) -> None:
    check_memory(kernels.estimate_bytes(n, d, n_widths, trials, threads),
                 "reduce --n (memory grows like n·d and d²), or --trials / --points "
                 "(stored results grow like trials × widths)")


def _run(n, d, widths, s, trials, seed, ridge, sigma2, lam, beta, threads, progress):
    """Run the kernels in batches of trials; the seed of trial ``t`` is fixed by ``(seed, t)``."""
    threads = threads or _num_threads()
    _check_memory(n, d, len(widths), trials, threads)
    values, flags = [], []
    for first, count in trial_batches(0, trials, threads):
        v, f = kernels.run(n=n, widths=widths, s=s, trials=count, first_trial=first, seed=seed,
                           lam=lam, beta=beta, sigma=math.sqrt(sigma2), ridge=ridge, threads=threads)
        values.append(v)
        flags.append(f)
        if progress is not None:
            progress(count)
    return np.concatenate(values), np.concatenate(flags)


def trial_batches(start: int, stop: int, threads: int, seconds: float = 3.0):
    """``(first, count)`` of successive kernel calls covering trials ``start .. stop − 1``.

    A Numba kernel cannot be interrupted, so Ctrl-C takes effect (and a progress bar moves)
    between batches: the loop body, the batch's kernel calls, runs under
    :func:`deferred_interrupts`, and each batch is sized, from the time per trial of the one
    before, to take about ``seconds``. Counts are multiples of ``threads`` so that ``prange``
    stays balanced (5 trials on 2 threads cost as much as 6), and grow at most 4× per batch,
    since the first one's time includes compiling or loading the kernels. Per-trial seeds
    make the numbers independent of the batching.
    """
    first, count = start, threads
    while first < stop:
        count = min(count, stop - first)
        began = time.perf_counter()
        with deferred_interrupts():
            yield first, count
        per_trial = max((time.perf_counter() - began) / count, 1e-9)
        first += count
        count = max(threads, min(int(seconds / per_trial) // threads * threads, 4 * count))


@contextmanager
def deferred_interrupts():
    """Hold Ctrl-C while a Numba kernel runs and act on it once the kernel has returned.

    The kernel cannot stop for a signal anyway, and a ``KeyboardInterrupt`` raised while
    Numba boxes the kernel's result tuple leaves a corrupt tuple behind (SIGSEGV when it is
    unpacked; seen here). So the handler only records the signal; the previous handler (for
    the CLI, "Error: interrupted") runs after the kernel, between batches.
    """
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread receives Python-level signals
        return
    caught = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if caught:
            if callable(previous):
                previous(signal.SIGINT, None)
            elif previous == signal.SIG_DFL:
                signal.raise_signal(signal.SIGINT)


def _num_threads() -> int:
    import numba

    return numba.get_num_threads()


def _summarize(values, flags, counts, n) -> tuple[SimulationRow, ...]:
    trials = values.shape[0]
    mean = values.mean(axis=0)
    se = values.std(axis=0, ddof=1) / math.sqrt(trials) if trials > 1 else np.full_like(mean, np.nan)
    return tuple(
        SimulationRow(
            width=float(counts[i] / n),
            p=int(counts[i]),
            risk={q: Estimate(float(mean[i, k]), float(se[i, k])) for k, q in enumerate(QUANTITIES)},
            flagged=int(flags[:, i].sum()),
        )
        for i in range(len(counts))
    )


def _flag_warnings(rows, n: int, s: int, ridge: float, exact_width: int | None = None) -> list[str]:
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
        from ..predict import _curve_counts

        counts = _curve_counts(setup, points, width_min)
    lam, beta = setup.spectrum.coordinates(setup.d)
    values, flags = _run(setup.n, setup.d, counts.astype(np.int64), int(setup.s), trials, seed,
                         setup.ridge, setup.sigma2, lam, beta, threads, progress)
    rows = _summarize(values, flags, counts, setup.n)
    return Simulation(setup, int(setup.s), trials, seed, rows, values, flags,
                      tuple(_flag_warnings(rows, setup.n, int(setup.s), setup.ridge,
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
    values, flags = _run(n, d, np.array([d]), s, trials, seed, ridge, problem.sigma2, lam, beta,
                         threads, None)
    return _summarize(values, flags, np.array([d]), n)[0]
