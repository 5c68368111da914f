"""Random features (docs/theory.rst §7): closed forms and quadrature against 10⁶-sample Monte Carlo
and against each other; the equivalent problem; seeding and nested widths."""

import math

import numpy as np
import pytest

from dcprune.families.activations import (
    ACTIVATIONS,
    activation_kernel,
    activation_moments,
    draw_features,
    feature_moments,
    relu_kernel,
)
from dcprune.families.covariance import predict_covariance
from dcprune.families.randomfeatures import equivalent_problem, predict_random_features, sweep_random_features

# Tolerances, in one place.
Z_MAX = 4.0  # Monte Carlo checks: |formula − sample mean| <= 4 standard errors
MC_SAMPLES = 1_000_000
# The polar quadrature + Chebyshev interpolant is at rounding level (~1e-13, see the module
# docstring); we hold it to 1e-11, far below what a plotted number needs, so that a
# regression shows at once.
ABS_QUADRATURE = 1e-11
RHO = np.linspace(-1.0, 1.0, 20001)


def _mc_moments(W, theta, f, rng, samples=MC_SAMPLES, chunk=200_000):
    """Sample means and standard errors of φφᵀ, φ y and y² with φ = f(Wx), y = (θᵀx)²."""
    p = W.shape[0]
    sums = {k: 0.0 for k in ("S", "S2", "q", "q2", "y", "y2")}
    for _ in range(samples // chunk):
        x = rng.standard_normal((chunk, W.shape[1]))
        phi = f(x @ W.T)
        y = (x @ theta) ** 2
        outer = phi[:, :, None] * phi[:, None, :]
        sums["S"] += outer.sum(0)
        sums["S2"] += (outer**2).sum(0)
        sums["q"] += (phi * y[:, None]).sum(0)
        sums["q2"] += ((phi * y[:, None]) ** 2).sum(0)
        sums["y"] += (y * y).sum()
        sums["y2"] += (y**4).sum()

    def mean_se(s1, s2):
        m = s1 / samples
        return m, np.sqrt((s2 / samples - m * m) / samples)

    assert p >= 1
    return mean_se(sums["S"], sums["S2"]), mean_se(sums["q"], sums["q2"]), mean_se(sums["y"], sums["y2"])


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_moments_match_monte_carlo(activation):
    """docs/theory.rst §7's ReLU formulas (closed) and the quadrature path (tanh) against 10⁶ samples."""
    W, theta = draw_features(4, 5, seed=9)
    W[1] = 0.6 * theta + 0.8 * W[1] / np.linalg.norm(W[1])  # one feature strongly aligned with θ
    W[1] /= np.linalg.norm(W[1])
    sigma, q = feature_moments(W, theta, activation)
    (s_mc, s_se), (q_mc, q_se), (y_mc, y_se) = _mc_moments(W, theta, ACTIVATIONS[activation],
                                                            np.random.default_rng(1))
    assert np.all(np.abs(sigma - s_mc) <= Z_MAX * s_se), (sigma - s_mc) / s_se
    assert np.all(np.abs(q - q_mc) <= Z_MAX * q_se), (q - q_mc) / q_se
    assert abs(3.0 - y_mc) <= Z_MAX * y_se


def test_relu_q_formula():
    """E[ReLU(wᵀx)(θᵀx)²] = (1 + ρ_θ²)/sqrt(2π) (docs/theory.rst §7)."""
    W, theta = draw_features(6, 7, seed=3)
    _, q = feature_moments(W, theta, "relu")
    np.testing.assert_allclose(q, (1 + (W @ theta) ** 2) / math.sqrt(2 * math.pi), rtol=1e-15)
    _, q_quad = feature_moments(W, theta, "relu", method="quadrature")
    np.testing.assert_allclose(q_quad, q, rtol=0, atol=ABS_QUADRATURE)


@pytest.mark.parametrize(
    "activation,closed",
    [
        ("relu", relu_kernel),
        ("abs", lambda r: 2 / math.pi * (np.sqrt(1 - r * r) + r * np.arcsin(r))),
        ("erf", lambda r: 2 / math.pi * np.arcsin(2 * r / 3)),  # Williams (1997)
    ],
)
def test_quadrature_kernel_matches_closed_forms(activation, closed):
    kernel = activation_kernel(activation, "quadrature")
    assert np.abs(kernel(RHO) - closed(RHO)).max() <= ABS_QUADRATURE
    assert kernel.error <= ABS_QUADRATURE


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_kernel_endpoints_and_moments(activation):
    """K(1) = E f², K(0) = (E f)², and the 1-D moments against adaptive quadrature."""
    from scipy import integrate

    f = ACTIVATIONS[activation]
    m1, m3, m2 = activation_moments(activation)
    dens = lambda g: math.exp(-0.5 * g * g) / math.sqrt(2 * math.pi)  # noqa: E731
    for value, weight in ((m1, lambda g: 1.0), (m3, lambda g: g * g), (m2, lambda g: f(np.array(g)))):
        ref = sum(integrate.quad(lambda g: f(np.array(g)) * weight(g) * dens(g), a, b, epsabs=1e-14)[0]
                  for a, b in ((-np.inf, 0), (0, np.inf)))
        assert value == pytest.approx(ref, abs=1e-12)
    kernel = activation_kernel(activation)
    assert kernel(1.0) == pytest.approx(m2, abs=ABS_QUADRATURE)
    assert kernel(0.0) == pytest.approx(m1 * m1, abs=ABS_QUADRATURE)


def test_draw_features_is_seeded_unit_and_nested():
    W, theta = draw_features(7, 50, seed=(3, 1))
    W_small, theta_small = draw_features(7, 20, seed=(3, 1))
    np.testing.assert_allclose(np.linalg.norm(W, axis=1), 1.0, rtol=1e-15)
    assert np.linalg.norm(theta) == pytest.approx(1.0, rel=1e-15)
    np.testing.assert_array_equal(W[:20], W_small)
    np.testing.assert_array_equal(theta, theta_small)
    assert not np.array_equal(draw_features(7, 20, seed=(3, 2))[0], W_small)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_equivalent_problem_is_consistent(activation):
    rf = equivalent_problem(8, 60, activation, seed=2)
    pr = rf.problem
    np.testing.assert_allclose(pr.Sigma @ pr.beta, rf.q, rtol=1e-9, atol=1e-11)
    assert rf.c0 == 3.0
    assert 0 <= pr.sigma2 <= rf.c0 * (1 + 1e-12)
    assert pr.sigma2 == pytest.approx(rf.c0 - pr.beta @ pr.Sigma @ pr.beta, rel=1e-12)
    # The LGP's risk equals the Monte Carlo's c0 − 2bᵀq + bᵀΣb for any model b.
    b = np.random.default_rng(0).normal(size=(5, 60))
    direct = rf.c0 - 2 * b @ rf.q + np.einsum("ij,jk,ik->i", b, pr.Sigma, b)
    np.testing.assert_allclose(pr.risk(b), direct, rtol=1e-9)
    np.testing.assert_allclose(rf.oracle_score, np.diag(pr.Sigma) * pr.beta**2)


def test_label_noise_adds_to_c0_and_sigma2():
    quiet = equivalent_problem(5, 30, seed=4)
    noisy = equivalent_problem(5, 30, seed=4, label_noise=0.25)
    assert noisy.c0 == 3.25
    assert noisy.problem.sigma2 == pytest.approx(quiet.problem.sigma2 + 0.25, rel=1e-12)


def test_many_features_build_quickly_and_stay_psd():
    """p = 1000 sigmoid features of D = 5 inputs: Σ is numerically singular (its odd part's
    kernel eigenvalues decay fast), and β is the least-norm solution of Σβ = q."""
    rf = equivalent_problem(5, 1000, "sigmoid", seed=0)
    assert rf.Sigma.shape == (1000, 1000)
    assert rf.problem.rank < 1000
    np.testing.assert_allclose(rf.Sigma @ rf.problem.beta, rf.q, atol=1e-9)
    # sigmoid = 1/2 + odd part, and the odd part is orthogonal to the even label: only the
    # constant 1/2 fits E[y] = 1, so σ² = E y² − (E y)² = 2.
    assert rf.problem.sigma2 == pytest.approx(2.0, rel=1e-9)


@pytest.mark.parametrize("activation", ["tanh", "erf"])
def test_odd_activations_cannot_fit_the_even_label(activation):
    """E[f(u)(θᵀx)²] = 0 for odd f: q = 0, β = 0 and the whole label energy is noise."""
    rf = equivalent_problem(5, 40, activation, seed=1)
    assert np.abs(rf.q).max() < 1e-15
    assert rf.problem.sigma2 == pytest.approx(3.0, rel=1e-12)


def test_prediction_averages_draws_and_sweep_nests():
    kw = dict(samples=300, retrain_samples=4)
    pred = predict_random_features(6, 40, 60, 15, "relu", draws=2, seed=3, **kw)
    assert len(pred.per_draw) == 2
    for name, (mean, se) in pred.risk.items():
        values = [d.risk[name][0] for d in pred.per_draw]
        # NaN (same-data retraining: not predicted for random features, docs/theory.rst §14) stays NaN
        assert mean == pytest.approx(np.mean(values), rel=1e-12, nan_ok=True)
        assert se == pytest.approx(np.std(values, ddof=1) / math.sqrt(2), rel=1e-12, abs=1e-15, nan_ok=True)
    sweep = sweep_random_features(6, 40, [20, 60], 15, "relu", draws=2, seed=3, **kw)
    assert sweep.rows[1].risk == pred.risk
    # Draw k is equivalent_problem(seed=(seed, k)): the Monte Carlo can rebuild it.
    rf = equivalent_problem(6, 60, "relu", seed=(3, 1))
    assert predict_covariance(rf.problem, 40, 15, finite=True, **kw).gamma == pred.per_draw[1].gamma
    assert sweep.mean("dense")[0] < math.inf


def test_bad_inputs():
    with pytest.raises(ValueError, match="activation"):
        equivalent_problem(3, 4, "swish")
    with pytest.raises(ValueError, match="input_dim"):
        equivalent_problem(0, 4)
    with pytest.raises(ValueError, match="widths"):
        sweep_random_features(3, 10, [5, 4], 2)
    with pytest.raises(ValueError, match="label_noise"):
        equivalent_problem(3, 4, label_noise=-1.0)
