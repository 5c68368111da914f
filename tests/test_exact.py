"""Tests for dcprune.exact: exact sympy special cases of the DC (docs/theory.rst §2)."""
from __future__ import annotations

import dataclasses
import math
import random

import mpmath
import numpy as np
import pytest
import sympy as sp
from scipy.optimize import brentq

from dcprune.exact import (
    ExactSolution,
    NumericSolution,
    isotropic,
    isotropic_finite,
    polynomial,
    two_atom,
)

KAPPA = sp.Symbol("kappa", positive=True)
SIGMA2 = sp.Symbol("sigma^2", nonnegative=True)
R2 = sp.Symbol("r^2", nonnegative=True)
T = sp.Symbol("t", positive=True)  # kappa = 1 + t is provably overparameterized
W, L1, L2, B1, B2 = sp.symbols("w lambda_1 lambda_2 b_1 b_2", positive=True)


# ----------------------------------------------------------------------------------------
# independent float reference (brentq), written from docs/theory.rst §2 directly
# ----------------------------------------------------------------------------------------
def reference(kappa, weights, lams, bs, sigma2):
    """(zeta, gamma) by bracketing the zeta equation in floats."""
    weights = np.asarray(weights, float)
    lams = np.asarray(lams, float)
    bs = np.asarray(bs, float)
    if kappa < 1:
        zeta = 0.0
    else:
        def f(z):
            return kappa * np.sum(weights * lams / (lams + z)) - 1.0

        hi = 1.0
        while f(hi) > 0:
            hi *= 2.0
        zeta = brentq(f, 0.0, hi, xtol=1e-300, rtol=4 * np.finfo(float).eps, maxiter=500)
    num = sigma2 + zeta**2 * np.sum(weights * lams * bs**2 / (lams + zeta) ** 2)
    den = 1.0 - kappa * np.sum(weights * lams**2 / (lams + zeta) ** 2)
    return zeta, num / den


def rel(a, b):
    return abs(float(a) - float(b)) / max(abs(float(b)), 1e-300)


def zeta_residual(kappa, weights, lams, zeta):
    return kappa * sum(w * lam / (lam + zeta) for w, lam in zip(weights, lams)) - 1


# ----------------------------------------------------------------------------------------
# the defining equation
# ----------------------------------------------------------------------------------------
def test_isotropic_zeta_satisfies_equation_symbolically():
    sol = isotropic(KAPPA, SIGMA2, R2, regime="over")
    assert sp.simplify(KAPPA / (1 + sol.zeta) - 1) == 0


def test_two_atom_zeta_satisfies_equation_symbolically():
    kappa = 1 + T
    sol = two_atom(kappa, W, L1, L2, B1, B2, SIGMA2)
    assert not isinstance(sol.zeta, sp.Piecewise)  # regime decided from assumptions
    # the cleared polynomial vanishes identically (sqrt(D)**2 -> D)
    poly = polynomial(kappa, [W, 1 - W], [L1, L2])
    assert sp.expand(poly.as_expr().subs(sp.Symbol("zeta"), sol.zeta)) == 0
    # the un-cleared equation holds at random rational points, to 1e-40 at 50 digits
    rng = random.Random(1)
    eq = zeta_residual(kappa, [W, 1 - W], [L1, L2], sol.zeta)
    for _ in range(5):
        point = {
            T: sp.Rational(rng.randint(1, 400), 100),
            W: sp.Rational(rng.randint(1, 99), 100),
            L1: sp.Rational(rng.randint(1, 1000), 100),
            L2: sp.Rational(rng.randint(1, 1000), 100),
        }
        assert abs(eq.subs(point).evalf(50)) < 1e-40
        assert sol.zeta.subs(point).evalf(50) > 0


