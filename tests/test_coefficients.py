"""Gaussian coefficients in closed form (docs/theory.rst §11, "Random coefficients").

The joint Gaussian of (β̂, β) and every pruning rule's closed form with Gaussian coefficients
are checked against sampling the DC law itself: β ~ N(0, v_a), β̂ = c_a β + s_a h per
coordinate, the real top-s rules applied to whole models (coordinates replicated so that the
count threshold concentrates), within 4 SE. The Monte Carlo of the real regressions is
checked in tests/test_quantization_montecarlo.py.
"""

import math

import numpy as np
import pytest
from click.testing import CliRunner

import dcprune
from dcprune.cli import main
from dcprune.coefficients import coefficient_law
from dcprune.pruning import prune
from dcprune.rules import RULES
from dcprune.solver import dense_risk

# p = 600 > n = 200, s = 180.
PROBLEM = dict(kappa=3.0, alpha=0.3, n=200, sigma2=0.1)


def gaussian_problem(spectrum=None, **kw):
    return dcprune.Diagonal(spectrum or dcprune.SpikedCovariance(), coefficients="gaussian", **{**PROBLEM, **kw})


def test_joint_law_matches_sampling():
    rng = np.random.default_rng(0)
    beta, c, s = np.array([0.7]), np.array([0.6]), np.array([0.3])
    _, sd, b0, b1, w = coefficient_law("gaussian", beta, c, s)
    coef = rng.normal(0.0, beta[0], 1_000_000)
    x = c[0] * coef + s[0] * rng.normal(size=coef.size)
    slope = np.cov(x, coef)[0, 1] / x.var()
    resid = coef - slope * x
    assert abs(x.std() - sd[0]) < 4 * sd[0] / math.sqrt(2 * x.size)
    assert b0[0] == 0.0 and abs(slope - b1[0]) < 5e-3 and abs(resid.var() - w[0]) < 5e-3 * w[0]


def test_joint_law_at_the_peak_says_nothing_of_beta():
    _, sd, _, b1, w = coefficient_law("gaussian", np.array([0.5]), np.array([0.9]), np.array([np.inf]))
    assert np.isinf(sd[0]) and b1[0] == 0.0 and w[0] == 0.25


def dc_atoms(problem):
    """``(lam, beta, mult, sigma2_eff, shrink, noise, dense)`` of the full-width model."""
    lay = problem.spectrum.layout(problem.d, np.array([float(problem.d)]), problem.s, True)
    sigma2_eff = problem.sigma2 + lay.tail
    dense = dense_risk(lay.lam, lay.beta, lay.mult, sigma2_eff, problem.scale, finite=True)
    noise = dense.shrink * np.sqrt(dense.tau[:, None] / (problem.n * lay.lam))
    return lay, sigma2_eff, dense, noise


def sampled_pruning(problem, rule, replicas=20, draws=150, seed=0):
    """Per-draw pruned loss (per replica) and kept energy per atom, from whole DC models."""
    lay, sigma2_eff, dense, noise = dc_atoms(problem)
    counts = np.round(lay.mult[0]).astype(int) * replicas
    lam = np.repeat(lay.lam[0], counts)
    v = np.repeat(lay.beta[0] ** 2, counts)
    c = np.repeat(dense.shrink[0], counts)
    sd = np.repeat(noise[0], counts)
    atom = np.repeat(np.arange(counts.size), counts)
    s = int(problem.s) * replicas
    rng = np.random.default_rng(seed)
    losses, energy = [], np.zeros(counts.size)
    for _ in range(draws):
        beta = rng.normal(size=lam.size) * np.sqrt(v)
        x = c * beta + sd * rng.normal(size=lam.size)
        score = {"magnitude": np.abs(x), "hessian": lam * x**2, "oracle": lam * beta**2,
                 "random": rng.random(lam.size)}[rule]
        kept = np.argpartition(-score, s - 1)[:s]
        model = np.zeros_like(x)
        model[kept] = x[kept]
        losses.append(float(sigma2_eff[0] + (lam * (model - beta) ** 2).sum() / replicas))
        energy += np.bincount(atom[kept], weights=beta[kept] ** 2, minlength=counts.size)
    return np.array(losses), energy / (draws * counts)


@pytest.mark.parametrize("rule", list(RULES))
@pytest.mark.parametrize("spectrum", [dcprune.SpikedCovariance(), dcprune.SpikedIdentity()],
                         ids=["spiked-covariance", "spiked-identity"])
