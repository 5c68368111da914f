"""Figures 2 and 4 (random features) and Lemma 1: quick builds write valid PNG/PDF/CSV, and
the CSV carries exactly the library's predictions and the Monte Carlo numbers it plotted."""

import csv
import math
from pathlib import Path

import numpy as np
import pytest

import dcprune
from dcprune.figures import common, fig2, fig4, lemma1
from dcprune.figures.build import FIGURES, build

NAMES = ("fig2", "fig4", "lemma1")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _read_csv(path: Path):
    lines = path.read_text(encoding="utf-8").splitlines()
    comments = [line[2:] for line in lines if line.startswith("# ")]
    rows = list(csv.DictReader([line for line in lines if not line.startswith("#")]))
    return comments, rows


def _same(cell: str, value) -> bool:
    x = float(cell)
    # NaN is a quantity the family does not predict (same-data retraining, docs/theory.rst §14)
    return x == value or (math.isinf(x) and math.isinf(value) and (x > 0) == (value > 0)) or (
        math.isnan(x) and math.isnan(value))


def _check_files(paths, name):
    assert [p.name for p in paths] == [f"{name}.png", f"{name}.pdf", f"{name}.csv"]
    png, pdf, _ = paths
    assert png.read_bytes()[:8] == PNG_SIGNATURE
    assert pdf.read_bytes()[:5] == b"%PDF-"
    import matplotlib.image

    image = matplotlib.image.imread(png)
    assert image.ndim == 3 and image.shape[0] > 300 and image.shape[1] > 500
    assert float(np.ptp(image[..., :3])) > 0.5
    assert not [p for p in png.parent.iterdir() if p.name.startswith(".")]  # no temporary files left


@pytest.fixture(scope="module")
def quick_mc(tmp_path_factory):
    out = tmp_path_factory.mktemp("quick")
    return {name: build(name, out, quick=True) for name in NAMES}


@pytest.fixture(scope="module")
def quick_theory(tmp_path_factory):
    out = tmp_path_factory.mktemp("theory")
    return {name: build(name, out, quick=True, mc=False) for name in NAMES}


def test_registered():
    for name in NAMES:
        assert name in FIGURES


@pytest.mark.parametrize("name", NAMES)
def test_files_valid(name, quick_mc, quick_theory):
    _check_files(quick_mc[name], name)
    _check_files(quick_theory[name], name)


@pytest.mark.parametrize("figure", [fig2.FIGURE, fig4.FIGURE], ids=["fig2", "fig4"])
def test_random_features_csv(figure, quick_mc, quick_theory):
    from dcprune.families.randomfeatures import sweep_random_features
    from dcprune.montecarlo import simulate
    from dcprune.quantities import MEASURED as QUANTITIES

    run = common.RF_QUICK
    comments, rows = _read_csv(quick_mc[figure.name][2])
    head = comments[0]
    for part in (f"input_dim={common.RF_INPUT_DIM}", f"n={common.RF_N}", f"s={list(figure.targets)}",
                 f"draws={run.draws}", f"trials={run.trials}", f"seed={common.SEED}"):
        assert part in head
    assert {int(r["s"]) for r in rows} == set(figure.targets)
    for s in figure.targets:
        mine = [r for r in rows if int(r["s"]) == s]
        theory = sweep_random_features(common.RF_INPUT_DIM, common.RF_N, run.theory_widths, s, "relu",
                                       draws=run.draws, seed=common.SEED, samples=run.samples,
                                       retrain_samples=run.retrain_samples)
        assert [int(r["p"]) for r in mine] == list(run.theory_widths)
        for r, row in zip(mine, theory.rows):
            assert float(r["width"]) == row.p / common.RF_N
            for name in dcprune.PREDICTED:
                mean, se = row.risk[name]
                assert _same(r[name], mean) and _same(r[f"{name}_theory_se"], se), (s, row.p, name)
        d = max(run.mc_widths)
        problem = dcprune.RandomFeatures(kappa=d / common.RF_N, alpha=s / d, n=common.RF_N,
                                         input_dim=common.RF_INPUT_DIM, draws=run.draws, sigma2=0.0, seed=common.SEED)
        sim = simulate(problem, widths=np.array(run.mc_widths) / common.RF_N, trials=run.trials, seed=common.SEED)
        on_mc = [r for r in mine if r["grid"] == "theory+mc"]
        assert [int(r["p"]) for r in on_mc] == list(run.mc_widths)
        for r, srow in zip(on_mc, sim.rows):
            for q in QUANTITIES:
                assert _same(r[f"{q}_mc_mean"], srow.risk[q].mean) and _same(r[f"{q}_mc_se"], srow.risk[q].se)
            assert int(r["mc_flagged"]) == srow.flagged
        assert all(r["dense_mc_mean"] == "" for r in mine if r["grid"] == "theory")

    # Theory only: the same theory columns, no Monte Carlo ones.
    comments_t, rows_t = _read_csv(quick_theory[figure.name][2])
    assert "trials=0" in comments_t[0]
    assert not any(key.endswith("_mc_mean") for key in rows_t[0])
    assert [r["magnitude"] for r in rows_t] == [r["magnitude"] for r in rows]


def test_lemma1_csv(quick_mc, quick_theory):
    from dataclasses import replace

    from dcprune.families.rankone import rank_one_risk, simulate_rank_one
    from dcprune.quantities import MEASURED as LEMMA1_NAMES

    run, pr = lemma1.QUICK, lemma1.problem()
    comments, rows = _read_csv(quick_mc["lemma1"][2])
    for part in (f"p={lemma1.P}", f"s={lemma1.S}", f"sigma2={lemma1.SIGMA2}", f"trials={run.trials}"):
        assert part in comments[0]
    assert [int(r["n"]) for r in rows] == list(lemma1.theory_grid(run.mc_n))
    for r in rows:
        n = int(r["n"])
        want = rank_one_risk(replace(pr, n=n))
        assert _same(r["rho"], pr.rho)
        for q in LEMMA1_NAMES:
            assert _same(r[q], want[q].mean), (n, q)
    on_mc = [r for r in rows if r["grid"] == "theory+mc"]
    assert [int(r["n"]) for r in on_mc] == list(run.mc_n)
    for r in on_mc:
        n = int(r["n"])
        sim = simulate_rank_one(replace(pr, n=n), trials=run.trials, seed=common.SEED + n)
        for q in LEMMA1_NAMES:
            assert _same(r[f"{q}_mc_mean"], sim[q][0]) and _same(r[f"{q}_mc_se"], sim[q][1])
    comments_t, rows_t = _read_csv(quick_theory["lemma1"][2])
    assert "trials=0" in comments_t[0] and "dense_mc_mean" not in rows_t[0]


def test_problem_of_lemma1():
    from dcprune.families.rankone import rank_one_risk

    pr = lemma1.problem(n=100)
    assert pr.a == pytest.approx(1.0, abs=1e-14) and pr.s == lemma1.S
    r = rank_one_risk(pr)
    assert r.dense.mean == pytest.approx(lemma1.SIGMA2 * (1 + 1 / 98), rel=1e-14)
    assert r.magnitude.mean > r.magnitude_retrain.mean  # pruning without retraining keeps a bias


def test_rf_mode_grids():
    for run in (common.RF_FULL, common.RF_QUICK):
        assert common.RF_N not in run.theory_widths  # the peak p = n is infinite
        assert set(run.mc_widths) <= set(run.theory_widths)
        assert run.trials % run.draws == 0
        assert all(abs(p - common.RF_N) > 0.1 * common.RF_N for p in run.mc_widths)
