"""Lemma 1: perfectly correlated features, pruned vs retrained risk against the sample size n.

Every feature is a copy of one Gaussian factor, x_i = sqrt(c_i) g (docs/theory.rst §8), here with
c_i = 1/i for p = 20 features and β_i = sqrt(c_i)/Σc so that the label is y = g + σz
(a = 1), σ² = 0.5, pruned to s = 5. Lines: the exact risks of dcprune.families.rankone.rank_one_risk, as
excess risk R − σ² on log-log axes: dense and every retrained model (fresh or same data)
σ²/(n−2), magnitude pruning (1−ρ_S)² + ρ_S² σ²/(n−2), which stalls at the pruning bias
(1−ρ_S)² (dashed). Markers: Monte Carlo of the real min-norm regressions
(dcprune.families.rankone.simulate_rank_one), mean ± s.e.
"""

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from dcprune.families.rankone import RankOne, rank_one_risk, simulate_rank_one
from dcprune.output import write_csv
from dcprune.plotting import Panel, check_plot_path, plot_panels
from dcprune.quantities import MEASURED as LEMMA1_NAMES

from .common import SEED

__all__ = ["P", "S", "SIGMA2", "problem", "Lemma1Mode", "FULL", "QUICK", "theory_grid", "build"]

P = 20
S = 5
SIGMA2 = 0.5
#: Lines: dense, pruned, fresh-retrained; markers add same-data retraining (unfilled).
NAMES = ("dense", "magnitude", "magnitude_retrain")
#: Horizontal offsets (factors of n) of markers that would otherwise sit on top of each other.
DODGE = {"dense": 0.96, "magnitude_retrain_same": 1.04}


def problem(n: int = 100) -> RankOne:
    """c_i = 1/i, β_i = sqrt(c_i)/Σc (so a = Σ sqrt(c_i) β_i = 1), σ² = 0.5, fitted on ``n``."""
    c = 1.0 / np.arange(1, P + 1)
    return RankOne(c=c, beta=np.sqrt(c) / c.sum(), sigma2=SIGMA2, n=n, s=S)


@dataclass(frozen=True)
class Lemma1Mode:
    """Monte Carlo sample sizes (markers) and trials per sample size; the lines are exact."""

    mc_n: tuple[int, ...]
    trials: int


# Full: 10 000 trials put the standard error of the dense excess risk at about 1.4% of it.
# n starts at 10: the per-trial excess σ²(gᵀz)²/‖g‖⁴ needs n > 8 for a finite fourth moment,
# i.e. for an honest standard error.
FULL = Lemma1Mode(mc_n=(10, 15, 20, 30, 50, 75, 100, 150, 200, 300), trials=10_000)
QUICK = Lemma1Mode(mc_n=(10, 30, 100), trials=1_000)


def theory_grid(mc_n) -> np.ndarray:
    """Sample sizes of the lines: 60 log-spaced integers from 10 to 300, plus the Monte Carlo ones."""
    grid = np.unique(np.round(np.geomspace(10, 300, 60)).astype(int))
    return np.union1d(grid, np.asarray(mc_n, dtype=int))


def build(out_dir, quick: bool = False, mc: bool = True) -> list[Path]:
    out = Path(out_dir)
    png, pdf, csv = out / "lemma1.png", out / "lemma1.pdf", out / "lemma1.csv"
    for path in (png, pdf):
        check_plot_path(path)
    run = QUICK if quick else FULL
    pr = problem()
    ns = theory_grid(run.mc_n)
    theory = {int(n): rank_one_risk(replace(pr, n=int(n))) for n in ns}
    # Each n gets its own stream (seed SEED + n), so markers at different n are independent.
    sims = ({n: simulate_rank_one(replace(pr, n=n), trials=run.trials, seed=SEED + n) for n in run.mc_n}
            if mc else {})

    lines = {name: np.array([theory[int(n)][name].mean for n in ns]) - SIGMA2 for name in NAMES}
    markers = {}
    if sims:
        mc_n = np.array(run.mc_n, dtype=float)
        for name in (*NAMES, "magnitude_retrain_same"):
            # Dense, fresh and same-data retraining have the same expected risk: their markers
            # are dodged horizontally (±4% in n) so that all three stay visible.
            markers[name] = (mc_n * DODGE.get(name, 1.0), np.array([sims[n][name][0] for n in run.mc_n]) - SIGMA2,
                             np.array([sims[n][name][1] for n in run.mc_n]))
    rho = pr.rho  # the kept share does not depend on n
    bias = (1 - rho) ** 2 * pr.a**2
    panel = Panel(x=ns.astype(float), lines=lines, markers=markers, reference=bias,
                  reference_label="pruning bias (1 − ρ_S)² a²")
    legend = "lines: exact (docs/theory.rst §8)" + (f"\nmarkers: Monte Carlo\nmean ± s.e., {run.trials} trials\n"
                                           "(dodged ±4% in n)" if mc else "")
    title = (f"Lemma 1: rank-one features x_i = √c_i g, c_i = 1/i, p = {P}, s = {S}, σ² = {SIGMA2:g}, "
             f"ρ_S = {rho:.3f}\ndense = retrained (fresh or same data) = σ²/(n − 2)")
    for path in (png, pdf):
        plot_panels([panel], path, xlabel="n (training samples)", ylabel="excess risk R − σ²", xscale="log",
                    title=title, legend_title=legend, peak=None)

    header = ["n", "grid", "rho", *LEMMA1_NAMES]
    if sims:
        header += [f"{q}_mc_{stat}" for q in LEMMA1_NAMES for stat in ("mean", "se")]
    rows = []
    for n in ns:
        n = int(n)
        th = theory[n]
        cells = [n, "theory+mc" if n in sims else "theory", rho, *(th[q].mean for q in LEMMA1_NAMES)]
        if sims:
            cells += ([None, None] * len(LEMMA1_NAMES) if n not in sims
                      else [x for q in LEMMA1_NAMES for x in sims[n][q]])
        rows.append(cells)
    comments = [
        f"Lemma 1 (lemma1): p={P}, s={S}, sigma2={SIGMA2}, c_i=1/i, beta_i=sqrt(c_i)/sum(c), a={pr.a!r}, "
        f"rho_S={rho!r}, " + (f"trials={run.trials} per n, seed=SEED+n with SEED={SEED}, mc_n={list(run.mc_n)}"
                             if sims else "trials=0 (theory only, no Monte Carlo)"),
        "theory: dcprune.families.rankone.rank_one_risk(problem) at each n, total risks R (the plot shows R - sigma2)",
        "monte carlo: dcprune.families.rankone.simulate_rank_one(problem, trials, seed) at each n; *_mc_mean, *_mc_se: "
        "mean and standard error over trials; *_retrain: fresh data, *_retrain_same: same data",
    ]
    write_csv(csv, header, rows, comments=comments)
    return [png, pdf, csv]

