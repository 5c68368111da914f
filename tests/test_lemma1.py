"""Lemma 1 (docs/theory.rst §8): exact risks against Monte Carlo of the real min-norm regressions,
against the correlated-feature DC path, and against exhaustive enumeration."""

import itertools
import math
from dataclasses import replace

import numpy as np
import pytest

from dcprune.families.covariance import CovarianceProblem, predict_covariance
from dcprune.families.rankone import RankOne, min_norm, rank_one_risk, simulate_rank_one
from dcprune.quantities import MEASURED as LEMMA1_NAMES


def lemma1_risk(pr, n, s):
    return rank_one_risk(replace(pr, n=n, s=s))


def simulate_lemma1(pr, n, s, **kw):
    return simulate_rank_one(replace(pr, n=n, s=s), **kw)


def Lemma1Problem(c, beta, sigma2):  # sizes are set per call by replace()
    return RankOne(c, beta, sigma2, n=2, s=1)


# Tolerances, in one place.
Z_MAX = 4.0  # sampling checks: |formula − estimate| <= 4 standard errors
REL_EXACT = 1e-12  # formulas that are identities, not estimates

C = np.array([4.0, 3.0, 2.5, 2.0, 1.5, 1.0, 0.8, 0.6, 0.5, 0.3, 0.2, 0.1])
BETA = np.random.default_rng(3).standard_normal(12) * 0.4


def problem(sigma2=0.5):
    return Lemma1Problem(C, BETA, sigma2)


@pytest.mark.parametrize("n", [6, 12, 40])  # p = 12: over-, at and underparameterized
def test_formulas_match_min_norm_monte_carlo(n):
    """n > 4 so that the per-trial risk has finite variance (E[1/χ⁴_n] < ∞) and the SE means something."""
    pr = problem()
    exact = lemma1_risk(pr, n, 4)
    sim = simulate_lemma1(pr, n, 4, trials=12000, seed=n)
    for name in LEMMA1_NAMES:
        mean, se = sim[name]
        assert abs(mean - exact[name].mean) <= Z_MAX * se, (name, mean, se, exact[name].mean)


def test_same_data_retraining_equals_dense_in_every_trial():
    """On rank-one X, min-norm retraining on S predicts with the same â as the dense fit."""
    sim = simulate_lemma1(problem(), 9, 3, trials=500, seed=1)
    assert sim["magnitude_retrain_same"][0] == pytest.approx(sim["dense"][0], rel=1e-9)


def test_min_norm_helper_is_lstsq():
    rng = np.random.default_rng(0)
    g = rng.standard_normal((5, 8))
    X = g[:, :, None] * np.sqrt(C)
    y = 0.7 * g + rng.standard_normal((5, 8))
    batch = min_norm(X, y)
    for t in range(5):
        np.testing.assert_allclose(batch[t], np.linalg.lstsq(X[t], y[t], rcond=None)[0], rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("n", [6, 12, 40])
def test_covariance_path_reproduces_lemma1(n):
    """The DC of docs/theory.rst §6 on the rank-one Σ: dense and retraining exactly, pruning within SE."""
    pr = problem()
    exact = lemma1_risk(pr, n, 4)
    pred = predict_covariance(CovarianceProblem(pr.Sigma, pr.beta, pr.sigma2), n, 4, finite=True,
                              samples=8000, retrain_samples=4, seed=2)
    for name in ("dense", "magnitude_retrain", "hessian_retrain", "oracle_retrain"):
        assert pred.risk[name][0] == pytest.approx(exact[name].mean, rel=REL_EXACT)
    for name in ("magnitude", "hessian", "oracle", "random"):
        mean, se = pred.risk[name]
        assert abs(mean - exact[name].mean) <= Z_MAX * se, name


def test_random_pruning_by_enumeration():
    c = np.array([3.0, 2.0, 1.0, 0.5, 0.25])
    pr = Lemma1Problem(c, [0.3, -0.2, 0.5, 1.0, -0.4], 0.7)
    n, s = 9, 2
    v = 0.7 / (n - 2)
    values = [0.7 + (1 - r) ** 2 * pr.a**2 + r * r * v
              for r in (c[list(S)].sum() / c.sum() for S in itertools.combinations(range(5), s))]
    assert lemma1_risk(pr, n, s).random.mean == pytest.approx(np.mean(values), rel=REL_EXACT)


def test_closed_form_values():
    pr = RankOne([4.0, 1.0], [0.5, 0.5], 0.1, n=12, s=1)
    r = rank_one_risk(pr)
    # a = 1.5, ρ = 0.8, v = 0.1/10: pruned 0.1 + 0.04·2.25 + 0.64·0.01
    assert pr.rho == 0.8
    assert r.dense.mean == pytest.approx(0.11, rel=REL_EXACT)
    assert r.magnitude.mean == pytest.approx(0.1964, rel=REL_EXACT)
    assert r.magnitude_retrain.mean == pytest.approx(0.11, rel=REL_EXACT)


def test_edges():
    pr = problem()
    assert math.isinf(lemma1_risk(pr, 2, 3).dense.mean)  # E[1/χ²_2] = ∞
    noiseless = lemma1_risk(problem(0.0), 2, 3)
    assert noiseless.dense.mean == 0.0 and noiseless.magnitude_retrain.mean == 0.0
    everything = lemma1_risk(pr, 10, 12)
    assert everything.magnitude.mean == pytest.approx(everything.dense.mean, rel=REL_EXACT)
    assert replace(pr, n=10, s=12).rho == pytest.approx(1.0, rel=REL_EXACT)
    # The oracle's tie among zero scores goes to index 0, a zero-variance feature: the model
    # retrained on it predicts 0 (risk σ² + a² = σ² here), not the factor's σ²/(n − 2) error.
    dead = Lemma1Problem([0.0, 1.0, 1.0], [0.0, 0.0, 0.0], 0.1)
    assert dead.oracle_set(1).tolist() == [0]
    assert lemma1_risk(dead, 10, 1).oracle_retrain.mean == 0.1
    assert lemma1_risk(dead, 10, 1).magnitude_retrain.mean == pytest.approx(0.1 + 0.1 / 8, rel=REL_EXACT)


@pytest.mark.parametrize("kwargs,name", [
    (dict(c=[1.0, -1.0], beta=[1.0, 1.0], sigma2=0.1), "c"),
    (dict(c=[0.0, 0.0], beta=[1.0, 1.0], sigma2=0.1), "c"),
    (dict(c=[1.0, 2.0], beta=[1.0], sigma2=0.1), "beta"),
    (dict(c=[1.0, 2.0], beta=[1.0, 1.0], sigma2=-0.1), "sigma2"),
])
def test_validation(kwargs, name):
    with pytest.raises(ValueError, match=name):
        Lemma1Problem(**kwargs)
