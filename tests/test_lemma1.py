"""Lemma 1 (THEORY.md §8): exact risks against Monte Carlo of the real min-norm regressions,
against the correlated-feature DC path, and against exhaustive enumeration."""

import itertools
import math

import numpy as np
import pytest

from dcprune.covariance import CovarianceProblem, predict_covariance
from dcprune.lemma1 import LEMMA1_NAMES, Lemma1Problem, _min_norm, lemma1_risk, simulate_lemma1

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
        assert abs(mean - getattr(exact, name)) <= Z_MAX * se, (name, mean, se, getattr(exact, name))


def test_same_data_retraining_equals_dense_in_every_trial():
    """On rank-one X, min-norm retraining on S predicts with the same â as the dense fit."""
    sim = simulate_lemma1(problem(), 9, 3, trials=500, seed=1)
    assert sim["magnitude_retrain_same"][0] == pytest.approx(sim["dense"][0], rel=1e-9)


def test_min_norm_helper_is_lstsq():
    rng = np.random.default_rng(0)
    g = rng.standard_normal((5, 8))
    X = g[:, :, None] * np.sqrt(C)
    y = 0.7 * g + rng.standard_normal((5, 8))
    batch = _min_norm(X, y)
    for t in range(5):
        np.testing.assert_allclose(batch[t], np.linalg.lstsq(X[t], y[t], rcond=None)[0], rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("n", [6, 12, 40])
def test_covariance_path_reproduces_lemma1(n):
    """The DC of THEORY.md §6 on the rank-one Σ: dense and retraining exactly, pruning within SE."""
    pr = problem()
    exact = lemma1_risk(pr, n, 4)
    pred = predict_covariance(CovarianceProblem(pr.Sigma, pr.beta, pr.sigma2), n, 4, finite=True,
                              samples=8000, retrain_samples=4, seed=2)
    for name in ("dense", "magnitude_retrain", "hessian_retrain", "oracle_retrain"):
        assert pred.risk[name][0] == pytest.approx(getattr(exact, name), rel=REL_EXACT)
    for name in ("magnitude", "hessian", "oracle", "random"):
        mean, se = pred.risk[name]
        assert abs(mean - getattr(exact, name)) <= Z_MAX * se, name


def test_random_pruning_by_enumeration():
    c = np.array([3.0, 2.0, 1.0, 0.5, 0.25])
    pr = Lemma1Problem(c, [0.3, -0.2, 0.5, 1.0, -0.4], 0.7)
    n, s = 9, 2
    v = 0.7 / (n - 2)
    values = [0.7 + (1 - r) ** 2 * pr.a**2 + r * r * v
              for r in (c[list(S)].sum() / c.sum() for S in itertools.combinations(range(5), s))]
    assert lemma1_risk(pr, n, s).random == pytest.approx(np.mean(values), rel=REL_EXACT)


def test_closed_form_values():
    r = lemma1_risk(Lemma1Problem([4.0, 1.0], [0.5, 0.5], 0.1), n=12, s=1)
    # a = 1.5, ρ = 0.8, v = 0.1/10: pruned 0.1 + 0.04·2.25 + 0.64·0.01
    assert r.rho == 0.8
    assert r.dense == pytest.approx(0.11, rel=REL_EXACT)
    assert r.magnitude == pytest.approx(0.1964, rel=REL_EXACT)
    assert r.magnitude_retrain == pytest.approx(0.11, rel=REL_EXACT)


def test_edges():
    pr = problem()
    assert math.isinf(lemma1_risk(pr, 2, 3).dense)  # E[1/χ²_2] = ∞
    noiseless = lemma1_risk(problem(0.0), 2, 3)
    assert noiseless.dense == 0.0 and noiseless.magnitude_retrain == 0.0
    everything = lemma1_risk(pr, 10, 12)
    assert everything.magnitude == pytest.approx(everything.dense, rel=REL_EXACT)
    assert everything.rho == pytest.approx(1.0, rel=REL_EXACT)
    # The oracle's tie among zero scores goes to index 0, a zero-variance feature: the model
    # retrained on it predicts 0 (risk σ² + a² = σ² here), not the factor's σ²/(n − 2) error.
    dead = Lemma1Problem([0.0, 1.0, 1.0], [0.0, 0.0, 0.0], 0.1)
    assert dead.oracle_set(1).tolist() == [0]
    assert lemma1_risk(dead, 10, 1).oracle_retrain == 0.1
    assert lemma1_risk(dead, 10, 1).magnitude_retrain == pytest.approx(0.1 + 0.1 / 8, rel=REL_EXACT)


@pytest.mark.parametrize("kwargs,name", [
    (dict(c=[1.0, -1.0], beta=[1.0, 1.0], sigma2=0.1), "c"),
    (dict(c=[0.0, 0.0], beta=[1.0, 1.0], sigma2=0.1), "c"),
    (dict(c=[1.0, 2.0], beta=[1.0], sigma2=0.1), "beta"),
    (dict(c=[1.0, 2.0], beta=[1.0, 1.0], sigma2=-0.1), "sigma2"),
])
def test_validation(kwargs, name):
    with pytest.raises(ValueError, match=name):
        Lemma1Problem(**kwargs)