@pytest.mark.parametrize(
    "kappa,weight,lam1,lam2",
    [(2, 0.1, 5, 1), (1.5, 0.5, 0.2, 3), (7, 0.9, 1, 100), (1.01, 0.3, 2, 0.5)],
)
def test_two_atom_numeric_zeta_exact(kappa, weight, lam1, lam2):
    sol = two_atom(kappa, weight, lam1, lam2, 1, 1, 0.1)
    k, w = sp.Rational(repr(float(kappa))), sp.Rational(repr(float(weight)))
    l1, l2 = sp.Rational(repr(float(lam1))), sp.Rational(repr(float(lam2)))
    eq = zeta_residual(k, [w, 1 - w], [l1, l2], sol.zeta)
    assert sp.simplify(eq) == 0
    assert abs(eq.evalf(50)) < 1e-40
    assert sol.zeta.evalf(50) > 0


# ----------------------------------------------------------------------------------------
# Hastie et al. and reductions
# ----------------------------------------------------------------------------------------
def test_isotropic_matches_hastie_symbolically():
    sol = isotropic(KAPPA, SIGMA2, R2, regime="over")
    hastie = SIGMA2 / (KAPPA - 1) + R2 * (1 - 1 / KAPPA)
    assert sp.simplify(sol.gamma - SIGMA2 - hastie) == 0
    assert sp.simplify(sol.risk - sol.gamma) == 0
    assert sp.simplify(sol.zeta - (KAPPA - 1)) == 0


def test_isotropic_underparameterized_and_peak():
    sol = isotropic(KAPPA, SIGMA2, R2, regime="under")
    assert sol.zeta == 0
    assert sp.simplify(sol.gamma - SIGMA2 / (1 - KAPPA)) == 0
    assert isotropic(sp.Rational(1, 2), sp.Rational(1, 10)).gamma == sp.Rational(1, 5)
    peak = isotropic(1, 0.5)
    assert peak.zeta == 0 and peak.risk == sp.oo and peak.gamma == sp.oo
    assert isotropic(1.0, 2, 3).risk == sp.oo
    assert peak.evalf().risk == mpmath.inf
    # noiseless peak: both one-sided limits are 0
    assert isotropic(1, 0).risk == 0
    over = isotropic(KAPPA, 0, R2, regime="over").gamma
    assert sp.limit(over, KAPPA, 1, dir="+") == 0


def test_isotropic_piecewise_when_regime_unknown():
    sol = isotropic(KAPPA, SIGMA2, R2)
    assert isinstance(sol.gamma, sp.Piecewise)
    num = sol.evalf(30, subs={KAPPA: 3, SIGMA2: sp.Rational(1, 4), R2: 1})
    with mpmath.workdps(50):
        assert abs(num.gamma - mpmath.mpf(25) / 24) < mpmath.mpf(10) ** -28
    num = sol.evalf(30, subs={KAPPA: sp.Rational(1, 2), SIGMA2: 1, R2: 1})
    with mpmath.workdps(50):
        assert abs(num.gamma - 2) < mpmath.mpf(10) ** -28
    assert sol.subs({KAPPA: 1, SIGMA2: 1}).risk == sp.oo
    # kappa = 1 + t decides the branch from the assumptions
    assert not isinstance(isotropic(1 + T, SIGMA2, R2).gamma, sp.Piecewise)


def test_two_atom_equal_lambdas_reduces_to_isotropic_symbolic():
    kappa = 1 + T
    sol = two_atom(kappa, W, 1, 1, B1, B1, SIGMA2)
    iso = isotropic(kappa, SIGMA2, B1**2)
    assert sp.simplify(sol.zeta - iso.zeta) == 0
    assert sp.simplify(sol.gamma - iso.gamma) == 0
    # general lambda: zeta = lambda (kappa - 1), gamma = isotropic with signal lambda b^2
    sol = two_atom(kappa, W, L1, L1, B1, B1, SIGMA2)
    assert sp.simplify(sol.zeta - L1 * (kappa - 1)) == 0
    assert sp.simplify(sol.gamma - isotropic(kappa, SIGMA2, L1 * B1**2).gamma) == 0


@pytest.mark.parametrize("kappa", [0.3, 0.9, 1.2, 2, 5.5])
def test_two_atom_equal_lambdas_reduces_to_isotropic_numeric(kappa):
    a = two_atom(kappa, 0.25, 1, 1, 2, 2, 0.3)
    b = isotropic(kappa, 0.3, 4)
    assert sp.simplify(a.zeta - b.zeta) == 0
    assert sp.simplify(a.gamma - b.gamma) == 0
    assert sp.simplify(a.risk - b.risk) == 0


