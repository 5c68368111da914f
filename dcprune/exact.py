r"""Exact symbolic special cases of the distributional characterization (sympy).

See docs/theory.rst §2.  In the asymptotic normalized form (``p/n → κ`` and the joint law of
``(Λ, B)``, with ``E[Λ B²]`` the signal energy) the effective regularization ``ζ`` of the
min-norm least-squares estimator solves

.. math::

    \kappa \, \mathbb{E}\left[\frac{\Lambda}{\Lambda + \zeta}\right] = 1
    \quad (\kappa > 1), \qquad \zeta = 0 \quad (\kappa < 1),

and the risk parameter, which equals the dense model's risk, is

.. math::

    \gamma = \frac{\sigma^2 + \zeta^2\,\mathbb{E}\left[\Lambda B^2/(\Lambda+\zeta)^2\right]}
                  {1 - \kappa\,\mathbb{E}\left[\Lambda^2/(\Lambda+\zeta)^2\right]} .

For a law of ``Λ`` with finitely many atoms the ``ζ`` equation clears to a polynomial whose
degree is the number of distinct atoms (:func:`polynomial`), so one and two atoms have closed
forms in radicals.  They serve as test oracles for the numerical solvers and as exportable
formulas (:meth:`ExactSolution.latex`).

Arguments may be numbers or sympy expressions.  Python floats are converted to the rational
number their shortest decimal representation denotes (``0.1 → 1/10``), so numerical input gives
exact results.  Symbols are best declared with assumptions, e.g.
``kappa = sympy.Symbol("kappa", positive=True)``, ``sigma2 = sympy.Symbol("sigma^2",
nonnegative=True)``; when the regime (``κ > 1`` or ``κ < 1``) cannot be decided from the
assumptions the result is a :class:`sympy.Piecewise` over the regimes, unless ``regime="over"``
or ``regime="under"`` is passed.

The interpolation peak ``κ = 1`` (``p = n``) is not an error: ``ζ = 0`` and the risk is
``sympy.oo`` (``0`` when ``σ² = 0`` exactly, the noiseless limit from both sides).
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from numbers import Integral, Real
from typing import Any, NamedTuple

import mpmath
import sympy

from .checks import shown

__all__ = [
    "ExactSolution",
    "NumericSolution",
    "isotropic",
    "isotropic_finite",
    "two_atom",
    "polynomial",
]

#: Default generator symbol of :func:`polynomial`.
ZETA = sympy.Symbol("zeta")

_REGIMES = (None, "over", "under")


# ----------------------------------------------------------------------------------------
# result types
# ----------------------------------------------------------------------------------------
class NumericSolution(NamedTuple):
    """Numerical values of an :class:`ExactSolution` (``mpmath.mpf`` or ``float``)."""

    zeta: Any
    gamma: Any
    risk: Any


@dataclasses.dataclass(frozen=True)
class ExactSolution:
    r"""Exact ``ζ``, ``γ`` and dense risk as sympy expressions (docs/theory.rst §2).

    ``zeta`` is the effective regularization, ``gamma`` the risk parameter and ``risk`` the
    dense model's expected test risk :math:`\mathbb{E}(y - x^\top\hat\beta)^2`.  In the
    asymptotic form ``risk == gamma``; :func:`isotropic_finite` gives the exact finite-``n``
    risk.
    """

    zeta: sympy.Expr
    gamma: sympy.Expr
    risk: sympy.Expr

    _FIELDS = ("zeta", "gamma", "risk")

    @property
    def free_symbols(self) -> set:
        """Symbols the three expressions depend on."""
        out: set = set()
        for name in self._FIELDS:
            out |= getattr(self, name).free_symbols
        return out

    def subs(self, *args, **kwargs) -> ExactSolution:
        """Substitute into all three expressions (arguments as for ``sympy.Expr.subs``)."""
        return ExactSolution(
            *(getattr(self, name).subs(*args, **kwargs) for name in self._FIELDS)
        )

    def latex(self, name: str | None = None, **kwargs) -> dict[str, str] | str:
        """LaTeX of the expressions: ``{"zeta": ..., "gamma": ..., "risk": ...}``.

        With ``name`` (one of ``"zeta"``, ``"gamma"``, ``"risk"``) return that single string.
        Extra keyword arguments go to :func:`sympy.latex`.
        """
        if name is not None:
            if name not in self._FIELDS:
                raise ValueError(f"name must be one of {self._FIELDS}, got {name!r}")
            return sympy.latex(getattr(self, name), **kwargs)
        return {f: sympy.latex(getattr(self, f), **kwargs) for f in self._FIELDS}

    def evalf(
        self, digits: int = 30, subs: Mapping | None = None
    ) -> NumericSolution:
        """Evaluate to ``digits`` significant digits; returns ``mpmath.mpf`` values.

        ``subs`` maps remaining symbols to numbers.  Infinite risk becomes ``mpmath.inf``.
        Raises ``ValueError`` if a value still depends on free symbols or is not real.
        """
        if not isinstance(digits, Integral) or digits < 1:
            raise ValueError(f"digits must be a positive integer, got {digits!r}")
        values = []
        for name in self._FIELDS:
            expr = getattr(self, name)
            if subs:
                expr = expr.subs(subs)
            values.append(_to_mpmath(expr, int(digits), name))
        return NumericSolution(*values)

    def floats(self, subs: Mapping | None = None) -> NumericSolution:
        """Evaluate to Python floats (via a 30-digit evaluation)."""
        return NumericSolution(*(float(v) for v in self.evalf(30, subs=subs)))


def _to_mpmath(expr: sympy.Expr, digits: int, name: str):
    expr = sympy.sympify(expr)
    if expr.free_symbols:
        names = ", ".join(sorted(str(s) for s in expr.free_symbols))
        raise ValueError(f"{name} depends on free symbols ({names}); pass subs=")
    if expr in (sympy.oo, sympy.zoo):
        if expr is sympy.zoo:
            raise ValueError(f"{name} is complex infinity")
        return mpmath.inf
    if expr is sympy.nan:
        raise ValueError(f"{name} is undefined (nan)")
    # a little extra working precision, then round to ``digits``
    val = sympy.N(expr, digits + 10)
    if val in (sympy.oo, -sympy.oo):
        return mpmath.inf if val is sympy.oo else -mpmath.inf
    re, im = val.as_real_imag()
    if im != 0 and abs(im) > sympy.Float(10) ** (-(digits + 5)) * max(1, abs(re)):
        raise ValueError(f"{name} is not real: {val}")
    prec = int(math.ceil(digits * math.log2(10))) + 4
    with mpmath.workprec(prec):
        return mpmath.mpf(sympy.Float(re, digits)._mpf_)


# ----------------------------------------------------------------------------------------
# input handling
# ----------------------------------------------------------------------------------------
def _exact(x: Any, name: str) -> sympy.Expr:
    """Convert ``x`` to an exact sympy expression (floats via their decimal repr)."""
    if isinstance(x, bool):
        raise ValueError(f"{name} must be a number or sympy expression, got a bool")
    if isinstance(x, sympy.Basic):
        expr = x
        if isinstance(expr, sympy.Float) or expr.has(sympy.Float):
            expr = sympy.nsimplify(expr, rational=True)
    elif isinstance(x, Integral):
        expr = sympy.Integer(int(x))
    elif isinstance(x, Fraction):
        expr = sympy.Rational(x.numerator, x.denominator)
    elif isinstance(x, Decimal):
        if not x.is_finite():
            raise ValueError(f"{name} must be finite, got {shown(x)}")
        expr = sympy.Rational(str(x))
    elif isinstance(x, Real):  # float, numpy floating
        xf = float(x)
        if not math.isfinite(xf):
            raise ValueError(f"{name} must be finite, got {shown(x)}")
        expr = sympy.Rational(repr(xf))
    elif isinstance(x, str):
        raise ValueError(f"{name} must be a number or sympy expression, got a str")
    else:
        try:
            expr = sympy.sympify(x, strict=True)
        except (sympy.SympifyError, TypeError) as exc:
            raise ValueError(f"{name} must be a number or sympy expression, got {x!r}") from exc
        if expr.has(sympy.Float):
            expr = sympy.nsimplify(expr, rational=True)
    if expr.has(sympy.oo, -sympy.oo, sympy.zoo, sympy.nan):
        raise ValueError(f"{name} must be finite, got {expr}")
    if expr.is_real is False:
        raise ValueError(f"{name} must be real, got {expr}")
    return expr


def _check_positive(x: sympy.Expr, name: str) -> None:
    if x.is_positive is False:
        raise ValueError(f"{name} must be > 0, got {x}")


def _check_nonnegative(x: sympy.Expr, name: str) -> None:
    if x.is_nonnegative is False:
        raise ValueError(f"{name} must be >= 0, got {x}")


def _check_open_unit(x: sympy.Expr, name: str) -> None:
    if x.is_positive is False or (1 - x).is_positive is False:
        raise ValueError(f"{name} must lie in (0, 1), got {x}")


def _check_regime(regime: str | None) -> None:
    if regime not in _REGIMES:
        raise ValueError(f"regime must be None, 'over' or 'under', got {regime!r}")


def _decide(excess: sympy.Expr, regime: str | None) -> str | None:
    """Regime from the sign of ``excess`` (``κ − 1``): 'over', 'under', 'critical' or None."""
    if excess.is_zero:
        return "critical"
    if excess.is_positive:
        if regime == "under":
            raise ValueError("regime='under' contradicts kappa > 1")
        return "over"
    if excess.is_negative:
        if regime == "over":
            raise ValueError("regime='over' contradicts kappa < 1")
        return "under"
    return regime  # undecidable from the assumptions: the caller's choice (maybe None)


def _critical_risk(sigma2: sympy.Expr) -> sympy.Expr:
    """Dense risk at the interpolation peak: infinite unless the noise is exactly zero."""
    return sympy.S.Zero if sigma2.is_zero else sympy.oo


def _assemble(
    kappa: sympy.Expr,
    sigma2: sympy.Expr,
    regime: str | None,
    over: tuple[sympy.Expr, sympy.Expr],
) -> ExactSolution:
    """Combine the overparameterized solution with the ``κ < 1`` and ``κ = 1`` cases."""
    decided = _decide(kappa - 1, regime)
    zeta_over, gamma_over = over
    gamma_under = sigma2 / (1 - kappa)
    if decided == "over":
        return ExactSolution(zeta_over, gamma_over, gamma_over)
    if decided == "under":
        return ExactSolution(sympy.S.Zero, gamma_under, gamma_under)
    if decided == "critical":
        r = _critical_risk(sigma2)
        return ExactSolution(sympy.S.Zero, r, r)
    r = _critical_risk(sigma2)
    zeta = sympy.Piecewise(
        (sympy.S.Zero, kappa < 1), (zeta_over, kappa > 1), (sympy.S.Zero, True)
    )
    gamma = sympy.Piecewise((gamma_under, kappa < 1), (gamma_over, kappa > 1), (r, True))
    return ExactSolution(zeta, gamma, gamma)


def _tidy(expr: sympy.Expr, collect: Sequence[sympy.Expr] = ()) -> sympy.Expr:
    """Light, reliable simplification (full ``simplify`` only for numeric values).

    Symbolic results are written as a sum over the ``collect`` terms (e.g. ``σ²`` and the
    signal), each with a factored coefficient, when those terms are symbols.
    """
    if not expr.free_symbols:
        return sympy.simplify(expr)
    expr = sympy.cancel(sympy.together(expr))
    syms = [c for c in collect if isinstance(c, sympy.Symbol)]
    if syms:
        return sympy.collect(sympy.expand(expr), syms, sympy.factor)
    return sympy.factor(expr)


# ----------------------------------------------------------------------------------------
# isotropic: Λ = 1
# ----------------------------------------------------------------------------------------
def isotropic(
    kappa: Any, sigma2: Any, signal: Any = 1, *, regime: str | None = None
) -> ExactSolution:
    r"""Isotropic features, :math:`\Lambda \equiv 1`, :math:`B^2 = r^2` (``signal``); docs/theory.rst §2.

    The ζ equation :math:`\kappa/(1+\zeta) = 1` gives

    .. math::

        \zeta = \kappa - 1 \ (\kappa > 1), \qquad \zeta = 0 \ (\kappa < 1),

    and substituting into γ (the dense risk),

    .. math::

        \gamma = \sigma^2 + \frac{\sigma^2}{\kappa - 1} + r^2\left(1 - \frac{1}{\kappa}\right)
        \ (\kappa > 1), \qquad \gamma = \frac{\sigma^2}{1-\kappa} \ (\kappa < 1),

    so :math:`\gamma - \sigma^2` is the excess risk of Hastie, Montanari, Rosset and
    Tibshirani (2019).  At :math:`\kappa = 1`: ``zeta = 0`` and ``risk = oo`` (``0`` if
    :math:`\sigma^2 = 0` exactly).

    ``regime`` (``"over"``/``"under"``) picks the branch when ``kappa`` is symbolic and its
    side of 1 is not implied by its assumptions; otherwise a ``Piecewise`` is returned.
    """
    _check_regime(regime)
    kappa = _exact(kappa, "kappa")
    sigma2 = _exact(sigma2, "sigma2")
    signal = _exact(signal, "signal")
    _check_positive(kappa, "kappa")
    _check_nonnegative(sigma2, "sigma2")
    _check_nonnegative(signal, "signal")
    zeta = kappa - 1
    num = sigma2 + zeta**2 * signal / (1 + zeta) ** 2
    den = 1 - kappa / (1 + zeta) ** 2
    gamma = _tidy(num / den, (sigma2, signal))
    return _assemble(kappa, sigma2, regime, (zeta, gamma))


def isotropic_finite(
    n: Any, p: Any, sigma2: Any, signal: Any = 1, *, regime: str | None = None
) -> ExactSolution:
    r"""Exact finite-size dense risk for :math:`\Sigma = I`, :math:`\|\beta\|^2 = r^2`; docs/theory.rst §2.

    Min-norm least squares on ``n`` Gaussian samples with ``p`` features:

    .. math::

        R = \sigma^2 \frac{n-1}{n-p-1} \quad (p < n-1), \qquad
        R = \sigma^2 + r^2\left(1 - \frac{n}{p}\right) + \sigma^2\frac{n}{p-n-1}
        \quad (p > n+1),

    from :math:`\mathbb{E}(X^\top X)^{-1} = I/(n-p-1)` and its inverse-Wishart analogue for
    :math:`XX^\top`.  For :math:`n-1 \le p \le n+1` the risk is infinite when
    :math:`\sigma^2 > 0`; with :math:`\sigma^2 = 0` exactly it is ``0`` for ``p <= n`` and
    :math:`r^2(1-n/p)` for ``p = n + 1``.

    ``zeta`` is the finite-size atom-form ζ, :math:`p/(1+\zeta) = n`, i.e. ``p/n - 1`` for
    ``p > n`` and ``0`` otherwise; ``gamma`` is the theory page's (docs/theory.rst) finite-size :math:`\gamma_n`,
    which is exact here, so ``gamma == risk``.  ``regime`` chooses the branch
    (``"over"``: ``p > n + 1``, ``"under"``: ``p < n - 1``) when ``n``, ``p`` are symbols.
    """
    _check_regime(regime)
    n = _exact(n, "n")
    p = _exact(p, "p")
    sigma2 = _exact(sigma2, "sigma2")
    signal = _exact(signal, "signal")
    for val, name in ((n, "n"), (p, "p")):
        _check_positive(val, name)
        if val.is_integer is False:
            raise ValueError(f"{name} must be a positive integer, got {val}")
    _check_nonnegative(sigma2, "sigma2")
    _check_nonnegative(signal, "signal")

    zeta_over = p / n - 1
    risk_over = sigma2 + signal * (1 - n / p) + sigma2 * n / (p - n - 1)
    risk_under = sigma2 * (n - 1) / (n - p - 1)
    over = (p - n - 1).is_positive  # True / False / None (undecidable)
    under = (n - 1 - p).is_positive
    if regime == "over":
        if over is False:
            raise ValueError("regime='over' contradicts p <= n + 1")
        over, under = True, False
    elif regime == "under":
        if under is False:
            raise ValueError("regime='under' contradicts p >= n - 1")
        over, under = False, True

    if over:
        r = _tidy(risk_over, (sigma2, signal))
        return ExactSolution(zeta_over, r, r)
    if under:
        r = _tidy(risk_under, (sigma2, signal))
        return ExactSolution(sympy.S.Zero, r, r)
    if over is False and under is False:  # n - 1 <= p <= n + 1, decided
        if not sigma2.is_zero:
            return ExactSolution(sympy.Max(zeta_over, 0), sympy.oo, sympy.oo)
        r = _tidy(signal * (1 - n / p)) if (p - n).is_positive else sympy.S.Zero
        return ExactSolution(sympy.Max(zeta_over, 0), r, r)
    # undecidable symbolic case
    band = _critical_risk(sigma2)
    zeta = sympy.Piecewise((zeta_over, p > n), (sympy.S.Zero, True))
    risk = sympy.Piecewise(
        (_tidy(risk_under, (sigma2, signal)), p < n - 1),
        (_tidy(risk_over, (sigma2, signal)), p > n + 1),
        (band, True),
    )
    return ExactSolution(zeta, risk, risk)


# ----------------------------------------------------------------------------------------
# finitely many atoms
# ----------------------------------------------------------------------------------------
def _merge_atoms(
    weights: Sequence[sympy.Expr], lams: Sequence[sympy.Expr]
) -> tuple[list[sympy.Expr], list[sympy.Expr]]:
    """Merge atoms with equal λ (summing their weights)."""
    out_w: list[sympy.Expr] = []
    out_l: list[sympy.Expr] = []
    for w, lam in zip(weights, lams):
        for i, existing in enumerate(out_l):
            diff = sympy.simplify(existing - lam)
            if diff.is_zero:
                out_w[i] = out_w[i] + w
                break
        else:
            out_w.append(w)
            out_l.append(lam)
    return out_w, out_l


def polynomial(
    kappa: Any,
    weights: Sequence[Any],
    lams: Sequence[Any],
    zeta: sympy.Symbol = ZETA,
) -> sympy.Poly:
    r"""Polynomial in ζ whose unique positive root is ζ for a finite-atom law; docs/theory.rst §2.

    For :math:`P(\Lambda = \lambda_a) = w_a` (:math:`\sum_a w_a = 1`) the ζ equation
    :math:`\kappa \sum_a w_a \lambda_a/(\lambda_a + \zeta) = 1`, multiplied by
    :math:`\prod_a (\lambda_a + \zeta)`, becomes

    .. math::

        P(\zeta) = \prod_a (\lambda_a + \zeta)
                   - \kappa \sum_a w_a \lambda_a \prod_{b \ne a} (\lambda_b + \zeta) = 0 ,

    monic of degree = number of distinct :math:`\lambda_a` (equal λ are merged first).
    For ζ > 0, :math:`P(\zeta) = \prod_a(\lambda_a+\zeta)\,(1 - f(\zeta))` with
    :math:`f(\zeta) = \kappa\sum_a w_a\lambda_a/(\lambda_a+\zeta)` strictly decreasing from
    :math:`f(0) = \kappa` to 0, so for :math:`\kappa > 1` P has exactly one positive root,
    and it is ζ; :math:`P(0) = (1-\kappa)\prod_a \lambda_a`.  For :math:`\kappa \le 1`
    there is no positive root and ζ = 0.

    Numerical ``weights`` must be positive and sum to 1 (within 1e-9; they are then rescaled
    to sum to 1 exactly).  Symbolic weights are used as given.
    """
    kappa = _exact(kappa, "kappa")
    _check_positive(kappa, "kappa")
    if not isinstance(zeta, sympy.Symbol):
        raise ValueError(f"zeta must be a sympy Symbol, got {zeta!r}")
    weights = list(weights)
    lams = list(lams)
    if len(weights) != len(lams):
        raise ValueError(
            f"weights and lams must have the same length ({len(weights)} != {len(lams)})"
        )
    if not lams:
        raise ValueError("lams must contain at least one atom")
    w_ex = [_exact(w, f"weights[{i}]") for i, w in enumerate(weights)]
    l_ex = [_exact(lam, f"lams[{i}]") for i, lam in enumerate(lams)]
    for i, w in enumerate(w_ex):
        _check_positive(w, f"weights[{i}]")
    for i, lam in enumerate(l_ex):
        _check_positive(lam, f"lams[{i}]")
    total = sum(w_ex, sympy.S.Zero)
    if not total.free_symbols:
        if abs(total - 1) > sympy.Rational(1, 10**9):
            raise ValueError(f"weights must sum to 1, got {total} ({float(total):.12g})")
        w_ex = [w / total for w in w_ex]
    w_m, l_m = _merge_atoms(w_ex, l_ex)
    prod_all = sympy.Mul(*[lam + zeta for lam in l_m])
    expr = prod_all
    for a, (w, lam) in enumerate(zip(w_m, l_m)):
        others = sympy.Mul(*[l_m[b] + zeta for b in range(len(l_m)) if b != a])
        expr -= kappa * w * lam * others
    return sympy.Poly(sympy.expand(expr), zeta)


def two_atom(
    kappa: Any,
    weight: Any,
    lam1: Any,
    lam2: Any,
    b1: Any,
    b2: Any,
    sigma2: Any,
    *,
    regime: str | None = None,
) -> ExactSolution:
    r"""Two-atom law: :math:`(\Lambda, B) = (\lambda_1, b_1)` w.p. ``weight``, else
    :math:`(\lambda_2, b_2)`; docs/theory.rst §2.

    With :math:`w` = ``weight`` and :math:`\bar\lambda = w\lambda_1 + (1-w)\lambda_2`, the ζ
    equation :math:`\kappa\,[w\lambda_1/(\lambda_1+\zeta) + (1-w)\lambda_2/(\lambda_2+\zeta)] = 1`
    clears (see :func:`polynomial`) to

    .. math::

        \zeta^2 + (\lambda_1 + \lambda_2 - \kappa\bar\lambda)\,\zeta
        + (1-\kappa)\lambda_1\lambda_2 = 0 .

    For :math:`\kappa > 1` the constant term is negative, so the roots have opposite signs
    (product :math:`(1-\kappa)\lambda_1\lambda_2 < 0`) and the discriminant
    :math:`D = (\lambda_1+\lambda_2-\kappa\bar\lambda)^2 + 4(\kappa-1)\lambda_1\lambda_2`
    exceeds the square of the linear coefficient.  The positive root is therefore the ``+``
    branch,

    .. math::

        \zeta = \tfrac12\left(\kappa\bar\lambda - \lambda_1 - \lambda_2 + \sqrt{D}\right) > 0,

    and, since :math:`\lambda_a + \zeta > 0` there, it solves the un-cleared equation (it is
    the unique solution, :func:`polynomial`).  Then

    .. math::

        \gamma = \frac{\sigma^2 + \zeta^2\left(\frac{w\lambda_1 b_1^2}{(\lambda_1+\zeta)^2}
                 + \frac{(1-w)\lambda_2 b_2^2}{(\lambda_2+\zeta)^2}\right)}
                 {1 - \kappa\left(\frac{w\lambda_1^2}{(\lambda_1+\zeta)^2}
                 + \frac{(1-w)\lambda_2^2}{(\lambda_2+\zeta)^2}\right)} ,

    and ``risk = gamma``.  For :math:`\kappa < 1`: ζ = 0 and :math:`\gamma = \sigma^2/(1-\kappa)`;
    at :math:`\kappa = 1`: ζ = 0 and ``risk = oo`` (``0`` if :math:`\sigma^2 = 0`).  With
    ``lam1 == lam2 == λ``, :math:`D = \lambda^2\kappa^2` and ζ = λ(κ − 1) (the isotropic case
    up to scale).  The signal energy is :math:`\mathbb{E}[\Lambda B^2] = w\lambda_1 b_1^2 +
    (1-w)\lambda_2 b_2^2`.  ``regime`` as in :func:`isotropic`.
    """
    _check_regime(regime)
    kappa = _exact(kappa, "kappa")
    weight = _exact(weight, "weight")
    lam1 = _exact(lam1, "lam1")
    lam2 = _exact(lam2, "lam2")
    b1 = _exact(b1, "b1")
    b2 = _exact(b2, "b2")
    sigma2 = _exact(sigma2, "sigma2")
    _check_positive(kappa, "kappa")
    _check_open_unit(weight, "weight")
    _check_positive(lam1, "lam1")
    _check_positive(lam2, "lam2")
    _check_nonnegative(sigma2, "sigma2")

    w1, w2 = weight, 1 - weight
    lin = lam1 + lam2 - kappa * (w1 * lam1 + w2 * lam2)
    disc = lin**2 + 4 * (kappa - 1) * lam1 * lam2
    root = sympy.sqrt(disc)
    if disc.free_symbols:
        # use a perfect square when the factored discriminant is one (e.g. lam1 == lam2)
        factored = sympy.sqrt(sympy.factor(sympy.expand(disc)))
        if not any(
            isinstance(node, sympy.Pow) and node.exp == sympy.S.Half
            for node in sympy.preorder_traversal(factored)
        ):
            root = factored
    zeta = (-lin + root) / 2
    if not zeta.free_symbols:
        zeta = sympy.radsimp(zeta)

    num = sigma2 + zeta**2 * (
        w1 * lam1 * b1**2 / (lam1 + zeta) ** 2 + w2 * lam2 * b2**2 / (lam2 + zeta) ** 2
    )
    den = 1 - kappa * (w1 * lam1**2 / (lam1 + zeta) ** 2 + w2 * lam2**2 / (lam2 + zeta) ** 2)
    gamma = num / den
    gamma = sympy.radsimp(sympy.simplify(gamma)) if not gamma.free_symbols else gamma
    return _assemble(kappa, sigma2, regime, (zeta, gamma))
