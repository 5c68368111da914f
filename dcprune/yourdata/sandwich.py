r"""The DC of an underparameterized fit (``p < n − 1``) with any noise covariance: the sandwich.

For ``p < n − 1`` the min-norm fit is ordinary least squares, and the finite-size DC of
docs/theory.rst §2 and §6 is :math:`\hat\beta \approx N(\beta_P, \sigma_P^2\Sigma_{PP}^{-1}/(n-p-1))`
(ζ = 0, :math:`E(X^\top X)^{-1} = \Sigma^{-1}/(n-p-1)`). Two departures from it are handled here,
with the rest of the machinery unchanged (the keep rules of :data:`dcprune.rules.RULES`, exact
risks of the width-``p`` problem):

- ``robust=True`` (``--robust``): the noise covariance becomes the sandwich
  :math:`\Sigma^{-1}E[x x^\top e^2]\Sigma^{-1}/(n-p-1)`, with ``e`` the population residual of
  the width-``p`` model, computed from the rows; retraining on a support ``S`` likewise uses
  :math:`\sigma_S^2 + \mathrm{tr}(\Sigma_{SS}^{-1}E[x_S x_S^\top e_S^2])/(n-s-1)` for ``s < n − 1``.
  Without it :math:`E[xx^\top e^2] = \sigma^2\Sigma` and this *is* the Gaussian theory.
  It is partial: it corrects a residual whose variance depends on x, not heavy-tailed rows
  (:math:`E(X^\top X)^{-1}` itself is off) nor near-constant columns, and it does not apply to
  ``p ≥ n − 1`` (the caller keeps the Gaussian theory there, with a warning).
- ``scale`` multiplies the estimation noise (β̂'s covariance and the retrained excess): the
  finite-population factor :math:`(N-n)/(N-1)` of sampling rows without replacement.

Pruned risks are sampled (``samples`` draws, seeded), retraining averages the supports of the
first ``retrain_samples`` draws, as in :func:`dcprune.families.covariance.predict_covariance`;
so does distillation (the population projection, :func:`dcprune.distill.distill_draws`: every
draw for the oracle's fixed support).
"""

from __future__ import annotations

import math

import numpy as np

from ..distill import distill_draws
from ..quantities import DISTILLABLE, PREDICTED, SAME_DATA_PREDICTED
from ..results import Estimate, Risks, estimate
from ..rules import RULES
from ..samedata import UNPREDICTED
from .empirical import oracle_support
from .population import Population

__all__ = ["underparameterized_risks"]


def _moment(Z, t, cols, beta):
    """:math:`E[x_S x_S^\\top e_S^2]` over all rows, with the residual of ``beta`` on ``cols``."""
    X = Z[:, cols]
    e2 = (t - X @ beta) ** 2
    return (X * e2[:, None]).T @ X / Z.shape[0]


def _refit_excess(pop: Population, cols, n: int, robust: bool):
    """``(σ_S², excess)`` of OLS on columns ``cols`` with ``n`` samples: the best restricted
    predictor's risk and :math:`\\mathrm{tr}(\\Sigma_{SS}^{-1}M_S)/(n-s-1)`."""
    sig = pop.Sigma[np.ix_(cols, cols)]
    beta = np.linalg.solve(sig, pop.q[cols])
    noise = pop.c0 - float(beta @ pop.q[cols])
    s = len(cols)
    if robust:
        trace = float(np.trace(np.linalg.solve(sig, _moment(pop.Z, pop.t, cols, beta))))
    else:
        trace = noise * s
    return noise, trace / (n - s - 1)


def underparameterized_risks(pop: Population, n: int, s: int, p: int, *, robust: bool = False,
                             scale: float = 1.0, samples: int = 4000, retrain_samples: int = 64,
                             seed: int = 0) -> Risks:
    """Every predicted risk of the width-``p`` model (``p < n − 1``), module docstring."""
    if not p < n - 1:
        raise ValueError(f"the underparameterized DC needs p < n - 1, got p={p}, n={n}")
    sub = pop.problem.leading(p)
    cols = np.arange(p)
    Sinv = np.linalg.inv(sub.Sigma)
    M = _moment(pop.Z, pop.t, cols, sub.beta) if robust else sub.sigma2 * sub.Sigma
    cov = scale * (Sinv @ M @ Sinv) / (n - p - 1)
    dense = sub.sigma2 + float(np.trace(sub.Sigma @ cov))
    if s >= p:
        return Risks({name: Estimate(dense) for name in PREDICTED})
    rng = np.random.default_rng(seed)
    w, V = np.linalg.eigh((cov + cov.T) / 2)  # not Cholesky: a noiseless target has cov = 0
    factor = V * np.sqrt(np.clip(w, 0.0, None))
    draws = sub.beta + rng.standard_normal((samples, p)) @ factor.T
    diag = np.diag(sub.Sigma)
    oracle = oracle_support(pop, p, s)
    risk = {"dense": Estimate(dense)}
    kept = {}
    for name, rule in RULES.items():  # in RULES order, as the correlated theory draws
        idx = rule.select(draws, diag, oracle, rng)
        mask = np.zeros(draws.shape, dtype=bool)
        np.put_along_axis(mask, idx, True, axis=-1)
        risk[name] = estimate(sub.risk(np.where(mask, draws, 0.0)))
        kept[name] = idx[:retrain_samples]
        if name in DISTILLABLE:
            use = samples if rule.fixed_support else retrain_samples
            risk[f"{name}_distill"] = estimate(distill_draws(sub, draws[:use], idx[:use], math.inf, finite=True))
    refit = {}
    for name, rule in RULES.items():
        if not rule.retrainable:
            continue
        values = []
        for support in kept[name]:
            key = tuple(int(j) for j in support)
            if key not in refit:
                noise, excess = _refit_excess(pop, list(key), n, robust)
                refit[key] = noise + scale * excess
            values.append(refit[key])
        risk[f"{name}_retrain"] = estimate(values) if not rule.fixed_support else Estimate(values[0])
    for rule in SAME_DATA_PREDICTED:  # the same-data heuristic (docs/theory.rst §14) is for diagonal Σ
        risk[f"{rule}_retrain_same"] = UNPREDICTED
    return Risks({name: risk[name] for name in PREDICTED})
