r"""Distillation: a student on the kept features fitted to the dense model's labels (docs/theory.rst §12).

The dense model of width ``p`` (the *teacher*, :math:`\hat\beta_T`) is pruned to a kept set
``S`` by a rule of :mod:`dcprune.rules`; the *student* is least squares on the features ``S``
(min-norm when :math:`s > M`, no ridge) fitted to the teacher's labels
:math:`\hat y = x_P^\top\hat\beta_T` at ``M`` fresh unlabelled inputs (``unlabelled``; ``inf``:
the population projection). Given :math:`\hat\beta_T` and ``S``, for Gaussian inputs, the
teacher's labels are a linear problem on :math:`x_S`: coefficients
:math:`b_\infty = \Sigma_{SS}^{-1}\Sigma_{S\cdot}\hat\beta_T` (the population projection) and
a residual independent of :math:`x_S` of variance
:math:`E_S(\hat\beta_T) = \hat\beta_T^\top(\Sigma - A_S)\hat\beta_T`,
:math:`A_S = \Sigma_{\cdot S}\Sigma_{SS}^{-1}\Sigma_{S\cdot}`. With the student
:math:`b = b_\infty + \delta`,

.. math::
    R_M = R_\infty + E[\delta^\top\Sigma_{SS}\delta] + 2E[\delta]^\top\Sigma_{S\cdot}(\hat\beta_T - \beta),
    \qquad R_\infty = \sigma^2 + E_S(\beta) + (\hat\beta_T-\beta)^\top A_S(\hat\beta_T-\beta).

The student's own regression (features :math:`x_S`, target :math:`b_\infty`, noise
:math:`E_S(\hat\beta_T)`, ``M`` samples) is solved by the DC of docs/theory.rst §2
(:func:`dcprune.solver.dense_risk`, the finite-size form at finite size): its excess risk over
its noise is :math:`E[\delta^\top\Sigma_{SS}\delta] = \gamma_2 - E_S(\hat\beta_T)`, and its mean
is shrunk, :math:`E[\delta] = -\zeta_2(\Sigma_{SS}+\zeta_2)^{-1}b_\infty`. For :math:`s < M - 1`
(:math:`\zeta_2 = 0`) this is exact: :math:`R_M = R_\infty + E_S(\hat\beta_T)\,s/(M-s-1)`; for
:math:`s > M + 1` it is the second-stage DC.

Diagonal Σ (:func:`distill`): :math:`A_S` is the kept diagonal, so :math:`R_\infty` *is* the
pruned risk, and the teacher's law enters through three per-atom moments of the rule's kept
coordinates, :math:`\pi_a = P(\text{keep})`, :math:`K_0 = E[X_a^2 1\{\text{keep}\}]` and
:math:`K_\beta = E[(X_a-\beta_a)^2 1\{\text{keep}\}]`: the second stage has atoms
:math:`(\lambda_a, \sqrt{K_0/\pi_a}, m_a\pi_a)` and noise
:math:`\sum_a m_a\lambda_a(E X_a^2 - K_0)` (the teacher's dropped energy), and

.. math::
    R_M = R_{\rm pruned} + (\gamma_2 - E_S) + \sum_a m_a\lambda_a (c_{2,a} - 1)(K_0 + K_\beta - \beta_a^2\pi_a),

the last sum being the cross term :math:`2E[\delta]^\top\Sigma_{S\cdot}(\hat\beta_T - \beta)`,
since :math:`E[\delta_i] = (c_{2,i} - 1)\hat\beta_i` and
:math:`2E[X(X - \beta)1\{\text{keep}\}] = K_0 + K_\beta - \beta^2\pi` (with Gaussian
coefficients, docs/theory.rst §11, :math:`\beta^2\pi` is the rule's kept energy
:math:`E[\beta^2 1\{\text{keep}\}]`).

Correlated Σ (:func:`distill_draws`): the same formula per draw of the teacher's sampled DC
(docs/theory.rst §6), in the eigenbasis of :math:`\Sigma_{SS}`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .pruning import Pruned
from .results import Estimate, estimate
from .solver import dense_risk

__all__ = ["Distilled", "distill", "distill_draws", "distill_support", "finite_estimate"]

# Teachers per batch of one support: bounds memory at a few (k × p) arrays.
_BATCH_ELEMENTS = 4_000_000
# DC draws per chunk in distill_support, as in the correlated theory's sampling.
_CHUNK = 512


@dataclass(frozen=True)
class Distilled:
    """Distilled risks of a batch of models (``risk``, ``(batch,)``), whether every solve
    converged, and the largest relative residual of the student's ζ equation."""

    risk: np.ndarray
    converged: np.ndarray
    residual: np.ndarray


