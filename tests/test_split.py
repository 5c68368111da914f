"""best --over ridge, the bias/variance split and the dense training error."""

import dataclasses

import numpy as np
import pytest

import dcprune
from dcprune.workflows.best import best
from dcprune.workflows.split import PARTS, split


def _ridge_risks(problem, ridges, width=None):
    # One prediction per ridge, read for every quantity.
    risks = [dcprune.predict(dataclasses.replace(problem, ridge=r), width).risk for r in ridges]
    return {k: np.array([risk[k].mean for risk in risks]) for k in dcprune.PREDICTED}


@pytest.mark.parametrize("kappa,sigma2", [(2.0, 0.5), (0.5, 0.2), (1.0, 1.0), (3.0, 0.1)])
def test_isotropic_optimal_ridge_is_sigma2_kappa_over_signal(kappa, sigma2):
    problem = dcprune.Diagonal(dcprune.Isotropic(signal=2.0), kappa=kappa, alpha=0.3, sigma2=sigma2)
    m = best(problem, over="ridge").minima["dense"]
    assert m.x == pytest.approx(sigma2 * kappa / 2.0, rel=1e-5)
    assert m.converged


@pytest.mark.parametrize("problem", [
    dcprune.Diagonal(dcprune.SpikedCovariance(), kappa=2, alpha=0.3, sigma2=0.3),
    dcprune.Diagonal(dcprune.PowerLaw(), kappa=1.5, alpha=0.2, sigma2=0.2, n=200),
], ids=["spiked", "power-law-n200"])
def test_best_ridge_matches_a_fine_ridge_grid(problem):
    found = best(problem, over="ridge")
    scale = problem.sigma2 + 1.0
    coarse = _ridge_risks(problem, 10.0 ** (np.linspace(-8, 6, 57) + np.log10(scale)))  # the whole range
    for name, m in found.minima.items():
        if np.all(np.isnan(coarse[name])):  # same-data retraining: not predicted with ridge (§14)
            assert m.x == 0.0 and m.value == dcprune.predict(dataclasses.replace(problem, ridge=0.0)).risk[name].mean
            continue
        # a fine log grid around the reported optimum, and the coarse one
        centre = np.log10(m.x) if m.x > 0 else -8
        fine = _ridge_risks(problem, 10.0 ** np.linspace(centre - 0.01, centre + 0.01, 41))[name]
        values = np.r_[fine, coarse[name]]
        assert m.value <= values.min() + 1e-12, name
        assert m.value >= values.min() - 1e-9, name


def test_ridge_zero_wins_when_no_ridge_helps():
    problem = dcprune.Diagonal(dcprune.Isotropic(), kappa=0.5, alpha=0.3, sigma2=0.0)
    m = best(problem, over="ridge").minima["dense"]
    assert m.x == 0.0 and m.value == pytest.approx(0.0, abs=1e-12)


CASES = [dict(kappa=k, n=n, ridge=r) for k in (0.5, 2.0) for n in (None, 200) for r in (0.0, 0.1)]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"k{c['kappa']}-n{c['n']}-r{c['ridge']}")
def test_the_split_sums_to_the_risk(case):
    problem = dcprune.Diagonal(dcprune.SpikedCovariance(), alpha=0.3, sigma2=0.2, **case)
    for width in (problem.kappa, 0.4):
        sp = split(problem, width)
        pred = dcprune.predict(problem, width)
        assert set(sp.parts) == {"dense", "magnitude_retrain", "hessian_retrain", "oracle_retrain"}
        for name, row in sp.parts.items():
            assert sum(row[k] for k in PARTS) == pytest.approx(row["risk"], rel=1e-12)
            assert row["risk"] == pytest.approx(pred.risk[name].mean, rel=1e-13)
            assert min(row[k] for k in PARTS) >= 0


@pytest.mark.parametrize("kappa", [0.3, 0.7, 1.5, 4.0])
def test_isotropic_split_is_hastie_et_al(kappa):
    r2, sigma2 = 2.0, 0.5
    row = split(dcprune.Diagonal(dcprune.Isotropic(signal=r2), kappa=kappa, alpha=0.3, sigma2=sigma2)).parts["dense"]
    bias, variance = (0.0, sigma2 * kappa / (1 - kappa)) if kappa < 1 else (r2 * (1 - 1 / kappa), sigma2 / (kappa - 1))
    assert row["bias"] == pytest.approx(bias, abs=1e-12)
    assert row["variance"] == pytest.approx(variance, rel=1e-12)
    assert row["omitted"] == 0 and row["noise"] == sigma2


def test_training_error():
    iso = dcprune.Diagonal(dcprune.Isotropic(), kappa=0.5, alpha=0.3, sigma2=0.4)
    assert split(iso).train_error == pytest.approx(0.4 * (1 - 0.5))  # least squares: σ²(1 − p/n)
    assert split(dataclasses.replace(iso, kappa=2.0)).train_error == 0.0  # min-norm interpolates
    assert split(dataclasses.replace(iso, n=100)).train_error == pytest.approx(0.4 * 50 / 100)
    # ridge: R (λ/ζ)², below the test risk and growing with λ
    errors = [split(dataclasses.replace(iso, kappa=2.0, ridge=r)).train_error for r in (0.01, 0.1, 1.0)]
    assert 0 < errors[0] < errors[1] < errors[2]
    # measured: n = 400, 40 trials of ridge 0.1 on the spiked problem at full width gave 0.003602 ± 0.000053
    spiked = dcprune.Diagonal(dcprune.SpikedCovariance(), kappa=2, alpha=0.3, sigma2=0.2, n=400, ridge=0.1)
    assert abs(split(spiked).train_error - 0.0036022) < 4 * 0.0000526


def test_ridge_sweep_is_batched_and_exact():
    from dcprune.workflows.axes import along

    problem = dcprune.Diagonal(dcprune.SpikedCovariance(), kappa=2, alpha=0.3, sigma2=0.2, n=200)
    curve = along(problem, "ridge", start=1e-4, stop=10, points=50, width=1.5)
    point = _ridge_risks(problem, curve.values, width=1.5)
    for name in dcprune.PREDICTED:
        np.testing.assert_array_equal(curve.mean(name), point[name])


def test_split_and_best_ridge_from_the_cli():
    import json

    from test_flows_cli import one_line_error, run

    out = json.loads(run("split", "--kappa", "2", "--alpha", "0.3", "--ridge", "0.1", "--format", "json").output)
    lib = split(dcprune.Diagonal(dcprune.SpikedCovariance(), kappa=2, alpha=0.3, ridge=0.1)).to_dict()
    assert out == json.loads(json.dumps(lib)) and set(out["split"]["dense"]) == {"risk", *PARTS}
    res = run("best", "--problem", "isotropic", "--kappa", "2", "--alpha", "0.3", "--sigma2", "0.5", "--over",
              "ridge", "--format", "json")
    assert json.loads(res.output)["best"]["dense"]["ridge"] == pytest.approx(1.0, rel=1e-5)
    assert "--problem" in one_line_error(run("split", "--kappa", "1.5", "--alpha", "0.2", "--problem",
                                             "random-features", "--n", "40", "--input-dim", "5"))
