"""`best` against exhaustive search: a fine width grid polished by scipy, and every integer p."""

import dataclasses

import numpy as np
import pytest
from scipy.optimize import minimize_scalar

import dcprune
from dcprune.checks import ParameterError
from dcprune.workflows.best import best
from dcprune.workflows.search import zoom

# The §10 worked example's spectrum (docs/theory.rst §10) as a user spectrum.
LAM = np.r_[np.full(40, 5.0), np.full(360, 1.0)]
BETA = np.r_[np.full(40, 3.0), np.full(360, 1.0)] / np.sqrt(400)

PROBLEMS = {
    "spiked": dcprune.Diagonal(dcprune.SpikedCovariance(), kappa=3, alpha=0.1, sigma2=0.1),
    "noisy-isotropic": dcprune.Diagonal(dcprune.Isotropic(), kappa=2.5, alpha=0.3, sigma2=1.0),
    "spiked-identity": dcprune.Diagonal(dcprune.SpikedIdentity(), kappa=2, alpha=0.2, sigma2=0.3),
    "ridge": dcprune.Diagonal(dcprune.SpikedCovariance(), kappa=2, alpha=0.3, sigma2=0.5, ridge=0.05),
    "user": dcprune.Diagonal(dcprune.ArraySpectrum(lam=LAM, beta=BETA), kappa=2, alpha=0.3, sigma2=0.1),
    "power-law": dcprune.Diagonal(dcprune.PowerLaw(), kappa=2, alpha=0.2, sigma2=0.2),
}


def _risks(problem, widths):
    rows = problem.theory(np.asarray(widths, dtype=float) * problem.scale).rows
    return {k: np.array([r.risk[k].mean for r in rows]) for k in dcprune.PREDICTED}


def _exhaustive_asymptotic(problem, points):
    """Per rule: the minimum over a fine grid (with the kinks: atom edges and p = s), polished by
    bounded Brent between its neighbours."""
    edges = problem.spectrum.breakpoints(problem.d, False)
    kinks = [problem.s] + ([] if edges is None else list(edges[edges > 0]))
    grid = np.union1d(np.linspace(problem.kappa * 1e-6, problem.kappa, points), kinks)
    values = _risks(problem, grid)
    out = {}
    for name, v in values.items():
        v = np.where(np.isfinite(v), v, np.inf)
        i = int(np.argmin(v))
        lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, grid.size - 1)]
        res = minimize_scalar(lambda w: _risks(problem, [w])[name][0], bounds=(lo, hi), method="bounded",
                              options={"xatol": 1e-12})
        out[name] = min(v[i], res.fun, _null(problem))
    return out


def _null(problem):
    """The risk of b = 0 (width 0)."""
    return problem.sigma2 + float(problem.spectrum.tail(problem.d, np.zeros(1), problem.finite)[0])


@pytest.mark.parametrize("key", ["spiked", "noisy-isotropic", "spiked-identity", "ridge", "user", "power-law"])
def test_best_width_matches_exhaustive_search_asymptotically(key):
    problem = PROBLEMS[key]
    found = best(problem)
    exhaustive = _exhaustive_asymptotic(problem, 801 if key == "power-law" else 8001)
    for name, m in found.minima.items():
        assert m.converged, name
        assert abs(m.value - exhaustive[name]) <= 1e-9, (name, m, exhaustive[name])
        # the reported width gives the reported risk
        reported = _risks(problem, [m.x])[name][0] if m.x > 0 else _null(problem)
        assert reported == pytest.approx(m.value, abs=1e-12)


@pytest.mark.parametrize("key,n", [("spiked", 200), ("noisy-isotropic", 100), ("user", 200), ("power-law", 100),
                                   ("ridge", 150)])
def test_best_width_is_the_best_integer_p(key, n):
    problem = dataclasses.replace(PROBLEMS[key], n=n)
    found = best(problem)
    every = np.arange(1, problem.d + 1)
    values = _risks(problem, every / n)
    for name, m in found.minima.items():
        v = np.where(np.isfinite(values[name]), values[name], np.inf)
        assert m.converged
        assert float(m.x * n).is_integer()
        assert abs(m.value - min(v.min(), _null(problem))) <= 1e-12, (name, m, v.min(), every[np.argmin(v)])


