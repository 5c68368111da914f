"""What the figures share: parameters, run sizes, and one builder per kind of figure.

docs/theory.rst §9: ``n = 200`` samples, latent dimension ``d = 600`` (κ = 3), ``s = 100`` kept
nonzeros (α = 1/6), spike fraction ``f = 0.1`` of strength ``C = 10``, noise ``σ² = 0.05``.
A :class:`CurveFigure` draws the theory of :func:`dcprune.sweep` with Monte Carlo markers from
:func:`dcprune.montecarlo.simulate` on the same width grid, and writes ``NAME.png``,
``NAME.pdf`` and ``NAME.csv`` (every plotted number, with a header stating the run).

Random features (docs/theory.rst §7, figures 2 and 4): ReLU features of ``D = 100`` Gaussian inputs,
label ``(θᵀx)²``, ``n = 200``; a :class:`RandomFeaturesFigure` draws the theory of
:func:`dcprune.families.randomfeatures.sweep_random_features` with Monte Carlo markers from
:func:`dcprune.montecarlo.simulate` of :class:`dcprune.RandomFeatures` on the same draws of W.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import dcprune
from dcprune.output import write_csv
from dcprune.plotting import check_plot_path, default_title, plot_curve

__all__ = [
    "N", "KAPPA", "ALPHA", "SPIKE_FRACTION", "SPIKE", "SIGMA2", "SEED", "PRUNING", "RETRAINING",
    "Mode", "FULL", "QUICK", "mode", "setup", "CurveFigure", "table",
    "RF_INPUT_DIM", "RF_N", "RF_NAMES", "RFMode", "RF_FULL", "RF_QUICK", "rf_mode",
    "RandomFeaturesFigure", "rf_theory", "rf_simulate", "rf_table",
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


def setup(spectrum: dcprune.Spectrum) -> dcprune.Diagonal:
    """The §9 sizes on the latent problem ``spectrum``."""
    return dcprune.Diagonal(spectrum, kappa=KAPPA, alpha=ALPHA, sigma2=SIGMA2, n=N)


def figure_paths(out_dir, name: str) -> tuple[Path, Path, Path]:
    """The PNG, PDF and CSV of figure ``name``, checked writable before any computation."""
    out = Path(out_dir)
    png, pdf, csv = out / f"{name}.png", out / f"{name}.pdf", out / f"{name}.csv"
    for path in (png, pdf):
        check_plot_path(path)
    return png, pdf, csv


@dataclass(frozen=True)
class CurveFigure:
    """A sparse double-descent figure of one latent problem (docs/theory.rst §5, §9).

    ``names``: the theory lines (risk names of :data:`dcprune.PREDICTED`); each gets Monte
    Carlo markers, and each ``*_retrain`` also unfilled same-data retraining markers.
    """

    name: str
    label: str
    spectrum: dcprune.Spectrum
    names: Sequence[str]

    @property
    def setup(self) -> dcprune.Diagonal:
        return setup(self.spectrum)

    def paths(self, out_dir) -> tuple[Path, Path, Path]:
        return figure_paths(out_dir, self.name)

    def build(self, out_dir, quick: bool = False, mc: bool = True) -> list[Path]:
        """Compute, plot and tabulate; returns the PNG, PDF and CSV paths."""
        png, pdf, csv = self.paths(out_dir)
        run = mode(quick)
        stp = self.setup
        theory = dcprune.sweep(stp, points=run.theory_points)
        sim = mc_grid = None
        if mc:
            from dcprune.montecarlo import simulate

            sim = simulate(stp, points=run.mc_points, trials=run.trials, seed=SEED)
            mc_grid = dcprune.sweep(stp, points=run.mc_points)
        title = f"{self.label}\n{default_title(theory)}"
        for path in (png, pdf):
            plot_curve(theory, path, simulation=sim, title=title, names=self.names)
        header, rows = table(theory, self.names, simulation=sim, mc_grid=mc_grid)
        write_csv(csv, header, rows, comments=self.comments(theory, sim, run))
        return [png, pdf, csv]

    def comments(self, theory: dcprune.Sweep, sim, run: Mode) -> list[str]:
        stp, ref = theory.problem, theory.reference
        problem = ", ".join(f"{k}={v}" for k, v in stp.spectrum.describe().items())
        mc = (f"trials={sim.trials}, seed={sim.seed}, mc_points={run.mc_points}" if sim is not None
              else "trials=0 (theory only, no Monte Carlo)")
        lines = [
            f"{self.label} ({self.name}): n={stp.n}, d={stp.d}, s={int(stp.s)}, sigma2={stp.sigma2}, "
            f"{mc}, theory_points={run.theory_points}",
            f"problem: {problem}",
            "theory: dcprune.sweep (lines); *_mc_mean, *_mc_se: Monte Carlo mean and standard "
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


def table(theory: dcprune.Sweep, names: Sequence[str], *, simulation=None,
          mc_grid: dcprune.Sweep | None = None) -> tuple[list[str], list[list]]:
    """The plotted numbers, one row per model size ``p`` on either grid.

    Theory columns come from ``theory`` (the line grid) where ``p`` is on it, otherwise from
    ``mc_grid`` (:func:`dcprune.sweep` on the Monte Carlo grid); Monte Carlo columns are empty
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
        cells = [row.width, row.p, entry["grid"], row.converged, *(row.risk[q].mean for q in names)]
        if simulation is not None:
            i = entry.get("mc")
            for q in mc_names:
                cells += [None, None] if i is None else [means[q][i], ses[q][i]]
            cells.append(None if i is None else simulation.rows[i].flagged)
        rows.append(cells)
    return header, rows


