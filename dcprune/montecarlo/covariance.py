r"""Monte Carlo of least squares on correlated Gaussian features (docs/theory.rst §1, §6).

The check of :func:`dcprune.families.covariance.sweep_covariance`: inputs :math:`x = Lz` with
:math:`LL^\top = \Sigma` (``L = U\,\mathrm{diag}(\sqrt\lambda)`` from the eigendecomposition, so
a singular Σ is fine), labels :math:`y = x^\top\beta + \sigma e`, and the width-``p`` model fits
the first ``p`` columns. Everything else (min-norm fit or ridge, magnitude / empirical-Hessian /
oracle / random pruning, fresh and same-data retraining, exact population risk
:math:`\sigma^2 + (b-\beta)^\top\Sigma(b-\beta)`) is the kernels' linear-problem path.

Oracle. The theory's oracle keeps the top ``s`` of :math:`\Sigma_{ii}\beta_{P,i}^2` with the
width-``p`` model's own best predictor :math:`\beta_P` (:meth:`CovarianceProblem.leading`), so
each width is one kernel call with its own oracle score. Trial ``t`` draws the same data in
every call (it is seeded by ``(seed, t)``), so the nested models of one trial share their data.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ..checks import finite_number, whole_number
from ..families.covariance import CovarianceProblem
from ..quantities import MEASURED
from . import kernels
from .batches import run_batches
from .runtime import memory_rows
from .sampler import Sampler
from .simulate import Trials
from .students import unlabelled_count

__all__ = ["covariance_trials"]


def covariance_trials(problem: CovarianceProblem, n: int, counts, s: int, *, trials: int = 100,
                      seed: int = 0, ridge: float = 0.0, threads: int | None = None,
                      progress: Callable[[int], None] | None = None, unlabelled: float | None = None) -> Trials:
    """Per-trial values of the models using the first ``p`` features of ``problem``, ``p`` in ``counts``.

    ``counts``: strictly increasing feature counts in ``[1, problem.p]``; ``s`` kept nonzeros;
    ``progress(k)`` is called after each batch of ``k`` trials (all widths); ``unlabelled`` is
    distillation's ``M`` (``None``: the population projection). The sampler of
    :class:`dcprune.Correlated` problems (run them with :func:`dcprune.montecarlo.simulate`).
    """
    if not isinstance(problem, CovarianceProblem):
        raise ValueError(f"problem must be a CovarianceProblem, got {type(problem).__name__}")
    n = whole_number("n", n, 2)
    s = whole_number("s", s, 1)
    trials = whole_number("trials", trials, 2)
    seed = whole_number("seed", seed, 0)
    ridge = finite_number("ridge", ridge, nonnegative=True)
    unlabelled = unlabelled_count(unlabelled)
    counts = np.asarray(counts)
    if (counts.ndim != 1 or counts.size == 0 or np.any(counts != np.round(counts))
            or np.any(np.diff(counts) <= 0) or counts[0] < 1 or counts[-1] > problem.p):
        raise ValueError(f"counts must be strictly increasing whole numbers in [1, {problem.p}], "
                         f"got counts={counts.tolist()}")
    counts = counts.astype(np.int64)

    def parts():  # built after run_batches' checks
        factor = problem.eigenvectors * np.sqrt(problem.eigenvalues)  # L with L Lᵀ = Σ
        sampler = Sampler.factor(factor, problem.beta, math.sqrt(problem.sigma2), Sigma=problem.Sigma)
        diag = np.diag(problem.Sigma)
        jobs = []
        for p in counts:
            score = np.zeros(problem.p)
            score[:p] = diag[:p] * problem.leading(int(p)).beta ** 2
            jobs.append(kernels.prepare(sampler, n=n, widths=[int(p)], s=s, seed=seed, ridge=ridge,
                                        oracle_score=score, unlabelled=unlabelled))

        def batch(first, count):  # every width on the same trials: one kernel call per width
            values = np.empty((count, len(jobs), len(MEASURED)))
            flags = np.empty((count, len(jobs)), np.int8)
            for j, job in enumerate(jobs):
                values[:, j], flags[:, j] = (a[:, 0] for a in job.trials(first, count))
            return values, flags

        yield 0, trials, batch

    return Trials(*run_batches(parts(), trials=trials, n_widths=len(counts), n=memory_rows(n, unlabelled),
                               d=problem.p, threads=threads, progress=progress))
