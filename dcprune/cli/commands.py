"""The ``dcprune`` commands: thin functions that parse, call the library, and print.

Every command builds its problem with :func:`~dcprune.cli.options.problem_from` and prints
with :mod:`dcprune.cli.render`; none of them branches on the problem's family.
"""

from __future__ import annotations

import math
import sys

import click

from ..families.base import MAX_POINTS
from ..predict import predict, sweep
from ..workflows.axes import AXES
from .errors import OneLineErrors
from .options import is_sampled, problem_from, problem_options
from .quantize import quantization_from, quantization_options
from .render import emit_prediction, emit_simulation
from .scheduler import on_scheduler, scheduler_option

__all__ = ["main"]

# The full validation grid's default sample (160 distinct configurations).
_FULL_GRID_SIZE = 160
# The full quantized grid's default sample (docs/theory.rst §11).
_QUANTIZED_GRID_SIZE = 96


@click.group(cls=OneLineErrors, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="dcprune")
def main():
    """Exact test-risk predictions for pruned least squares, and their Monte Carlo check.

    A test risk is E(y − xᵀb)² on fresh data, label noise σ² included. κ (--kappa) is the
    full width d/n; α (--alpha) is the kept fraction, s = α·d; a model's width is p/n.
    """


@main.command()
@problem_options
@quantization_options
@click.option("--width", type=float, default=None, help="Model width p/n  [default: kappa, the full latent problem].")
@click.option("--seed", type=int, default=0, show_default=True,
              help="relu-features: seed of the feature matrices; --covariance: of the DC sampling.")
def risk(fmt, width, seed, **kwargs):
    """Predicted risks of one model: dense, pruned (MP, HP, OP, random) and retrained; with
    --bits, the dense and magnitude-pruned models quantized too."""
    quantization = quantization_from(kwargs)
    emit_prediction(predict(problem_from(kwargs, seed), width, quantization=quantization), fmt)


@main.command()
@problem_options
@quantization_options
@click.option("--points", type=int, default=None,
              help="Number of widths  [default: 200; relu-features and --covariance 20: they sample].")
@click.option("--width-min", type=float, default=None, help="Smallest width p/n  [default: kappa/points].")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), default=None,
              help="Also draw the curve to FILE (.png, .pdf or .svg).")
@click.option("--retrain", is_flag=True, help="Plot the retrained (+rt) lines too.")
@click.option("--simulate", "sim_trials", type=int, default=None, metavar="TRIALS",
              help="Overlay Monte Carlo means ± SE from TRIALS trials (needs --n).")
@click.option("--sim-points", type=int, default=25, show_default=True, help="Widths simulated with --simulate.")
@click.option("--seed", type=int, default=0, show_default=True, help="Monte Carlo seed.")
@click.option("--quiet", is_flag=True, help="Print no table/JSON (with --plot) and no progress bar.")
@click.option("--over", type=click.Choice(AXES), default="width", show_default=True,
              help="The swept axis: width p/n, alpha, n (a learning curve: d and p fixed), sigma2 or ridge "
                   "(n, sigma2 and ridge log-spaced).")
@click.option("--from", "start", type=float, default=None, help="Start of the --over range.")
@click.option("--to", "stop", type=float, default=None, help="End of the --over range  [width: kappa].")
@click.option("--width", type=float, default=None, help="With --over other than width: the model's width p/n "
              "[default: kappa].")
@scheduler_option
def curve(fmt, points, width_min, plot_path, retrain, sim_trials, sim_points, seed, quiet, over, start, stop, width,
          scheduler, **kwargs):
    """The sparse double-descent curve: every risk over widths p/n from near 0 to kappa
    (or along --over alpha, n, sigma2 or ridge)."""
    quantization = quantization_from(kwargs)
    if quantization is not None and sim_trials is not None:
        raise click.UsageError("--simulate overlays Monte Carlo on the plot, which has no quantized lines: for the "
                               "quantized models' Monte Carlo use `dcprune simulate --bits B --points P`")
    if quantization is not None and (over != "width" or start is not None or stop is not None or width is not None
                                     or plot_path is not None):
        raise click.UsageError("--bits adds quantized risks to the width curve's table, CSV and JSON: leave out "
                               "--over/--from/--to/--width/--plot")
    if over != "width" or start is not None or stop is not None or width is not None:
        from .flows import curve_over

        return curve_over(kwargs, fmt=fmt, over=over, start=start, stop=stop, width=width, points=points,
                          width_min=width_min, seed=seed, plot=plot_path is not None or sim_trials is not None)
    sampled = is_sampled(kwargs)
    points = points if points is not None else (20 if sampled else 200)
    if not 2 <= points <= MAX_POINTS:
        raise click.UsageError(f"--points must be from 2 to {MAX_POINTS:,} (a readable curve), got {points}")
    if sim_trials is not None and sim_trials < 2:
        raise click.UsageError(f"--simulate must be at least 2 trials (a standard error needs two), got {sim_trials}")
    if sim_points is not None and not 2 <= sim_points <= MAX_POINTS:
        raise click.UsageError(f"--sim-points must be from 2 to {MAX_POINTS:,}, got {sim_points}")
    if plot_path is None and (retrain or quiet):
        raise click.UsageError(f"{'--retrain' if retrain else '--quiet'} changes the plot: give --plot FILE too")
    if plot_path is not None:
        from ..plotting import check_plot_path  # matplotlib only when plotting

        check_plot_path(plot_path)  # fail before any computation
    if sim_trials is not None:
        if plot_path is None:
            raise click.UsageError("--simulate overlays Monte Carlo on a plot: give --plot FILE too")
        if kwargs["n"] is None:
            raise click.UsageError("--simulate needs --n (Monte Carlo has a finite sample size)")
    problem = problem_from(kwargs, seed)
    result = sweep(problem, points=points, width_min=width_min, quantization=quantization)
    simulation = None
    if sim_trials is not None:
        from ..montecarlo import simulate as run_simulation

        announce_compile()
        with on_scheduler(scheduler), \
                LazyProgress(sim_trials, enabled=not quiet and sys.stderr.isatty()) as progress:
            simulation = run_simulation(problem, points=sim_points, width_min=width_min, trials=sim_trials,
                                        seed=seed, progress=progress)
    if plot_path is not None:
        from ..plotting import plot_curve

        plot_curve(result, plot_path, simulation=simulation, retrain=retrain)
        if quiet:
            return
    emit_prediction(result, fmt)


