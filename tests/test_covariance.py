"""The correlated-feature path (docs/theory.rst §6) against the diagonal closed forms, rotations,
an exact OLS formula checked by simulation, and its own edge cases."""

import math

import numpy as np
import pytest

import dcprune
from dcprune.families.covariance import (
    CovarianceProblem,
    predict_covariance,
    retrain_risk,
    solve_covariance_dc,
    sweep_covariance,
)
from dcprune.families.spectra import DiagonalProblem
from dcprune.quantities import PREDICTED as RISK_NAMES
from dcprune.quantities import QUANTITIES

# Tolerances, in one place.
REL_ROTATION = 1e-10  # the DC is rotation invariant: only eigh's rounding separates the answers
Z_MAX = 4.0  # sampling checks: |prediction − estimate| <= 4 standard errors
# Retraining: the closed form keeps the *expected* count of each atom (a fractional boundary
# atom), the sampled path exactly s per draw, and 64 supports can all coincide (se 0) while
# rare draws drop a salient coordinate. The two differ at order 1/p (p = 400 here).
REL_SUPPORT = 2e-3


def worked_example(sigma2=0.1):
    """docs/theory.rst §10: n = 200, p = 400, 40 coordinates with λ = 5."""
    lam = np.r_[np.full(40, 5.0), np.ones(360)]
    beta = np.r_[np.full(40, 3.0), np.ones(360)] / np.sqrt(400)
    return lam, beta, sigma2


def random_rotation(p, rng):
    q, r = np.linalg.qr(rng.standard_normal((p, p)))
    return q * np.sign(np.diag(r))


@pytest.mark.parametrize("finite,ridge", [(False, 0.0), (True, 0.0), (False, 0.3)])
def test_diagonal_sigma_reproduces_closed_forms(finite, ridge):
    lam, beta, sigma2 = worked_example()
    closed = dcprune.predict_problem(DiagonalProblem.from_arrays(lam, beta, sigma2), 200, 120,
                                     ridge=ridge, finite=finite)
    sampled = predict_covariance(CovarianceProblem(np.diag(lam), beta, sigma2), 200, 120, ridge=ridge,
                                 finite=finite, samples=4000, retrain_samples=64, seed=11)
    assert sampled.risk["dense"] == (pytest.approx(closed.dense.mean, rel=1e-12), 0.0)
    for name in RISK_NAMES[1:]:
        mean, se = sampled.risk[name]
        if QUANTITIES[name].heuristic:  # same-data retraining: the sampled DC does not predict it (§14)
            assert math.isnan(mean)
            continue
        expected = closed[name].mean
        tol = Z_MAX * se + (REL_SUPPORT * expected if name.endswith("retrain") else 0.0)
        assert abs(mean - expected) <= tol, (name, mean, se, expected)


def test_worked_example_through_from_diagonal():
    lam, beta, sigma2 = worked_example()
    diag = DiagonalProblem.from_arrays(lam, beta, sigma2)
    dc = solve_covariance_dc(CovarianceProblem.from_diagonal(diag), 200)
    assert dc.zeta == pytest.approx(1.1495, abs=5e-5)
    assert dc.gamma == pytest.approx(1.0762, abs=5e-5)


@pytest.mark.parametrize("p,n,finite,ridge", [(300, 100, True, 0.0), (300, 100, False, 0.0),
                                                (60, 100, True, 0.0), (300, 100, False, 0.5)])
def test_dense_risk_is_rotation_invariant(p, n, finite, ridge):
    rng = np.random.default_rng(p + n)
    lam = np.exp(rng.normal(size=p))
    beta = rng.normal(size=p) / np.sqrt(p)
    q = random_rotation(p, rng)
    base = solve_covariance_dc(CovarianceProblem(np.diag(lam), beta, 0.2), n, ridge=ridge, finite=finite)
    rotated = CovarianceProblem((q * lam) @ q.T, q @ beta, 0.2)
    dc = solve_covariance_dc(rotated, n, ridge=ridge, finite=finite)
    assert dc.gamma == pytest.approx(base.gamma, rel=REL_ROTATION)
    assert dc.zeta == pytest.approx(base.zeta, rel=REL_ROTATION, abs=1e-300)
    # The DC mean rotates with the problem.
    np.testing.assert_allclose(dc.mean, q @ base.mean, rtol=0, atol=REL_ROTATION * np.abs(base.mean).max())


def test_dense_draws_average_to_gamma():
    """Unpruned draws of the DC Gaussian (correlated Σ, finite n) have mean risk γ_n."""
    rng = np.random.default_rng(3)
    p, n = 80, 50
    a = rng.normal(size=(p, p)) / np.sqrt(p)
    problem = CovarianceProblem(a @ a.T + 0.1 * np.eye(p), rng.normal(size=p) / np.sqrt(p), 0.3)
    dc = solve_covariance_dc(problem, n, finite=True)
    draws = dc.mean + rng.standard_normal((20000, dc.factor.shape[1])) @ dc.factor.T
    risk = problem.risk(draws)
    assert abs(risk.mean() - dc.gamma) <= Z_MAX * risk.std() / math.sqrt(risk.size)


