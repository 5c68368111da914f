"""Same-data retraining of magnitude pruning (docs/theory.rst §14): the heuristic against Monte
Carlo, its exact limits, and its scope.

The heuristic is not exact: its error is O(1/n) (validation/results/same_data.md: at most 2.2% at
n = 200 on the grid of §14, +4% at n = 100), so a Monte Carlo check asserts
|MC − prediction| <= 4 SE + allowance(n)·prediction with the allowance stated once in
:func:`dcprune.samedata.allowance` (3% from n = 200 on, 3%·200/n below): the acceptance bound of
issue 18, about twice the largest measured error. Everything else here is exact.
"""

import json
import math

import numpy as np
import pytest
from click.testing import CliRunner

import dcprune
from dcprune.cli import main
from dcprune.families.spectra import DiagonalProblem
from dcprune.montecarlo import simulate, simulate_problem
from dcprune.samedata import allowance

Z_MAX = 4.0
NAME = "magnitude_retrain_same"


def assert_within(theory: float, est, n: int):
    bound = Z_MAX * est.se + allowance(n) * theory
    assert abs(est.mean - theory) <= bound, (f"theory {theory:.4f}, MC {est.mean:.4f} ± {est.se:.4f} "
                                             f"(gap {theory / est.mean - 1:+.2%}, bound {bound:.4f})")


# Reduced set: one model on each side of the peak (the two forms of the first fit's constraints).
FAST = [(200, 0.8, 0.3), (150, 2.0, 0.3)]


@pytest.mark.parametrize("n,width,kept", FAST)
def test_heuristic_against_monte_carlo(n, width, kept):
    problem = dcprune.Diagonal(dcprune.SpikedCovariance(), kappa=width, alpha=kept / width, n=n)
    theory = dcprune.predict(problem).risk
    est = simulate(problem, trials=300, seed=14).rows[0].risk[NAME]
    assert_within(theory[NAME].mean, est, n)
    # and it is not fresh retraining's prediction, which misses by far more here
    assert abs(theory["magnitude_retrain"].mean - est.mean) > 3 * abs(theory[NAME].mean - est.mean)


def worked_example():
    """docs/theory.rst §10: λ = 5 on 40 of 400 coordinates (β = 3/√400), 1 elsewhere (β = 1/√400)."""
    return DiagonalProblem(np.array([5.0, 1.0]), np.array([3.0, 1.0]) / 20.0, np.array([40.0, 360.0]), 0.1)


@pytest.mark.slow
def test_worked_example():
    # §10: Monte Carlo 1.633 ± 0.010 in the first version of §14 (its plug-in predictor said 1.646).
    theory = dcprune.predict_problem(worked_example(), 200, 120, finite=True)
    row = simulate_problem(worked_example(), 200, 120, trials=1000, seed=10)
    assert_within(theory[NAME].mean, row.risk[NAME], 200)


GRID = [(n, w, k) for n in (200, 400) for w in (0.5, 0.8, 1.5, 3.0) for k in (0.1, 0.3, 0.6) if k < w]


@pytest.mark.slow
@pytest.mark.parametrize("n,width,kept", GRID)
def test_the_grid_of_section_14(n, width, kept):
    problem = dcprune.Diagonal(dcprune.SpikedCovariance(), kappa=width, alpha=kept / width, n=n)
    est = simulate(problem, trials=300, seed=int(1000 * width + 10 * kept) + n).rows[0].risk[NAME]
    assert_within(dcprune.predict(problem).risk[NAME].mean, est, n)


def test_the_grid_has_22_cells():
    # s/n = 0.6 > p/n = 0.5 prunes nothing: two of the 24 cells are not same-data retraining at all.
    assert len(GRID) == 22


# --- exact limits ------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [200, None])
def test_an_unpruned_model_is_the_dense_model(n):
    problem = dcprune.Diagonal(dcprune.SpikedCovariance(), kappa=3, alpha=0.2, n=n)
    curve = dcprune.sweep(problem, widths=[0.3, 0.5, 0.6])  # p <= s = 0.6 n
    np.testing.assert_array_equal(curve.mean(NAME), curve.mean("dense"))


def test_a_noiseless_fit_keeps_a_fixed_support_so_same_data_is_fresh():
    # σ² = 0 and p < n: β̂ = β exactly, the kept set is data-independent, and retraining on the
    # same sample is retraining on a sample independent of the support.
    problem = dcprune.Diagonal(dcprune.SpikedCovariance(), kappa=0.8, alpha=0.3, sigma2=0.0, n=200)
    pred = dcprune.predict(problem)
    assert pred.risk[NAME].mean == pred.risk.magnitude_retrain.mean and not pred.warnings