def test_two_atom_underparameterized_and_peak():
    sol = two_atom(0.5, 0.3, 5, 1, 3, 1, 0.2)
    assert sol.zeta == 0 and sol.gamma == sp.Rational(2, 5)
    peak = two_atom(1, 0.3, 5, 1, 3, 1, 0.2)
    assert peak.zeta == 0 and peak.risk == sp.oo
    assert two_atom(1, 0.3, 5, 1, 3, 1, 0).risk == 0


# ----------------------------------------------------------------------------------------
# independent numeric check
# ----------------------------------------------------------------------------------------
TWO_ATOM_POINTS = [
    # kappa, weight, lam1, lam2, b1, b2, sigma2
    (2, 0.1, 5, 1, 3, 1, 0.1),  # docs/theory.rst §10 worked example
    (1.05, 0.5, 10, 1, 1, 1, 0.5),
    (3, 0.2, 1, 1, 1, 1, 0),
    (4.5, 0.7, 0.01, 2, -1.5, 0.3, 1.25),
    (1.5, 0.05, 100, 0.1, 0.2, 2, 0.01),
    (25, 0.5, 3, 0.4, 1, 0, 2),
    (0.4, 0.3, 5, 1, 3, 1, 0.1),
    (0.95, 0.6, 2, 7, 1, 2, 0.3),
]


@pytest.mark.parametrize("point", TWO_ATOM_POINTS)
def test_two_atom_matches_brentq(point):
    kappa, weight, lam1, lam2, b1, b2, sigma2 = point
    sol = two_atom(*point)
    zeta_ref, gamma_ref = reference(
        kappa, [weight, 1 - weight], [lam1, lam2], [b1, b2], sigma2
    )
    num = sol.floats()
    if kappa < 1:
        assert num.zeta == 0
    else:
        assert rel(num.zeta, zeta_ref) < 1e-12
    assert rel(num.gamma, gamma_ref) < 1e-12
    assert num.risk == num.gamma


@pytest.mark.parametrize("kappa,sigma2,signal", [(2, 0.1, 1), (1.3, 1, 0.5), (10, 0, 2), (0.5, 0.7, 1)])
def test_isotropic_matches_brentq(kappa, sigma2, signal):
    zeta_ref, gamma_ref = reference(kappa, [1], [1], [math.sqrt(signal)], sigma2)
    num = isotropic(kappa, sigma2, signal).floats()
    assert abs(num.zeta - zeta_ref) <= 1e-12 * max(1, zeta_ref)
    assert rel(num.gamma, gamma_ref) < 1e-12


def test_worked_example_theory_section_10():
    num = two_atom(2, 0.1, 5, 1, 3, 1, 0.1).floats()
    assert abs(num.zeta - 1.1495) < 1e-4
    assert abs(num.gamma - 1.0762) < 1e-4


def test_evalf_precision():
    sol = two_atom(2, 0.1, 5, 1, 3, 1, 0.1)
    assert sol.zeta == sp.Rational(-8, 5) + 3 * sp.sqrt(21) / 5
    with mpmath.workdps(60):
        exact = -mpmath.mpf(8) / 5 + 3 * mpmath.sqrt(21) / 5
    num = sol.evalf(40)
    assert isinstance(num, NumericSolution)
    assert isinstance(num.zeta, mpmath.mpf)
    with mpmath.workdps(60):
        assert abs(num.zeta - exact) < mpmath.mpf(10) ** -38
    with pytest.raises(ValueError, match="free symbols"):
        isotropic(KAPPA, SIGMA2, regime="over").evalf()
    with pytest.raises(ValueError, match="digits"):
        sol.evalf(0)


