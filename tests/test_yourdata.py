"""``dcprune data`` and :mod:`dcprune.yourdata`: reading, moments, the check against a plain
NumPy reference, diagnostics on the bundled real datasets, bad input, the JSON contract."""

from __future__ import annotations

import csv
import importlib.util
import json
import math
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from dcprune.cli import main
from dcprune.quantities import MEASURED, PREDICTED, QUANTITIES
from dcprune.yourdata.analysis import analyze
from dcprune.yourdata.dataset import from_arrays, load_dataset
from dcprune.yourdata.diagnostics import diagnose, share_off_mode
from dcprune.yourdata.empirical import min_norm, run_empirical
from dcprune.yourdata.population import population
from dcprune.yourdata.sandwich import underparameterized_risks

ROOT = Path(__file__).resolve().parents[1]


def _reference():
    spec = importlib.util.spec_from_file_location("data_reference", ROOT / "validation" / "data_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _gaussian(N=600, d=8, seed=0, hetero=False):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((d, d)) / np.sqrt(d) + np.eye(d)
    X = rng.standard_normal((N, d)) @ A
    beta = rng.standard_normal(d) / np.sqrt(d)
    scale = 0.2 + X[:, 0] ** 2 if hetero else 1.0
    return X, X @ beta + 0.7 * scale * rng.standard_normal(N)


def _write_csv(path, X, y, names=None, target="y"):
    names = names or [f"c{j}" for j in range(X.shape[1])]
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([*names, target])
        for row, v in zip(X, y):
            w.writerow([*row, v])
    return path


# -- population -------------------------------------------------------------------------------


def test_moments_are_the_least_squares_fit_of_all_rows():
    X, y = _gaussian()
    pop = population(from_arrays(X, y), order="file")
    Zc, tc = X - X.mean(0), y - y.mean()
    coef = np.linalg.lstsq(Zc, tc, rcond=None)[0]
    assert np.allclose(pop.beta, coef)
    assert pop.sigma2 == pytest.approx(np.mean((tc - Zc @ coef) ** 2), rel=1e-10)
    b = np.random.default_rng(1).standard_normal(5)
    assert pop.risk(b) == pytest.approx(np.mean((tc - Zc[:, :5] @ b) ** 2), rel=1e-10)


def test_saliency_order_puts_the_most_salient_column_first():
    X, y = _gaussian()
    pop = population(from_arrays(X, y))
    sal = pop.saliency()
    assert np.all(np.diff(sal) <= 1e-12)
    file_pop = population(from_arrays(X, y), order="file")
    assert pop.columns[0] == file_pop.columns[int(np.argmax(file_pop.saliency()))]


def test_min_norm_matches_lstsq_also_above_n():
    rng = np.random.default_rng(3)
    for rows, k in ((30, 10), (10, 30)):
        X = rng.standard_normal((4, rows, k))
        y = rng.standard_normal((4, rows))
        Xt = X.transpose(0, 2, 1)
        got = min_norm(Xt @ X, np.einsum("tij,tj->ti", Xt, y), rows)
        want = np.stack([np.linalg.lstsq(X[t], y[t], rcond=None)[0] for t in range(4)])
        assert np.allclose(got, want, rtol=1e-8, atol=1e-10)


# -- the empirical check against the plain NumPy reference ------------------------------------


@pytest.mark.parametrize("n,s,widths", [(40, 3, (2, 5, 8)), (6, 3, (4, 8))])
def test_check_equals_the_numpy_reference_on_the_same_seeds(n, s, widths):
    X, y = _gaussian()
    pop = population(from_arrays(X, y))
    fast = run_empirical(pop, n, s, widths, trials=30, seed=11)
    slow = _reference().reference_run(pop, n, s, widths, trials=30, seed=11)
    for p in widths:
        for name in MEASURED:
            np.testing.assert_allclose(fast.values[p][name], slow[p][name], rtol=1e-8, err_msg=f"{p} {name}")


def test_trials_depend_on_seed_and_index_only():
    X, y = _gaussian()
    pop = population(from_arrays(X, y))
    short = run_empirical(pop, 30, 3, (6,), trials=5, seed=2)
    long = run_empirical(pop, 30, 3, (4, 6), trials=12, seed=2)
    for name in MEASURED:
        assert np.array_equal(short.values[6][name], long.values[6][name][:5])
    other = run_empirical(pop, 30, 3, (6,), trials=5, seed=3)
    assert not np.array_equal(short.values[6]["dense"], other.values[6]["dense"])


def test_gaussian_rows_match_the_theory():
    # Gaussian rows, N large against n: the check must agree with the correlated theory
    # (with the finite-population factor) within 4 SE plus the theory's sampling SE.
    X, y = _gaussian(N=4000, d=8, seed=5)
    rep = analyze(from_arrays(X, y), n=60, s=3, widths=(4, 8), trials=600, seed=4)
    for row in rep.rows:
        for name in PREDICTED:
            emp, ref = row.empirical[name], row.compared[name]
            if QUANTITIES[name].heuristic:  # same-data retraining: not predicted for data (NaN, §14)
                assert math.isnan(ref.mean)
                continue
            assert abs(emp.mean - ref.mean) <= 4 * np.hypot(emp.se, ref.se) + 0.005 * ref.mean, (row.p, name)


def test_sandwich_dense_risk_is_the_trace_formula():
    X, y = _gaussian(N=3000, d=6, seed=7, hetero=True)
    pop = population(from_arrays(X, y), order="file")
    n, p = 50, 6
    Zc, tc = pop.Z, pop.t
    Sig = Zc.T @ Zc / pop.N
    b = np.linalg.solve(Sig, Zc.T @ tc / pop.N)
    e2 = (tc - Zc @ b) ** 2
    M = (Zc * e2[:, None]).T @ Zc / pop.N
    want = np.mean(e2) + np.trace(np.linalg.solve(Sig, M)) / (n - p - 1)
    got = underparameterized_risks(pop, n, 2, p, robust=True)["dense"].mean
    assert got == pytest.approx(want, rel=1e-10)
    plain = underparameterized_risks(pop, n, 2, p)["dense"].mean
    assert plain == pytest.approx(np.mean(e2) * (n - 1) / (n - p - 1), rel=1e-10)
    # the residual grows with x_0²: the sandwich must see a larger estimation error
    assert got - np.mean(e2) > 1.5 * (plain - np.mean(e2))


def test_robust_closes_the_gap_on_heteroscedastic_rows():
    X, y = _gaussian(N=6000, d=6, seed=8, hetero=True)
    plain = analyze(from_arrays(X, y), n=60, s=3, widths=(6,), trials=800, seed=1)
    robust = analyze(from_arrays(X, y), n=60, s=3, widths=(6,), trials=800, seed=1, robust=True)
    assert plain.diagnostics.warnings and "het" in plain.diagnostics.warnings[0]
    gap_plain = abs(plain.rows[0].gap("dense"))
    gap_robust = abs(robust.rows[0].gap("dense"))
    assert gap_robust < gap_plain / 2, (gap_plain, gap_robust)


# -- diagnostics on the bundled real datasets ------------------------------------------------


@pytest.fixture(scope="module")
def datasets():
    sk = pytest.importorskip("sklearn.datasets")
    digits = sk.load_digits()
    X, y = digits.data, digits.target.astype(float)
    supp = share_off_mode(X)
    images = sk.load_sample_images().images
    rng = np.random.default_rng(0)
    Xp, yp = [], []
    for img in images:  # 8×8 grey patches predicting the pixel right of the patch's middle row
        g = img.mean(axis=2)
        i = rng.integers(0, g.shape[0] - 8, 1500)
        j = rng.integers(0, g.shape[1] - 9, 1500)
        Xp.append(np.stack([g[i + a, j + b] for a in range(8) for b in range(8)], axis=1))
        yp.append(g[i + 4, j + 8])
    cancer = sk.load_breast_cancer()
    diabetes = sk.load_diabetes()
    return {
        "digits": (from_arrays(X[:, supp > 0], y), False),
        "digits_without_rare_pixels": (from_arrays(X[:, supp > 0.05], y), False),
        "diabetes": (from_arrays(diabetes.data, diabetes.target), True),
        "breast_cancer": (from_arrays(cancer.data, cancer.target.astype(float)), True),
        "patches": (from_arrays(np.vstack(Xp), np.concatenate(yp)), False),
    }


@pytest.mark.parametrize("name,warns", [("digits", True), ("breast_cancer", True), ("patches", True),
                                        ("digits_without_rare_pixels", False), ("diabetes", False)])
def test_diagnostics_flag_the_datasets_the_theory_fails_on(datasets, name, warns):
    data, standardize = datasets[name]
    diag = diagnose(population(data, standardize=standardize), n=100)
    assert bool(diag.warnings) == warns, diag
    if name == "digits":  # the rare pixels are named
        assert any("near-constant" in w for w in diag.warnings)
        assert diag.minsupp < 0.01
    if name == "patches":
        assert diag.het > 2


def test_digits_without_rare_pixels_and_diabetes_match_the_theory(datasets):
    # A fast version of validation/realdata.py: away from p ≈ n, dense and fresh retraining
    # within 5%, pruning without retraining within 10%.
    for name, n, s, widths in (("digits_without_rare_pixels", 300, 10, (20, 50)), ("diabetes", 100, 4, (6, 10))):
        data, standardize = datasets[name]
        rep = analyze(data, n=n, s=s, widths=widths, standardize=standardize, trials=300, seed=0, samples=2000)
        for row in rep.rows:
            for q in PREDICTED:
                if QUANTITIES[q].heuristic:  # not predicted for data (NaN, docs/theory.rst §14)
                    continue
                limit = 0.10 if q in ("magnitude", "hessian", "oracle", "random") else 0.05
                assert abs(row.gap(q)) < limit, (name, row.p, q, row.gap(q))


# -- command line: contract and bad input -----------------------------------------------------


def test_json_contract(tmp_path):
    X, y = _gaussian(N=300)
    path = _write_csv(tmp_path / "d.csv", X, y, target="label")
    res = CliRunner().invoke(main, ["data", str(path), "--target", "label", "--n", "40", "--s", "3",
                                    "--widths", "4,8", "--empirical", "20", "--format", "json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    for key in ("file", "target", "N", "d", "n", "s", "sigma2", "order", "finite_population_factor",
                "diagnostics", "rows", "trials", "seed", "warnings"):
        assert key in out
    assert set(out["diagnostics"]) >= {"minsupp", "levk", "het", "warnings"}
    assert out["N"] == 300 and out["d"] == 8 and out["target"] == "label" and len(out["order"]) == 8
    assert out["finite_population_factor"] == pytest.approx((300 - 40) / 299)
    row = out["rows"][1]
    assert row["p"] == 8 and set(row["theory"]) == set(PREDICTED) and set(row["empirical"]) == set(MEASURED)
    assert set(row["empirical"]["dense"]) == {"mean", "se", "median", "q90"}
    csv_res = CliRunner().invoke(main, ["data", str(path), "--target", "label", "--n", "40", "--s", "3",
                                        "--widths", "4,8", "--empirical", "20", "--format", "csv"])
    lines = [line for line in csv_res.output.splitlines() if not line.startswith("#")]
    table = list(csv.DictReader(lines))
    dense8 = next(r for r in table if r["p"] == "8" and r["quantity"] == "dense")
    assert float(dense8["mean"]) == row["empirical"]["dense"]["mean"]
    assert float(dense8["theory"]) == row["theory"]["dense"]


def _bad_inputs(tmp_path):
    X, y = _gaussian(N=60, d=4)
    good = _write_csv(tmp_path / "good.csv", X, y)
    text = good.read_text().splitlines()
    nonnum = tmp_path / "nonnum.csv"
    nonnum.write_text("\n".join([text[0], text[1], "1,2,abc,4,5", *text[3:]]) + "\n")
    nan = tmp_path / "nan.csv"
    nan.write_text("\n".join([text[0], "1,nan,3,4,5", *text[2:]]) + "\n")
    const = _write_csv(tmp_path / "const.csv", X, np.ones(60))
    sing = _write_csv(tmp_path / "sing.csv", np.column_stack([X, X[:, 0] + X[:, 1]]), y)
    base = ["--n", "10", "--s", "2"]
    return [
        ([str(good), "--target", "nope", *base], "no target column 'nope'"),
        ([str(nonnum), "--target", "y", *base], "non-numeric cell 'abc' in data row 2, column 'c2'"),
        ([str(nan), "--target", "y", *base], "NaN or infinite values in rows 1"),
        ([str(const), "--target", "y", *base], "constant"),
        ([str(good), "--target", "y", "--n", "31", "--s", "2"], "fewer than 2n = 62"),
        ([str(sing), "--target", "y", *base], "singular"),
        ([str(good), "--target", "y", "--n", "10", "--s", "5", "--widths", "2,3"], "widest model"),
    ]


def test_bad_input_is_one_line_and_writes_nothing(tmp_path):
    for args, fragment in _bad_inputs(tmp_path):
        out = tmp_path / "out.json"
        res = CliRunner().invoke(main, ["data", *args, "--output", str(out)])
        assert res.exit_code != 0, args
        assert res.output.startswith("Error: ") and len(res.output.strip().splitlines()) == 1, res.output
        assert fragment in res.output, (fragment, res.output)
        assert not out.exists()


def test_singular_covariance_names_a_column_to_drop(tmp_path):
    X, y = _gaussian(N=60, d=4)
    sing = _write_csv(tmp_path / "sing.csv", np.column_stack([X, X[:, 0] + X[:, 1]]), y,
                      names=["a", "b", "c", "d", "a_plus_b"])
    res = CliRunner().invoke(main, ["data", str(sing), "--target", "y", "--n", "10", "--s", "2"])
    assert "drop" in res.output and any(c in res.output.split("drop")[1] for c in ("a", "b", "a_plus_b"))


def test_npz_and_npy_files(tmp_path):
    X, y = _gaussian(N=100, d=3)
    np.savez(tmp_path / "d.npz", X=X, y=y, columns=np.array(["u", "v", "w"]))
    np.save(tmp_path / "d.npy", np.column_stack([X, y]))
    a = load_dataset(tmp_path / "d.npz")
    b = load_dataset(tmp_path / "d.npy")
    assert a.columns == ("u", "v", "w") and np.array_equal(a.X, b.X) and np.array_equal(a.y, b.y)
    with pytest.raises(ValueError, match="missing array y"):
        np.savez(tmp_path / "e.npz", X=X)
        load_dataset(tmp_path / "e.npz")


def test_width_grid_order_and_output(tmp_path):
    X, y = _gaussian(N=200, d=6)
    path = _write_csv(tmp_path / "d.csv", X, y)
    out = tmp_path / "r.json"
    res = CliRunner().invoke(main, ["data", str(path), "--target", "y", "--n", "20", "--s", "2", "--width-grid",
                                    "0.1,0.3", "--order", "file", "--format", "json", "--output", str(out)])
    assert res.exit_code == 0 and res.output == "", res.output
    report = json.loads(out.read_text())
    assert [r["p"] for r in report["rows"]] == [2, 6]
    assert report["order"] == [f"c{j}" for j in range(6)] and report["trials"] is None
    both = CliRunner().invoke(main, ["data", str(path), "--target", "y", "--n", "20", "--s", "2", "--widths", "2",
                                     "--width-grid", "0.1"])
    assert both.exit_code != 0 and "not both" in both.output


def test_robust_replaces_the_theory_below_n_only(tmp_path):
    X, y = _gaussian(N=400, d=8, hetero=True)
    rep = analyze(from_arrays(X, y), n=8, s=2, widths=(4, 8), robust=True)
    plain = analyze(from_arrays(X, y), n=8, s=2, widths=(4, 8))
    assert rep.rows[0].theory["dense"].mean != plain.rows[0].theory["dense"].mean   # p = 4 < n - 1
    assert rep.rows[1].theory["dense"].mean == plain.rows[1].theory["dense"].mean   # p = 8 >= n - 1
    assert any("--robust covers p < n - 1 only" in w for w in rep.warnings)


def test_a_noiseless_target_runs():
    X, _ = _gaussian(N=300, d=5)
    rep = analyze(from_arrays(X, X @ np.arange(1.0, 6.0)), n=40, s=2, widths=(3, 5), trials=10)
    assert rep.sigma2 == pytest.approx(0.0, abs=1e-9)
    assert rep.rows[1].empirical["dense"].mean == pytest.approx(0.0, abs=1e-9)
    assert rep.rows[1].theory["dense"].mean == pytest.approx(0.0, abs=1e-9)
    assert not any("residual" in w for w in rep.diagnostics.warnings)
