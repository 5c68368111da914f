"""Monte Carlo kernels against the slow NumPy versions in ``dcprune.validate.naive``, plus statistics.

Tolerances (one place, with why):

- ``RTOL = 1e-8``: kernels and references solve the same least-squares problems by different
  stable methods (Cholesky + refinement vs SVD-based lstsq); agreement to 1e-8 relative is the
  accuracy the kernels promise for designs with cond(X) < ``COND_LIMIT``.
- ``RTOL_EXACT = 1e-12``: sampling transforms (same normals, products in a different order).
- ``Z_STAT = 4``: statistical checks pass if the Monte Carlo mean is within 4 of its own
  standard errors of the exact value (false-failure rate ~6e-5 per check).
"""

import hashlib
import os
import subprocess
import sys

import numpy as np
import pytest

from dcprune.montecarlo import kernels as K
from dcprune.montecarlo import runtime
from dcprune.montecarlo.sampler import Sampler
from dcprune.validate.naive import (
    lgp_risk,
    naive_features,
    naive_fit,
    naive_fmix32,
    naive_risk,
    naive_top,
    naive_trial,
    pad,
)

RTOL = 1e-8
RTOL_EXACT = 1e-12
Z_STAT = 4.0

E1, E2 = np.empty(0), np.empty((0, 0))


def rel_err(a, b):
    return np.linalg.norm(np.asarray(a) - b) / np.linalg.norm(b)


# --------------------------------------------------------------------------------------------
# Problems: every sampler's parameters plus the exact (c0, q, Σ) and the oracle score.
# --------------------------------------------------------------------------------------------


def diagonal_problem(d, rng, sigma):
    # c0 as Sampler.diagonal forms it (βᵀq, q = λβ): a driver run must match trial_kernel bitwise.
    lam = rng.uniform(0.5, 3.0, d)
    beta = rng.normal(size=d) / np.sqrt(d)
    return dict(kind=K.KIND_DIAGONAL, scale=np.sqrt(lam), mixing=E2, label_vec=beta,
                sigma=sigma, c0=sigma**2 + beta @ (lam * beta), q=lam * beta, cov_diag=lam,
                cov=E2, Sigma=np.diag(lam), oracle=lam * beta**2, beta=beta)


def factor_problem(d, rng, sigma):
    L = np.tril(rng.normal(size=(d, d)) / np.sqrt(d)) + np.diag(rng.uniform(0.5, 1.5, d))
    Sigma = L @ L.T
    beta = rng.normal(size=d) / np.sqrt(d)
    return dict(kind=K.KIND_FACTOR, scale=E1, mixing=L, label_vec=beta, sigma=sigma,
                c0=sigma**2 + beta @ Sigma @ beta, q=Sigma @ beta, cov_diag=E1, cov=Sigma,
                Sigma=Sigma, oracle=np.diag(Sigma) * beta**2, beta=beta)


def relu_problem(d, latent, rng, sigma):
    """ReLU random features with unit rows; (c0, q, Σ) exact by the arc-cosine kernel (§7)."""
    W = rng.normal(size=(d, latent))
    W /= np.linalg.norm(W, axis=1, keepdims=True)
    theta = rng.normal(size=latent)
    theta /= np.linalg.norm(theta)
    rho = np.clip(W @ W.T, -1.0, 1.0)
    Sigma = (np.sqrt(1 - rho**2) + (np.pi - np.arccos(rho)) * rho) / (2 * np.pi)
    q = (1 + (W @ theta) ** 2) / np.sqrt(2 * np.pi)
    beta = np.linalg.solve(Sigma, q)
    return dict(kind=K.KIND_RELU, scale=E1, mixing=W, label_vec=theta, sigma=sigma,
                c0=3.0 + sigma**2, q=q, cov_diag=E1, cov=Sigma, Sigma=Sigma,
                oracle=np.diag(Sigma) * beta**2, beta=beta)


def sample(prob, seed, trial, n, widths, s, unlabelled=0):
    """One trial's draws: ``(X, y, X2, y2, rand_keep, X3)``."""
    return K.sample_trial(seed, trial, prob["kind"], n, prob["scale"], prob["mixing"],
                          prob["label_vec"], prob["sigma"], widths, s, unlabelled)


