"""The compression figure (dcprune figure compression, docs/theory.rst §11): a quick build, its CSV
carries the bit-budget search's results exactly, the Monte Carlo markers sit at their widths, and
the committed gallery CSV carries today's search."""

import csv
import math
from pathlib import Path

import numpy as np
import pytest

import dcprune
from dcprune.figures import compression
from dcprune.figures.build import FIGURES
from dcprune.quantization.frontier import frontier

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def read(path):
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line[2:] for line in lines if line.startswith("# ")], list(csv.DictReader(
        line for line in lines if not line.startswith("#")))


def number(cell):
    return math.nan if cell == "" else float(cell)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("compression")
    return compression.build(out, quick=True, mc=True)


def test_registered_and_files(built):
    assert "compression" in FIGURES
    png, pdf, table = built
    assert [p.name for p in built] == ["compression.png", "compression.pdf", "compression.csv"]
    assert png.read_bytes()[:8] == PNG_SIGNATURE and pdf.read_bytes()[:5] == b"%PDF-"
    assert not [p for p in png.parent.iterdir() if p.name.startswith(".")]  # written whole


def test_csv_is_the_search(built):
    comments, rows = read(built[2])
    prob = compression.setup()
    run = compression.QUICK
    dense = {r.p: r.risk["dense"].mean for r in dcprune.sweep(prob, points=run.points).rows}
    for budget in compression.BUDGETS:
        result = frontier(prob, budget, points=run.points)
        mine = [r for r in rows if float(r["budget"]) == budget]
        assert [int(r["p"]) for r in mine] == [r.p for r in result.rows]
        for cells, row in zip(mine, result.rows):
            assert number(cells["dense_full_precision"]) == dense[row.p]
            for name in ("best", "dense_quantized", "prune_only"):
                choice = getattr(row, name)
                if choice is None:
                    assert cells[f"{name}_risk"] == ""
                    continue
                assert number(cells[f"{name}_risk"]) == choice.risk
                assert int(cells[f"{name}_s"]) == choice.s and int(cells[f"{name}_bits"]) == choice.bits
        best = result.best
        assert any(f"budget {budget:g}: best p={best.p}, s={best.s}, bits={best.bits}" in c for c in comments)
    assert any(f"coefficients={compression.COEFFICIENTS}" in c for c in comments)


def test_markers_at_their_widths(built):
    comments, rows = read(built[2])
    measured = [r for r in rows if r["best_mc_mean"] != ""]
    assert any(f"trials={compression.QUICK.trials}" in c for c in comments)
    widths = sorted({float(r["width"]) for r in measured})
    assert widths == pytest.approx(sorted(compression.QUICK.mc_widths))
    for r in measured:  # 5 trials: a smoke test; theory against Monte Carlo is tested with 300 (slow)
        assert math.isfinite(number(r["best_mc_mean"])) and number(r["best_mc_se"]) > 0


def test_theory_only_build(tmp_path):
    paths = compression.build(tmp_path, quick=True, mc=False)
    comments, rows = read(paths[2])
    assert any("trials=0" in c for c in comments)
    assert all(r["best_mc_mean"] == "" for r in rows)
    assert np.isfinite([number(r["best_risk"]) for r in rows if r["best_risk"]]).all()


@pytest.mark.slow
def test_chosen_configurations_agree_with_monte_carlo():
    # The models the search chooses, measured by the real procedure: within 4 standard errors.
    prob = compression.setup()
    for k, budget in enumerate(compression.BUDGETS):
        result = frontier(prob, budget)
        marks = compression.monte_carlo(prob, result, compression.MC_WIDTHS, 300, 7 + 1000 * k)
        for name, (widths, mean, se) in marks.items():
            theory = {r.width: getattr(r, name).risk for r in result.rows if getattr(r, name) is not None}
            for w, m, e in zip(widths, mean, se):
                assert abs(m - theory[w]) <= 4 * e, (budget, name, w, m, e, theory[w])


GALLERY = Path(__file__).resolve().parents[1] / "paper_figures" / "gallery" / "compression.csv"


def test_gallery_is_current():
    # The committed full-mode figure carries today's search (relative 1e-10, as the paper's
    # figures: another CPU may round the last bits); rebuild with
    # ``dcprune figure compression --out paper_figures/gallery``.
    comments, rows = read(GALLERY)
    assert f"coefficients={compression.COEFFICIENTS}" in comments[0]
    assert any(f"trials={compression.FULL.trials}" in c for c in comments)
    prob = compression.setup()
    for budget in compression.BUDGETS:
        result = frontier(prob, budget, points=compression.FULL.points)
        mine = [r for r in rows if float(r["budget"]) == budget]
        assert [int(r["p"]) for r in mine] == [r.p for r in result.rows]
        for cells, row in zip(mine, result.rows):
            for name in ("best", "dense_quantized", "prune_only"):
                choice = getattr(row, name)
                if choice is not None:
                    assert number(cells[f"{name}_risk"]) == pytest.approx(choice.risk, rel=1e-10), (budget, row.p)


def test_gallery_markers_agree_with_its_lines():
    # Each committed marker (300 trials of the real procedure) within 4 standard errors of its line.
    _, rows = read(GALLERY)
    count = 0
    for r in rows:
        for name in ("best", "dense_quantized", "prune_only"):
            if r[f"{name}_mc_mean"] != "":
                count += 1
                gap = abs(number(r[f"{name}_mc_mean"]) - number(r[f"{name}_risk"]))
                assert gap <= 4 * number(r[f"{name}_mc_se"]), (r["budget"], r["p"], name)
    assert count >= len(compression.BUDGETS) * len(compression.MC_WIDTHS)
