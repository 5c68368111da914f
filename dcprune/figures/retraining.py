"""Fresh vs same-data retraining vs distillation of magnitude pruning, diagonal and correlated Σ.

Issue 18's figure (docs/theory.rst §4, §12, §14): one panel per covariance, the same latent
problem in both — the spiked covariance of §9 (``Σ = diag(v)``, ``v = C`` on a fraction ``f``,
β ∝ 1) and its equicorrelated version ``Σ = D^{1/2} R D^{1/2}``, ``D = diag(v)``,
``R = (1 − ρ)I + ρ11ᵀ``, with β rescaled to the same signal ``βᵀΣβ = 1`` — at ``n = 100``,
``d = 300``, ``s = 50``, σ² = 0.05. Lines: the theory of magnitude pruning (MP), MP + fresh
retraining (§4), MP + same-data retraining (the heuristic of §14, diagonal Σ only) and MP +
distillation with ``M = ∞`` and ``M = n`` unlabelled inputs (§12); the correlated panel's lines
are the sampled DC (mean over DC draws). Markers: Monte Carlo of the real procedures
(:func:`dcprune.montecarlo.simulate`), mean ± s.e.; same-data retraining of correlated features
has markers only (no theory). Writes ``retraining.png``, ``.pdf`` and ``.csv`` (every plotted
number, one row per (covariance, p)).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import dcprune
from dcprune.output import write_csv
from dcprune.plotting import Panel, plot_panels

from .common import SEED, SPIKE, SPIKE_FRACTION, figure_paths

__all__ = ["N", "KAPPA", "ALPHA", "SIGMA2", "RHO", "UNLABELLED", "NAMES", "FINITE_M", "RetrainMode", "FULL",
           "QUICK", "problems", "theory", "simulations", "columns", "table", "build"]

N = 100
KAPPA = 3  # d = 300
ALPHA = 1 / 6  # s = 50
SIGMA2 = 0.05
RHO = 0.5  # the correlated panel's equicorrelation
#: Distillation's finite number of unlabelled inputs (the other line is M = ∞).
UNLABELLED = N
#: The quantities drawn (``M = ∞`` for distillation), and the key of distillation at ``M = n``.
NAMES = ("magnitude", "magnitude_retrain", "magnitude_retrain_same", "magnitude_distill")
FINITE_M = f"magnitude_distill_M{UNLABELLED}"
PANELS = ("diagonal", "equicorrelated")


@dataclass(frozen=True)
class RetrainMode:
    """Run sizes: theory widths of the diagonal and correlated lines (``p/n``), Monte Carlo
    widths (on both grids) and trials per width."""

    diagonal_widths: tuple[float, ...]
    correlated_widths: tuple[float, ...]
    mc_widths: tuple[float, ...]
    trials: int


def _grid(step: int, top: int = KAPPA * N) -> tuple[float, ...]:
    return tuple(p / N for p in range(step, top + 1, step))


# Full: the diagonal lines every 5 features, the sampled correlated ones every 10 (~1 s a width
# for each M); Monte Carlo every 20 features but the peak p = n, 400 trials (s.e. ~1–2%).
FULL = RetrainMode(diagonal_widths=_grid(5), correlated_widths=_grid(10),
                   mc_widths=tuple(w for w in _grid(20) if w != 1.0), trials=400)
# Quick: the whole pipeline in seconds (CI smoke test).
QUICK = RetrainMode(diagonal_widths=_grid(10), correlated_widths=(0.5, 1.5, 3.0), mc_widths=(1.5, 3.0), trials=5)


def problems(unlabelled: float) -> dict:
    """The two panels' problems with distillation's ``M = unlabelled``."""
    spectrum = dcprune.SpikedCovariance(spike_fraction=SPIKE_FRACTION, spike=SPIKE)
    diagonal = dcprune.Diagonal(spectrum, kappa=KAPPA, alpha=ALPHA, sigma2=SIGMA2, n=N, unlabelled=unlabelled)
    lam, beta = spectrum.coordinates(diagonal.d)
    root = np.sqrt(lam)
    sigma = root[:, None] * ((1 - RHO) * np.eye(diagonal.d) + RHO) * root[None, :]
    beta = beta * math.sqrt(float(lam @ beta**2) / float(beta @ sigma @ beta))  # the same signal βᵀΣβ
    correlated = dcprune.Correlated.from_arrays(sigma, beta, SIGMA2, alpha=ALPHA, n=N, seed=SEED,
                                                unlabelled=unlabelled)
    return {"diagonal": diagonal, "equicorrelated": correlated}


def theory(run: RetrainMode) -> dict:
    """``{panel: {key: Sweep}}``: the sweeps at ``M = ∞`` (key ``"inf"``) and ``M = n``."""
    widths = {"diagonal": run.diagonal_widths, "equicorrelated": run.correlated_widths}
    out = {panel: {} for panel in PANELS}
    for key, m in (("inf", math.inf), ("finite", UNLABELLED)):
        for panel, problem in problems(m).items():
            out[panel][key] = dcprune.sweep(problem, widths=widths[panel])
    return out


def simulations(run: RetrainMode) -> dict:
    """``{panel: {key: Simulation}}`` as :func:`theory`'s, on ``run.mc_widths``."""
    from dcprune.montecarlo import simulate

    out = {panel: {} for panel in PANELS}
    for key, m in (("inf", math.inf), ("finite", UNLABELLED)):
        for panel, problem in problems(m).items():
            out[panel][key] = simulate(problem, widths=np.array(run.mc_widths), trials=run.trials, seed=SEED)
    return out