def kernel_trial(prob, X, y, X2, y2, rand_keep, widths, s, ridge, X3=None):
    out = np.empty((len(widths), len(K.QUANTITIES)))
    flags = np.zeros(len(widths), np.int8)
    X3 = np.empty((0, X.shape[1])) if X3 is None else X3
    fits = K.trial_kernel(X, y, X2, y2, rand_keep, X3, widths, s, ridge, prob["oracle"], prob["c0"],
                          prob["q"], prob["cov_diag"], prob["cov"], out, flags)
    # dense + at most 3 fresh + 3 same refits + 2 students
    assert np.all(fits >= 1) and np.all(fits <= 7 + 2 * (X3.shape[0] > 0))
    return out, flags


def designed(n, k, cond, rng):
    """An n×k design with singular values log-spaced from 1 to 1/cond."""
    r = min(n, k)
    U = np.linalg.qr(rng.normal(size=(n, r)))[0]
    V = np.linalg.qr(rng.normal(size=(k, r)))[0]
    return (U * np.logspace(0, -np.log10(cond), r)) @ V.T


# --------------------------------------------------------------------------------------------
# Seeding and sampling
# --------------------------------------------------------------------------------------------


def test_quantities():
    assert len(K.QUANTITIES) == 13 and len(set(K.QUANTITIES)) == 13
    assert K.QUANTITIES[:5] == ("dense", "magnitude", "hessian", "oracle", "random")


def test_fmix32_matches_reference():
    values = np.random.default_rng(0).integers(0, 2**32, 2000).tolist() + [0, 1, 2**32 - 1]
    assert [K.fmix32(v) for v in values] == [naive_fmix32(v) for v in values]


def test_trial_seed_distinct_and_stable():
    seeds = [K.trial_seed(12345, t) for t in range(5000)]
    assert len(set(seeds)) == 5000 and all(0 <= x < 2**32 for x in seeds)
    assert K.trial_seed(12345, 7) == seeds[7]
    assert K.trial_seed(12346, 0) != seeds[0]
    assert K.trial_seed(2**62 + 5, 3) != K.trial_seed(5, 3)


@pytest.mark.parametrize("make", ["diagonal", "factor", "relu"])
def test_features_match_naive(make):
    rng = np.random.default_rng(1)
    prob = {"diagonal": lambda: diagonal_problem(7, rng, 0.3),
            "factor": lambda: factor_problem(7, rng, 0.3),
            "relu": lambda: relu_problem(7, 5, rng, 0.3)}[make]()
    latent = prob["mixing"].shape[1] if prob["kind"] != K.KIND_DIAGONAL else 7
    Z, e = rng.normal(size=(11, latent)), rng.normal(size=11)
    args = (prob["kind"], Z, e, prob["scale"], prob["mixing"], prob["label_vec"], prob["sigma"])
    X, y = K.features(*args)
    Xn, yn = naive_features(*args)
    np.testing.assert_allclose(X, Xn, rtol=RTOL_EXACT, atol=1e-15)
    np.testing.assert_allclose(y, yn, rtol=RTOL_EXACT, atol=1e-15)


@pytest.mark.parametrize("make", ["diagonal", "factor", "relu"])
def test_sampler_moments_match_c0_q_sigma(make):
    """E[xxᵀ] = Σ, E[x y] = q, E[y²] = c0: the sampler and the risk describe one problem."""
    rng = np.random.default_rng(2)
    prob = {"diagonal": lambda: diagonal_problem(5, rng, 0.5),
            "factor": lambda: factor_problem(5, rng, 0.5),
            "relu": lambda: relu_problem(5, 4, rng, 0.5)}[make]()
    latent = prob["mixing"].shape[1] if prob["kind"] != K.KIND_DIAGONAL else 5
    N = 40000
    X, y = K.features(prob["kind"], rng.normal(size=(N, latent)), rng.normal(size=N),
                      prob["scale"], prob["mixing"], prob["label_vec"], prob["sigma"])
    for samples, exact in (((X[:, :, None] * X[:, None, :]).reshape(N, -1), prob["Sigma"].ravel()),
                           (X * y[:, None], prob["q"]),
                           ((y**2)[:, None], np.array([prob["c0"]]))):
        z = (samples.mean(0) - exact) / (samples.std(0, ddof=1) / np.sqrt(N) + 1e-300)
        assert np.max(np.abs(z)) < 5.0  # 5, not Z_STAT: max over up to 25 entries