# --------------------------------------------------------------------------------------------
# Random features (docs/theory.rst §7, §9): figures 2 and 4
# --------------------------------------------------------------------------------------------

#: Input dimension D and sample size n of the random-feature figures: widths p run from 10 to
#: 3n = 600 through the interpolation peak p = n; the label is (θᵀx)² without added noise.
RF_INPUT_DIM = 100
RF_N = 200
#: Theory lines (and filled markers) of the random-feature figures; same-data retraining is
#: added as unfilled markers (Monte Carlo only: the theory predicts fresh retraining).
RF_NAMES = ("dense", "magnitude", "magnitude_retrain")


@dataclass(frozen=True)
class RFMode:
    """Run sizes of a random-feature figure.

    ``theory_widths``: feature counts ``p`` of the lines; ``mc_widths``: a subset with Monte
    Carlo markers; ``draws`` feature matrices W (theory and Monte Carlo share them);
    ``trials`` Monte Carlo trials per width (split evenly over the draws); ``samples`` and
    ``retrain_samples``: DC draws of :func:`dcprune.families.randomfeatures.sweep_random_features`.
    """

    theory_widths: tuple[int, ...]
    mc_widths: tuple[int, ...]
    draws: int
    trials: int
    samples: int
    retrain_samples: int


def _rf_widths(n: int) -> tuple[int, ...]:
    # Every 20 features up to 3n, denser next to the peak p = n (p = n itself is infinite).
    grid = set(range(20, 3 * n + 1, 20)) | {10, n - 30, n - 10, n - 5, n + 5, n + 10, n + 30}
    return tuple(sorted(grid - {n}))


# Full: 36 widths × 10 draws of W for the lines; 12 Monte Carlo widths with 400 trials (40 per
# draw) give standard errors of 1–2% away from the peak, below the departures the figures show.
RF_FULL = RFMode(theory_widths=_rf_widths(RF_N), mc_widths=(20, 40, 60, 100, 140, 170, 230, 280, 340, 400, 500, 600),
                 draws=10, trials=400, samples=2000, retrain_samples=32)
# Quick: the whole pipeline in a few seconds (CI smoke test).
RF_QUICK = RFMode(theory_widths=(20, 60, 100, 140, 170, 240, 300, 400), mc_widths=(60, 140, 300),
                  draws=2, trials=8, samples=500, retrain_samples=8)


def rf_mode(quick: bool) -> RFMode:
    return RF_QUICK if quick else RF_FULL


def rf_theory(s: int, run: RFMode):
    """The theory lines: :func:`dcprune.families.randomfeatures.sweep_random_features` at the §9 sizes."""
    from dcprune.families.randomfeatures import sweep_random_features

    return sweep_random_features(RF_INPUT_DIM, RF_N, run.theory_widths, s, "relu", draws=run.draws, seed=SEED,
                                 samples=run.samples, retrain_samples=run.retrain_samples)


def rf_problem(s: int, run: RFMode) -> dcprune.RandomFeatures:
    """The §9 random-feature problem: ``max(mc_widths)`` features at full width, ``s`` kept."""
    d = max(run.mc_widths)
    problem = dcprune.RandomFeatures(kappa=d / RF_N, alpha=s / d, n=RF_N, input_dim=RF_INPUT_DIM, draws=run.draws,
                                     sigma2=0.0, seed=SEED)
    assert (problem.d, problem.s) == (d, s)
    return problem


def rf_simulate(s: int, run: RFMode):
    """The markers: :func:`dcprune.montecarlo.simulate` of :func:`rf_problem`, on the same
    feature draws as :func:`rf_theory`."""
    from dcprune.montecarlo import simulate

    return simulate(rf_problem(s, run), widths=np.array(run.mc_widths) / RF_N, trials=run.trials, seed=SEED)


