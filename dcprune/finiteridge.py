r"""The finite-size dense risk of ridge least squares, diagonal Σ (docs/theory.rst §13).

The ridgeless finite-size noise level :math:`\gamma_n` of docs/theory.rst §2 does not carry over
to a ridge penalty :math:`\eta > 0`. This module gives the first-order (:math:`1/n`, real
Gaussian) correction of the bias and the variance, its resummed form, and the blend of the two
that dcprune uses at finite ``n``. Everything is batched like :mod:`dcprune.solver`: arrays of
shape ``(batch, atoms)`` for the atoms and ``(batch,)`` for the rest, ``m_a = 0`` atoms inert.

With :math:`c_a = \lambda_a/(\lambda_a+\zeta)`, :math:`\mathrm{df}_2 = \sum_a m_a c_a^2`,
:math:`D = 1 - \mathrm{df}_2/n`, :math:`N = nD`, :math:`r_3 = \sum_a m_a c_a^2(1-c_a)` and
:math:`b_0 = \zeta^2 \sum_a m_a \lambda_a\beta_a^2/(\lambda_a+\zeta)^2`, the expected diagonal
of the resolvent is, to first order,

.. math::

   \mathbb E\bigl[\eta (S + \eta)^{-1}\bigr]_{aa} = 1 - c_a + \delta_a, \qquad
   \delta_a = \frac{c_a(1-c_a)\,(c_a - r_3/N)}{N},

the derivative of the Bai–Silverstein mean :math:`\tfrac12\log D` of
:math:`\mathbb E\log\det(S + \mathrm{diag})` (docs/theory.rst §13). The variance
:math:`\frac{\sigma^2}{n}\partial_\eta\,\mathbb E\,\eta\operatorname{tr}\Sigma(S+\eta)^{-1}` and the bias
:math:`-\eta^2\partial_\varepsilon\,\beta^\top\mathbb E(S+\eta+\varepsilon\Sigma)^{-1}\beta` then gain

.. math::

   V_1 = \frac{\sigma^2}{N}\sum_a m_a\lambda_a\frac{\partial\delta_a}{\partial\zeta}, \qquad
   B_1 = \sum_a m_a\beta_a^2\Bigl[\lambda_a\delta_a - \eta\frac{\partial\delta_a}{\partial\varepsilon}\Bigr],

with :math:`\partial c_a/\partial\zeta = -c_a(1-c_a)/\zeta` and
:math:`\eta\,\partial c_a/\partial\varepsilon = \zeta\,[c_a(1-c_a)\,\mathrm{df}_2/N - c_a^2]`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .numerics import solve_monotone

__all__ = ["FirstOrder", "first_order", "lower_edge", "blend_weight", "finite_ridge_parts", "BLEND_SCALE"]

#: The blend's ridge scale in units of the lower spectral edge ``a`` (see :func:`blend_weight`).
BLEND_SCALE = 0.07


@dataclass(frozen=True)
class FirstOrder:
    """The pieces of the first-order risk, batched: ``D = 1 − df₂/n``, ``df2n = df₂/n``, the
    asymptotic bias numerator ``b0``, the bias correction ``B1`` and the variance correction
    per unit noise ``v1`` (:math:`V_1 = \\sigma^2 v_1`)."""

    D: np.ndarray
    df2n: np.ndarray
    b0: np.ndarray
    B1: np.ndarray
    v1: np.ndarray

    def first(self, sigma2):
        """``(bias, variance)`` of the first-order form: ``b₀/D + B₁`` and ``σ²(df₂/n/D + v₁)``."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.b0 / self.D + self.B1, sigma2 * (self.df2n / self.D + self.v1)

    def resummed(self, sigma2):
        r"""``(bias, variance)`` of the resummed form :math:`b_0/(D-\kappa_B)` and
        :math:`\sigma^2(\mathrm{df}_2/n)/(D-\kappa_V)`, with :math:`\kappa_B = B_1D^2/b_0` and
        :math:`\kappa_V = v_1D^2/(\mathrm{df}_2/n)`; it agrees with :meth:`first` to first order
        and is exact for ridge → 0 where :math:`\gamma_n` is (docs/theory.rst §13).
        A denominator that the correction drives to or below 0 gives ``inf``."""
        D = self.D
        with np.errstate(divide="ignore", invalid="ignore"):
            den_b = D - self.B1 * D * D / np.where(self.b0 > 0, self.b0, 1.0)
            den_v = D - self.v1 * D * D / np.where(self.df2n > 0, self.df2n, 1.0)
            bias = np.where(self.b0 > 0, self.b0 / np.where(den_b > 0, den_b, np.nan), 0.0)
            variance = np.where(sigma2 * self.df2n > 0, sigma2 * self.df2n / np.where(den_v > 0, den_v, np.nan), 0.0)
        return np.nan_to_num(bias, nan=np.inf), np.nan_to_num(variance, nan=np.inf)


