"""``dcprune data`` as one function: the theory for the user's rows, diagnostics, and the check.

:func:`analyze` takes a :class:`~dcprune.yourdata.dataset.Dataset`, builds its
:class:`~dcprune.yourdata.population.Population` (exact moments, σ² from the rows, ordered
columns), computes the :mod:`~dcprune.yourdata.diagnostics`, predicts every width through the
correlated-covariance theory at finite ``n`` (:func:`dcprune.families.covariance.sweep_covariance`,
docs/theory.rst §2, §4, §6; with ``robust`` the sandwich of :mod:`~dcprune.yourdata.sandwich`
for ``p < n − 1``) and, with ``trials``, runs the real procedure on the rows
(:mod:`~dcprune.yourdata.empirical`). The empirical check is held to the prediction with the
finite-population factor :math:`f = (N-n)/(N-1)` on the estimation noise for ``p < n − 1``
(sampling rows without replacement shrinks the variance of every sample moment by ``f``).
"""

from __future__ import annotations

import numpy as np

from ..families.covariance import sweep_covariance
from ..quantities import MEASURED
from ..samedata import OUTSIDE_DIAGONAL
from .dataset import Dataset
from .diagnostics import diagnose
from .empirical import run_empirical
from .population import population
from .report import DataReport, Summary, WidthRow
from .sandwich import underparameterized_risks

__all__ = ["analyze", "check_sizes", "summarize"]


def check_sizes(N: int, d: int, n: int, s: int, widths) -> tuple[int, ...]:
    """Refuse sizes the data cannot support (one line each); returns the widths, sorted."""
    if n < 2:
        raise ValueError(f"n must be at least 2, got {n}")
    if 2 * n > N:
        raise ValueError(f"the data has N = {N} rows, fewer than 2n = {2 * n} (n training rows and n fresh "
                         f"rows for retraining, drawn without replacement): use n <= {N // 2}")
    widths = tuple(sorted({int(p) for p in widths}))
    if not widths:
        raise ValueError("no widths to predict")
    bad = [p for p in widths if not 1 <= p <= d]
    if bad:
        raise ValueError(f"widths must be from 1 to d = {d} (the columns), got {', '.join(map(str, bad))}")
    if not 1 <= s <= widths[-1]:
        raise ValueError(f"s must be from 1 to the widest model's {widths[-1]} columns, got s={s}")
    return widths


def summarize(values) -> Summary:
    """Mean ± SE, median and 90% quantile of a per-trial sample."""
    values = np.asarray(values, dtype=float)
    return Summary(float(values.mean()), float(values.std(ddof=1) / np.sqrt(values.size)),
                   float(np.median(values)), float(np.quantile(values, 0.9)))


def analyze(data: Dataset, *, n: int, s: int, widths=None, order: str = "saliency", standardize: bool = False,
            trials: int | None = None, seed: int = 0, robust: bool = False, samples: int = 4000,
            progress=None) -> DataReport:
    """The full ``dcprune data`` result for ``data`` (module docstring); ``widths`` default to all
    ``d`` columns' models 1..d (at most 20 of them, evenly spaced)."""
    if widths is None:
        widths = np.unique(np.linspace(1, data.d, min(20, data.d)).round().astype(int))
    widths = check_sizes(data.N, data.d, n, s, widths)
    if trials is not None and trials < 2:
        raise ValueError(f"trials must be at least 2 (a standard error needs two), got {trials}")
    pop = population(data, order=order, standardize=standardize)
    diag = diagnose(pop, n, widths[-1])
    f = (pop.N - n) / (pop.N - 1)
    gauss = sweep_covariance(pop.problem, n, widths, s, samples=samples, seed=seed)
    warnings = list(diag.warnings)
    rows = []
    for p, pred in zip(widths, gauss):
        sub_seed = int(np.random.SeedSequence([seed, p, 1]).generate_state(1)[0])
        theory = dict(pred.risk)
        low = p < n - 1
        if robust and low:
            theory = dict(underparameterized_risks(pop, n, s, p, robust=True, samples=samples, seed=sub_seed))
        compared = theory
        if trials is not None and low:
            compared = dict(underparameterized_risks(pop, n, s, p, robust=robust, scale=f, samples=samples,
                                                     seed=sub_seed))
        warnings += [f"p={p}: {w}" for w in pred.warnings if w != OUTSIDE_DIAGONAL]
        rows.append(WidthRow(p, theory, compared))
    if any(OUTSIDE_DIAGONAL in pred.warnings for pred in gauss):  # once, not once per width
        warnings.append(OUTSIDE_DIAGONAL)
    if robust and widths[-1] >= n - 1:
        warnings.append(f"--robust covers p < n - 1 only: widths p >= {n - 1} keep the Gaussian theory")
    if trials is not None:
        run = run_empirical(pop, n, s, widths, trials=trials, seed=seed, progress=progress)
        rows = [WidthRow(r.p, r.theory, r.compared, {k: summarize(run.values[r.p][k]) for k in MEASURED})
                for r in rows]
        if any(n - 1 <= p for p in widths):
            warnings.append(f"the finite-population factor is not applied at p >= n - 1 = {n - 1}")
    return DataReport(data.source, data.target, pop.N, pop.d, n, s, pop.sigma2, pop.columns, order, standardize,
                      robust, f, diag, tuple(rows), trials, seed, tuple(warnings))