def test_sample_trial_deterministic():
    prob = diagonal_problem(20, np.random.default_rng(3), 0.5)
    widths = np.array([5, 12, 20])
    a = sample(prob, 9, 4, 10, widths, 6)
    b = sample(prob, 9, 4, 10, widths, 6)
    c = sample(prob, 9, 5, 10, widths, 6)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a[0], c[0])
    assert not np.array_equal(a[0], a[2])  # the fresh sample is a different draw
    assert a[5].shape == (0, 20)  # no unlabelled inputs: the population projection
    # The unlabelled inputs are drawn last: every other draw is unchanged by them.
    m = sample(prob, 9, 4, 10, widths, 6, unlabelled=15)
    for u, v in zip(a[:5], m[:5]):
        np.testing.assert_array_equal(u, v)
    assert m[5].shape == (15, 20) and not np.array_equal(m[5][:10], m[0])


def test_random_subsets_uniform():
    prob = diagonal_problem(10, np.random.default_rng(4), 0.5)
    widths = np.array([2, 3, 7, 10])
    s, T = 3, 3000
    counts = {7: np.zeros(7), 10: np.zeros(10)}
    for t in range(T):
        keep = sample(prob, 1, t, 2, widths, s)[4]
        assert np.all(keep[:2] == -1)  # p <= s: nothing pruned
        for wi, p in ((2, 7), (3, 10)):
            row = keep[wi]
            assert np.all(np.diff(row) > 0) and row[0] >= 0 and row[-1] < p
            counts[p][row] += 1
    for p, c in counts.items():
        pi = s / p
        z = (c / T - pi) / np.sqrt(pi * (1 - pi) / T)
        assert np.max(np.abs(z)) < 5.0  # 5: max over up to 10 indices


# --------------------------------------------------------------------------------------------
# Fits against lstsq
# --------------------------------------------------------------------------------------------


# Tall, square and wide widths; with n = 80 the dual factor is also grown by rank-one
# updates (fewer than n / _UPDATE_RATIO added columns), with n = 25 it is refactored.
FIT_WIDTHS = {25: [1, 3, 10, 24, 25, 26, 27, 40, 41, 60], 80: [30, 79, 80, 81, 82, 84, 90, 120]}


@pytest.mark.parametrize("ridge", [0.0, 0.1])
@pytest.mark.parametrize("n", list(FIT_WIDTHS))
def test_fit_widths_matches_lstsq(ridge, n):
    rng = np.random.default_rng(5)
    widths = np.array(FIT_WIDTHS[n])
    d = widths[-1]
    X, y = rng.normal(size=(n, d)), rng.normal(size=n)
    Xt = np.ascontiguousarray(X.T)
    B, flags = np.zeros((len(widths), d)), np.zeros(len(widths), np.int8)
    K.fit_widths(Xt, y, widths, ridge, Xt @ Xt.T, B, flags)
    assert not flags.any()
    for wi, p in enumerate(widths):
        assert rel_err(B[wi, :p], naive_fit(X[:, :p], y, ridge)) < RTOL
        assert np.all(B[wi, p:] == 0)


@pytest.mark.parametrize("ridge", [0.0, 0.1])
@pytest.mark.parametrize("k", [7, 25, 40])
def test_fit_subset_matches_lstsq(ridge, k):
    rng = np.random.default_rng(6)
    n, d = 25, 60
    X, y = rng.normal(size=(n, d)), rng.normal(size=n)
    Xt = np.ascontiguousarray(X.T)
    idx = np.sort(rng.choice(d, k, replace=False))
    b = np.empty(k)
    assert K.fit_subset(Xt, idx, y, ridge, Xt @ Xt.T, b) == 0
    assert rel_err(b, naive_fit(X[:, idx], y, ridge)) < RTOL


