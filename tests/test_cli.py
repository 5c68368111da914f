"""The CLI contract: output formats, JSON keys, one-line errors, and import hygiene."""

import csv
import io
import json
import math
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner

import dcprune
from dcprune.cli import main
from dcprune.quantities import PREDICTED as RISK_NAMES

BASE = ["--kappa", "2", "--alpha", "0.3"]


def run(*args):
    return CliRunner().invoke(main, list(args))


def test_risk_json_contract():
    res = run("risk", *BASE, "--format", "json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    for key in ("kappa", "alpha", "width", "n", "sigma2", "ridge", "problem", "zeta", "gamma",
                "converged", "risk", "reference", "warnings"):
        assert key in out
    assert set(out["risk"]) == set(RISK_NAMES)
    assert set(out["reference"]) >= {"best_small_dense", "oracle_retrain"}
    assert out["width"] == 2.0 and out["n"] is None and out["problem"]["name"] == "spiked-covariance"
    # The numbers are the library's.
    pred = dcprune.predict(dcprune.Diagonal(dcprune.SpikedCovariance(), kappa=2, alpha=0.3))
    assert out["risk"]["hessian"] == pred.risk.hessian.mean


def test_peak_is_null_with_warning_and_exit_zero():
    res = run("risk", "--kappa", "1", "--alpha", "0.3", "--format", "json")
    assert res.exit_code == 0
    out = json.loads(res.output)
    assert out["risk"]["dense"] is None and out["gamma"] is None
    assert any("interpolation peak" in w for w in out["warnings"])
    assert out["risk"]["oracle_retrain"] is not None


def test_curve_json_csv_table_agree():
    args = ["curve", *BASE, "--points", "40", "--n", "200"]
    js = json.loads(run(*args, "--format", "json").stdout)
    rows = list(csv.DictReader(io.StringIO(run(*args, "--format", "csv").stdout)))
    assert len(rows) == len(js["rows"]) == 40
    assert list(rows[0])[:3] == ["width", "p", "zeta"]
    for r_csv, r_js in zip(rows, js["rows"]):
        assert float(r_csv["width"]) == r_js["width"]
        for name in RISK_NAMES:
            v = r_js["risk"][name]
            # JSON has no inf or NaN: null is either, and the warnings say which (the peak's
            # inf; NaN where same-data retraining is not predicted)
            x = float(r_csv[name])
            assert not math.isfinite(x) if v is None else x == v
    table = run(*args)
    assert table.exit_code == 0
    assert max(len(line) for line in table.stdout.splitlines()) <= 80


def test_main_job_runs():
    res = run("curve", "--kappa", "2", "--alpha", "0.3")
    assert res.exit_code == 0
    assert len(res.output.splitlines()) > 200


