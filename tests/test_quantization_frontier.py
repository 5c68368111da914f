"""The bit-budget search (docs/theory.rst §11): its kept-count search finds the optimum of an
exhaustive search over every s, skipping by the risk floor changes nothing, and the
``dcprune frontier`` JSON contract."""

import json
import math

import numpy as np
import pytest
from click.testing import CliRunner

import dcprune
from dcprune.cli import main
from dcprune.quantization import frontier as F
from dcprune.quantization.risk import clips_and_risks


def small():
    return dcprune.Diagonal(dcprune.SpikedCovariance(), kappa=2, alpha=0.5, n=30, sigma2=0.1)


def test_storage_bits_counts_the_pattern():
    assert F.storage_bits(40, 7, 3, False) == 21
    assert F.storage_bits(40, 7, 3, True) == pytest.approx(21 + math.log2(math.comb(40, 7)), rel=1e-12)
    assert F.storage_bits(40, 40, 3, True) == 120


@pytest.mark.parametrize("budget,index_bits", [(60, False), (150, False), (150, True), (400, False)])
def test_count_search_finds_the_exhaustive_optimum(budget, index_bits):
    prob = small()
    result = F.frontier(prob, budget, index_bits=index_bits, points=4)
    specs = [dcprune.Quantization(b, q) for q in ("sign-magnitude", "mid-tread")
             for b in range(1 if q == "sign-magnitude" else 2, 17)]
    for row in result.rows:
        atoms, sigma2_eff, gamma = F.model_atoms(prob, row.p)
        if not math.isfinite(gamma):
            assert row.best is None
            continue
        thresholds = F.Thresholds(atoms, row.p)
        counts = np.arange(1, row.p + 1)
        best = (math.inf, None)
        for spec in specs:
            feasible = counts[F.storage_bits(row.p, counts, spec.bits, index_bits) <= budget]
            if feasible.size == 0:
                continue
            _, risks = clips_and_risks(spec, thresholds(feasible), atoms, sigma2_eff, True, fine_risk=True,
                                       grid=F.CLIP_GRID)
            i = int(np.nanargmin(risks))
            if risks[i] < best[0]:
                best = (float(risks[i]), (int(feasible[i]), spec.bits, spec.quantizer))
        assert row.best.risk == pytest.approx(best[0], rel=1e-12), (row.p, best)
        assert (row.best.s, row.best.bits, row.best.quantizer) == best[1]
    assert result.best.risk == min(r.best.risk for r in result.rows if r.best is not None)


@pytest.mark.parametrize("budget", [90, 400])
def test_skipping_by_the_risk_floor_changes_nothing(budget, monkeypatch):
    # The bound only skips counts that cannot beat the best found: with it disabled (every
    # count refined) the search returns the same rows, bit for bit.
    prob = dcprune.Diagonal(dcprune.SpikedIdentity(), kappa=3, alpha=0.5, n=40, sigma2=0.1)
    skipped = F.frontier(prob, budget, points=6).to_dict()
    monkeypatch.setattr(F, "_FLOOR_SLACK", np.inf)
    assert F.frontier(prob, budget, points=6).to_dict() == skipped


def test_prune_only_and_dense_quantized_fit_the_budget():
    prob = small()
    result = F.frontier(prob, 150, points=4)
    for row in result.rows:
        if row.prune_only is not None:
            assert 32 * row.prune_only.s <= 150 < 32 * (row.prune_only.s + 1) or row.prune_only.s == row.p
        if row.dense_quantized is not None:
            assert row.dense_quantized.s == row.p and row.p * row.dense_quantized.bits <= 150
            assert row.best.risk <= row.dense_quantized.risk


def test_frontier_json_contract():
    res = CliRunner().invoke(main, ["frontier", "--kappa", "2", "--alpha", "0.5", "--n", "30", "--budget", "60",
                                    "--points", "3", "--format", "json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert set(out) == {"budget", "index_bits", "best", "rows", "reference", "warnings"}
    assert set(out["best"]) == {"width", "p", "s", "bits", "quantizer", "clip", "risk"}
    assert set(out["reference"]) == {"dense_full_precision", "best_small_dense"}
    for row in out["rows"]:
        assert set(row) == {"width", "p", "best", "prune_only", "dense_quantized"}
    assert out["best"]["s"] * out["best"]["bits"] <= 60


@pytest.mark.parametrize("args", [["--budget", "0.5"], ["--budget", "nan"], ["--budget", "-3"],
                                  ["--budget", "60", "--clip", "0"], ["--budget", "60", "--rounding", "up"]])
def test_bad_frontier_input_is_one_line(args):
    res = CliRunner().invoke(main, ["frontier", "--kappa", "2", "--alpha", "0.5", "--n", "30", *args])
    assert res.exit_code != 0
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ")


def test_frontier_needs_a_finite_diagonal_problem():
    with pytest.raises(ValueError, match="n is required"):
        F.frontier(dcprune.Diagonal(dcprune.SpikedCovariance(), kappa=2, alpha=0.5), 100)


def test_frontier_plot_is_written(tmp_path):
    path = tmp_path / "frontier.png"
    res = CliRunner().invoke(main, ["frontier", "--kappa", "2", "--alpha", "0.5", "--n", "30", "--budget", "60",
                                    "--points", "4", "--plot", str(path), "--format", "json"])
    assert res.exit_code == 0, res.output
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads(res.output)["budget"] == 60  # the table/JSON is still printed
    assert [p.name for p in tmp_path.iterdir()] == ["frontier.png"]  # no temporary left behind


@pytest.mark.parametrize("where", ["frontier.txt", "missing/frontier.png"])
def test_bad_frontier_plot_path_is_one_line_before_computing(tmp_path, where, monkeypatch):
    monkeypatch.setattr(F, "frontier", lambda *a, **k: pytest.fail("computed before checking the plot path"))
    res = CliRunner().invoke(main, ["frontier", "--kappa", "2", "--alpha", "0.5", "--n", "30", "--budget", "60",
                                    "--plot", str(tmp_path / where)])
    assert res.exit_code != 0
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), res.output


def test_frontier_plot_panels_and_markers(tmp_path):
    from dcprune.frontierplot import plot_frontier

    prob = small()
    results = [F.frontier(prob, budget, points=4) for budget in (60, 150)]
    widths = [r.width for r in results[0].rows]
    means = [math.nan if r.best is None else r.best.risk for r in results[0].rows]  # p = n has no model
    markers = [{"best": (widths, means, [0.01] * 4)}, {}]
    path = plot_frontier(results, tmp_path / "two.svg", dense=dcprune.sweep(prob), markers=markers)
    assert path.read_text().lstrip().startswith("<?xml")
    with pytest.raises(ValueError, match="one mapping per frontier"):
        plot_frontier(results, tmp_path / "x.png", markers=markers[:1])
    with pytest.raises(ValueError, match="unknown frontier lines"):
        plot_frontier(results[0], tmp_path / "x.png", markers=[{"magnitude": (widths, widths, widths)}])