@pytest.mark.parametrize("shape", [(40, 15), (20, 20), (15, 40)])
@pytest.mark.parametrize("cond", [1e2, 1e5, 1e7])
def test_conditioning(shape, cond):
    """Agreement with lstsq through cond(X) = 1e5; beyond COND_LIMIT, SVD and a flag."""
    n, k = shape
    rng = np.random.default_rng(7)
    X = designed(n, k, cond, rng)
    y = rng.normal(size=n)
    ref = naive_fit(X, y, 0.0)
    Xt = np.ascontiguousarray(X.T)
    G = Xt @ Xt.T
    B, flags = np.zeros((1, k)), np.zeros(1, np.int8)
    K.fit_widths(Xt, y, np.array([k]), 0.0, G, B, flags)
    b = np.empty(k)
    flag = K.fit_subset(Xt, np.arange(k), y, 0.0, G, b)
    expect_flag = int(cond > K.COND_LIMIT)
    assert flags[0] == expect_flag and flag == expect_flag
    assert rel_err(B[0], ref) < RTOL and rel_err(b, ref) < RTOL
    if cond == 1e5 and n != k:
        # The test has teeth: the unrefined Gram solution misses by far more than RTOL.
        plain = (np.linalg.solve(G, Xt @ y) if n > k
                 else Xt @ np.linalg.solve(X @ X.T, y))
        assert rel_err(plain, ref) > RTOL


# --------------------------------------------------------------------------------------------
# Pruning and risk
# --------------------------------------------------------------------------------------------


def test_top_s_matches_argsort_with_ties():
    rng = np.random.default_rng(8)
    for score in (rng.normal(size=30), rng.integers(0, 4, 30).astype(float), np.zeros(9)):
        for s in (1, 5, len(score)):
            np.testing.assert_array_equal(K.top_s(score, s), naive_top(score, s))
    np.testing.assert_array_equal(K.top_s(np.array([1.0, 3.0, 3.0, 2.0, 3.0]), 2), [1, 2])


@pytest.mark.parametrize("make", ["diagonal", "factor"])
def test_risk_matches_quadratic_form(make):
    rng = np.random.default_rng(9)
    prob = (diagonal_problem if make == "diagonal" else factor_problem)(12, rng, 0.7)
    for idx in (np.arange(12), np.arange(5), np.array([1, 4, 9, 11])):
        coef = rng.normal(size=len(idx))
        r = K.risk(idx, coef, prob["c0"], prob["q"], prob["cov_diag"], prob["cov"])
        b = pad(idx, coef, 12)
        assert abs(r - naive_risk(b, prob["c0"], prob["q"], prob["Sigma"])) <= RTOL * r
        assert abs(r - lgp_risk(b, prob["beta"], prob["Sigma"], 0.7)) <= RTOL * r


# --------------------------------------------------------------------------------------------
# Whole trials against the naive pipeline
# --------------------------------------------------------------------------------------------

# n = 30 throughout; widths cover p < n, p = n, p > n, and p = s - 1, s, s + 1.
TRIAL_CASES = {
    "diagonal": ("diagonal", 0.5, 0.0, 12, [5, 11, 12, 13, 29, 30, 31, 45, 70]),
    "diagonal-ridge": ("diagonal", 0.5, 0.05, 12, [5, 12, 13, 30, 31, 70]),
    "diagonal-sigma0": ("diagonal", 0.0, 0.0, 12, [5, 12, 13, 29, 30, 31, 70]),
    "diagonal-s>n": ("diagonal", 0.5, 0.0, 40, [20, 30, 39, 40, 41, 55, 70]),
    "factor": ("factor", 0.5, 0.0, 12, [5, 11, 12, 13, 29, 30, 31, 45, 70]),
    "factor-ridge": ("factor", 0.5, 0.1, 35, [12, 30, 35, 36, 70]),
    "relu": ("relu", 0.0, 0.0, 12, [5, 12, 13, 29, 30, 31, 70]),
}


@pytest.mark.parametrize("unlabelled", [0, 20, 45])
@pytest.mark.parametrize("case", list(TRIAL_CASES))
def test_trial_matches_naive(case, unlabelled):
    """Every quantity; the students on the population projection (0) and on M = 20 or 45
    unlabelled inputs (students with fewer and more columns than inputs)."""
    make, sigma, ridge, s, widths = TRIAL_CASES[case]
    rng = np.random.default_rng(10)
    d, n = 70, 30
    prob = {"diagonal": lambda: diagonal_problem(d, rng, sigma),
            "factor": lambda: factor_problem(d, rng, sigma),
            "relu": lambda: relu_problem(d, 20, rng, sigma)}[make]()
    widths = np.array(widths)
    for trial in range(2):
        X, y, X2, y2, keep, X3 = sample(prob, 11, trial, n, widths, s, unlabelled)
        out, flags = kernel_trial(prob, X, y, X2, y2, keep, widths, s, ridge, X3)
        ref = naive_trial(X, y, X2, y2, keep, widths, s, ridge, prob["oracle"], prob["c0"],
                          prob["q"], prob["Sigma"], X3)
        # A student with as many columns as inputs (±1) is ill-conditioned by nature: skipped.
        good = (unlabelled == 0) | (np.abs(np.minimum(widths, s) - unlabelled) > 1)
        assert not flags[good].any()
        np.testing.assert_allclose(out[good], ref[good], rtol=RTOL, atol=0)