def test_spectrum_file(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("lambda,beta\n" + "\n".join(f"{1 + i % 3},{0.1}" for i in range(30)) + "\n")
    res = run("risk", "--kappa", "2", "--alpha", "0.3", "--spectrum", str(path), "--n", "15", "--format", "json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["problem"]["rows"] == 30


@pytest.mark.parametrize(
    "extra,needle",
    [
        (["--alpha", "0"], "alpha"),
        (["--alpha", "1.5"], "alpha"),
        (["--kappa", "-1"], "kappa"),
        (["--sigma2", "-0.1"], "sigma2"),
        (["--spike-fraction", "2"], "--spike-fraction"),
        (["--width", "3"], "width"),
        (["--spectrum", "/no/such/file.csv"], "not found"),
        (["--n", "0"], "n must"),
        (["--ridge", "nan"], "ridge"),
        (["--problem", "nope"], "--problem"),
        (["--alpha", "x"], "--alpha"),
    ],
)
def test_bad_input_is_one_line(extra, needle):
    args = ["risk", *BASE, *extra]  # later options override the defaults in BASE
    proc = subprocess.run([sys.executable, "-m", "dcprune", *args], capture_output=True, text=True)
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("Error:") and needle in lines[0]
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("content,needle", [
    ("lambda,beta\n1,0.1\n-1,0.2\n", "lambda must be > 0"),
    ("lambda,beta\n1,0.1\nnan,0.2\n", "NaN"),
    ("lam,b\n1,0.1\n", "lambda,beta"),
])
def test_bad_spectrum_file(tmp_path, content, needle):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    res = run("risk", *BASE, "--spectrum", str(path))
    assert res.exit_code != 0
    assert needle in res.output and "Traceback" not in res.output
    assert len(res.output.strip().splitlines()) == 1


@pytest.mark.parametrize("content,needle", [
    ("lambda,beta\n1,0.1\n\n2,abc\n", "line 4: 'abc' is not a number"),
    ("lambda,beta\n1,0.1\n2,0.1,3\n", "line 3 has 3 columns"),
])
def test_bad_spectrum_file_names_the_line(tmp_path, content, needle):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    res = run("risk", *BASE, "--spectrum", str(path))
    assert res.exit_code != 0 and needle in res.output, res.output


def test_bad_npy_file(tmp_path):
    import numpy as np

    path = tmp_path / "words.npy"
    np.save(path, np.array(["a", "b"]))
    res = run("risk", *BASE, "--spectrum", str(path))
    assert res.exit_code != 0 and "not a .npy array of numbers" in res.output


@pytest.mark.parametrize("name,make", [
    ("complex.npy", lambda path: np.save(path, np.array([[1 + 1j, 1], [2, 1]]))),
    ("header.csv", lambda path: path.write_text("lambda,beta\n")),
    ("huge.csv", lambda path: path.write_text("lambda,beta\n1e308,1e308\n1,1\n")),
    ("huge_beta.csv", lambda path: path.write_text("lambda,beta\n1,1e200\n1,1\n")),
])
def test_unusable_spectrum_is_one_line_without_warnings(tmp_path, name, make):
    """numpy's ComplexWarning / overflow / empty-input warnings must not leak before our line."""
    path = tmp_path / name
    make(path)
    proc = subprocess.run([sys.executable, "-m", "dcprune", "risk", *BASE, "--spectrum", str(path)],
                          capture_output=True, text=True)
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error:"), proc.stderr


def test_numbers_print_as_typed():
    res = run("risk", *BASE, "--width", "0")
    assert res.exit_code != 0 and "got --width=0.0" in res.output and "np." not in res.output


def test_finite_size_counts_are_integers():
    one = json.loads(run("risk", *BASE, "--n", "200", "--format", "json").output)
    assert (one["d"], one["p"], one["s"]) == (400, 400, 120)
    assert all(isinstance(one[k], int) for k in ("d", "p", "s"))
    rows = json.loads(run("curve", *BASE, "--n", "200", "--points", "5", "--format", "json").output)["rows"]
    assert all(isinstance(r["p"], int) for r in rows)
    asym = json.loads(run("risk", *BASE, "--format", "json").output)
    assert (asym["p"], asym["s"]) == (2.0, pytest.approx(0.6))


def test_flags_that_need_a_plot():
    for flag in ("--retrain", "--quiet"):
        res = run("curve", *BASE, flag)
        assert res.exit_code != 0 and "--plot" in res.output


def test_ridge_at_finite_size_is_corrected():
    """--n with --ridge gives docs/theory.rst §13's finite-size value, not the asymptotic one."""
    args = ("risk", *BASE, "--ridge", "1e-3", "--width", "1.05", "--format", "json")
    finite = json.loads(run(*args, "--n", "100").output)
    asymptotic = json.loads(run(*args).output)
    # the one warning: same-data retraining's heuristic is for min-norm fits (docs/theory.rst §14)
    assert [w for w in finite["warnings"] if not w.startswith("risk.magnitude_retrain_same is NaN")] == []
    assert finite["risk"]["dense"] > 1.02 * asymptotic["risk"]["dense"]
    assert finite["gamma"] == finite["risk"]["dense"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc, which takes no files")
@pytest.mark.parametrize("args", [
    ["curve", *BASE, "--plot", "/proc/curve.png", "--quiet"],
    ["figure", "fig3a", "--quick", "--no-mc", "--out", "/proc/dcprune-figures"],
    ["validate", "--quick", "--out", "/proc/dcprune-validation"],
])
def test_unwritable_output_is_one_line_before_computing(args):
    # Root passes os.access checks on read-only file systems, so the check must try a write.
    proc = subprocess.run([sys.executable, "-m", "dcprune", *args], capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error:") and "/proc" in lines[0], proc.stderr
    assert not proc.stdout  # nothing computed, nothing printed


def test_import_is_light():
    code = ("import sys, dcprune; "
            "print(*(m in sys.modules for m in ('matplotlib', 'numba', 'sympy')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False", "False"]


def test_heavy_submodules_load_on_attribute_access():
    code = "import dcprune; print(dcprune.exact.isotropic.__module__, dcprune.montecarlo.simulate.__module__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["dcprune.exact", "dcprune.montecarlo.simulate"]
    with pytest.raises(AttributeError):
        _ = dcprune.no_such_thing


def test_public_names():
    for name in dcprune.__all__:
        assert hasattr(dcprune, name), name


def test_nothing_numeric_warns():
    res = subprocess.run([sys.executable, "-W", "error", "-m", "dcprune", "curve", *BASE, "--points", "50"],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert "RuntimeWarning" not in res.stderr


# --- correlated problems from a file, and the random-feature commands' output formats --------


@pytest.fixture
def covariance_file(tmp_path):
    import numpy as np

    rng = np.random.default_rng(0)
    a = rng.standard_normal((40, 40))
    path = tmp_path / "cov.npz"
    np.savez(path, Sigma=a @ a.T / 40 + 0.3 * np.eye(40), beta=rng.standard_normal(40) / 6.0, sigma2=0.1)
    return path


def test_covariance_noise_comes_from_the_file_or_the_option(covariance_file, tmp_path):
    import numpy as np

    args = ["risk", "--covariance", "--alpha", "0.25", "--n", "20", "--format", "json"]
    with_file = json.loads(run(*args[:2], str(covariance_file), *args[2:]).stdout)
    assert with_file["sigma2"] == 0.1
    given = json.loads(run(*args[:2], str(covariance_file), *args[2:], "--sigma2", "0.4").stdout)
    assert given["sigma2"] == 0.4 and given["risk"]["dense"] > with_file["risk"]["dense"]
    bare = tmp_path / "bare.npz"
    with np.load(covariance_file) as data:
        np.savez(bare, Sigma=data["Sigma"], beta=data["beta"])
    res = run(*args[:2], str(bare), *args[2:])
    assert res.exit_code == 2 and res.output.count("\n") == 1
    assert res.output.startswith("Error: --sigma2 must be given: ") and "stores no sigma2" in res.output


def test_covariance_risk_is_the_library_sweep(covariance_file):
    res = run("risk", "--covariance", str(covariance_file), "--alpha", "0.25", "--n", "20", "--width", "1.5",
              "--format", "json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert (out["kappa"], out["n"], out["s"], out["p"]) == (2.0, 20, 10, 30)
    assert out["problem"]["name"] == "covariance" and out["problem"]["d"] == 40
    assert set(out["risk"]) == set(out["risk_se"]) == set(RISK_NAMES)
    problem = dcprune.load_covariance(covariance_file, 0.1)
    (want,) = dcprune.families.covariance.sweep_covariance(problem, 20, [30], 10, seed=0)
    assert out["risk"]["hessian"] == want.risk["hessian"][0]
    assert out["risk_se"]["hessian"] == want.risk["hessian"][1]


def test_covariance_curve_and_simulate_formats(covariance_file):
    base = ["--covariance", str(covariance_file), "--alpha", "0.25", "--n", "20"]
    rows = list(csv.DictReader(io.StringIO(run("curve", *base, "--points", "4", "--format", "csv").stdout)))
    assert [int(r["p"]) for r in rows] == [10, 20, 30, 40]
    assert rows[1]["dense"] == "inf"  # p = n: the peak
    table = run("simulate", *base, "--trials", "6")
    assert table.exit_code == 0 and "# covariance" in table.output and "MP+rt=" in table.output
    sim = json.loads(run("simulate", *base, "--trials", "6", "--points", "2", "--format", "json").stdout)
    assert sim["problem"]["name"] == "covariance" and len(sim["rows"]) == 2 and sim["trials"] == 6


@pytest.mark.parametrize("extra,needle", [
    (["--alpha", "0.2"], "needs --n"),
    (["--alpha", "0.2", "--n", "20", "--kappa", "3"], "--kappa must be d/n = 2, since"),
    (["--alpha", "0.2", "--n", "20", "--problem", "isotropic"], "replaces --problem"),
    (["--alpha", "0", "--n", "20"], "alpha"),
])
def test_covariance_bad_input(covariance_file, extra, needle):
    res = run("risk", "--covariance", str(covariance_file), *extra)
    assert res.exit_code != 0 and needle in res.output, res.output
    assert len(res.output.strip().splitlines()) == 1


@pytest.mark.parametrize("arrays,needle", [
    ({"Sigma": [[1.0, 2.0], [0.0, 1.0]], "beta": [1.0, 1.0]}, "symmetric"),
    ({"Sigma": [[1.0, 2.0], [2.0, 1.0]], "beta": [1.0, 1.0]}, "positive semidefinite"),
])
def test_covariance_file_must_be_a_covariance(tmp_path, arrays, needle):
    import numpy as np

    path = tmp_path / "bad.npz"
    np.savez(path, **{k: np.array(v) for k, v in arrays.items()})
    proc = subprocess.run([sys.executable, "-m", "dcprune", "risk", "--covariance", str(path), "--alpha", "0.5",
                           "--n", "2"], capture_output=True, text=True)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error:") and needle in lines[0]


def test_missing_kappa_is_a_usage_error():
    res = run("risk", "--alpha", "0.3")
    assert res.exit_code == 2 and "Missing option '--kappa'" in res.output


@pytest.mark.parametrize("fmt", ["table", "csv", "json"])
def test_random_features_simulate_prints_every_format(fmt):
    args = ["simulate", "--problem", "relu-features", "--kappa", "1.5", "--alpha", "0.3", "--n", "30",
            "--input-dim", "8", "--draws", "2", "--trials", "4", "--format", fmt]
    res = run(*args)
    assert res.exit_code == 0, res.output
    if fmt == "json":
        out = json.loads(res.stdout)
        assert out["problem"]["name"] == "random-features" and out["p"] == 45 and "dense" in out["risk"]


def test_bare_command_prints_the_help():
    proc = subprocess.run([sys.executable, "-m", "dcprune"], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stderr == ""
    assert proc.stdout.startswith("Usage:") and "Commands:" in proc.stdout and "\n  risk" in proc.stdout


def test_figure_help_lists_every_figure():
    from dcprune.figures.build import FIGURES

    text = run("figure", "--help").output
    for name in FIGURES:
        assert name in text


@pytest.mark.parametrize("command", ["risk", "curve", "simulate", "validate", "figure"])
def test_help_fits_80_columns(command):
    lines = run(command, "--help").output.splitlines()
    assert max(len(line) for line in lines) <= 80


@pytest.mark.parametrize("extra,needle", [
    (["curve", "--width-min", "5"], "--width-min must be below the full width"),
    (["curve", "--spike-fraction", "2"], "--spike-fraction must be in (0, 1)"),
    (["risk", "--width", "nan"], "width must be finite"),
    (["curve", "--points", "10000000"], "--points must be from 2 to 100,000"),
    (["curve", "--plot", "x.png", "--n", "100", "--simulate", "0"], "--simulate must be at least 2"),
    (["curve", "--plot", "x.png", "--n", "100", "--simulate", "5", "--sim-points", "0"], "--sim-points must be"),
    (["simulate", "--n", "100", "--trials", "1"], "trials must be an integer >= 2"),
])
def test_messages_name_the_options(extra, needle, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = run(extra[0], *BASE, *extra[1:])
    assert res.exit_code != 0
    assert needle in res.output and len(res.output.strip().splitlines()) == 1, res.output


def test_curve_widths_and_counts_print_clean():
    asym = list(csv.DictReader(io.StringIO(run("curve", *BASE, "--points", "5", "--format", "csv").output)))
    assert [r["width"] for r in asym] == ["0.4", "0.8", "1.2", "1.6", "2.0"]  # not 1.2000000000000002
    finite = list(csv.DictReader(io.StringIO(
        run("curve", *BASE, "--points", "5", "--n", "150", "--format", "csv").output)))
    assert [r["p"] for r in finite] == ["60", "120", "180", "240", "300"]


def test_random_feature_rows_say_whether_they_converged():
    out = json.loads(run("curve", *BASE, "--points", "2", "--n", "60", "--problem", "relu-features",
                         "--input-dim", "10", "--draws", "1", "--format", "json").output)
    assert all(row["converged"] is True for row in out["rows"])


@pytest.mark.parametrize("extra,needle", [
    (["--threshold", "nan"], "--threshold must be finite"),
    (["--threshold", "inf"], "--threshold must be finite"),
    (["--size", "0"], "--size must be >= 1"),
    (["--quick", "--size", "5"], "--size sets the full grid"),
    (["--quick", "--trials", "1"], "--trials must be >= 2"),
])
def test_validate_refuses_gates_that_cannot_fail(extra, needle, tmp_path):
    out = tmp_path / "never"
    res = run("validate", *extra, "--out", str(out))
    assert res.exit_code != 0 and needle in res.output, res.output
    assert not out.exists()  # refused before the output directory was made


@pytest.mark.parametrize("extra,needle", [
    (["--problem", "isotropic", "--spike", "5"], "--spike does not apply to isotropic"),
    (["--exponent", "0.3"], "--exponent does not apply to spiked-covariance"),
    (["--draws", "3"], "--draws does not apply"),
    (["--problem", "power-law", "--activation", "tanh"], "--activation does not apply to power-law"),
    (["--input-dim", "5"], "--input-dim does not apply"),
    (["--sigma2", "1e308"], "--sigma2 must be at most 1e+250"),
    (["--kappa", "1e13"], "--kappa must be at most 1e+12"),
    (["--n", "1000000000000000"], "kappa*n must be at most 1e+15"),
    (["--problem", "relu-features", "--input-dim", "10", "--n", "100000"], "GiB"),
])
def test_options_that_would_be_ignored_or_overflow_are_refused(extra, needle):
    res = run("risk", *BASE, *extra)
    assert res.exit_code != 0 and needle in res.output, res.output
    assert len(res.output.strip().splitlines()) == 1


def test_rounded_sizes_are_announced():
    pred = dcprune.predict(dcprune.Diagonal(dcprune.SpikedCovariance(), kappa=2, alpha=1e-12, n=200), width=1e-9)
    assert pred.s == 1 and pred.p == 1
    assert any("rounds to no coordinate" in w for w in pred.warnings)
    assert any("rounds to no feature" in w for w in pred.warnings)


def test_random_features_defaults_are_the_gallery_theory():
    """With its defaults (draws, label noise, seed) the CLI reproduces Figure 2's committed
    theory at p = 300, s = 50 (the figure draws W for 600 features; widths nest)."""
    from pathlib import Path

    res = run("risk", "--problem", "random-features", "--input-dim", "100", "--n", "200", "--kappa", "1.5",
              "--alpha", str(1 / 6), "--format", "json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert (out["p"], out["s"], out["sigma2"], out["problem"]["draws"]) == (300, 50, 0.0, 10)
    path = Path(__file__).resolve().parents[1] / "paper_figures" / "gallery" / "fig2.csv"
    rows = list(csv.DictReader(line for line in path.open() if not line.startswith("#")))
    (row,) = [r for r in rows if r["s"] == "50" and r["p"] == "300"]
    for name in ("dense", "magnitude", "magnitude_retrain"):
        assert out["risk"][name] == pytest.approx(float(row[name]), rel=1e-12), name
        assert out["risk_se"][name] == pytest.approx(float(row[f"{name}_theory_se"]), rel=1e-12), name