def test_pruning_closed_forms_equal_sampling_of_the_dc_law(rule, spectrum):
    problem = gaussian_problem(spectrum)
    lay, sigma2_eff, dense, _ = dc_atoms(problem)
    pruned = prune(RULES[rule], lay.lam, lay.beta, lay.mult, lay.oracle_mult, sigma2_eff, problem.s, problem.scale,
                   dense, "gaussian")
    losses, energy = sampled_pruning(problem, rule)
    se = losses.std(ddof=1) / math.sqrt(losses.size)
    assert abs(losses.mean() - pruned.risk[0]) < 4 * se, (losses.mean(), se, pruned.risk[0])
    # The kept energy retraining uses: E[β² 1{kept}] per coordinate of each atom (None: π·v).
    kept = pruned.kept_energy[0] if pruned.kept_energy is not None else pruned.keep[0] * lay.beta[0] ** 2
    assert np.allclose(energy, kept, rtol=0.02), (energy, kept)


def test_gaussian_dense_risk_is_the_fixed_one():
    fixed = dcprune.predict(dcprune.Diagonal(dcprune.SpikedCovariance(), **PROBLEM))
    gaussian = dcprune.predict(gaussian_problem())
    assert gaussian.risk.dense == fixed.risk.dense and gaussian.risk.random == fixed.risk.random
    # The oracle sees the drawn β: it keeps more energy than a fixed support can.
    assert gaussian.risk.oracle.mean < fixed.risk.oracle.mean
    assert gaussian.reference.oracle_retrain == gaussian.risk.oracle_retrain.mean


def test_fixed_coefficients_are_unchanged_bit_for_bit():
    problem = dcprune.Diagonal(dcprune.SpikedCovariance(), **PROBLEM)
    assert dcprune.predict(problem).risk == dcprune.predict(dcprune.Diagonal(
        dcprune.SpikedCovariance(), coefficients="fixed", **PROBLEM)).risk


@pytest.mark.parametrize("bad", ["gausian", "", 3, None])
def test_bad_coefficients_raise_value_error_naming_them(bad):
    with pytest.raises(ValueError, match="coefficients must be one of fixed, gaussian"):
        dcprune.Diagonal(dcprune.SpikedCovariance(), coefficients=bad, **PROBLEM)


@pytest.mark.parametrize("args", [
    ["risk", "--kappa", "3", "--alpha", "0.3", "--coefficients", "gausian"],
    ["simulate", "--kappa", "3", "--alpha", "0.3", "--n", "50", "--coefficients", "Gaussian"],
    ["curve", "--kappa", "3", "--alpha", "0.3", "--problem", "relu-features", "--n", "40", "--input-dim", "5",
     "--coefficients", "gaussian"],
])
def test_bad_cli_coefficients_are_one_line(args):
    res = CliRunner().invoke(main, args)
    assert res.exit_code != 0
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: --coefficients"), res.output


def test_cli_gaussian_risk_json_names_the_coefficients():
    import json

    res = CliRunner().invoke(main, ["risk", "--kappa", "3", "--alpha", "0.3", "--n", "200", "--coefficients",
                                    "gaussian", "--format", "json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["coefficients"] == "gaussian"
    assert out["risk"]["oracle"] == pytest.approx(dcprune.predict(gaussian_problem()).risk.oracle.mean)


def test_few_kept_weights_warn_of_order_statistics():
    """Sampling the DC law with the exact top s (no replicas) departs from the count threshold
    at small s; the prediction says so there, and only there."""
    small = gaussian_problem(kappa=0.5, alpha=0.5)  # p = 100, s = 50
    losses, _ = sampled_pruning(small, "oracle", replicas=1, draws=4000)
    predicted = dcprune.predict(small)
    se = losses.std(ddof=1) / math.sqrt(losses.size)
    assert losses.mean() - predicted.risk.oracle.mean > 4 * se  # above the limit: a real effect
    assert any("order statistics" in w for w in predicted.warnings)
    assert not any("order statistics" in w for w in dcprune.predict(gaussian_problem()).warnings)
    fixed = dcprune.Diagonal(dcprune.SpikedCovariance(), kappa=0.5, alpha=0.5, n=200, sigma2=0.1)
    assert not any("order statistics" in w for w in dcprune.predict(fixed).warnings)
