"""What the linear Gaussian figures share: parameters, run sizes, and one builder.

THEORY.md §9: ``n = 200`` samples, latent dimension ``d = 600`` (κ = 3), ``s = 100`` kept
nonzeros (α = 1/6), spike fraction ``f = 0.1`` of strength ``C = 10``, noise ``σ² = 0.05``.
A :class:`CurveFigure` draws the theory of :func:`dcprune.curve` with Monte Carlo markers from
:func:`dcprune.montecarlo.simulate` on the same width grid, and writes ``NAME.png``,
``NAME.pdf`` and ``NAME.csv`` (every plotted number, with a header stating the run).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import dcprune
from dcprune.output import write_csv
from dcprune.plotting import check_plot_path, default_title, plot_curve

__all__ = [
    "N", "KAPPA", "ALPHA", "SPIKE_FRACTION", "SPIKE", "SIGMA2", "SEED", "PRUNING", "RETRAINING",
    "Mode", "FULL", "QUICK", "mode", "setup", "load_simulate", "CurveFigure", "table", "main",
]

N = 200
KAPPA = 3  # d = 600
ALPHA = 1 / 6  # s = 100
SPIKE_FRACTION = 0.1
SPIKE = 10.0
SIGMA2 = 0.05
SEED = 0

# Lines of the Figure 3 and Figure 7 styles. Oracle + retraining is left out of Figure 7: for
# p >= s the oracle keeps the same s features at every width, so its line is flat at the
# oracle-retrain value that the dashed reference line already reports.
PRUNING = ("dense", "magnitude", "hessian", "oracle")
RETRAINING = PRUNING + ("magnitude_retrain", "hessian_retrain")


@dataclass(frozen=True)
class Mode:
    """Run sizes: theory widths (lines), Monte Carlo widths (markers) and trials per width."""

    theory_points: int
    mc_points: int
    trials: int


# Full: 200 theory widths draw smooth lines; 30 Monte Carlo widths (every 20 coordinates) and
# 200 trials give error bars a few per cent of the risk away from the peak.
FULL = Mode(theory_points=200, mc_points=30, trials=200)
# Quick: a smoke test of the whole pipeline for CI, a few seconds per figure. The theory
# grid costs milliseconds, so it stays the full one.
QUICK = Mode(theory_points=200, mc_points=12, trials=5)


def mode(quick: bool) -> Mode:
    return QUICK if quick else FULL


def setup(spectrum: dcprune.Spectrum) -> dcprune.Setup:
    """The §9 sizes on the latent problem ``spectrum``."""
    return dcprune.Setup(spectrum, kappa=KAPPA, alpha=ALPHA, sigma2=SIGMA2, n=N)


def load_simulate() -> Callable:
    """The Monte Carlo ``simulate`` function; ``ImportError`` saying why if it is unavailable."""
    try:
        from dcprune.montecarlo import simulate
    except ImportError as exc:
        raise ImportError(f"dcprune.montecarlo.simulate is not importable: {exc}") from exc
    # While the package's __init__ does not re-export it, the name is the submodule.
    simulate = getattr(simulate, "simulate", simulate)
    if not callable(simulate):
        raise ImportError("dcprune.montecarlo.simulate is not a function")
    return simulate


@dataclass(frozen=True)
class CurveFigure:
    """A sparse double-descent figure of one latent problem (THEORY.md §5, §9).

    ``names``: the theory lines (risk names of :data:`dcprune.RISK_NAMES`); each gets Monte
    Carlo markers, and each ``*_retrain`` also unfilled same-data retraining markers.
    """

    name: str
    label: str
    spectrum: dcprune.Spectrum
    names: Sequence[str]

    @property
    def setup(self) -> dcprune.Setup:
        return setup(self.spectrum)

    def paths(self, out_dir) -> tuple[Path, Path, Path]:
        out = Path(out_dir)
        return out / f"{self.name}.png", out / f"{self.name}.pdf", out / f"{self.name}.csv"

    def build(self, out_dir, quick: bool = False, mc: bool = True) -> list[Path]:
        """Compute, plot and tabulate; returns the PNG, PDF and CSV paths."""
        png, pdf, csv = self.paths(out_dir)
        for path in (png, pdf):
            check_plot_path(path)
        run = mode(quick)
        stp = self.setup
        theory = dcprune.curve(stp, points=run.theory_points)
        sim = mc_grid = None
        if mc:
            sim = load_simulate()(stp, points=run.mc_points, trials=run.trials, seed=SEED)
            mc_grid = dcprune.curve(stp, points=run.mc_points)
        title = f"{self.label}\n{default_title(theory)}"
        for path in (png, pdf):
            plot_curve(theory, path, simulation=sim, title=title, names=self.names)
        header, rows = table(theory, self.names, simulation=sim, mc_grid=mc_grid)
        write_csv(csv, header, rows, comments=self.comments(theory, sim, run))
        return [png, pdf, csv]

    def comments(self, theory: dcprune.Curve, sim, run: Mode) -> list[str]:
        stp, ref = theory.setup, theory.reference
        problem = ", ".join(f"{k}={v}" for k, v in stp.spectrum.describe().items())
        mc = (f"trials={sim.trials}, seed={sim.seed}, mc_points={run.mc_points}" if sim is not None
              else "trials=0 (theory only, no Monte Carlo)")
        lines = [
            f"{self.label} ({self.name}): n={stp.n}, d={stp.d}, s={int(stp.s)}, sigma2={stp.sigma2}, "
            f"{mc}, theory_points={run.theory_points}",
            f"problem: {problem}",
            "theory: dcprune.curve (lines); *_mc_mean, *_mc_se: Monte Carlo mean and standard "
            "error over trials (markers); *_retrain_same: same-data retraining (markers only)",
            "grid: theory = on the line grid, mc = on the Monte Carlo grid, theory+mc = both",
            f"reference (dashed line) = {ref.line!r} = min(best small dense {ref.best_small_dense!r} "
            f"at p/n = {ref.best_width!r}, oracle + retrain {ref.oracle_retrain!r})",
            f"vertical line: p = s at p/n = {theory.s / stp.scale!r}",
        ]
        lines += [f"warning (theory): {w}" for w in theory.warnings]
        if sim is not None:
            lines += [f"warning (Monte Carlo): {w}" for w in getattr(sim, "warnings", ())]
        return lines


def table(theory: dcprune.Curve, names: Sequence[str], *, simulation=None,
          mc_grid: dcprune.Curve | None = None) -> tuple[list[str], list[list]]:
    """The plotted numbers, one row per model size ``p`` on either grid.

    Theory columns come from ``theory`` (the line grid) where ``p`` is on it, otherwise from
    ``mc_grid`` (:func:`dcprune.curve` on the Monte Carlo grid); Monte Carlo columns are empty
    off the Monte Carlo grid.
    """
    mc_names = []
    if simulation is not None:
        for name in names:
            mc_names.append(name)
            if name.endswith("_retrain"):
                mc_names.append(f"{name}_same")
    header = ["width", "p", "grid", "converged", *names]
    header += [f"{q}_mc_{stat}" for q in mc_names for stat in ("mean", "se")]
    if simulation is not None:
        header.append("mc_flagged")

    by_p = {}
    for row in theory.rows:
        by_p[row.p] = {"row": row, "grid": "theory"}
    if simulation is not None:
        if mc_grid is None:
            raise ValueError("mc_grid (the theory on the Monte Carlo widths) is required with a simulation")
        theory_on_mc = {row.p: row for row in mc_grid.rows}
        for i, sim_row in enumerate(simulation.rows):
            p = float(sim_row.p)
            if p not in theory_on_mc:
                raise ValueError(f"the simulation's width {sim_row.width:g} is not on the Monte Carlo grid")
            entry = by_p.setdefault(p, {"row": theory_on_mc[p], "grid": "mc"})
            if entry["grid"] == "theory":
                entry["grid"] = "theory+mc"
            entry["mc"] = i
        means = {q: simulation.mean(q) for q in mc_names}
        ses = {q: simulation.se(q) for q in mc_names}

    rows = []
    for p in sorted(by_p):
        entry = by_p[p]
        row = entry["row"]
        cells = [row.width, row.p, entry["grid"], row.converged, *(getattr(row.risk, q) for q in names)]
        if simulation is not None:
            i = entry.get("mc")
            for q in mc_names:
                cells += [None, None] if i is None else [means[q][i], ses[q][i]]
            cells.append(None if i is None else simulation.rows[i].flagged)
        rows.append(cells)
    return header, rows


def main(build: Callable[..., list[Path]], description: str | None = None,
         argv: Sequence[str] | None = None) -> int:
    """Command line of one figure script: ``--out DIR``, ``--quick``, ``--no-mc``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--out", default="figures", help="output directory (created if missing)")
    parser.add_argument("--quick", action="store_true", help="few trials, coarse grid (smoke test)")
    parser.add_argument("--no-mc", action="store_true", help="theory lines only, no Monte Carlo")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    for path in build(out, quick=args.quick, mc=not args.no_mc):
        print(path)
    print(f"done in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return 0