def test_fresh_retraining_matches_simulated_ols():
    """Retraining on a fixed support of correlated features (s < n − 1): the sub-problem's noise
    σ_S² = σ² + βᵀΣβ − β_SᵀΣ_SSβ_S and the exact OLS factor (n−1)/(n−s−1), against real OLS."""
    rng = np.random.default_rng(5)
    p, n, trials = 12, 30, 4000
    a = rng.normal(size=(p, p))
    sigma = a @ a.T / p + 0.2 * np.eye(p)
    beta = rng.normal(size=p)
    problem = CovarianceProblem(sigma, beta, 0.5)
    support = np.array([0, 3, 4, 7, 9])
    predicted = retrain_risk(problem, support[None], n, finite=True)[0]
    chol = np.linalg.cholesky(sigma)
    x = rng.standard_normal((trials, n, p)) @ chol.T
    y = x @ beta + math.sqrt(0.5) * rng.standard_normal((trials, n))
    xs = x[:, :, support]
    coef = np.linalg.solve(np.einsum("tni,tnj->tij", xs, xs), np.einsum("tni,tn->ti", xs, y)[..., None])[..., 0]
    b = np.zeros((trials, p))
    b[:, support] = coef
    risk = problem.risk(b)
    assert abs(risk.mean() - predicted) <= Z_MAX * risk.std(ddof=1) / math.sqrt(trials)


def test_retraining_on_everything_is_the_dense_model():
    rng = np.random.default_rng(1)
    p = 40
    a = rng.normal(size=(p, p))
    problem = CovarianceProblem(a @ a.T / p, rng.normal(size=p), 0.1)
    for n, finite in ((25, True), (25, False), (80, True)):
        dense = solve_covariance_dc(problem, n, finite=finite).gamma
        assert retrain_risk(problem, np.arange(p)[None], n, finite=finite)[0] == pytest.approx(dense, rel=1e-9)


def test_seeded_and_reproducible():
    lam, beta, sigma2 = worked_example()
    problem = CovarianceProblem(np.diag(lam), beta, sigma2)
    first = predict_covariance(problem, 200, 120, samples=600, retrain_samples=8, seed=4)
    again = predict_covariance(problem, 200, 120, samples=600, retrain_samples=8, seed=4)
    other = predict_covariance(problem, 200, 120, samples=600, retrain_samples=8, seed=5)
    assert first.risk == again.risk
    assert first.risk["magnitude"] != other.risk["magnitude"]


def test_nothing_to_prune():
    lam, beta, sigma2 = worked_example()
    pred = predict_covariance(CovarianceProblem(np.diag(lam), beta, sigma2), 200, 400)
    assert all(pred.risk[name] == (pred.gamma, 0.0) for name in RISK_NAMES)


def test_interpolation_peak_is_infinite_not_garbage():
    rng = np.random.default_rng(2)
    p = 50
    a = rng.normal(size=(p, p))
    problem = CovarianceProblem(a @ a.T / p + np.eye(p), rng.normal(size=p) / np.sqrt(p), 0.1)
    pred = predict_covariance(problem, p, 20, samples=200, retrain_samples=8)
    assert math.isinf(pred.gamma) and math.isinf(pred.risk["magnitude"][0])
    assert math.isfinite(pred.risk["magnitude_retrain"][0])  # s = 20 < n − 1: OLS, finite
    assert pred.warnings
    retrain_peak = predict_covariance(problem, 20, 20, samples=200, retrain_samples=8, finite=True)
    assert math.isinf(retrain_peak.risk["oracle_retrain"][0]) and retrain_peak.warnings


@pytest.mark.parametrize(
    "kwargs,name",
    [
        (dict(Sigma=np.ones((2, 3)), beta=np.ones(2), sigma2=0.1), "Sigma"),
        (dict(Sigma=[[1.0, 0.5], [0.4, 1.0]], beta=np.ones(2), sigma2=0.1), "Sigma"),
        (dict(Sigma=[[1.0, np.nan], [np.nan, 1.0]], beta=np.ones(2), sigma2=0.1), "Sigma"),
        (dict(Sigma=[[1.0, 2.0], [2.0, 1.0]], beta=np.ones(2), sigma2=0.1), "Sigma"),
        (dict(Sigma=np.eye(2), beta=np.ones(3), sigma2=0.1), "beta"),
        (dict(Sigma=np.eye(2), beta=[1.0, np.inf], sigma2=0.1), "beta"),
        (dict(Sigma=np.eye(2), beta=np.ones(2), sigma2=-1.0), "sigma2"),
    ],
)
def test_validation_names_the_argument(kwargs, name):
    with pytest.raises(ValueError, match=name):
        CovarianceProblem(**kwargs)


