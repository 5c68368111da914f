"""The power-law spectrum ``λ_j = (j/d)^(-a)`` (docs/theory.rst §5), asymptotic and finite.

Asymptotically the atoms are Gauss–Jacobi quadrature panels on ``u = j/d``, graded towards
``u = 0`` (where ``λ`` diverges for ``a > 0``) and started at the width and oracle boundaries,
so every integral the DC needs is a weighted sum over nodes; at finite ``d`` the spectrum is
the ``d`` exact coordinates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import roots_jacobi

from ..checks import ParameterError, finite_number, shown
from .spectra import MAX_SCALE, AtomSpectrum, Layout, Spectrum, check_layout_size, check_signal, normalize_signal

__all__ = ["PowerLaw", "QUADRATURE_NODES", "QUADRATURE_PANELS"]


# Quadrature of the asymptotic power law (see PowerLaw): QUADRATURE_PANELS panels graded by factors
# of _PL_RATIO toward each range's start (down to 4^-23 of the range), QUADRATURE_NODES Gauss nodes
# each. A keep probability can switch at v ∝ (t − B)², arbitrarily close to 0, hence the deep
# grading. Tested against 4x the nodes and 2x the panels in tests/test_theory.py: 1e-6
# relative away from the interpolation peak, for exponents up to _PL_EXACT_EXPONENT.
QUADRATURE_NODES = 12
QUADRATURE_PANELS = 24
_PL_RATIO = 4.0
# Largest exponent for which that test holds at every width and sparsity tried (a = 0.9
# reaches 2.5e-3 at p = 2s = 0.02 n): above it predictions carry a warning.
_PL_EXACT_EXPONENT = 0.8
# Below this exponent the quadrature runs in u rather than v = u^a (see _power_law_panel).
_PL_U_EXPONENT = 0.05


@dataclass(frozen=True)
class PowerLaw(Spectrum):
    """Power-law spectrum ``λ_j = (j/d)^(−a)``, ``β ∝ 1``, signal energy ``signal``.

    Finite ``d``: exactly those ``d`` atoms. Asymptotic law: ``Λ = U^(−a)`` with ``U``
    uniform on (0, 1), which needs ``a < 1`` for finite signal energy; integrals over a range
    ``u ∈ [u0, u1]`` of coordinate fractions are done in ``v = u^a`` (so ``Λ = 1/v``) by
    composite Gauss quadrature: the weight ``(1/a) v^(1/a−1)``, not smooth at ``v = 0`` (and
    singular once multiplied by ``Λ = 1/v``, as every risk term is), is taken exactly by
    Gauss–Jacobi on the first panel, and ``QUADRATURE_PANELS`` equal panels in
    ``v`` resolve the pruning thresholds. Width and oracle boundaries are panel
    boundaries, so no quadrature node straddles them.
    """

    exponent: float = 0.5
    signal: float = 1.0
    name = "power-law"

    def __post_init__(self):
        object.__setattr__(self, "exponent", finite_number("exponent", self.exponent, positive=True))
        object.__setattr__(self, "signal", check_signal(self.signal))

    def params(self):
        return {"exponent": self.exponent, "signal": self.signal}

    def layout(self, d, widths, s, finite):
        a = self.exponent
        widths = np.asarray(widths, dtype=float)
        if finite:
            return _FiniteAtoms(*self._finite_atoms(int(d))).layout(d, widths, s, True)
        self._check_asymptotic()
        check_layout_size(widths.size * 4 * QUADRATURE_NODES * QUADRATURE_PANELS)
        big_b2 = self.signal * (1.0 - a)  # E[Λ] B² = signal
        q_p = widths / d
        q_s = np.minimum(widths, s) / d
        lam1, w1 = _power_law_panel(0.0, q_s, a)
        # Away from u = 0 an atom's noise sd is bounded below, so the range the oracle drops
        # needs only a third of the graded panels.
        lam2, w2 = _power_law_panel(q_s, q_p, a, panels=QUADRATURE_PANELS // 3)
        lam = np.concatenate([lam1, lam2], axis=1)
        mult = np.concatenate([w1, w2], axis=1) * d
        oracle_mult = np.concatenate([w1 * d, np.zeros_like(w2)], axis=1)
        beta = np.full_like(lam, math.sqrt(big_b2 / d))
        tail = self.tail(d, widths, False)
        tail_s = float(self.tail(d, np.array([s]), False)[0])
        return Layout(lam, beta, mult, oracle_mult, tail, tail_s)

    def tail(self, d, widths, finite):
        a = self.exponent
        if finite:
            return _FiniteAtoms(*self._finite_atoms(int(d))).tail(d, widths, True)
        self._check_asymptotic()
        # ∫_q^1 u^(−a) B² du with E[Λ] B² = signal
        return self.signal * (1.0 - (np.asarray(widths, dtype=float) / d) ** (1.0 - a))

    def warnings(self, finite):
        if finite or self.exponent <= _PL_EXACT_EXPONENT:
            return []
        return [
            f"power-law exponent {self.exponent:g} > {_PL_EXACT_EXPONENT:g}: the asymptotic quadrature "
            f"is tested to 1e-6 only up to {_PL_EXACT_EXPONENT:g} (its energy concentrates at Λ → ∞ as "
            f"the exponent nears 1; errors up to ~3e-3 seen at 0.9 for tiny widths); give --n for the "
            f"exact finite-size spectrum"
        ]

    def _check_asymptotic(self):
        if self.exponent >= 1:
            raise ValueError(
                f"exponent must be < 1 for the asymptotic power law (E[Λ] = 1/(1-a) must be "
                f"finite), got exponent={shown(self.exponent)}; give --n for a finite-size problem"
            )

    def atom_count(self, d, finite):
        return int(d) if finite else 4 * QUADRATURE_NODES * QUADRATURE_PANELS

    def check_finite_size(self, d):
        # λ_1 = d^a must stay inside the spectra's range (1e250), or its square overflows.
        if self.exponent * math.log10(max(d, 1)) > math.log10(MAX_SCALE):
            raise ParameterError("exponent", f"must be at most {math.log10(MAX_SCALE) / math.log10(d):.4g} at "
                                 f"d = {d} coordinates (the largest eigenvalue d^a must stay below "
                                 f"{MAX_SCALE:g})", self.exponent)

    def breakpoints(self, d, finite):
        return np.arange(int(d) + 1, dtype=float) if finite else None

    def _finite_atoms(self, d):
        j = np.arange(1, d + 1, dtype=float)
        lam = (j / d) ** (-self.exponent)
        return lam, normalize_signal(lam, np.ones(d), np.ones(d), d, self.signal), np.ones(d)


@dataclass(frozen=True)
class _FiniteAtoms(AtomSpectrum):
    lam: np.ndarray
    big_b: np.ndarray
    counts: np.ndarray

    def atoms(self, d, finite):
        return self.lam, self.big_b, self.counts


def _power_law_panel(u0, u1, a, panels=None):
    """Quadrature nodes ``Λ`` and weights (in ``u``) for ``u ∈ [u0, u1]``, batched over rows.

    Small exponents (``a < _PL_U_EXPONENT``) integrate in ``u`` itself (:func:`_u_panel`):
    the change of variable ``v = u^a`` of :func:`_v_panel` then has the weight
    ``v^(1/a − 1)``, a spike at ``v = 1`` that the panels graded toward ``v = 0`` miss
    (1e-3 relative at ``a = 1e-3``, every risk wrong at ``a = 1e-6``).
    """
    if a < _PL_U_EXPONENT:
        return _u_panel(u0, u1, a, panels)
    return _v_panel(u0, u1, a, panels)


def _u_panel(u0, u1, a, panels=None):
    """:func:`_power_law_panel` in ``u``: ``Λ = u^(−a)`` is nearly flat for small ``a``.

    Risks weight each coordinate by ``Λ = u^(−a)``, singular at ``u = 0``: a panel starting
    there uses Gauss–Jacobi for the weight ``u^(−a)`` (each node carries ``u^a`` back),
    others Gauss–Legendre; panels are graded toward ``u0`` as in :func:`_v_panel`.
    """
    u0 = np.broadcast_to(np.asarray(u0, dtype=float), np.shape(u1))
    u1 = np.asarray(u1, dtype=float)
    panels = QUADRATURE_PANELS if panels is None else panels
    grading = np.r_[0.0, _PL_RATIO ** np.arange(1 - panels, 1.0)]
    edges = u0[:, None] + (u1 - u0)[:, None] * grading
    xs_l, ws_l = np.polynomial.legendre.leggauss(QUADRATURE_NODES)
    xs_j, ws_j = roots_jacobi(QUADRATURE_NODES, 0.0, -a)
    lam_parts, w_parts = [], []
    for i in range(panels):
        lo, hi = edges[:, i : i + 1], edges[:, i + 1 : i + 2]
        half = 0.5 * (hi - lo)
        u_l = lo + half * (xs_l + 1.0)
        w_l = ws_l * half
        if i == 0:
            at_zero = lo == 0.0
            u_j = lo + half * (xs_j + 1.0)
            with np.errstate(divide="ignore", invalid="ignore"):
                w_j = ws_j * half ** (1.0 - a) * u_j**a
            u = np.where(at_zero, u_j, u_l)
            w = np.where(at_zero, w_j, w_l)
        else:
            u, w = u_l, w_l
        mass = hi - lo  # exact ∫ du, matched as in _v_panel
        total = w.sum(axis=1, keepdims=True)
        w = np.where(total > 0, w * (mass / np.where(total > 0, total, 1.0)), 0.0)
        with np.errstate(divide="ignore"):
            lam_parts.append(np.where(w > 0, u ** (-a), 1.0))
        w_parts.append(w)
    return np.concatenate(lam_parts, axis=1), np.concatenate(w_parts, axis=1)


def _v_panel(u0, u1, a, panels=None):
    """Quadrature nodes ``Λ`` and weights (in ``u``) for ``u ∈ [u0, u1]``, batched over rows.

    Weights integrate ``∫ g(Λ(u)) du`` with ``Λ = u^(−a)``; in ``v = u^a``,
    ``du = (1/a) v^(1/a − 1) dv``. A panel starting at ``v = 0`` uses Gauss–Jacobi for that
    weight; others use Gauss–Legendre times the (smooth there) weight.
    """
    u0 = np.broadcast_to(np.asarray(u0, dtype=float), np.shape(u1))
    u1 = np.asarray(u1, dtype=float)
    v0, v1 = u0**a, u1**a
    k = 1.0 / a - 1.0
    # Panels graded geometrically toward v0: an atom's noise sd is ∝ sqrt(v), so a keep
    # probability can switch on a scale that shrinks to 0 at v = 0; uniform panels miss it.
    panels = QUADRATURE_PANELS if panels is None else panels
    grading = np.r_[0.0, _PL_RATIO ** np.arange(1 - panels, 1.0)]
    edges = v0[:, None] + (v1 - v0)[:, None] * grading
    xs_l, ws_l = np.polynomial.legendre.leggauss(QUADRATURE_NODES)
    # Risks weight each coordinate by Λ = 1/v, so the first panel's weight is v^(k−1), not
    # v^k: the Jacobi rule takes (1+x)^(k−1) exactly and each node carries the smooth v back.
    xs_j, ws_j = roots_jacobi(QUADRATURE_NODES, 0.0, k - 1.0)
    lam_parts, w_parts = [], []
    for i in range(panels):
        lo, hi = edges[:, i : i + 1], edges[:, i + 1 : i + 2]
        half = 0.5 * (hi - lo)
        if i == 0:
            # Only exact when the panel starts at v = 0; else Legendre on the smooth weight.
            at_zero = lo == 0.0
            v_j = lo + half * (xs_j + 1.0)
            w_j = ws_j * half**k * v_j / a  # ∫ f v^k dv = half^k Σ ws f(v_j) v_j when lo = 0
            v_l = lo + half * (xs_l + 1.0)
            w_l = ws_l * half * v_l**k / a
            v = np.where(at_zero, v_j, v_l)
            w = np.where(at_zero, w_j, w_l)
        else:
            v = lo + half * (xs_l + 1.0)
            w = ws_l * half * v**k / a
        # The panel's mass ∫ du is known exactly; matching it makes Σ m = p to rounding,
        # which the dense risk needs near the peak, where it divides by 1 − p/n.
        mass = np.maximum(hi, 0.0) ** (1.0 / a) - np.maximum(lo, 0.0) ** (1.0 / a)
        total = w.sum(axis=1, keepdims=True)
        w = np.where(total > 0, w * (mass / np.where(total > 0, total, 1.0)), 0.0)
        with np.errstate(divide="ignore"):
            lam_parts.append(np.where(w > 0, 1.0 / v, 1.0))
        w_parts.append(w)
    return np.concatenate(lam_parts, axis=1), np.concatenate(w_parts, axis=1)