@main.command()
@click.argument("name")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="figures", show_default=True,
              help="Directory for the PNG, PDF and CSV files.")
@click.option("--quick", is_flag=True, help="Few trials on a coarse grid (a smoke test).")
@click.option("--no-mc", is_flag=True, help="Theory lines only.")
@scheduler_option
def figure(name, out_dir, quick, no_mc, scheduler):
    """Regenerate a figure of the paper (or the compression figure) into --out.

    NAME is one of fig2, fig3a, fig3b, fig4, fig7a, fig7b, lemma1, compression, retraining, or all.
    """
    from ..figures.build import build
    if not no_mc:
        announce_compile()
    with on_scheduler(None if no_mc else scheduler):
        for path in build(name, out_dir, quick=quick, mc=not no_mc):
            click.echo(str(path))


@main.command()
@problem_options
@quantization_options
@click.option("--trials", type=int, default=100, show_default=True, help="Independent experiments.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed; the same seed gives the same numbers.")
@click.option("--width", type=float, default=None, help="One model of width p/n  [default: kappa].")
@click.option("--points", type=int, default=None, help="A sweep over the width grid of `dcprune curve --points P`.")
@click.option("--width-min", type=float, default=None, help="Smallest width of the sweep  [default: kappa/points].")
@click.option("--threads", type=int, default=None, help="Numba threads  [default: all cores].")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@scheduler_option
def simulate(fmt, trials, seed, width, points, width_min, threads, quiet, scheduler, **kwargs):
    """Monte Carlo of the real regressions: fit, prune, retrain, exact population risk; with
    --bits, the real quantizer on each trial's dense fit and magnitude-pruned weights too."""
    quantization = quantization_from(kwargs)
    if kwargs["n"] is None:
        raise click.UsageError("--n is required for simulate")
    if width is not None and points is not None:
        raise click.UsageError("give either --width or --points, not both")
    check_threads_option(threads, scheduler)
    problem = problem_from(kwargs, seed)
    from ..montecarlo import SimulationInterrupted
    from ..montecarlo import simulate as run_simulation  # Numba compiles only when simulating

    announce_compile()
    try:
        with on_scheduler(scheduler), LazyProgress(trials, enabled=not quiet and sys.stderr.isatty()) as progress:
            result = run_simulation(problem, width=width, points=points, width_min=width_min, trials=trials,
                                    seed=seed, threads=threads, progress=progress, quantization=quantization)
    except SimulationInterrupted as stop:  # print what finished, then exit 130 as for any Ctrl-C
        emit_simulation(stop.partial, fmt, single=points is None)
        raise
    emit_simulation(result, fmt, single=points is None)


def check_threads_option(threads, scheduler) -> None:
    """--threads is a positive count of in-process threads, so it does not go with --scheduler."""
    if threads is not None and threads < 1:
        raise click.UsageError(f"--threads must be >= 1, got {threads}")
    if threads is not None and scheduler:
        raise click.UsageError("--threads sets in-process threads; with --scheduler the workers' threads run the "
                               "trials (`dask worker --nthreads`)")


def announce_compile() -> None:
    """One stderr line before a run that will compile the Monte Carlo kernels (first run only)."""
    from ..montecarlo.runtime import kernels_compiled

    if not kernels_compiled():
        click.echo("note: compiling the Monte Carlo kernels, once after installing (1-3 minutes; "
                   "`dcprune warmup` does it ahead)", err=True)