def test_the_finite_prediction_tends_to_the_asymptotic_one():
    limit = dcprune.predict(dcprune.Diagonal(dcprune.SpikedCovariance(), kappa=3, alpha=0.2)).risk[NAME].mean
    gaps = [abs(dcprune.predict(dcprune.Diagonal(dcprune.SpikedCovariance(), kappa=3, alpha=0.2, n=n))
                .risk[NAME].mean / limit - 1) for n in (200, 2000, 20000)]
    assert gaps[0] > gaps[1] > gaps[2] and gaps[2] < 1e-4  # O(1/n)


def test_same_data_beats_fresh_when_overparameterized():
    # docs/theory.rst §14: fresh retraining sees all the dropped signal as noise, same-data only
    # the dropped fitted values (p/n = 3, s/n = 0.6: 1.19 against 1.94).
    risk = dcprune.predict(dcprune.Diagonal(dcprune.SpikedCovariance(), kappa=3, alpha=0.2, n=200)).risk
    assert risk[NAME].mean < 0.7 * risk.magnitude_retrain.mean


# --- scope: NaN and a warning saying why ----------------------------------------------------------


@pytest.mark.parametrize("kwargs,why", [
    (dict(ridge=0.1), "ridge > 0"),
    (dict(alpha=0.5), "not below n − 5"),       # s = 300 > n = 200
    (dict(alpha=0.325), "not below n − 5"),     # s = 195: the inverse-Wishart moments need s <= n − 6
    (dict(coefficients="gaussian"), "fixed β"),  # the heuristic conditions on the labels given β
])
def test_outside_its_scope_it_is_nan_and_says_why(kwargs, why):
    problem = dcprune.Diagonal(dcprune.SpikedCovariance(), **{"kappa": 3, "alpha": 0.2, "n": 200, **kwargs})
    pred = dcprune.predict(problem)
    assert math.isnan(pred.risk[NAME].mean)
    assert any(w.startswith(f"risk.{NAME} is NaN") and why in w for w in pred.warnings), pred.warnings
    assert pred.to_dict()["risk"][NAME] is None
    assert not math.isnan(pred.risk.magnitude_retrain.mean)


def test_at_the_peak_it_is_nan_and_says_why():
    curve = dcprune.sweep(dcprune.Diagonal(dcprune.SpikedCovariance(), kappa=3, alpha=0.2, n=200), widths=[1.0, 1.5])
    assert math.isnan(curve.mean(NAME)[0]) and math.isfinite(curve.mean(NAME)[1])
    assert any(w.startswith(f"risk.{NAME} is NaN at width 1:") and "interpolation peak" in w for w in curve.warnings)


def test_correlated_and_random_features_are_not_predicted():
    sigma = 0.5 * np.eye(30) + 0.5
    corr = dcprune.predict(dcprune.Correlated.from_arrays(sigma, np.ones(30) / 16.0, 0.1, alpha=0.2, n=20))
    rf = dcprune.predict(dcprune.RandomFeatures(kappa=1.5, alpha=0.2, n=40, input_dim=10, draws=2))
    for pred in (corr, rf):
        assert math.isnan(pred.risk[NAME].mean) and pred.to_dict()["risk"][NAME] is None
        assert any(w.startswith(f"risk.{NAME} is NaN") and "diagonal" in w for w in pred.warnings)
        assert math.isfinite(pred.risk.magnitude_retrain.mean)


def test_the_cli_carries_it_in_json_csv_and_table():
    args = ["risk", "--kappa", "3", "--alpha", "0.2", "--n", "200"]
    runner = CliRunner()
    value = dcprune.predict(dcprune.Diagonal(dcprune.SpikedCovariance(), kappa=3, alpha=0.2, n=200)).risk[NAME].mean
    assert json.loads(runner.invoke(main, [*args, "--format", "json"]).output)["risk"][NAME] == value
    header, row = runner.invoke(main, [*args, "--format", "csv"]).output.splitlines()
    assert float(dict(zip(header.split(","), row.split(",")))[NAME]) == value
    assert "MP+rt=" in runner.invoke(main, args).output
    # JSON stays one document when the quantity is not predicted (its warning goes in it)
    out = runner.invoke(main, ["risk", "--kappa", "3", "--alpha", "0.5", "--n", "200", "--format", "json"]).output
    doc = json.loads(out)
    assert doc["risk"][NAME] is None and any(NAME in w for w in doc["warnings"])


def test_best_optimises_it_where_it_is_predicted():
    from dcprune.workflows.best import best

    problem = dcprune.Diagonal(dcprune.SpikedCovariance(), kappa=3, alpha=0.2, n=200)
    found = best(problem).minima[NAME]
    widths = np.arange(1, 601) / 200
    values = dcprune.sweep(problem, widths=widths).mean(NAME)
    assert found.value == np.nanmin(values) and found.converged
    out = json.loads(CliRunner().invoke(main, ["best", "--kappa", "3", "--alpha", "0.2", "--n", "200", "--over",
                                               "alpha", "--format", "json"]).output)
    assert math.isfinite(out["best"][NAME]["risk"])