def test_non_finite_data_give_nan_and_flag():
    """A NaN column poisons exactly the widths that contain it, without an exception."""
    prob = diagonal_problem(50, np.random.default_rng(12), 0.5)
    widths = np.array([5, 10, 20, 30, 40, 50])
    X, y, X2, y2, keep, _ = sample(prob, 3, 0, 25, widths, 8)
    clean, _ = kernel_trial(prob, X, y, X2, y2, keep, widths, 8, 0.0)
    X = X.copy()
    X[3, 15] = np.nan
    out, flags = kernel_trial(prob, X, y, X2, y2, keep, widths, 8, 0.0)
    np.testing.assert_array_equal(out[:2], clean[:2])
    np.testing.assert_array_equal(flags, [0, 0, 1, 1, 1, 1])
    assert np.all(np.isnan(out[2:, 0]))


# --------------------------------------------------------------------------------------------
# Driver, reproducibility, wrapper
# --------------------------------------------------------------------------------------------

RUN = dict(n=30, widths=[5, 12, 13, 30, 31, 70], s=12, trials=6, seed=2024)


def run_problem():
    prob = diagonal_problem(70, np.random.default_rng(13), 0.5)
    return dict(RUN, sampler=Sampler.diagonal(prob["cov_diag"], prob["beta"], 0.5))


def test_driver_equals_trial_kernel():
    prob = diagonal_problem(70, np.random.default_rng(13), 0.5)
    values, flags = K.run(**run_problem())
    widths = np.array(RUN["widths"])
    for t in range(RUN["trials"]):
        X, y, X2, y2, keep, _ = sample(prob, RUN["seed"], t, RUN["n"], widths, RUN["s"])
        out, f = kernel_trial(prob, X, y, X2, y2, keep, widths, RUN["s"], 0.0)
        np.testing.assert_array_equal(values[t], out)
        np.testing.assert_array_equal(flags[t], f)


def test_batches_equal_one_run():
    whole, flags = K.run(**run_problem())
    parts = [K.run(**dict(run_problem(), trials=k, first_trial=f)) for f, k in ((0, 2), (2, 4))]
    np.testing.assert_array_equal(np.concatenate([v for v, _ in parts]), whole)
    np.testing.assert_array_equal(np.concatenate([f for _, f in parts]), flags)


def test_run_relu_features_matches_trial_kernel():
    prob = relu_problem(40, 10, np.random.default_rng(16), 0.1)
    widths, s = np.array([8, 20, 30, 40]), 10
    sampler = Sampler.relu(prob["mixing"], prob["label_vec"], sigma=0.1, c0=prob["c0"], q=prob["q"],
                           Sigma=prob["Sigma"])
    values, flags = K.run(sampler, n=25, widths=widths, s=s, trials=3, seed=5,
                          oracle_score=prob["oracle"])
    for t in range(3):
        X, y, X2, y2, keep, _ = sample(prob, 5, t, 25, widths, s)
        out, f = kernel_trial(prob, X, y, X2, y2, keep, widths, s, 0.0)
        np.testing.assert_array_equal(values[t], out)
        np.testing.assert_array_equal(flags[t], f)


# Run with this file's directory as the working directory, where ``python -c`` finds it.
_SCRIPT = """
import hashlib
from test_mc_kernels import K, run_problem
v, f = K.run(**run_problem())
print(hashlib.sha256(v.tobytes() + f.tobytes()).hexdigest())
"""


