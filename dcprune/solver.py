"""The distributional characterization (DC) of min-norm and ridge least squares, diagonal Σ.

docs/theory.rst §2. Every function works on a batch: arrays of shape ``(batch, atoms)`` for the
atoms ``(λ_a, β_a, m_a)`` and ``(batch,)`` for the noise, so a whole width sweep is solved in
one vectorized pass. Atoms with ``m_a = 0`` are inert (padding).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .checks import ParameterError, finite_number
from .finiteridge import finite_ridge_parts, first_order
from .numerics import solve_monotone

__all__ = ["solve_zeta", "dense_risk", "DenseRisk", "peak_reason", "check_sample_size"]


def check_sample_size(n, finite: bool) -> float:
    """``n`` as a float ``> 0``; at finite size an integer ``>= 2``."""
    n = finite_number("n", n, positive=True)
    if finite and (not n.is_integer() or n < 2):
        raise ParameterError("n", "must be an integer >= 2 at finite size", n)
    return n


def _active_min(lam, mult):
    return np.where(mult > 0, lam, np.inf).min(axis=-1)


def solve_zeta(lam, mult, n: float, ridge: float = 0.0):
    r"""Effective regularization ζ of the DC, batched (docs/theory.rst §2).

    Min-norm (``ridge = 0``): ζ = 0 when :math:`p = \sum_a m_a \le n`, else the unique
    :math:`\zeta > 0` with :math:`\sum_a m_a \lambda_a/(\lambda_a+\zeta) = n`.
    Ridge :math:`\lambda > 0`: the unique :math:`\zeta > 0` with
    :math:`\lambda = \zeta\,(1 - \frac1n \sum_a m_a \lambda_a/(\lambda_a+\zeta))`.

    Both are solved in :math:`x = \log\zeta` by bracketed Newton. Brackets: the min-norm
    equation holds between :math:`\lambda_{min}(p-n)/n` and :math:`\sum m\lambda/n`; the ridge
    one between :math:`\max(\lambda, \zeta_0)` and :math:`\lambda + \sum m\lambda/n`.
    Returns ``(zeta, converged, residual)``, each of shape ``(batch,)``.
    """
    zeta, converged, residual, _ = _solve_zetas(lam, mult, n, ridge)
    return zeta, converged, residual


def _solve_zetas(lam, mult, n, ridge):
    """:func:`solve_zeta` and the ridgeless ζ₀ (the ridge solve's lower bracket) as a fourth array."""
    lam = np.asarray(lam, dtype=float)
    mult = np.asarray(mult, dtype=float)
    p = mult.sum(axis=-1)
    trace = (mult * lam).sum(axis=-1) / n
    zeta = np.zeros(p.shape)
    converged = np.ones(p.shape, dtype=bool)
    residual = np.zeros(p.shape)
    over = p > n
    if over.any():
        lo = _active_min(lam[over], mult[over]) * (p[over] - n) / n
        root = _log_root(_min_norm_equation(lam[over], mult[over], n), lo, trace[over], n, increasing=False)
        zeta[over], converged[over], residual[over] = root.x, root.converged, root.residual
    zeta0 = zeta.copy()
    ridge = np.broadcast_to(np.asarray(ridge, dtype=float), p.shape)  # one ridge, or one per model
    fit = ridge > 0
    if fit.any():
        r, lam_r, mult_r = ridge[fit], lam[fit], mult[fit]
        z0 = zeta[fit]
        lo = np.maximum(r, z0)
        equation = _ridge_equation(lam_r, mult_r, n, r)
        root = _log_root(equation, lo, r + trace[fit], r, increasing=True,
                         x0=_ridge_start(lam_r, mult_r, n, p[fit], r, z0))
        zeta[fit], converged[fit] = root.x, root.converged
        # Relative to the terms of ζ·g(ζ) − λ rather than λ alone: when λ is below the
        # rounding of ζ·g (a tiny ridge past p = n) |f| ~ ε·ζ is as good as the answer gets.
        residual[fit] = np.abs(equation(root.x)[0]) / (r + root.x * _ridge_terms(lam_r, mult_r, n, root.x))
    return zeta, converged, residual, zeta0


def _ridge_start(lam, mult, n, p, ridge, zeta0):
    r"""A start for the ridge equation's Newton solve in :math:`\log\zeta`: the root of the
    second-order expansion of :math:`\eta(\zeta) = \zeta(1 - \sum_a m_a c_a/n)` about the
    ridgeless :math:`\zeta_0` (where :math:`\eta = 0`), with :math:`\eta' = 1 - df_2/n` and
    :math:`\eta''/2 = \sum_a m_a c_a^2/(\lambda_a + \zeta_0)/n`. The expansion's error has the
    sign of the negative third derivative, so the start sits just below the root and a small
    ridge needs two or three steps instead of eight or more (the midpoint where it is undefined)."""
    c0 = lam / (lam + zeta0[:, None])
    slope = _one_minus(mult, c0, _complement(lam, zeta0), n, p, squared=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        curve = (mult * c0 * c0 / (lam + zeta0[:, None])).sum(axis=-1) / n
        start = np.log(zeta0 + 2.0 * ridge / (slope + np.sqrt(slope * slope + 4.0 * curve * ridge)))
    return start


def _complement(lam, zeta):
    """``1 − c_a = ζ/(λ_a + ζ)`` without the cancellation of ``1 − λ/(λ+ζ)`` at tiny ζ."""
    return zeta[:, None] / (lam + zeta[:, None])


def _one_minus(mult, shrink, comp, n, p, squared: bool):
    """``1 − Σ m c/n`` (or ``1 − Σ m c²/n``) written as ``(n − p)/n + Σ m (1 − c)(1 [+ c])/n``,
    exact when ζ is so small that every ``c`` rounds to 1 (tiny ridge at p = n)."""
    factor = comp * (1.0 + shrink) if squared else comp
    return (n - p) / n + (mult * factor).sum(axis=-1) / n


def _ridge_terms(lam, mult, n, zeta):
    comp = _complement(lam, zeta)
    return (np.abs(n - mult.sum(axis=-1)) + (mult * comp).sum(axis=-1)) / n


def _min_norm_equation(lam, mult, n):
    def fun(zeta):
        c = lam / (lam + zeta[:, None])
        f = (mult * c).sum(axis=-1) - n
        # d/dlogζ of Σ m λ/(λ+ζ) is −Σ m c (1 − c)
        return f, -(mult * c * (1.0 - c)).sum(axis=-1)

    return fun


def _ridge_equation(lam, mult, n, ridge):
    p = mult.sum(axis=-1)

    def fun(zeta):
        c = lam / (lam + zeta[:, None])
        comp = _complement(lam, zeta)
        f = zeta * _one_minus(mult, c, comp, n, p, squared=False) - ridge
        return f, zeta * _one_minus(mult, c, comp, n, p, squared=True)

    return fun


def _log_root(fun, lo, hi, scale, increasing, x0=None):
    def in_log(x):
        zeta = np.exp(x)
        f, dfdlog = fun(zeta)
        return f, dfdlog

    lo, hi = np.broadcast_arrays(np.asarray(lo, float), np.asarray(hi, float))
    # Widen the bracket by a hair so a root sitting on an endpoint is strictly inside.
    root = solve_monotone(in_log, np.log(lo) - 1e-12, np.log(hi) + 1e-12, scale=scale, increasing=increasing,
                          x0=x0)
    root.x = np.exp(root.x)
    return root


@dataclass(frozen=True)
class DenseRisk:
    """Dense-model quantities of the DC, batched (docs/theory.rst §2).

    ``gamma`` is the dense risk (γ, or its finite-size value: γ_n without ridge, §2; the
    corrected ridge risk of §13 with one), ``gamma = σ_eff² + bias + variance``; ``tau`` the noise
    level of the per-coordinate Gaussians, ``sd_a = c_a sqrt(τ / (n λ_a))``; ``infinite`` flags
    the interpolation peak.
    """

    zeta: np.ndarray
    gamma: np.ndarray
    tau: np.ndarray
    shrink: np.ndarray  # c_a = λ_a / (λ_a + ζ)
    converged: np.ndarray
    residual: np.ndarray
    infinite: np.ndarray
    bias: np.ndarray
    variance: np.ndarray


def dense_risk(lam, beta, mult, sigma2, n: float, *, ridge=0.0, finite: bool = False):
    r"""Solve the DC and return the dense risk, batched (docs/theory.rst §2); ``ridge`` is one
    penalty or one per model (shape ``(batch,)``).

    With :math:`c_a = \lambda_a/(\lambda_a+\zeta)`, :math:`df_2 = \sum m_a c_a^2` and
    :math:`b_0 = \zeta^2 \sum m_a\lambda_a\beta_a^2/(\lambda_a+\zeta)^2`:

    * asymptotic: :math:`\gamma = (\sigma^2 + b_0)/(1 - df_2/n)` and :math:`\tau = \gamma`;
    * finite ``n``, no ridge: :math:`\gamma_n = \sigma^2 + b_0/(1-df_2/n)
      + \sigma^2 (df_2/n)/(1 - df_2/n - 1/\max(n,p))`;
    * finite ``n`` with ridge: the first-order corrected bias and variance of docs/theory.rst §13
      (:func:`dcprune.finiteridge.finite_ridge_parts`), which tend to :math:`\gamma_n`'s as the
      ridge → 0 and to the asymptotic ones as :math:`n \to \infty`;

    at finite ``n``, :math:`\tau` is chosen so that the DC's dense risk
    :math:`\sigma^2 + b_0 + \tau\,df_2/n` equals the finite-size risk.

    At the interpolation peak the denominators vanish and the risk is ``inf`` (unless the
    corresponding numerator is exactly 0: noiseless interpolation recovers β exactly).
    """
    lam = np.asarray(lam, dtype=float)
    beta = np.asarray(beta, dtype=float)
    mult = np.asarray(mult, dtype=float)
    sigma2 = np.broadcast_to(np.asarray(sigma2, dtype=float), mult.shape[:-1])
    zeta, converged, residual, zeta0 = _solve_zetas(lam, mult, n, ridge)
    c = lam / (lam + zeta[:, None])
    comp = _complement(lam, zeta)
    df2 = (mult * c * c).sum(axis=-1)
    bias0 = (mult * lam * beta**2 * comp**2).sum(axis=-1)
    p = mult.sum(axis=-1)
    denom = _one_minus(mult, c, comp, n, p, squared=True)  # 1 − df₂/n
    ridges = np.broadcast_to(np.asarray(ridge, dtype=float), p.shape)
    ridgeless = ridges == 0
    # Within rounding of p = n the denominator is noise, not a number: call it the peak.
    denom = np.where(ridgeless & (np.abs(p - n) <= _PEAK_TOL * n), 0.0, denom)
    gamma = _ratio(sigma2 + bias0, denom)
    tau = gamma
    bias = _ratio(bias0, denom)
    variance = _ratio(sigma2 * df2 / n, denom)
    if finite:
        if ridgeless.any():
            b_n, v_n = _ridgeless_parts(sigma2, bias0, df2, denom, n, p)
            bias, variance = np.where(ridgeless, b_n, bias), np.where(ridgeless, v_n, variance)
        if (~ridgeless).any():
            fit = ~ridgeless
            b_r, v_r = _ridge_parts(lam[fit], beta[fit], mult[fit], sigma2[fit], n, ridges[fit], zeta[fit],
                                    zeta0[fit])
            bias, variance = bias.copy(), variance.copy()
            bias[fit], variance[fit] = b_r, v_r
        exact = sigma2 + bias + variance
        with np.errstate(invalid="ignore", divide="ignore"):
            tau = np.where(df2 > 0, (exact - sigma2 - bias0) * n / df2, 0.0)
        gamma = exact
    return DenseRisk(zeta, gamma, tau, c, converged, residual, ~np.isfinite(gamma), bias, variance)


def _ridgeless_parts(sigma2, bias0, df2, denom, n, p):
    """Bias and variance of γ_n (docs/theory.rst §2), batched."""
    bias = _ratio(bias0, denom)
    # In sample units the variance denominator is n − df₂ − n/max(n, p), which is exactly
    # 0 at p = n ± 1 for Σ = I; rounding in ζ must not turn that into a huge finite risk.
    # The rounding of df₂ (at most n) scales with n, not p: p ≫ n is far from the peak.
    den_v = n * denom - n / np.maximum(n, p)
    den_v = np.where(den_v > _PEAK_TOL * n, den_v / n, 0.0)
    return bias, _ratio(sigma2 * df2 / n, den_v)


def _ridge_parts(lam, beta, mult, sigma2, n, ridge, zeta, zeta0):
    """Bias and variance of the finite-size ridge risk (docs/theory.rst §13), anchored at the
    ridgeless γ_n of the same model so that ridge → 0 is continuous with it. The anchor's
    shift is computed for min-norm models (p > n) only: for p ≤ n it is 0 exactly."""
    p = mult.sum(axis=-1)
    over = p > n
    shift = np.zeros((2, p.size))
    if over.any():
        lam_o, beta_o, mult_o, noise_o, zeta0 = lam[over], beta[over], mult[over], sigma2[over], zeta0[over]
        c0 = lam_o / (lam_o + zeta0[:, None])
        comp0 = _complement(lam_o, zeta0)
        denom0 = _one_minus(mult_o, c0, comp0, n, p[over], squared=True)
        b_n, v_n = _ridgeless_parts(noise_o, (mult_o * lam_o * beta_o**2 * comp0**2).sum(axis=-1),
                                    (mult_o * c0 * c0).sum(axis=-1), denom0, n, p[over])
        b_r, v_r = first_order(lam_o, beta_o, mult_o, n, zeta0).resummed(noise_o)
        with np.errstate(invalid="ignore"):
            ok = np.isfinite(b_n) & np.isfinite(v_n) & np.isfinite(b_r) & np.isfinite(v_r)
            shift[:, over] = np.where(ok, [b_n - b_r, v_n - v_r], 0.0)
    return finite_ridge_parts(lam, beta, mult, sigma2, n, ridge, zeta, shift=shift)


# Relative size below which a finite-size denominator counts as the peak's exact zero.
_PEAK_TOL = 1e-9


def _ratio(num, den):
    """``num / den`` for a nonnegative numerator, ``inf`` past a vanishing denominator."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.inf)
    return np.where(num == 0, 0.0, out)


def peak_reason(p: float, n: float, finite: bool) -> str:
    """Why the dense risk is infinite at width ``p`` (for warnings)."""
    if finite:
        return (
            f"p = {p:g} is within 1 of n = {n:g}: E[(XᵀX)⁻¹] diverges there, so min-norm "
            f"least squares has infinite expected risk (the interpolation peak); add --ridge"
        )
    return (
        "p = n (width 1): the interpolation peak, where min-norm least squares without ridge "
        "has infinite risk; add --ridge"
    )
