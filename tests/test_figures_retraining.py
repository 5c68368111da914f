"""The retraining figure (fresh vs same-data retraining vs distillation, issue 18): a quick build
writes valid files whose CSV carries the library's predictions and Monte Carlo numbers, the
committed full build carries today's theory, and its markers agree with its lines."""

import csv
import math
from pathlib import Path

import numpy as np
import pytest

import dcprune
from dcprune.figures import retraining
from dcprune.figures.build import FIGURES, build
from dcprune.samedata import allowance

ROOT = Path(__file__).resolve().parents[1]
GALLERY = ROOT / "paper_figures" / "gallery" / "retraining.csv"


def _read_csv(path: Path):
    lines = path.read_text(encoding="utf-8").splitlines()
    comments = [line[2:] for line in lines if line.startswith("# ")]
    return comments, list(csv.DictReader([line for line in lines if not line.startswith("#")]))


def _same(cell: str, value: float, rel: float = 0.0) -> bool:
    x = float(cell)
    if math.isnan(value) or math.isinf(value):
        return math.isnan(x) if math.isnan(value) else x == value
    return x == pytest.approx(value, rel=rel, abs=0.0)


def _sweeps(panel: str, widths) -> dict:
    """The sweeps the figure draws on ``widths``, keyed by the figure's M key."""
    return {key: dcprune.sweep(retraining.problems(m)[panel], widths=widths)
            for key, m in (("inf", math.inf), ("finite", retraining.UNLABELLED))}


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    return build("retraining", tmp_path_factory.mktemp("retraining"), quick=True)


def test_quick_build_carries_theory_and_monte_carlo(quick):
    from dcprune.montecarlo import simulate

    assert "retraining" in FIGURES
    png, pdf, path = quick
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and pdf.read_bytes()[:5] == b"%PDF-"
    comments, rows = _read_csv(path)
    assert f"trials={retraining.QUICK.trials}" in comments[0]
    run = retraining.QUICK
    for panel, widths in (("diagonal", run.diagonal_widths), ("equicorrelated", (3.0,))):
        sweeps = _sweeps(panel, widths)
        by_p = {int(r["p"]): r for r in rows if r["sigma"] == panel}
        for j, p in enumerate(int(r.p) for r in sweeps["inf"].rows):
            for key, (name, m) in retraining.columns().items():
                est = sweeps[m].rows[j].risk[name]
                assert _same(by_p[p][key], est.mean) and _same(by_p[p][f"{key}_theory_se"], est.se), (panel, p, key)
    # same-data retraining: the §14 heuristic for diagonal Σ, no theory for correlated Σ
    diag = [r for r in rows if r["sigma"] == "diagonal" and r["grid"] == "theory+mc"]
    corr = [r for r in rows if r["sigma"] == "equicorrelated" and r["grid"] == "theory+mc"]
    assert all(math.isfinite(float(r["magnitude_retrain_same"])) for r in diag)
    assert all(math.isnan(float(r["magnitude_retrain_same"])) for r in corr)
    assert all(math.isfinite(float(r["magnitude_retrain_same_mc_mean"])) for r in corr)
    # The markers are simulate's, on the Monte Carlo widths.
    problem = retraining.problems(retraining.UNLABELLED)["equicorrelated"]
    sim = simulate(problem, widths=np.array(run.mc_widths), trials=run.trials, seed=retraining.SEED)
    key = retraining.FINITE_M
    np.testing.assert_array_equal([float(r[f"{key}_mc_mean"]) for r in corr], sim.mean("magnitude_distill"))
    np.testing.assert_array_equal([float(r[f"{key}_mc_se"]) for r in corr], sim.se("magnitude_distill"))


def test_gallery_is_current():
    """The committed full build carries today's theory (every diagonal width; two correlated
    widths, each derives its own DC stream from the seed); relative 1e-10 as tests/test_figures.py."""
    comments, rows = _read_csv(GALLERY)
    assert f"trials={retraining.FULL.trials}" in comments[0]
    for panel, widths in (("diagonal", retraining.FULL.diagonal_widths), ("equicorrelated", (1.5, 3.0))):
        sweeps = _sweeps(panel, widths)
        by_p = {int(r["p"]): r for r in rows if r["sigma"] == panel}
        if panel == "diagonal":
            assert set(by_p) == {int(r.p) for r in sweeps["inf"].rows}
        for j, p in enumerate(int(r.p) for r in sweeps["inf"].rows):
            for key, (name, m) in retraining.columns().items():
                assert _same(by_p[p][key], sweeps[m].rows[j].risk[name].mean, rel=1e-10), (panel, p, key)


def test_gallery_markers_agree_with_the_lines():
    """Every marker with a finite line within 4 combined SE (same-data retraining: plus its
    stated allowance, :func:`dcprune.samedata.allowance`)."""
    _, rows = _read_csv(GALLERY)
    checked = 0
    for row in (r for r in rows if r["grid"] == "theory+mc"):
        for key in retraining.columns():
            theory, mean = float(row[key]), float(row[f"{key}_mc_mean"])
            if not math.isfinite(theory):
                continue
            se = math.hypot(float(row[f"{key}_mc_se"]), float(row[f"{key}_theory_se"]))
            slack = allowance(retraining.N) * theory if key == "magnitude_retrain_same" else 0.0
            assert abs(mean - theory) <= 4 * se + slack, (row["sigma"], row["p"], key, theory, mean, se)
            checked += 1
    assert checked > 100


def test_panel_styles_name_risks(tmp_path):
    from dcprune.plotting import Panel, plot_panels

    panel = Panel(x=np.array([1.0, 2.0]), lines={"other": np.ones(2)}, styles={"other": ("magnitud", {})})
    with pytest.raises(ValueError, match="unknown risks"):
        plot_panels([panel], tmp_path / "x.png")
    assert list(tmp_path.iterdir()) == []
