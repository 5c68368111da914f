"""Compression at a bit budget: the quantized double descent (docs/theory.rst §11).

The problem of §11's table: spiked covariance (``f = 0.1``, ``C = 10``), ``n = 200``, ``d = 3n =
600``, ``σ² = 0.1``, Gaussian coefficients (``β_i ~ N(0, v_a)``, a new draw per Monte Carlo
trial: with ``β ∝ 1`` quantization is degenerate, §11). One panel per budget (600, 1200 and 2400
bits): against the width ``p/n``, the best model stored in the budget (magnitude pruning to
``s``, then a quantizer on the kept weights, searched over ``s`` and bits 1–16 of both
quantizers, mse clip), the dense model quantized at the most bits that fit, 32-bit pruning
within the budget, and the full-precision dense curve (no budget); lines from
:func:`dcprune.quantization.frontier.frontier`.

Markers are Monte Carlo of the real procedure at :data:`MC_WIDTHS`: each trial fits the
min-norm model, prunes it by magnitude to the line's ``s`` and quantizes the kept weights with
the real quantizer and that trial's own mse clip (:func:`dcprune.montecarlo.simulate` with a
``quantization``); 32-bit pruning by the same procedure without the quantizer.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import dcprune
from dcprune.frontierplot import FRONTIER_NAMES, plot_frontier, problem_title
from dcprune.output import write_csv
from dcprune.quantization.frontier import frontier

from .common import SEED, figure_paths

__all__ = ["N", "KAPPA", "SIGMA2", "BUDGETS", "MC_WIDTHS", "COEFFICIENTS", "CompressionMode", "FULL", "QUICK",
           "setup", "monte_carlo", "build"]

N = 200
KAPPA = 3  # d = 600
SIGMA2 = 0.1
BUDGETS = (600, 1200, 2400)
#: Widths p/n of the Monte Carlo markers (each one of the frontier's widths at 20 points).
MC_WIDTHS = (0.6, 1.5, 2.1, 3.0)
#: The coefficients' law: Gaussian, the honest benchmark of quantization (docs/theory.rst §11).
COEFFICIENTS = "gaussian"


@dataclass(frozen=True)
class CompressionMode:
    """Run sizes: the frontier's widths (lines), the Monte Carlo widths and trials (markers)."""

    points: int
    mc_widths: tuple[float, ...]
    trials: int


# Full: the frontier's 20 widths; 300 trials per marker (§11's table measured its chosen models
# with 300, standard errors ~0.003).
FULL = CompressionMode(points=20, mc_widths=MC_WIDTHS, trials=300)
# Quick: a smoke test of the whole pipeline for CI, a few seconds (8 widths: 1.5 and 3 among them).
QUICK = CompressionMode(points=8, mc_widths=(1.5, 3.0), trials=5)


def setup() -> dcprune.Diagonal:
    """§11's table problem (``alpha`` is not used: the search chooses the kept count)."""
    return dcprune.Diagonal(dcprune.SpikedCovariance(spike_fraction=0.1, spike=10.0), kappa=KAPPA, alpha=1 / 6,
                            sigma2=SIGMA2, n=N, coefficients=COEFFICIENTS)


def monte_carlo(problem, result, widths, trials: int, seed: int) -> dict:
    """Markers of one frontier ``result``: ``{name: (widths, mean, se)}`` for each line of
    :data:`~dcprune.frontierplot.FRONTIER_NAMES`, measured at the frontier's widths nearest
    ``widths`` by the real procedure with that line's configuration (kept count, quantizer, bits).
    Each (width, line) has its own seed."""
    from dcprune.montecarlo import simulate  # Numba on demand, like the paper's figures

    rows = [min(result.rows, key=lambda r, w=w: abs(r.width - w)) for w in widths]
    out = {name: ([], [], []) for name in FRONTIER_NAMES}
    for i, row in enumerate(rows):
        for j, name in enumerate(FRONTIER_NAMES):
            choice = getattr(row, name)
            if choice is None:
                continue
            kept = dataclasses.replace(problem, alpha=choice.s / problem.d)
            spec = None if choice.quantizer is None else dcprune.Quantization(choice.bits, choice.quantizer)
            sim = simulate(kept, widths=[row.width], trials=trials, seed=seed + 10 * i + j, quantization=spec)
            model = "dense" if choice.s >= row.p else "magnitude"
            est = sim.rows[0].risk[model] if spec is None else sim.rows[0].quantized.risk[model]
            for column, value in zip(out[name], (row.width, est.mean, est.se)):
                column.append(float(value))
    return {name: tuple(np.array(v) for v in cols) for name, cols in out.items() if cols[0]}