@main.command()
def warmup():
    """Compile the Monte Carlo kernels now, so that the first simulation starts at once."""
    from ..montecarlo.runtime import kernels_compiled, warm_up

    if kernels_compiled():
        click.echo(f"the Monte Carlo kernels are compiled (loaded in {warm_up():.1f} s)")
        return
    click.echo("compiling the Monte Carlo kernels (1-3 minutes, once after installing) ...", err=True)
    click.echo(f"compiled in {warm_up():.0f} s; later runs load them in about a second")


class LazyProgress:
    """A stderr progress bar that appears only once a run has taken a couple of seconds."""

    def __init__(self, total: int, enabled: bool, after: float = 2.0):
        self.total, self.enabled, self.after = total, enabled, after
        self.done = 0
        self.bar = None

    def __enter__(self):
        import time

        self.start = time.monotonic()
        return self if self.enabled else None

    def __call__(self, k: int) -> None:
        import time

        self.done += k
        if self.bar is None and time.monotonic() - self.start > self.after:
            self.bar = click.progressbar(length=self.total, label="trials", file=sys.stderr)
            self.bar.__enter__()
            k = self.done
        if self.bar is not None:
            self.bar.update(k)

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.__exit__(*exc)


@main.command()
@click.option("--quick", is_flag=True, help="The small grid CI runs (8 + 6 quantized configurations, seconds).")
@click.option("--size", type=int, default=_FULL_GRID_SIZE, show_default=True,
              help="Configurations in the full grid.")
@click.option("--trials", type=int, default=None, help="Trials per configuration  [default: 100, quick 60].")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the grid sample and the runs.")
@click.option("--threshold", type=float, default=4.0, show_default=True, help="Fail when a claimed |z| exceeds it.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="validation/results",
              show_default=True, help="Directory for report.md, checks.csv and zscores.png.")
@click.option("--no-plot", is_flag=True, help="Skip the z-score figure.")
@click.option("--part", type=click.Choice(("all", "pruning", "quantized")), default="all", show_default=True,
              help="The pruning grid, the quantized grid (docs/theory.rst §11), or both.")
@click.option("--quantized-size", type=int, default=_QUANTIZED_GRID_SIZE, show_default=True,
              help="Sampled configurations of the full quantized grid (six measured departures are added).")
@scheduler_option
def validate(quick, size, trials, seed, threshold, out_dir, no_plot, part, quantized_size, scheduler):
    """Theory vs Monte Carlo over a grid of problems; non-zero exit if any claimed |z| > threshold."""
    from pathlib import Path

    from ..validate import grid, quantized_grid, write_outputs
    from ..validate import validate as run_validation

    if not (math.isfinite(threshold) and threshold > 0):
        raise click.UsageError(f"--threshold must be finite and > 0, got {threshold}")
    if quick and size != _FULL_GRID_SIZE:
        raise click.UsageError("--size sets the full grid; --quick runs its fixed eight configurations")
    if quick and quantized_size != _QUANTIZED_GRID_SIZE:
        raise click.UsageError("--quantized-size sets the full quantized grid; --quick runs its fixed six")
    if size < 1:
        raise click.UsageError(f"--size must be >= 1, got {size}")
    if quantized_size < 1:
        raise click.UsageError(f"--quantized-size must be >= 1, got {quantized_size}")
    trials = trials if trials is not None else (60 if quick else 100)
    if trials < 2:
        raise click.UsageError(f"--trials must be >= 2 (a standard error needs two), got {trials}")
    if seed < 0:
        raise click.UsageError(f"--seed must be >= 0, got {seed}")
    from ..output import file_set, prepare_directory

    configs = grid(quick=quick, size=size, seed=seed) if part != "quantized" else []
    if part != "pruning":
        configs += quantized_grid(quick=quick, size=quantized_size, seed=seed)
    prepare_directory(out_dir)  # a bad --out fails now, not after minutes of simulation
    announce_compile()
    with file_set(out_dir):  # an interrupted run leaves no empty directory it created
        with on_scheduler(scheduler), LazyProgress(len(configs), enabled=sys.stderr.isatty(),
                                                   after=0.0) as progress:
            checks = run_validation(configs, trials=trials, seed=seed, progress=progress)
        failures = write_outputs(checks, Path(out_dir), threshold=threshold, trials=trials, plot=not no_plot)
    click.echo(f"{len(configs)} configurations, {sum(c.claimed for c in checks)} claimed checks, "
               f"{len(failures)} with |z| > {threshold:g} (heuristics: beyond their allowance too); "
               f"report: {Path(out_dir) / 'report.md'}")
    for c in failures:
        click.echo(f"FAIL {c.config.label()} {c.quantity}: theory {c.theory:.5g}, "
                   f"MC {c.mean:.5g} ± {c.se:.2g}, z = {c.z:+.2f}", err=True)
    if failures:
        raise click.exceptions.Exit(1)