@dataclass(frozen=True)
class RandomFeaturesFigure:
    """ReLU random features (docs/theory.rst §7, §9): equivalent-LGP theory vs the real regression.

    One panel per sparsity target in ``targets``: theory lines of ``names`` against ``p/n``
    (mean over the draws of W), Monte Carlo markers (mean ± s.e. over trials on the same draws)
    for each, and unfilled markers for same-data retraining. Writes ``NAME.png``, ``.pdf``
    and ``.csv`` (every theory and Monte Carlo number, one row per (s, p)).
    """

    name: str
    label: str
    targets: tuple[int, ...]
    names: Sequence[str] = RF_NAMES

    def paths(self, out_dir) -> tuple[Path, Path, Path]:
        return figure_paths(out_dir, self.name)

    def build(self, out_dir, quick: bool = False, mc: bool = True) -> list[Path]:
        from dcprune.plotting import Panel, plot_panels

        png, pdf, csv = self.paths(out_dir)
        run = rf_mode(quick)
        theories = {s: rf_theory(s, run) for s in self.targets}
        sims = {s: rf_simulate(s, run) for s in self.targets} if mc else {}
        panels = []
        for s, theory in theories.items():
            x = theory.widths / RF_N
            markers = {}
            sim = sims.get(s)
            if sim is not None:
                for name in self.names:
                    for q in (name, f"{name}_same") if name.endswith("_retrain") else (name,):
                        markers[q] = (sim.widths, sim.mean(q), sim.se(q))
            panels.append(Panel(x=x, lines={name: theory.mean(name) for name in self.names}, markers=markers,
                                title=f"s = {s} kept features" if len(self.targets) > 1 else None,
                                vlines=[(s / RF_N, "p = s")]))
        trials = f"markers: Monte Carlo\nmean ± s.e., {run.trials} trials" if mc else ""
        legend = "lines: theory (mean over\n" f"{run.draws} draws of W)" + (f"\n{trials}" if trials else "")
        title = (f"{self.label}: ReLU random features of D = {RF_INPUT_DIM} Gaussian inputs, label (θᵀx)², "
                 f"n = {RF_N} samples" + (f", s = {self.targets[0]} kept" if len(self.targets) == 1 else ""))
        for path in (png, pdf):
            plot_panels(panels, path, title=title, legend_title=legend)
        header, rows = rf_table(theories, sims)
        write_csv(csv, header, rows, comments=self.comments(run, mc))
        return [png, pdf, csv]

    def comments(self, run: RFMode, mc: bool) -> list[str]:
        mc_text = (f"trials={run.trials} ({run.trials // run.draws} per draw), seed={SEED}, "
                   f"mc_widths={list(run.mc_widths)}" if mc else "trials=0 (theory only, no Monte Carlo)")
        return [
            f"{self.label} ({self.name}): input_dim={RF_INPUT_DIM}, n={RF_N}, s={list(self.targets)}, "
            f"activation=relu, label=(theta^T x)^2, label_noise=0, draws={run.draws}, {mc_text}",
            f"theory: dcprune.families.randomfeatures.sweep_random_features(input_dim={RF_INPUT_DIM}, n={RF_N}, "
            "widths, s, "
            f"'relu', draws={run.draws}, seed={SEED}, samples={run.samples}, retrain_samples={run.retrain_samples}); "
            "NAME = mean over draws, NAME_theory_se = its standard error across draws",
            "monte carlo: dcprune.montecarlo.simulate(dcprune.RandomFeatures(...)) on the same draws of W; "
            "*_mc_mean, *_mc_se: mean and standard error over all trials; *_retrain_same: same-data "
            "retraining (no theory); *_retrain: fresh retraining",
            "grid: theory = on the line grid only, theory+mc = with Monte Carlo markers; p = n has infinite "
            "theory risk (inf)",
        ]


def rf_table(theories: dict, sims: dict) -> tuple[list[str], list[list]]:
    """One row per (s, p): theory mean and across-draw s.e. of every risk, and the Monte Carlo
    mean and s.e. of every quantity where it was run."""
    from dcprune.quantities import MEASURED as QUANTITIES

    header = ["s", "p", "width", "grid"]
    header += [col for name in dcprune.PREDICTED for col in (name, f"{name}_theory_se")]
    if sims:
        header += [f"{q}_mc_{stat}" for q in QUANTITIES for stat in ("mean", "se")] + ["mc_flagged"]
    rows = []
    for s, theory in theories.items():
        sim = sims.get(s)
        on_mc = {} if sim is None else {int(p): i for i, p in enumerate(sim.counts)}
        for row in theory.rows:
            i = on_mc.get(int(row.p))
            cells = [s, row.p, row.p / RF_N, "theory" if i is None else "theory+mc"]
            for name in dcprune.PREDICTED:
                cells += list(row.risk[name])
            if sims:
                for q in QUANTITIES:
                    cells += [None, None] if i is None else [sim.rows[i].risk[q].mean, sim.rows[i].risk[q].se]
                cells.append(None if i is None else sim.rows[i].flagged)
            rows.append(cells)
        if sim is not None:
            missing = set(on_mc) - {int(r.p) for r in theory.rows}
            if missing:
                raise ValueError(f"Monte Carlo widths {sorted(missing)} are not on the theory grid")
    return header, rows
