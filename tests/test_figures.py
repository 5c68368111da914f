"""Figures: the dcprune.figures builders in quick mode, plot_curve's path checks, import hygiene.

The CSV of every figure must carry the library's predictions exactly (theory columns) and the
Monte Carlo means and standard errors it plotted (markers).
"""

import csv
import importlib
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import dcprune
from dcprune.figures import common
from dcprune.figures.build import FIGURES, build

ROOT = Path(__file__).resolve().parents[1]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def simulate():
    """The Monte Carlo ``simulate``, checked on a tiny run (which also compiles the kernels)."""
    from dcprune.montecarlo import simulate as fn

    tiny = dcprune.Diagonal(dcprune.SpikedCovariance(), kappa=2, alpha=0.5, sigma2=0.1, n=10)
    fn(tiny, points=2, trials=2, seed=0)
    return fn


def _read_csv(path: Path):
    lines = path.read_text(encoding="utf-8").splitlines()
    comments = [line[2:] for line in lines if line.startswith("# ")]
    body = [line for line in lines if not line.startswith("#")]
    rows = list(csv.DictReader(body))
    return comments, rows


def _figure(name):
    return importlib.import_module(f"dcprune.figures.{name}").FIGURE


# The width sweeps of linear Gaussian problems; the random-feature and Lemma-1 figures have
# their own tests (tests/test_figures_rf.py).
CURVE_FIGURES = sorted(name for name in FIGURES
                       if isinstance(getattr(importlib.import_module(f"dcprune.figures.{name}"),
                                             "FIGURE", None), common.CurveFigure))


def _check_files(paths, name):
    assert [p.name for p in paths] == [f"{name}.png", f"{name}.pdf", f"{name}.csv"]
    for p in paths:
        assert p.is_file() and p.stat().st_size > 0
    png, pdf, _ = paths
    assert png.read_bytes()[:8] == PNG_SIGNATURE
    assert pdf.read_bytes()[:5] == b"%PDF-"
    import matplotlib.image

    image = matplotlib.image.imread(png)
    assert image.ndim == 3 and image.shape[0] > 300 and image.shape[1] > 500
    assert float(np.ptp(image[..., :3])) > 0.5  # something was drawn
    # No temporary files left behind by the atomic writes.
    assert not [p for p in paths[0].parent.iterdir() if p.name.startswith(".")]


def _check_theory(rows, figure, mode):
    """Theory cells equal dcprune.curve on the grid each row names, bit for bit."""
    setup = figure.setup
    grids = {"theory": dcprune.sweep(setup, points=mode.theory_points),
             "mc": dcprune.sweep(setup, points=mode.mc_points)}
    by_p = {key: {r.p: r for r in c.rows} for key, c in grids.items()}
    assert {float(r["p"]) for r in rows if "theory" in r["grid"]} == set(by_p["theory"])
    for row in rows:
        p = float(row["p"])
        source = by_p["theory"] if "theory" in row["grid"] else by_p["mc"]
        expected = source[p]
        assert float(row["width"]) == expected.width
        assert row["converged"] == str(int(expected.converged))
        for name in figure.names:
            value = float(row[name])
            want = expected.risk[name].mean
            assert value == want or (math.isinf(value) and math.isinf(want)), (name, p)


@pytest.mark.parametrize("name", CURVE_FIGURES)
def test_theory_only_figure(name, tmp_path):
    paths = build(name, tmp_path, quick=True, mc=False)
    _check_files(paths, name)
    comments, rows = _read_csv(paths[2])
    figure = _figure(name)
    setup = figure.setup
    assert f"n={setup.n}, d={setup.d}, s={int(setup.s)}" in comments[0]
    assert "trials=0" in comments[0]
    assert {r["grid"] for r in rows} == {"theory"}
    assert not any(key.endswith("_mc_mean") for key in rows[0])
    _check_theory(rows, figure, common.QUICK)


@pytest.mark.parametrize("name", CURVE_FIGURES)
def test_figure_with_monte_carlo(name, tmp_path, simulate):
    paths = build(name, tmp_path, quick=True)
    _check_files(paths, name)
    comments, rows = _read_csv(paths[2])
    figure, mode = _figure(name), common.QUICK
    setup = figure.setup
    head = comments[0]
    for part in (f"n={setup.n}", f"d={setup.d}", f"s={int(setup.s)}", f"trials={mode.trials}",
                 f"seed={common.SEED}"):
        assert part in head
    _check_theory(rows, figure, mode)

    # The Monte Carlo columns are the simulation's, on its grid only.
    sim = simulate(setup, points=mode.mc_points, trials=mode.trials, seed=common.SEED)
    on_mc = [r for r in rows if "mc" in r["grid"].split("+")]
    assert [float(r["p"]) / setup.n for r in on_mc] == pytest.approx(list(sim.widths), abs=1e-12)
    for name_ in figure.names:
        quantities = [name_] + ([f"{name_}_same"] if name_.endswith("_retrain") else [])
        for q in quantities:
            np.testing.assert_array_equal([float(r[f"{q}_mc_mean"]) for r in on_mc], sim.mean(q))
            np.testing.assert_array_equal([float(r[f"{q}_mc_se"]) for r in on_mc], sim.se(q))
    off_mc = [r for r in rows if r["grid"] == "theory"]
    assert off_mc and all(r[f"{figure.names[0]}_mc_mean"] == "" for r in off_mc)