def first_order(lam, beta, mult, n: float, zeta) -> FirstOrder:
    """The first-order pieces at the DC's ``zeta`` (module docstring; docs/theory.rst §13).

    ``ζ∂δ/∂ζ`` and ``η∂δ/∂ε`` are written with the factor ``c(1 − c)`` taken out, so nothing is
    divided by ``1 − c`` (which rounds to 0 for a tiny ``ζ``).
    """
    lam = np.asarray(lam, dtype=float)
    beta = np.asarray(beta, dtype=float)
    mult = np.asarray(mult, dtype=float)
    z = np.asarray(zeta, dtype=float)[:, None]
    c = lam / (lam + z)
    comp = z / (lam + z)  # 1 − c without cancellation
    u = c * comp
    p = mult.sum(axis=-1)
    df2 = (mult * c * c).sum(axis=-1)
    N = ((n - p) + (mult * comp * (1.0 + c)).sum(axis=-1))[:, None]  # n − df₂, exact as c → 1
    r3 = (mult * c * c * comp).sum(axis=-1)[:, None]
    r4 = (mult * c * c * comp * (2.0 - 3.0 * c)).sum(axis=-1)[:, None]  # −ζ ∂r₃/∂ζ
    with np.errstate(divide="ignore", invalid="ignore"):
        e = c - r3 / N
        # ζ ∂δ/∂ζ = u·A (∂N/∂ζ = 2r₃/ζ); λ ∂δ/∂ζ = (λ/ζ)·u·A = c²·A.
        A = (-(1.0 - 2.0 * c) * e - u + r4 / N + 2.0 * r3 * r3 / (N * N) - 2.0 * e * r3 / N) / N
        v1 = (mult * c * c * A).sum(axis=-1) / N[:, 0]
        # Along ε: η ċ = ζ·g with g = u·df₂/N − c²; Ṅ = −Σ 2 m c ċ, ṙ₃ = Σ m (2c − 3c²) ċ.
        g = u * (df2[:, None] / N) - c * c
        n_dot = -(mult * 2.0 * c * g).sum(axis=-1)[:, None]
        r3_dot = (mult * (2.0 * c - 3.0 * c * c) * g).sum(axis=-1)[:, None]
        e_dot = g - (r3_dot * N - r3 * n_dot) / (N * N)
        delta_dot = ((1.0 - 2.0 * c) * g * e + u * e_dot) / N - u * e * n_dot / (N * N)
        # λ δ = ζ c² e / N (λ u = ζ c²); both terms carry the factor ζ.
        B1 = z[:, 0] * (mult * beta**2 * (c * c * e / N - delta_dot)).sum(axis=-1)
    b0 = (mult * lam * beta**2 * comp**2).sum(axis=-1)
    return FirstOrder(D=N[:, 0] / n, df2n=df2 / n, b0=b0, B1=B1, v1=v1)