def build(out_dir, quick: bool = False, mc: bool = True) -> list[Path]:
    """Compute, plot and tabulate; returns the PNG, PDF and CSV paths."""
    png, pdf, csv = figure_paths(out_dir, "compression")
    run = QUICK if quick else FULL
    prob = setup()
    results = [frontier(prob, budget, points=run.points) for budget in BUDGETS]
    dense = dcprune.sweep(prob)
    markers = [monte_carlo(prob, r, run.mc_widths, run.trials, SEED + 1000 * k) if mc else {}
               for k, r in enumerate(results)]
    title = f"Compression at a bit budget: {problem_title(dense)}"
    legend = f"lines: theory\nmarkers: Monte Carlo\nmean ± s.e., {run.trials} trials" if mc else "lines: theory"
    for path in (png, pdf):
        plot_frontier(results, path, dense=dense, markers=markers, title=title, legend_title=legend)
    header, rows = table(results, dcprune.sweep(prob, points=run.points), markers)
    write_csv(csv, header, rows, comments=comments(prob, results, run, mc))
    return [png, pdf, csv]


def table(results, dense, markers):
    """One row per budget and width: each line's configuration and risk, the full-precision
    dense risk (``dense``: the sweep on the frontier's widths), and the Monte Carlo mean and
    standard error where a marker was measured."""
    header = ["budget", "width", "p", "dense_full_precision"]
    for name in FRONTIER_NAMES:
        header += [f"{name}_{k}" for k in ("s", "bits", "quantizer", "clip", "risk", "mc_mean", "mc_se")]
    full = {row.p: row.risk["dense"].mean for row in dense.rows}
    rows = []
    for result, marks in zip(results, markers):
        for row in result.rows:
            cells = [result.budget, row.width, row.p, full[row.p]]
            for name in FRONTIER_NAMES:
                choice = getattr(row, name)
                at = marks.get(name)
                hit = None if at is None else np.flatnonzero(np.isclose(at[0], row.width, rtol=0, atol=1e-12))
                mc = (None, None) if hit is None or not hit.size else (float(at[1][hit[0]]), float(at[2][hit[0]]))
                cells += ([None] * 5 if choice is None else
                          [choice.s, choice.bits, choice.quantizer or "", choice.clip, choice.risk]) + list(mc)
            rows.append(cells)
    return header, rows


def comments(problem, results, run, mc: bool) -> list[str]:
    lines = [
        f"Compression at a bit budget (compression): n={problem.n}, d={problem.d}, sigma2={problem.sigma2}, "
        f"spiked covariance f=0.1 C=10, coefficients={COEFFICIENTS}, budgets={list(BUDGETS)} bits, "
        f"frontier points={run.points}, bits 1-16, sign-magnitude and mid-tread, mse clip, nearest rounding",
        "theory: dcprune.quantization.frontier.frontier(problem, budget, points) per budget (lines); "
        "dense_full_precision: dcprune.sweep(problem, points) (no budget)",
        "best: the least predicted risk with s*bits <= budget; dense_quantized: s = p at the most bits that fit; "
        "prune_only: magnitude pruning to the most 32-bit weights that fit",
    ]
    if mc:
        lines.append(f"monte carlo: dcprune.montecarlo.simulate(problem with s, widths=[p/n], trials={run.trials}, "
                     f"seed=SEED+1000*panel+10*marker+line with SEED={SEED}, quantization=the line's quantizer) at "
                     f"widths {list(run.mc_widths)}; *_mc_mean, *_mc_se: mean and standard error over trials")
    else:
        lines.append("trials=0 (theory only, no Monte Carlo)")
    lines.append("coefficients: beta_i ~ N(0, v_a), a new draw per trial; with fixed coefficients (beta proportional "
                 "to 1 within an atom) a quantizer's levels can line up with beta and quantization is degenerate "
                 "(docs/theory.rst §11)")
    for result in results:
        best = result.best
        lines.append(f"budget {result.budget:g}: best p={best.p}, s={best.s}, bits={best.bits}, {best.quantizer}, "
                     f"risk={best.risk!r}; reference dense full precision={result.reference['dense_full_precision']!r}"
                     f", best small dense={result.reference['best_small_dense']!r}")
    return lines