def test_bitwise_reproducible_across_thread_counts():
    values, flags = K.run(**run_problem())
    digests = {hashlib.sha256(values.tobytes() + flags.tobytes()).hexdigest()}
    values1, _ = K.run(**run_problem(), threads=1)
    np.testing.assert_array_equal(values1, values)
    for threads in ("1", "2"):
        env = dict(os.environ, NUMBA_NUM_THREADS=threads)
        res = subprocess.run([sys.executable, "-c", _SCRIPT], env=env, capture_output=True,
                             text=True, check=True, cwd=os.path.dirname(os.path.abspath(__file__)))
        digests.add(res.stdout.strip().splitlines()[-1])
    assert len(digests) == 1


def test_statistics_isotropic_dense_risk():
    """Σ = I: E R = σ_eff²(n−1)/(n−p−1) for p < n−1 (σ_eff² = σ² + ‖β_{>p}‖²), and
    σ² + ‖β‖²(1 − n/p) + σ² n/(p−n−1) for p = d > n+1, on training and fresh samples."""
    n, d, sigma, trials = 40, 20, 0.8, 3000
    beta = np.random.default_rng(14).normal(size=d) / np.sqrt(d)
    widths = np.array([5, 10, 20])
    values, flags = K.run(Sampler.diagonal(np.ones(d), beta, sigma), n=n, widths=widths, s=d,
                          trials=trials, seed=7)
    assert not flags.any()
    for wi, p in enumerate(widths):
        exact = (sigma**2 + beta[p:] @ beta[p:]) * (n - 1) / (n - p - 1)
        for col in (K.QUANTITIES.index("dense"), K.QUANTITIES.index("magnitude_retrain")):
            r = values[:, wi, col]
            assert abs(r.mean() - exact) < Z_STAT * r.std(ddof=1) / np.sqrt(trials)
    n, p = 12, 30
    beta = np.full(p, 1 / np.sqrt(p))
    values, _ = K.run(Sampler.diagonal(np.ones(p), beta, sigma), n=n, widths=[p], s=p,
                      trials=trials, seed=8)
    exact = sigma**2 + beta @ beta * (1 - n / p) + sigma**2 * n / (p - n - 1)
    r = values[:, 0, 0]
    assert abs(r.mean() - exact) < Z_STAT * r.std(ddof=1) / np.sqrt(trials)


def test_run_factor_with_diagonal_L_equals_diagonal():
    """A factor L = diag(sqrt(λ)) is the diagonal problem: same risks (different draws)."""
    rng = np.random.default_rng(15)
    lam, beta = rng.uniform(0.5, 2, 15), rng.normal(size=15) / 4
    common = dict(n=20, widths=[15], s=15, trials=400, seed=3)
    a, _ = K.run(Sampler.diagonal(lam, beta, 0.5), **common)
    b, _ = K.run(Sampler.factor(np.diag(np.sqrt(lam)), beta, 0.5, Sigma=np.diag(lam)), **common)
    np.testing.assert_allclose(a, b, rtol=RTOL)  # x = L z with diagonal L is sqrt(λ) ⊙ z


def test_run_validates_inputs():
    good = run_problem()
    bad = [dict(widths=[5, 5, 9]), dict(widths=[0, 3]), dict(widths=[3, 71]), dict(s=0),
           dict(widths=[2.5, 7]), dict(seed=-1), dict(seed=2**63), dict(first_trial=-1),
           dict(ridge=np.nan), dict(ridge=-1.0), dict(trials=1.5), dict(trials=0), dict(n=0),
           dict(oracle_score=np.ones(5)), dict(oracle_score=np.full(70, np.inf)), dict(threads=0),
           dict(threads=10**4), dict(threads=True)]
    for change in bad:
        with pytest.raises(ValueError):
            K.run(**dict(good, **change))
    relu = Sampler.relu(np.ones((70, 3)), np.ones(3), c0=1.0, q=np.ones(70), Sigma=np.eye(70))
    with pytest.raises(ValueError, match="oracle"):  # ReLU features have no default oracle
        K.run(**dict(good, sampler=relu))