def distill(rule, pruned: Pruned, unlabelled: float, *, finite: bool) -> Distilled:
    r"""Risk of distilling the dense models of a diagonal batch into ``rule``'s kept features.

    ``pruned`` is ``rule``'s :class:`~dcprune.pruning.Pruned` of the batch (its keep
    probabilities, kept losses and :class:`~dcprune.pruning.AtomLaw`); ``unlabelled`` is
    ``M`` (in the units of the batch's counts; ``inf``: the population projection, where
    distillation equals pruning). The formula is the module docstring's; at the teacher's
    interpolation peak the risk is infinite.

    >>> import dcprune
    >>> problem = dcprune.Diagonal(dcprune.SpikedCovariance(), kappa=2, alpha=0.3, n=100, unlabelled=400)
    >>> risk = dcprune.predict(problem).risk
    >>> round(risk.magnitude.mean, 4), round(risk.magnitude_distill.mean, 4)
    (0.7897, 0.8204)
    """
    law = pruned.law
    ones = np.ones(law.mult.shape[:-1], dtype=bool)
    if math.isinf(unlabelled):
        return Distilled(pruned.risk, ones, np.zeros(ones.shape))
    keep, lam, beta, mult = pruned.keep, law.lam, law.beta, law.mult
    # The kept second moment is the kept loss towards the target 0, with the same selection.
    _, loss0, _, converged = rule.keep_atoms(law.towards_zero())
    second = law.mu**2 + law.sd**2
    k0 = keep * (second if loss0 is None else loss0)
    k_beta = keep * pruned.kept_loss
    weight = mult * lam
    dropped = np.maximum((weight * (second - k0)).sum(axis=-1), 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        kept_beta = np.sqrt(np.where(keep > 0, k0 / np.where(keep > 0, keep, 1.0), 0.0))
    student = dense_risk(lam, kept_beta, mult * keep, dropped, unlabelled, finite=finite)
    c2 = student.shrink
    # 2(c₂ − 1) E[X (X − β) 1{keep}], with 2 E[X (X − β) 1{keep}] = K₀ + K_β − E[β² 1{keep}]
    # (β² π for a fixed β; the rule's kept energy for a Gaussian one, docs/theory.rst §11).
    kept_energy = beta**2 * keep if pruned.kept_energy is None else pruned.kept_energy
    cross = (weight * (c2 - 1.0) * (k0 + k_beta - kept_energy)).sum(axis=-1)
    with np.errstate(invalid="ignore"):
        risk = pruned.risk + (student.gamma - dropped) + cross
    risk = np.where(law.peak | student.infinite, np.inf, risk)
    return Distilled(risk, converged & student.converged, student.residual)


def distill_draws(problem, draws: np.ndarray, supports: np.ndarray, unlabelled: float, *,
                  finite: bool) -> np.ndarray:
    r"""Distilled risk of each teacher draw into its kept support (correlated Σ, docs/theory.rst §12).

    ``problem`` is the width-``p`` :class:`~dcprune.families.covariance.CovarianceProblem`,
    ``draws`` ``(k, p)`` teacher coefficients and ``supports`` ``(k, s)`` their kept columns;
    ``unlabelled`` is ``M`` (``inf``: the population projection). Per support
    :math:`\Sigma_{SS} = V\mathrm{diag}(\mu)V^\top` (zero eigenvalues dropped: the projection
    on the span of :math:`x_S` is unique even when :math:`b_\infty` is not), so that with
    :math:`r = V^\top b_\infty` and :math:`q = \Sigma\beta`,
    :math:`R_\infty = \sigma^2 + \beta^\top\Sigma\beta - 2r^\top V^\top q_S + \sum_j \mu_j r_j^2`,
    then the module docstring's formula; draws sharing a support share its
    eigendecomposition.
    """
    draws = np.atleast_2d(np.asarray(draws, dtype=float))
    supports = np.atleast_2d(np.asarray(supports))
    Sigma = problem.Sigma
    q = Sigma @ problem.beta
    c0 = problem.sigma2 + problem.signal
    out = np.empty(draws.shape[0])
    if np.all(supports == supports[:1]):  # one support (the oracle's): no sorting of rows
        unique, inverse = supports[:1], np.zeros(draws.shape[0], dtype=np.intp)
    else:
        unique, inverse = np.unique(supports, axis=0, return_inverse=True)
        inverse = np.ravel(inverse)
    s = unique.shape[1]
    for u, idx in enumerate(unique):
        rows = np.flatnonzero(inverse == u)
        mu, vec = np.linalg.eigh(Sigma[np.ix_(idx, idx)])
        active = mu > np.finfo(float).eps * s * max(mu[-1], 0.0)
        lam = np.where(active, mu, 1.0)
        cross_cov = Sigma[:, idx] @ vec  # Σ_{·S} V
        qv = q[idx] @ vec  # Vᵀ q_S
        step = max(1, _BATCH_ELEMENTS // (draws.shape[1] + 1))
        for start in range(0, rows.size, step):
            part = rows[start : start + step]
            b = draws[part]
            proj = b @ cross_cov  # Vᵀ Σ_{S·} β̂, one row per draw
            rot = np.where(active, proj / lam, 0.0)  # b∞ in the eigenbasis of Σ_SS
            r_inf = c0 - 2.0 * rot @ qv + np.sum(mu * rot * rot, axis=-1)
            if math.isinf(unlabelled):
                out[part] = r_inf
                continue
            energy = np.einsum("kp,kp->k", b @ Sigma, b) - np.sum(proj * rot, axis=-1)
            noise = np.maximum(energy, 0.0)  # E_S(β̂) >= 0; rounding must not make it negative
            mask = np.broadcast_to(active.astype(float), rot.shape)
            second = dense_risk(np.broadcast_to(lam, rot.shape), rot, mask, noise, unlabelled, finite=finite)
            cross = 2.0 * np.sum(mask * (second.shrink - 1.0) * rot * (proj - qv), axis=-1)
            with np.errstate(invalid="ignore"):
                value = r_inf + (second.gamma - noise) + cross
            out[part] = np.where(second.infinite, np.inf, value)
    return out


def finite_estimate(values) -> Estimate:
    """The mean ± SE of per-draw risks, or ``inf`` if any is (a student at its peak)."""
    return estimate(values) if np.all(np.isfinite(values)) else Estimate(math.inf)


def distill_support(problem, dc, support, unlabelled: float, *, samples: int, seed: int,
                    finite: bool) -> Estimate:
    """Distillation into one fixed ``support`` averaged over ``samples`` draws of the teacher's
    sampled DC ``dc`` (a :class:`~dcprune.families.covariance.CovarianceDC`: ``mean + factor @ h``),
    with a stream of its own from ``seed``: :func:`distill_draws` of every draw."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 1]))
    parts = []
    for start in range(0, samples, _CHUNK):
        k = min(_CHUNK, samples - start)
        draws = dc.mean + rng.standard_normal((k, dc.factor.shape[1])) @ dc.factor.T
        parts.append(distill_draws(problem, draws, np.broadcast_to(support, (k, len(support))), unlabelled,
                                   finite=finite))
    return finite_estimate(np.concatenate(parts))