# ----------------------------------------------------------------------------------------
# polynomial
# ----------------------------------------------------------------------------------------
def test_polynomial_degree_and_root():
    zeta = sp.Symbol("zeta")
    poly = polynomial(2, [0.1, 0.9], [5, 1])
    assert poly.degree() == 2 and poly.LC() == 1
    assert poly.as_expr() == zeta**2 + sp.Rational(16, 5) * zeta - 5
    # equal lambdas merge
    assert polynomial(2, [0.1, 0.2, 0.7], [5, 1, 5]).degree() == 2
    assert polynomial(3, [0.5, 0.5], [2, 2]).degree() == 1
    # three atoms: unique positive root equals brentq
    weights, lams = [0.2, 0.3, 0.5], [10, 2, 0.5]
    poly3 = polynomial(3.5, weights, lams)
    assert poly3.degree() == 3
    positive = [r for r in poly3.real_roots() if r.is_positive]
    assert len(positive) == 1
    zeta_ref, _ = reference(3.5, weights, lams, [1, 1, 1], 0)
    assert rel(positive[0].evalf(30), zeta_ref) < 1e-12
    # kappa < 1: no positive root
    assert not [r for r in polynomial(0.8, weights, lams).real_roots() if r.is_positive]
    # symbolic
    sym = polynomial(KAPPA, [W, 1 - W], [L1, L2])
    assert sym.degree() == 2
    assert sp.expand(sym.eval(0) - (1 - KAPPA) * L1 * L2) == 0


def test_polynomial_validation():
    with pytest.raises(ValueError, match="sum to 1"):
        polynomial(2, [0.5, 0.6], [1, 2])
    with pytest.raises(ValueError, match="same length"):
        polynomial(2, [1], [1, 2])
    with pytest.raises(ValueError, match=r"lams\[1\]"):
        polynomial(2, [0.5, 0.5], [1, -2])
    with pytest.raises(ValueError, match=r"weights\[0\]"):
        polynomial(2, [0, 1], [1, 2])


# ----------------------------------------------------------------------------------------
# finite size
# ----------------------------------------------------------------------------------------
def test_isotropic_finite_formulas():
    sol = isotropic_finite(200, 100, 0.1, 1)
    assert sol.risk == sp.Rational(1, 10) * 199 / 99 and sol.zeta == 0
    sol = isotropic_finite(200, 400, 0.1, 1)
    expected = sp.Rational(1, 10) + sp.Rational(1, 2) + sp.Rational(1, 10) * 200 / 199
    assert sol.risk == expected and sol.gamma == expected and sol.zeta == 1
    for p in (199, 200, 201):
        assert isotropic_finite(200, p, 0.1, 1).risk == sp.oo
    assert isotropic_finite(200, 200, 0, 1).risk == 0
    assert isotropic_finite(200, 201, 0, 1).risk == sp.Rational(1, 201)
    assert isotropic_finite(200, 202, 0, 1).risk == sp.Rational(1, 101)


def test_isotropic_finite_tends_to_asymptotic():
    n = sp.Symbol("n", positive=True)
    for kappa in (sp.Rational(1, 2), sp.Rational(3, 1), sp.Rational(5, 4)):
        regime = "over" if kappa > 1 else "under"
        fin = isotropic_finite(n, kappa * n, SIGMA2, R2, regime=regime).risk
        asym = isotropic(kappa, SIGMA2, R2).risk
        assert sp.simplify(sp.limit(fin, n, sp.oo) - asym) == 0


def test_isotropic_finite_symbolic_and_validation():
    n, p = sp.symbols("n p", positive=True, integer=True)
    sol = isotropic_finite(n, p, SIGMA2, R2)
    assert isinstance(sol.risk, sp.Piecewise)
    assert sol.evalf(subs={n: 200, p: 400, SIGMA2: sp.Rational(1, 10), R2: 1}).risk == pytest.approx(
        float(isotropic_finite(200, 400, 0.1, 1).risk), rel=1e-14
    )
    with pytest.raises(ValueError, match="n"):
        isotropic_finite(0, 10, 1)
    with pytest.raises(ValueError, match="p"):
        isotropic_finite(10, 2.5, 1)
    with pytest.raises(ValueError, match="regime"):
        isotropic_finite(200, 100, 1, regime="over")


