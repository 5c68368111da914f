"""Numerically delicate helpers shared by the whole theory engine.

Everything here is a pure, vectorized function on NumPy arrays: the Gaussian tail moments
that turn pruning rules into closed forms (docs/theory.rst §3), and a bracketed root finder for the
monotone equations of the DC (docs/theory.rst §2) and of the pruning thresholds (§3).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.special import ndtr

__all__ = ["normal_pdf", "truncated_moments", "kept_moments", "solve_monotone", "RootResult"]

_INV_SQRT_2PI = 1.0 / np.sqrt(2.0 * np.pi)


def normal_pdf(z: np.ndarray) -> np.ndarray:
    """Standard normal density φ(z); exactly 0 at ±inf."""
    return _INV_SQRT_2PI * np.exp(-0.5 * np.square(z))


def _z_phi(z: np.ndarray, phi: np.ndarray) -> np.ndarray:
    # z·φ(z) → 0 as |z| → ∞, but inf·0 is nan in floating point.
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(z), z * phi, 0.0)


def truncated_moments(mu, sd, threshold):
    r"""Keep probability and centred moments of a two-sided magnitude threshold on a Gaussian.

    For :math:`X \sim N(\mu, s^2)` and a threshold :math:`t \ge 0`, with
    :math:`z_\pm = (\pm t-\mu)/s`:

    .. math::
        P = Q(z_+) + \Phi(z_-), \qquad
        E[(X-\mu) 1\{|X|>t\}] = s(\varphi(z_+) - \varphi(z_-)), \qquad
        E[(X-\mu)^2 1\{|X|>t\}] = s^2 (P + z_+\varphi(z_+) - z_-\varphi(z_-))

    (docs/theory.rst §3). ``sd`` must be positive. Returns ``(P, first, second)``.

    >>> p, first, second = truncated_moments(0.0, 1.0, 0.0)
    >>> float(p), float(first), float(second)
    (1.0, 0.0, 1.0)
    """
    mu, sd, threshold = np.broadcast_arrays(*map(np.asarray, (mu, sd, threshold)))
    z_hi = (threshold - mu) / sd
    z_lo = (-threshold - mu) / sd
    phi_hi, phi_lo = normal_pdf(z_hi), normal_pdf(z_lo)
    prob = ndtr(-z_hi) + ndtr(z_lo)
    first = sd * (phi_hi - phi_lo)
    second = sd * sd * (prob + _z_phi(z_hi, phi_hi) - _z_phi(z_lo, phi_lo))
    return prob, first, second


def kept_moments(mu, sd, b, threshold, slope=1.0):
    r"""Keep probability and kept loss of a two-sided magnitude threshold on a Gaussian.

    For :math:`X \sim N(\mu, s^2)`, a target :math:`b`, a ``slope`` :math:`k` and a threshold
    :math:`t \ge 0`, with :math:`\delta = k\mu - b` and the moments of :func:`truncated_moments`:

    .. math::
        E[(kX-b)^2 1\{|X|>t\}] = \delta^2 P + 2\delta k E[(X-\mu)1\{|X|>t\}]
            + k^2 E[(X-\mu)^2 1\{|X|>t\}]

    (docs/theory.rst §3; written in the centred variable so no large terms cancel). ``k = 1``
    is the loss of a kept coordinate against a fixed coefficient; other slopes serve Gaussian
    coefficients, whose target is linear in :math:`X` (§11). ``sd`` must be positive;
    deterministic atoms are handled by the callers. Returns ``(P, kept_loss)``.
    """
    mu, sd, b, threshold, slope = np.broadcast_arrays(*map(np.asarray, (mu, sd, b, threshold, slope)))
    prob, first, second = truncated_moments(mu, sd, threshold)
    delta = slope * mu - b
    return prob, delta * delta * prob + 2.0 * delta * slope * first + slope * slope * second


class RootResult:
    """Roots of a batch of scalar equations, with per-element status (like scipy's)."""

    __slots__ = ("x", "converged", "residual")

    def __init__(self, x, converged, residual):
        self.x = x
        self.converged = converged
        self.residual = residual


def solve_monotone(
    fun: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]],
    lo: np.ndarray,
    hi: np.ndarray,
    *,
    scale: np.ndarray | float = 1.0,
    x0: np.ndarray | None = None,
    increasing: bool | None = None,
    xtol: float = 1e-15,
    ftol: float = 1e-13,
    maxiter: int = 200,
) -> RootResult:
    """Solve ``f(x) = 0`` elementwise for monotone ``f`` bracketed by ``[lo, hi]``.

    ``fun(x)`` returns ``(f, f')`` evaluated elementwise on the batch. Newton steps are taken
    when they stay inside the current bracket and are at most half the step before last,
    bisection otherwise (Numerical Recipes' ``rtsafe``), so the iteration cannot leave the
    bracket or crawl. An element has converged when ``|f| <= ftol * scale`` or the
    step is below ``xtol * max(1, |x|)``. ``residual`` is ``|f| / scale`` at the answer.
    ``x0`` (clipped to the bracket; ``NaN`` entries keep the midpoint) replaces the midpoint as
    the first iterate; ``increasing``, when known, saves the evaluation at ``lo`` that would
    otherwise tell the direction.
    """
    lo = np.array(lo, dtype=float, copy=True)
    hi = np.array(hi, dtype=float, copy=True)
    scale = np.broadcast_to(np.asarray(scale, dtype=float), lo.shape)
    if increasing is None:
        increasing = fun(lo)[0] < 0
    x = 0.5 * (lo + hi)
    if x0 is not None:
        start = np.clip(np.asarray(x0, dtype=float), lo, hi)
        x = np.where(np.isnan(start), x, start)
    f = np.zeros_like(x)
    done = np.zeros(x.shape, dtype=bool)
    # rtsafe's guard: a Newton step longer than half the step before last is too slow (far
    # from the root, e.g. ζ·g(ζ) − λ in log ζ moves by ~1 per step), so bisect instead.
    step_before = hi - lo
    last_step = step_before.copy()
    f_tol = ftol * scale
    # The loop's cost is NumPy's per-call overhead on small batches (a prediction solves a
    # dozen of them), so each intermediate is computed once.
    for _ in range(maxiter):
        f, df = fun(x)
        below = (f < 0) == increasing  # root lies above x
        active = ~done
        lo = np.where(below & active, x, lo)
        hi = np.where(active & ~below, x, hi)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            newton = x - f / df
            fast = np.abs(2.0 * f) <= np.abs(step_before * df)
        inside = np.isfinite(newton) & (newton > lo) & (newton < hi) & fast
        step = np.where(inside, newton, 0.5 * (lo + hi))
        moved = np.abs(step - x)
        step_before, last_step = last_step, moved
        x_tol = xtol * np.maximum(1.0, np.abs(x))
        done |= (np.abs(f) <= f_tol) | (moved <= x_tol) | (hi - lo <= x_tol)
        x = np.where(done, x, step)
        if done.all():
            break
    residual = np.abs(f) / scale
    return RootResult(x, done & np.isfinite(x), residual)