def columns() -> dict:
    """Every drawn key: ``(quantity, M key)`` of its sweep and simulation."""
    return {**{name: (name, "inf") for name in NAMES}, FINITE_M: ("magnitude_distill", "finite")}


def table(theories: dict, sims: dict) -> tuple[list[str], list[list]]:
    """One row per (panel, p): theory mean and s.e. of every drawn key (s.e. 0 for the closed
    forms of diagonal Σ, NaN where not predicted) and its Monte Carlo mean and s.e. where run."""
    keys = columns()
    header = ["sigma", "p", "width", "grid"] + [c for key in keys for c in (key, f"{key}_theory_se")]
    if sims:
        header += [f"{key}_mc_{stat}" for key in keys for stat in ("mean", "se")] + ["mc_flagged"]
    rows = []
    for panel in PANELS:
        lines = theories[panel]
        sim = sims.get(panel)
        on_mc = {} if sim is None else {int(p): i for i, p in enumerate(sim["inf"].counts)}
        theory_p = [int(r.p) for r in lines["inf"].rows]
        if set(on_mc) - set(theory_p):
            raise ValueError(f"Monte Carlo widths {sorted(set(on_mc) - set(theory_p))} are not on the theory grid")
        for j, p in enumerate(theory_p):
            i = on_mc.get(p)
            cells = [panel, p, p / N, "theory" if i is None else "theory+mc"]
            for name, m in keys.values():
                cells += list(lines[m].rows[j].risk[name])
            if sim is not None:
                for name, m in keys.values():
                    est = None if i is None else sim[m].rows[i].risk[name]
                    cells += [None, None] if est is None else [est.mean, est.se]
                cells.append(None if i is None else sim["inf"].rows[i].flagged)
            rows.append(cells)
    return header, rows


_TITLES = {"diagonal": "diagonal Σ (spiked covariance)", "equicorrelated": f"equicorrelated, ρ = {RHO:g}"}


def _panel(panel: str, lines: dict, sim: dict | None) -> Panel:
    keys = columns()
    x = lines["inf"].widths
    values = {key: lines[m].mean(name) for key, (name, m) in keys.items()}
    if panel != "diagonal":  # same-data retraining has no theory for correlated Σ (§14): markers only
        del values["magnitude_retrain_same"]
    markers = {}
    if sim is not None:
        for key, (name, m) in keys.items():
            markers[key] = (sim[m].widths, sim[m].mean(name), sim[m].se(name))
    styles = {FINITE_M: ("magnitude_distill", dict(label=f"MP + distill, M = {UNLABELLED}", color="C6",
                                                   marker="p", linestyle=(0, (3, 1.5))))}
    s = lines["inf"].problem.s
    return Panel(x=x, lines=values, markers=markers, title=_TITLES[panel], vlines=[(s / N, "p = s")],
                 styles=styles)


def build(out_dir, quick: bool = False, mc: bool = True) -> list[Path]:
    """Compute, plot and tabulate; returns the PNG, PDF and CSV paths."""
    png, pdf, csv = figure_paths(out_dir, "retraining")
    run = QUICK if quick else FULL
    theories = theory(run)
    sims = simulations(run) if mc else {}
    panels = [_panel(panel, theories[panel], sims.get(panel)) for panel in PANELS]
    legend = ("lines: theory (diagonal: closed\nform and §14 heuristic; correlated:\nsampled DC, no same-data line)"
              + (f"\nmarkers: Monte Carlo\nmean ± s.e., {run.trials} trials" if mc else ""))
    title = (f"Magnitude pruning, then fresh retraining, same-data retraining or distillation\n"
             f"spiked covariance (f = {SPIKE_FRACTION:g}, C = {SPIKE:g}): n = {N}, d = {KAPPA * N}, "
             f"s = {round(ALPHA * KAPPA * N)}, σ² = {SIGMA2:g}")
    for path in (png, pdf):
        plot_panels(panels, path, title=title, legend_title=legend)
    header, rows = table(theories, sims)
    write_csv(csv, header, rows, comments=_comments(run, mc, theories, sims))
    return [png, pdf, csv]


def _comments(run: RetrainMode, mc: bool, theories: dict, sims: dict) -> list[str]:
    mc_text = (f"trials={run.trials}, seed={SEED}, mc_widths={list(run.mc_widths)}" if mc
               else "trials=0 (theory only, no Monte Carlo)")
    lines = [
        f"retraining: n={N}, d={KAPPA * N}, s={round(ALPHA * KAPPA * N)}, sigma2={SIGMA2}, spike_fraction="
        f"{SPIKE_FRACTION}, spike={SPIKE}, rho={RHO}, unlabelled=inf and {UNLABELLED}, {mc_text}",
        "sigma: diagonal = Sigma diag(v); equicorrelated = D^1/2 ((1-rho) I + rho 11^T) D^1/2, beta rescaled to "
        "the same signal",
        "theory: dcprune.sweep (diagonal: closed forms, same-data by the docs/theory.rst §14 heuristic; "
        f"equicorrelated: sampled DC, seed={SEED}, NAME_theory_se its s.e.; same-data not predicted, NaN); "
        f"magnitude_distill: M = inf; {FINITE_M}: M = {UNLABELLED}",
        "monte carlo: dcprune.montecarlo.simulate of each problem (M = inf and M = n runs); *_mc_mean, *_mc_se",
    ]
    for panel in PANELS:
        for key, sweep in theories[panel].items():
            lines += [f"warning (theory, {panel}, M {key}): {w}" for w in sweep.warnings]
    return lines
