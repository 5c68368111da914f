"""The workflow commands' contract: best, curve --over, check (JSON, CSV, one-line errors)."""

import csv
import io
import json

import pytest
from click.testing import CliRunner

import dcprune
from dcprune.cli import main
from dcprune.workflows.best import best

BASE = ["--kappa", "3", "--alpha", "0.1"]


def run(*args):
    return CliRunner().invoke(main, list(args))


def one_line_error(res):
    assert res.exit_code != 0
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), res.output
    assert "Traceback" not in res.output
    return lines[0]


def test_best_json_is_the_library_result():
    res = run("best", *BASE, "--n", "200", "--format", "json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    lib = best(dcprune.Diagonal(dcprune.SpikedCovariance(), kappa=3, alpha=0.1, n=200)).to_dict()
    assert out == json.loads(json.dumps(lib))
    assert set(out["best"]) == set(dcprune.PREDICTED) and out["over"] == "width"
    for row in out["best"].values():
        assert isinstance(row["p"], int) and row["converged"] is True


def test_best_csv_and_table():
    res = run("best", *BASE, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(res.output)))
    assert [r["quantity"] for r in rows] == list(dcprune.PREDICTED)
    assert {"width", "p", "risk", "converged", "below_reference"} <= set(rows[0])
    table = run("best", *BASE)
    assert table.exit_code == 0 and "hessian_retrain" in table.output and "reference line" in table.output


def test_best_over_alpha():
    res = run("best", *BASE, "--n", "100", "--over", "alpha", "--width", "2", "--format", "json")
    out = json.loads(res.output)
    assert out["width"] == 2.0 and "dense" not in out["best"]
    assert all(1 <= row["s"] <= 200 for row in out["best"].values())


@pytest.mark.parametrize("args,option", [
    (["--width", "2"], "--width"),
    (["--over", "alpha", "--width", "4"], "--width"),
    (["--over", "alpha", "--width", "-1"], "--width"),
    (["--problem", "random-features", "--n", "40", "--input-dim", "5", "--kappa", "1.5"], "--problem"),
])
def test_best_bad_input_is_one_line(args, option):
    base = BASE if "--kappa" not in args else ["--alpha", "0.1"]
    line = one_line_error(run("best", *base, *args))
    assert option in line


AXIS_CASES = [
    ("width", ["--from", "0.5", "--to", "2", "--points", "4"], []),
    ("alpha", ["--from", "0.05", "--to", "0.6", "--points", "4", "--width", "1.5"], []),
    ("sigma2", ["--from", "0.01", "--to", "2", "--points", "4", "--width", "1.5"], []),
    ("ridge", ["--from", "0.001", "--to", "1", "--points", "4"], []),
    ("n", ["--from", "100", "--to", "1000", "--points", "5", "--width", "1.5"], ["--n", "200"]),
]


@pytest.mark.parametrize("axis,args,extra", AXIS_CASES, ids=[c[0] for c in AXIS_CASES])
def test_every_axis_equals_point_evaluations_of_risk(axis, args, extra):
    base = ["--kappa", "2", "--alpha", "0.3", *extra]
    res = run("curve", *base, "--over", axis, *args, "--format", "json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["over"] == axis and out[axis] is None and len(out["rows"]) >= 4
    for row in out["rows"]:
        assert list(row)[0] == axis
        point = {"kappa": "2", "alpha": "0.3", "n": extra[1] if extra else None}
        if axis == "n":  # a learning curve: d = 400 and p = 300 fixed
            point.update(n=str(int(row["n"])), kappa=repr(400 / row["n"]))
            width = repr(300 / row["n"])
        else:
            if axis != "width":
                point[axis] = repr(row[axis])
            width = repr(row["width"])
        flat = [x for k, v in point.items() if v is not None for x in (f"--{k}", v)]
        single = json.loads(run("risk", *flat, "--width", width, "--format", "json").output)
        assert single["risk"] == row["risk"], (axis, row[axis])
        assert single["p"] == row["p"]
    csv_out = [x for x in run("curve", *base, "--over", axis, *args, "--format", "csv").output.splitlines()
               if not x.startswith("warning:")]
    assert csv_out[0].split(",")[0] == axis and len(csv_out) == len(out["rows"]) + 1
    table = [x for x in run("curve", *base, "--over", axis, *args).output.splitlines() if not x.startswith("#")
             and not x.startswith("warning:")]
    assert table[0].split()[0] == axis


def test_the_learning_curve_peaks_at_n_equal_p():
    res = run("curve", "--kappa", "2", "--alpha", "0.3", "--n", "200", "--over", "n", "--from", "50", "--to",
              "2000", "--points", "60", "--width", "1.5", "--format", "json")
    rows = json.loads(res.output)["rows"]
    dense = [r["risk"]["dense"] if r["risk"]["dense"] is not None else float("inf") for r in rows]
    peak = rows[dense.index(max(dense))]["n"]
    assert abs(peak - 300) <= 20  # the sample-size double descent: the peak at n = p = 300
    assert dense[0] < max(dense) and dense[-1] < max(dense)


@pytest.mark.parametrize("args,option", [
    (["--over", "alpha", "--from", "0.1", "--to", "0.9", "--width", "1"], "--to"),
    (["--over", "ridge", "--from", "0", "--to", "1"], "--from"),
    (["--over", "sigma2", "--from", "1", "--to", "0.5"], "--from"),
    (["--over", "sigma2", "--from", "0.1"], "--to"),
    (["--over", "n", "--from", "10", "--to", "100"], "--over"),
    (["--over", "sigma2", "--from", "0.1", "--to", "1", "--plot", "x.png"], "--plot"),
    (["--over", "width", "--width", "1"], "--width"),
])
def test_curve_over_bad_input_is_one_line(args, option):
    assert option in one_line_error(run("curve", "--kappa", "2", "--alpha", "0.3", *args))


def test_an_axis_the_family_lacks_is_refused(tmp_path):
    import numpy as np

    path = tmp_path / "cov.npz"
    np.savez(path, Sigma=np.eye(20), beta=np.full(20, 0.2), sigma2=0.1)
    line = one_line_error(run("curve", "--covariance", str(path), "--n", "10", "--alpha", "0.2", "--over",
                              "sigma2", "--from", "0.1", "--to", "1", "--points", "2"))
    assert "--over" in line and "sigma2" in line
    from dcprune.checks import ParameterError
    from dcprune.workflows.axes import along

    with pytest.raises(ParameterError, match="rank-one"):
        along(dcprune.RankOne(np.ones(4), np.full(4, 0.1), 0.5, n=10, s=2), "ridge", start=0.1, stop=1)