def test_build_all_and_unknown_names(tmp_path):
    paths = build("all", tmp_path, quick=True, mc=False)
    assert len(paths) == 3 * len(FIGURES)
    with pytest.raises(ValueError, match="unknown figure"):
        build("fig99", tmp_path)


def test_build_script_runs(tmp_path):
    out = tmp_path / "new" / "dir"
    res = subprocess.run([sys.executable, str(ROOT / "paper_figures" / "build.py"), "fig3b",
                          "--out", str(out), "--quick", "--no-mc"],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert (out / "fig3b.png").is_file() and (out / "fig3b.csv").is_file()
    res = subprocess.run([sys.executable, str(ROOT / "paper_figures" / "build.py"), "nope",
                          "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert res.returncode != 0 and "unknown figure" in res.stderr


@pytest.fixture(scope="module")
def small_curve():
    setup = dcprune.Diagonal(dcprune.SpikedCovariance(), kappa=3, alpha=1 / 6, sigma2=0.05, n=60)
    return dcprune.sweep(setup, points=40)


@pytest.mark.parametrize("suffix, magic", [(".png", PNG_SIGNATURE), (".pdf", b"%PDF-"), (".svg", b"<?xml")])
def test_plot_curve_formats(small_curve, tmp_path, suffix, magic):
    from dcprune.plotting import plot_curve

    path = tmp_path / f"curve{suffix}"
    assert plot_curve(small_curve, path, retrain=True) == path
    assert path.read_bytes()[: len(magic)] == magic
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_plot_curve_asymptotic(tmp_path):
    from dcprune.plotting import plot_curve

    setup = dcprune.Diagonal(dcprune.SpikedIdentity(), kappa=2, alpha=0.3, sigma2=0.1)
    path = plot_curve(dcprune.sweep(setup, points=50), tmp_path / "asym.png", title="custom")
    assert path.read_bytes()[:8] == PNG_SIGNATURE


@pytest.mark.parametrize("bad, message", [
    ("missing/curve.png", "does not exist"),
    ("curve.txt", "must end in .png, .pdf or .svg"),
    ("curve", "must end in .png, .pdf or .svg"),
])
def test_bad_plot_path(small_curve, tmp_path, bad, message):
    from dcprune.plotting import check_plot_path, plot_curve

    path = tmp_path / bad
    for call in (lambda: check_plot_path(path), lambda: plot_curve(small_curve, path)):
        with pytest.raises(ValueError, match=message) as info:
            call()
        assert "\n" not in str(info.value)
    assert not (tmp_path / "missing").exists()
    assert list(tmp_path.iterdir()) == []


def test_plot_curve_rejects_unknown_names(small_curve, tmp_path):
    from dcprune.plotting import plot_curve

    with pytest.raises(ValueError, match="unknown risk names"):
        plot_curve(small_curve, tmp_path / "x.png", names=["dense", "magnitud"])
    assert list(tmp_path.iterdir()) == []


def test_write_csv_atomic_and_exact(tmp_path):
    from dcprune.output import write_csv

    path = tmp_path / "t.csv"
    values = [0.1 + 0.2, math.inf, 1e-300, np.float64(2) / 3]
    write_csv(path, ["a", "b", "c", "d"], [values, [None, True, 3, "x"]], comments=["one", "two\nthree"])
    lines = path.read_text().splitlines()
    assert lines[:4] == ["# one", "# two", "# three", "a,b,c,d"]
    assert [float(x) for x in lines[4].split(",")] == [float(v) for v in values]
    assert lines[5] == ",1,3,x"
    # A failing write leaves the old file untouched and no temporary file behind.
    before = path.read_bytes()
    with pytest.raises(ValueError, match="cells"):
        write_csv(path, ["a", "b"], [[1, 2], [1]])
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["t.csv"]
    with pytest.raises(ValueError, match="does not exist"):
        write_csv(tmp_path / "nope" / "t.csv", ["a"], [])


def test_import_dcprune_does_not_load_matplotlib():
    code = "import sys, dcprune; print('matplotlib' in sys.modules)"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "False"


def test_plotting_uses_agg():
    code = "import matplotlib, dcprune.plotting; print(matplotlib.get_backend())"
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={**env, "PYTHONPATH": str(ROOT)})
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip().lower() == "agg"


@pytest.mark.parametrize("name", CURVE_FIGURES)
def test_gallery_is_current(name):
    """The committed full-mode figures (README, paper_figures/gallery) carry today's theory.

    Relative 1e-10, not bit equality: another CPU may round exp/erfc differently in the last
    bits. A theory change that moves a plotted number fails here until the gallery is rebuilt
    (``dcprune figure all --out paper_figures/gallery``).
    """
    path = ROOT / "paper_figures" / "gallery" / f"{name}.csv"
    comments, rows = _read_csv(path)
    figure = _figure(name)
    assert f"trials={common.FULL.trials}" in comments[0]
    theory = {r.p: r for r in dcprune.sweep(figure.setup, points=common.FULL.theory_points).rows}
    on_theory = [r for r in rows if "theory" in r["grid"].split("+")]
    assert {float(r["p"]) for r in on_theory} == set(theory)
    for row in on_theory:
        expected = theory[float(row["p"])]
        for name_ in figure.names:
            want = expected.risk[name_].mean
            assert float(row[name_]) == pytest.approx(want, rel=1e-10), (name_, row["p"])