def test_sampler_validates_inputs():
    lam, beta, L = np.ones(70), np.ones(70) / 10, np.eye(70)
    bad = [lambda: Sampler.diagonal(lam, beta * 1j), lambda: Sampler.diagonal(lam[:5], beta),
           lambda: Sampler.diagonal(-lam, beta), lambda: Sampler.diagonal(np.full(70, np.nan), beta),
           lambda: Sampler.diagonal(lam, beta, sigma=-1.0), lambda: Sampler.diagonal(lam, beta, np.nan),
           lambda: Sampler.diagonal(np.full(70, 1e300), beta * 1e6),  # c0 overflows
           lambda: Sampler.factor(L[:5], beta), lambda: Sampler.factor(L, beta, Sigma=2 * L),
           lambda: Sampler.factor(L, beta, Sigma=np.eye(5)),
           lambda: Sampler.relu(np.ones((70, 3)), np.ones(4), c0=1.0, q=beta, Sigma=L),
           lambda: Sampler.relu(np.ones((70, 3)), np.ones(3), c0=np.inf, q=beta, Sigma=L),
           lambda: Sampler.relu(np.ones((70, 3)), np.ones(3), c0=1.0, q=beta[:5], Sigma=L),
           lambda: Sampler.relu(np.ones((70, 3)), np.ones(3), c0=1.0, q=beta, Sigma=L[:, :5])]
    for make in bad:
        with pytest.raises(ValueError), np.errstate(over="ignore"):
            make()
    d = Sampler.diagonal(lam, beta, 0.5)
    assert d.d == 70 and d.c0 == 0.25 + lam @ beta**2
    np.testing.assert_array_equal(d.oracle, lam * beta**2)
    # A ReLU sampler may carry the moments of a wider draw: d counts W's rows.
    assert Sampler.relu(np.ones((20, 3)), np.ones(3), c0=1.0, q=beta, Sigma=L).d == 20


def test_thread_cap_error_names_its_origin():
    """The cap on threads is Numba's pool: NUMBA_NUM_THREADS when set, else the cores."""
    code = ("from dcprune.montecarlo import runtime\n"
            "try:\n    runtime.check_threads(10**4)\nexcept ValueError as e:\n    print(e)")
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_NUM_THREADS"}
    out = subprocess.run([sys.executable, "-c", code], env=dict(env, NUMBA_NUM_THREADS="1"),
                         capture_output=True, text=True, check=True).stdout
    assert "from 1 to 1 (the cap set by NUMBA_NUM_THREADS=1)" in out
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True).stdout
    assert "(the cores Numba started with)" in out and "NUMBA_NUM_THREADS" not in out
    assert runtime.check_threads(None) == runtime.num_threads()
    assert runtime.check_threads(np.int64(1)) == 1


_MEMORY_SCRIPT = """
import gc, numpy as np
from dcprune.montecarlo import kernels as K, runtime
from dcprune.montecarlo.sampler import Sampler

def status(key):  # kB fields of this process image; ru_maxrss would include the forked parent
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith(key))

n, d, trials = 100, 2500, 4
threads = runtime.num_threads()  # whatever NUMBA_NUM_THREADS allows, 1 included
widths = np.array([50, 100, 150, 1000, 2500])
lam, beta = np.ones(d), np.ones(d) / np.sqrt(d)
K.run(Sampler.diagonal(lam[:100], beta[:100]), n=n, widths=widths[:2], s=20, trials=1, seed=0)
gc.collect()
sampler = Sampler.diagonal(lam, beta)
base = status("VmRSS:")
K.run(sampler, n=n, widths=widths, s=60, trials=trials, seed=0, threads=threads)
print(status("VmHWM:") - base, runtime.estimate_bytes(n, d, len(widths), trials, threads))
"""


def test_estimate_bytes():
    one = runtime.estimate_bytes(200, 600, 60, 50, 1)
    assert one > 2 * 600 * 600 * 8 + 50 * 60 * 11 * 8  # at least the Grams and the outputs
    assert runtime.estimate_bytes(200, 600, 60, 50, 2) > one
    assert runtime.estimate_bytes(200, 600, 60, 500, 1) > one


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs Linux /proc")
@pytest.mark.parametrize("numba_threads", ["1", None])
def test_estimate_bytes_bounds_measured_peak(numba_threads):
    """Peak resident memory of a run with large Gram matrices stays below the estimate, with
    one thread (NUMBA_NUM_THREADS=1) and with all of them."""
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_NUM_THREADS"}
    if numba_threads is not None:
        env["NUMBA_NUM_THREADS"] = numba_threads
    res = subprocess.run([sys.executable, "-c", _MEMORY_SCRIPT], capture_output=True, text=True,
                         check=True, env=env)
    grown, estimate = map(int, res.stdout.split()[-2:])
    assert 0 < grown <= estimate