@pytest.mark.parametrize("key,name", [("user", "oracle"), ("power-law", "magnitude")])
def test_an_interior_minimum_is_refined_not_a_grid_point(key, name):
    problem = PROBLEMS[key]
    m = best(problem).minima[name]
    grid = np.linspace(problem.kappa * 1e-6, problem.kappa, 256)
    assert 0 < m.x < problem.kappa and np.min(np.abs(grid - m.x)) > 1e-6
    assert _risks(problem, [m.x])[name][0] < _risks(problem, grid)[name].min()


def test_the_null_model_wins_when_nothing_beats_predicting_nothing():
    m = best(PROBLEMS["noisy-isotropic"]).minima["dense"]
    assert m.x == 0 and m.value == pytest.approx(1.0 + 1.0)


def test_json_reports_the_gains_over_the_reference_and_the_full_width():
    b = best(PROBLEMS["spiked"]).to_dict()
    assert list(b)[:3] == ["kappa", "alpha", "width"] and b["over"] == "width"
    assert set(b["best"]) == set(dcprune.PREDICTED)
    line = min(b["reference"]["best_small_dense"], b["reference"]["oracle_retrain"])
    for row in b["best"].values():
        assert set(row) >= {"width", "p", "risk", "converged"}
        assert row["below_reference"] == pytest.approx(line - row["risk"])
        assert row["below_baseline"] == pytest.approx(row["baseline"] - row["risk"])
    full = dcprune.predict(PROBLEMS["spiked"])
    assert b["best"]["hessian"]["baseline"] == full.risk.hessian.mean


def test_best_alpha_matches_every_integer_s():
    problem = dataclasses.replace(PROBLEMS["spiked"], n=100)
    width = 2.0
    found = best(problem, over="alpha", width=width)
    p = 200
    values = {k: [] for k in found.minima}
    for s in range(1, p + 1):
        pred = dcprune.predict(dataclasses.replace(problem, alpha=s / problem.d), width)
        for k in values:
            values[k].append(pred.risk[k].mean)
    for name, m in found.minima.items():
        # NaN is "not predicted" (same-data retraining for s < 3 or s > n − 6, docs/theory.rst §14): skipped
        assert abs(m.value - np.nanmin(values[name])) <= 1e-12, name
        assert float(m.x * problem.d).is_integer()
    assert found.to_dict()["best"]["hessian"]["s"] == round(found.minima["hessian"].x * problem.d)


def test_best_alpha_asymptotic_matches_a_polished_grid():
    problem = PROBLEMS["noisy-isotropic"]
    found = best(problem, over="alpha", width=2.0)
    alpha_max = 2.0 / problem.kappa

    def risk(a, name):
        return dcprune.predict(dataclasses.replace(problem, alpha=a), 2.0).risk[name].mean

    grid = np.linspace(alpha_max * 1e-6, alpha_max, 200)
    for name in ("magnitude", "hessian", "magnitude_retrain"):
        v = np.array([risk(a, name) for a in grid])
        i = int(np.argmin(v))
        res = minimize_scalar(lambda a: risk(a, name), bounds=(grid[max(i - 1, 0)], grid[min(i + 1, 199)]),
                              method="bounded", options={"xatol": 1e-12})
        assert abs(found.minima[name].value - min(v[i], res.fun)) <= 1e-9, name


def test_bad_requests_name_the_parameter():
    rf = dcprune.RandomFeatures(kappa=1.5, alpha=0.2, n=40, input_dim=10, draws=1)
    with pytest.raises(ParameterError, match="diagonal"):
        best(rf)
    with pytest.raises(ParameterError, match="over"):
        best(PROBLEMS["spiked"], over="sigma2")
    with pytest.raises(ParameterError, match="width"):
        best(PROBLEMS["spiked"], width=1.0)
    with pytest.raises(ParameterError, match="width"):
        best(PROBLEMS["spiked"], over="alpha", width=5.0)


def test_zoom_finds_a_known_minimum_and_can_fail():
    def evaluate(xs):
        return {"f": (xs - 0.3712345) ** 2, "g": np.abs(xs - 0.8)}, np.ones(xs.size, bool)

    m = zoom(evaluate, ["f", "g"], np.linspace(0, 1, 11), 0.0, 1.0, xtol=1e-12)
    assert m["f"].x == pytest.approx(0.3712345, abs=1e-11) and m["f"].converged
    assert m["g"].x == pytest.approx(0.8, abs=1e-11)
    capped = zoom(evaluate, ["f"], np.linspace(0, 1, 11), 0.0, 1.0, xtol=1e-12, max_rounds=2)
    assert not capped["f"].converged
