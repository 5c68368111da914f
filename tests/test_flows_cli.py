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