def lower_edge(lam, mult, n: float):
    r"""The lower edge :math:`a` of the limiting spectrum of :math:`S = X^\top X/n` (its
    nonzero part), batched.

    On the real axis left of the spectrum the DC's ridge equation continues as
    :math:`\eta(\zeta) = \zeta(1 - \frac1n\sum_a m_a c_a)` with :math:`d\eta/d\zeta = D(\zeta)`;
    the edge is :math:`a = -\eta(\zeta_*)` at the root :math:`\zeta_* > -\lambda_{min}` of
    :math:`D(\zeta_*) = 0` (for :math:`\Sigma = I`, :math:`a = (1 - \sqrt{p/n})^2`, the
    Marchenko–Pastur edge; :math:`a = 0` at :math:`p = n`). Solved in
    :math:`t = \log(\zeta + \lambda_{min})` by bracketed Newton.

    >>> import numpy as np
    >>> a = lower_edge(np.array([[1.0]]), np.array([[50.0]]), 100)
    >>> round(float(a[0]), 12), round((1 - 0.5 ** 0.5) ** 2, 12)
    (0.085786437627, 0.085786437627)
    """
    lam = np.asarray(lam, dtype=float)
    mult = np.asarray(mult, dtype=float)
    active = mult > 0
    lmin = np.where(active, lam, np.inf).min(axis=-1)
    m_min = np.where(active & (lam == lmin[:, None]), mult, 0.0).sum(axis=-1)
    # λ_a + ζ = gap_a + t, exact for the smallest atom; padding (m_a = 0) may sit below λ_min.
    gap = np.where(active, lam - lmin[:, None], np.inf)

    def fun(x):
        t = np.exp(x)[:, None]
        k = lam / (gap + t)
        f = 1.0 - (mult * k * k).sum(axis=-1) / n
        return f, 2.0 * (mult * k * k * t / (gap + t)).sum(axis=-1) / n

    # D < 0 once the smallest atom alone has m λ²/t² > n; D > 0 once t exceeds λ_min + sqrt(Σ m λ²/n).
    lo = np.log(lmin * np.sqrt(m_min / n)) - 1e-12
    hi = np.log(lmin + np.sqrt((mult * lam * lam).sum(axis=-1) / n)) + 1e-12
    # Σ = I has its root at t = λ√(p/n): a start from which Newton takes a few steps.
    x0 = np.clip(np.log(lmin * np.sqrt(mult.sum(axis=-1) / n)), lo, hi)
    root = solve_monotone(fun, lo, hi, x0=x0, increasing=True)
    t = np.exp(root.x)
    zeta = t - lmin
    df1 = (mult * lam / (gap + t[:, None])).sum(axis=-1)
    return np.maximum(-zeta * (1.0 - df1 / n), 0.0)


def blend_weight(ridge, edge):
    r"""Weight :math:`w = 1/(1 + (\eta/(0.07\,a))^2)` of the resummed form against the first-order
    one (docs/theory.rst §13): the resummation is right where the ridge is small against the
    smallest eigenvalues of :math:`S` (edge :math:`a`, :func:`lower_edge`; it becomes
    :math:`\gamma_n` as :math:`\eta \to 0`), the first-order form once the ridge dominates them.

    >>> float(blend_weight(0.07, 1.0))
    0.5
    """
    ridge = np.asarray(ridge, dtype=float)
    edge = np.asarray(edge, dtype=float)
    with np.errstate(divide="ignore"):
        x = ridge / (BLEND_SCALE * edge)
    return 1.0 / (1.0 + x * x)


def finite_ridge_parts(lam, beta, mult, sigma2, n: float, ridge, zeta, *, shift=None):
    r"""``(bias, variance)`` of the finite-size dense risk with ridge (docs/theory.rst §13), so that
    the risk is ``σ² + bias + variance`` (``sigma2`` is σ_eff²):

    .. math::

       (B, V) = w\,\bigl[(B, V)_{\rm resummed} + \Delta_0\bigr] + (1 - w)\,(B, V)_{\rm first},
       \qquad w = 1/(1 + (\eta/(0.07\,a))^2)

    (:func:`blend_weight`, :func:`lower_edge`). ``shift`` is :math:`\Delta_0`, a pair of arrays:
    the gap between the ridgeless :math:`\gamma_n`'s parts and the resummed form's at the
    ridgeless ζ₀, which makes ridge → 0 give :math:`\gamma_n` exactly (it is 0 for ``p ≤ n``
    and for Σ = I, at most ~0.1% otherwise; ``None``: 0).
    """
    sigma2 = np.broadcast_to(np.asarray(sigma2, dtype=float), np.shape(zeta))
    terms = first_order(lam, beta, mult, n, zeta)
    bias_f, var_f = terms.first(sigma2)
    bias_r, var_r = terms.resummed(sigma2)
    if shift is not None:
        bias_r, var_r = bias_r + shift[0], var_r + shift[1]
    w = blend_weight(ridge, lower_edge(lam, mult, n))
    # A part whose resummation the correction drives past its pole has nothing to add: next to
    # the peak (p = n − 2) the bias's first-order term can exceed its leading one (there
    # E(XᵀX)⁻² diverges), while the variance's resummation is still exact.
    return _blend(w, bias_r, bias_f), _blend(w, var_r, var_f)


def _blend(w, resummed, first):
    w = np.where(np.isfinite(resummed), w, 0.0)
    with np.errstate(invalid="ignore"):
        return np.where(w > 0, w * resummed, 0.0) + (1.0 - w) * first