def _mc_isotropic_risk(n, p, sigma2, signal, trials, seed):
    """Monte Carlo over X of the exact conditional risk given X (noise averaged exactly)."""
    rng = np.random.default_rng(seed)
    beta = np.full(p, math.sqrt(signal / p))
    vals = np.empty(trials)
    for t in range(trials):
        X = rng.standard_normal((n, p))
        if p < n:
            var = sigma2 * np.trace(np.linalg.inv(X.T @ X))
            bias = 0.0
        else:
            G = X @ X.T
            var = sigma2 * np.trace(np.linalg.inv(G))
            proj = X.T @ np.linalg.solve(G, X @ beta)
            bias = float(beta @ beta - beta @ proj)
        vals[t] = sigma2 + bias + var
    return vals.mean(), vals.std(ddof=1) / math.sqrt(trials)


@pytest.mark.parametrize("n,p", [(40, 20), (30, 70)])
def test_isotropic_finite_monte_carlo(n, p):
    mean, se = _mc_isotropic_risk(n, p, 0.5, 1.0, trials=3000, seed=12345 + p)
    exact = float(isotropic_finite(n, p, 0.5, 1.0).risk)
    assert abs(mean - exact) < 4 * se + 1e-12


# ----------------------------------------------------------------------------------------
# LaTeX, types and validation
# ----------------------------------------------------------------------------------------
def test_latex_with_symbols():
    sol = isotropic(KAPPA, SIGMA2, R2, regime="over")
    tex = sol.latex()
    assert set(tex) == {"zeta", "gamma", "risk"}
    for s in tex.values():
        assert isinstance(s, str) and s
    assert r"\kappa" in tex["gamma"] and r"\sigma^{2}" in tex["gamma"]
    assert sol.latex("zeta") == r"\kappa - 1"
    two = two_atom(KAPPA, W, L1, L2, B1, B2, SIGMA2, regime="over").latex()
    assert r"\kappa" in two["zeta"] and r"\lambda_{1}" in two["gamma"]
    with pytest.raises(ValueError):
        sol.latex("nope")


def test_solution_is_frozen_and_exact():
    sol = isotropic(2, 0.1)
    assert isinstance(sol, ExactSolution)
    with pytest.raises(dataclasses.FrozenInstanceError):
        sol.gamma = 1  # type: ignore[misc]
    assert sol.gamma == sp.Rational(7, 10)  # 0.1 -> 1/10 exactly
    assert isotropic(np.float64(2.0), np.float64(0.1)).gamma == sp.Rational(7, 10)
    assert isotropic(sp.Float(2.0), sp.Float("0.1")).gamma == sp.Rational(7, 10)


@pytest.mark.parametrize(
    "kwargs,name",
    [
        (dict(kappa=0), "kappa"),
        (dict(kappa=-1.5), "kappa"),
        (dict(kappa=float("nan")), "kappa"),
        (dict(weight=0), "weight"),
        (dict(weight=1), "weight"),
        (dict(weight=1.5), "weight"),
        (dict(lam1=0), "lam1"),
        (dict(lam2=-1), "lam2"),
        (dict(sigma2=-0.1), "sigma2"),
        (dict(sigma2=float("inf")), "sigma2"),
        (dict(b1="x"), "b1"),
    ],
)
def test_two_atom_validation(kwargs, name):
    args = dict(kappa=2, weight=0.1, lam1=5, lam2=1, b1=3, b2=1, sigma2=0.1)
    args.update(kwargs)
    with pytest.raises(ValueError, match=name):
        two_atom(**args)


def test_isotropic_validation():
    with pytest.raises(ValueError, match="kappa"):
        isotropic(-1, 1)
    with pytest.raises(ValueError, match="sigma2"):
        isotropic(2, -1)
    with pytest.raises(ValueError, match="signal"):
        isotropic(2, 1, -1)
    with pytest.raises(ValueError, match="regime"):
        isotropic(2, 1, regime="sideways")
    with pytest.raises(ValueError, match="regime"):
        isotropic(2, 1, regime="under")
    with pytest.raises(ValueError, match="kappa"):
        isotropic(sp.Symbol("k", negative=True), 1)