def test_psd_tolerance_accepts_rounding():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(30, 5))
    sigma = a @ a.T  # rank 5: 25 eigenvalues are rounding-level, some negative
    problem = CovarianceProblem(sigma, rng.normal(size=30), 0.1)
    assert problem.rank == 5
    assert problem.eigenvalues.min() >= 0


def test_bad_sizes():
    problem = CovarianceProblem(np.eye(3), np.ones(3), 0.1)
    with pytest.raises(ValueError, match="s must"):
        predict_covariance(problem, 10, 0)
    with pytest.raises(ValueError, match="n must"):
        predict_covariance(problem, 10.5, 1, finite=True)


# --- the width-p model of a correlated problem, files, sweeps --------------------------------


def _correlated(d=40, seed=0, sigma2=0.2):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((d, d))
    return CovarianceProblem(a @ a.T / d + 0.3 * np.eye(d), rng.standard_normal(d) / np.sqrt(d), sigma2)


def test_leading_block_is_the_best_restricted_predictor():
    problem = _correlated()
    for p in (1, 7, 25):
        sub = problem.leading(p)
        s_pp, s_p = problem.Sigma[:p, :p], problem.Sigma[:p]
        beta_p = np.linalg.solve(s_pp, s_p @ problem.beta)
        np.testing.assert_allclose(sub.beta, beta_p, rtol=1e-10, atol=1e-12)
        assert sub.sigma2 == pytest.approx(problem.sigma2 + problem.signal - beta_p @ s_pp @ beta_p, rel=1e-10)
        # Its risk is the full problem's risk of the zero-padded model, for any b.
        b = np.random.default_rng(p).standard_normal(p)
        assert sub.risk(b)[0] == pytest.approx(problem.risk(np.r_[b, np.zeros(problem.p - p)])[0], rel=1e-10)
    assert problem.leading(problem.p) is problem
    with pytest.raises(ValueError, match="p must be at most 40"):
        problem.leading(41)


def test_diagonal_sweep_matches_the_diagonal_engine():
    # A diagonal Σ with columns in saliency order: the width-p model of the covariance path is
    # the diagonal engine's width-p model (omitted features as noise), up to DC sampling error.
    lam, beta, sigma2 = worked_example()
    order = np.argsort(-(lam * beta**2), kind="stable")
    problem = CovarianceProblem(np.diag(lam[order]), beta[order], sigma2)
    setup = dcprune.Diagonal(dcprune.ArraySpectrum(lam=lam, beta=beta), kappa=2, alpha=0.3, sigma2=sigma2, n=200)
    for pred in sweep_covariance(problem, 200, [150, 300, 400], 120, samples=2000):
        want = dcprune.predict(setup, width=pred.p / 200)
        assert pred.gamma == pytest.approx(want.risk.dense.mean, rel=1e-10)
        for name in ("magnitude", "hessian", "oracle", "random"):
            mean, se = pred.risk[name]
            assert abs(mean - want.risk[name].mean) <= Z_MAX * se + 1e-12, (pred.p, name)


def test_sweep_is_seeded_per_width():
    problem = _correlated()
    both = sweep_covariance(problem, 30, [20, 40], 10, samples=200, seed=3)
    alone = sweep_covariance(problem, 30, [40], 10, samples=200, seed=3)
    assert both[1].risk == alone[0].risk


def test_load_covariance(tmp_path):
    problem = _correlated()
    good = tmp_path / "c.npz"
    np.savez(good, Sigma=problem.Sigma, beta=problem.beta)
    loaded = dcprune.load_covariance(good, 0.2)
    np.testing.assert_array_equal(loaded.Sigma, problem.Sigma)
    cases = {
        "asym.npz": (dict(Sigma=problem.Sigma + np.triu(np.ones((40, 40)), 1), beta=problem.beta), "symmetric"),
        "indef.npz": (dict(Sigma=problem.Sigma - 5 * np.eye(40), beta=problem.beta), "positive semidefinite"),
        "nobeta.npz": (dict(Sigma=problem.Sigma), "missing array beta"),
        "short.npz": (dict(Sigma=problem.Sigma, beta=problem.beta[:3]), "beta must have shape"),
        "nan.npz": (dict(Sigma=problem.Sigma * np.nan, beta=problem.beta), "finite"),
        "text.npz": (dict(Sigma=np.array(["a"]), beta=problem.beta), "real numbers"),
    }
    for name, (arrays, needle) in cases.items():
        np.savez(tmp_path / name, **arrays)
        with pytest.raises(ValueError, match=needle) as info:
            dcprune.load_covariance(tmp_path / name, 0.1)
        assert str(info.value).startswith(str(tmp_path / name))
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a (readable )?.npz"):
        dcprune.load_covariance(tmp_path / "junk.npz", 0.1)
    np.save(tmp_path / "c.npy", problem.Sigma)
    with pytest.raises(ValueError, match=".npz with arrays Sigma and beta"):
        dcprune.load_covariance(tmp_path / "c.npy", 0.1)
    with pytest.raises(ValueError, match="not found"):
        dcprune.load_covariance(tmp_path / "missing.npz", 0.1)
