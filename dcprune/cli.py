"""The ``dcprune`` command line: thin commands that parse, call the library, and print.

Every error a user can cause (bad numbers, missing files, runs that would not fit) reaches
the terminal as one line ``Error: ...`` with a non-zero exit status, never a traceback.
"""

from __future__ import annotations

import csv
import io
import json
import math
import sys

import click
import numpy as np

from .predict import RISK_NAMES, SAME_DATA_NAMES, Curve, Prediction, Setup, _count, curve as predict_curve, predict as predict_one
from .problems import PROBLEMS, load_spectrum, standard_problem
from .randomfeatures import ACTIVATIONS as RF_ACTIVATIONS
from .sampled import RF_PROBLEM, CovarianceSetup, RandomFeaturesSetup

__all__ = ["main"]


# The full validation grid's default sample (160 distinct configurations).
_FULL_GRID_SIZE = 160

# More widths than this make no readable curve, only a long wait and a huge table.
_MAX_POINTS = 100_000

# click >= 8.2 signals a bare command as an error whose message is the help text.
_NO_ARGS = getattr(click.exceptions, "NoArgsIsHelpError", ())


class _OneLineErrors(click.Group):
    """A group whose usage errors and library ``ValueError``s print as a single line."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        try:
            # Monte Carlo holds Ctrl-C while its kernels compile and run (montecarlo.simulate.
            # trial_batches), so an interrupt arrives here as a plain KeyboardInterrupt.
            rv = super().main(args=args, prog_name=prog_name, complete_var=complete_var,
                              standalone_mode=False, **extra)
        except (KeyboardInterrupt, click.Abort) as exc:
            if isinstance(exc, click.Abort) and not isinstance(exc.__cause__, KeyboardInterrupt):
                click.echo("Aborted.", err=True)
                code = 1
            else:
                click.echo("Error: interrupted", err=True)
                code = 130  # the shell's convention for SIGINT
        except click.exceptions.Exit as exc:
            code = exc.exit_code
        except _NO_ARGS as exc:  # bare `dcprune`: the help, laid out as with --help
            click.echo(exc.ctx.get_help())
            code = 0
        except click.ClickException as exc:
            click.echo(f"Error: {_one_line(exc.format_message())}", err=True)
            code = exc.exit_code
        except (ValueError, MemoryError) as exc:
            click.echo(f"Error: {_as_options(_one_line(str(exc)))}", err=True)
            code = 2
        except OSError as exc:  # a file that cannot be read or written, after the early checks
            where = f" '{exc.filename}'" if exc.filename else ""
            click.echo(f"Error: cannot access{where}: {exc.strerror or exc}", err=True)
            code = 1
        else:
            code = rv if isinstance(rv, int) else 0
        if standalone_mode:
            sys.exit(code)
        return code


def _as_options(text: str) -> str:
    """Library messages name Python arguments (``alpha must be …, got alpha=0``); on the
    command line they are options (``--alpha``). Names with no option are left as they are."""
    import re

    flags = {p.name: p.opts[0] for cmd in main.commands.values() for p in cmd.params
             if isinstance(p, click.Option) and p.opts[0].startswith("--")}
    return re.sub(r"(?<![\w*-])([a-z][a-z0-9_]*)(?= must\b|=)",
                  lambda m: flags.get(m.group(1), m.group(1)), text)


def _one_line(text: str) -> str:
    return " ".join(text.split())


@click.group(cls=_OneLineErrors, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="dcprune")
def main():
    """Exact test-risk predictions for pruned least squares, and their Monte Carlo check.

    κ (--kappa) is the latent dimension over the sample size, d/n; α (--alpha) is the kept
    fraction of the latent dimension, s = α·d; a model's width is p/n.
    """


def problem_options(func):
    """The options shared by every command that describes a problem and its sizes."""
    options = [
        click.option("--kappa", type=float, default=None,
                     help="Latent dimension over samples, d/n (required, except with --covariance)."),
        click.option("--alpha", type=float, required=True, help="Target nonzeros over latent dimension, s/d, in (0, 1]."),
        click.option("--sigma2", type=float, default=0.1, show_default=True, help="Label noise variance σ²."),
        click.option("--problem", type=click.Choice(sorted(PROBLEMS) + [RF_PROBLEM]), default=None,
                     metavar="NAME",
                     help=f"{', '.join(sorted(PROBLEMS))}, or random features ({RF_PROBLEM})  "
                          f"[default: spiked-covariance]."),
        click.option("--spike-fraction", type=float, default=None, help="Fraction of spiked coordinates (spiked problems)  [default: 0.1]."),
        click.option("--spike", type=float, default=None, help="Spike value C (spiked problems)  [default: 10]."),
        click.option("--exponent", type=float, default=None, help="Power-law exponent a, λ_j = (j/d)^(-a)  [default: 0.5]."),
        click.option("--signal", type=float, default=None, help="Signal energy βᵀΣβ  [default: 1; a spectrum file's own]."),
        click.option("--spectrum", type=click.Path(dir_okay=False), default=None,
                     help="User spectrum: .csv with columns lambda,beta or .npy of shape (d, 2); replaces --problem."),
        click.option("--covariance", type=click.Path(dir_okay=False), default=None,
                     help="Correlated problem: .npz with arrays Sigma (d×d) and beta (d); needs --n; "
                          "replaces --problem."),
        click.option("--input-dim", type=int, default=None, help="Input dimension D of relu-features (x ~ N(0, I_D))."),
        click.option("--activation", type=click.Choice(sorted(RF_ACTIVATIONS)), default="relu", show_default=True,
                     help="Activation of relu-features (Monte Carlo supports relu)."),
        click.option("--draws", type=int, default=5, show_default=True,
                     help="relu-features: independent feature matrices W the theory averages over."),
        click.option("--n", "n", type=int, default=None, help="Sample size: finite-size predictions (absent: asymptotic; simulate needs it)."),
        click.option("--ridge", type=float, default=0.0, show_default=True, help="Ridge penalty λ of (1/n)‖y−Xb‖² + λ‖b‖²."),
        click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
                     show_default=True, help="Output format."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def build_setup(kappa, alpha, sigma2, problem, spike_fraction, spike, exponent, signal, spectrum, n, ridge):
    """A :class:`~dcprune.Setup` from the shared options."""
    if spectrum is not None:
        if problem is not None:
            raise click.UsageError("give either --problem or --spectrum, not both")
        latent = load_spectrum(spectrum, signal=signal)
    else:
        latent = standard_problem(problem or "spiked-covariance", spike_fraction=spike_fraction,
                                  spike=spike, exponent=exponent, signal=signal)
    return Setup(latent, kappa=kappa, alpha=alpha, sigma2=sigma2, n=n, ridge=ridge)


def _setup_from(kwargs) -> Setup | RandomFeaturesSetup | CovarianceSetup:
    rf = {k: kwargs.pop(k) for k in ("input_dim", "activation", "draws")}
    covariance = kwargs.pop("covariance")
    keys = ("kappa", "alpha", "sigma2", "problem", "spike_fraction", "spike", "exponent", "signal",
            "spectrum", "n", "ridge")
    args = {k: kwargs.pop(k) for k in keys}
    kind = ("--covariance" if covariance is not None else "--spectrum" if args["spectrum"] is not None
            else args["problem"] or "spiked-covariance")
    for name, kinds in _ONLY_WITH.items():
        if _given(name) and kind not in kinds:
            option = "--" + name.replace("_", "-")
            raise click.UsageError(f"{option} does not apply to {kind}; it goes with {' or '.join(kinds)}")
    if covariance is not None:
        clash = [f"--{k}" for k in ("problem", "spectrum") if args[k] is not None]
        if clash:
            raise click.UsageError(f"--covariance replaces {' and '.join(clash)}: give one")
        return CovarianceSetup.load(covariance, kappa=args["kappa"], alpha=args["alpha"], n=args["n"],
                                    sigma2=args["sigma2"], ridge=args["ridge"])
    if args["kappa"] is None:
        raise click.UsageError("Missing option '--kappa' (latent dimension over samples, d/n).")
    if args["problem"] == RF_PROBLEM:
        return _random_features(args, **rf)
    return build_setup(**args)


_SPIKED = ("spiked-covariance", "spiked-identity")
# Problem options and the problems they describe; elsewhere they would be silently ignored.
_ONLY_WITH = {
    "spike_fraction": _SPIKED,
    "spike": _SPIKED,
    "exponent": ("power-law",),
    "signal": (*_SPIKED, "isotropic", "power-law", "--spectrum"),
    "input_dim": (RF_PROBLEM,),
    "activation": (RF_PROBLEM,),
    "draws": (RF_PROBLEM,),
}


def _given(name: str) -> bool:
    """Whether option ``name`` was set by the user (not left at its default)."""
    from click.core import ParameterSource

    ctx = click.get_current_context(silent=True)
    source = ctx.get_parameter_source(name) if ctx is not None else None
    return source not in (None, ParameterSource.DEFAULT)


def _random_features(args, input_dim, activation, draws) -> RandomFeaturesSetup:
    if args["n"] is None:
        raise click.UsageError("--problem relu-features needs --n (random features are a finite problem)")
    if input_dim is None or input_dim < 1:
        raise click.UsageError(f"--problem relu-features needs --input-dim >= 1, got {input_dim}")
    if draws < 1:
        raise click.UsageError(f"--draws must be >= 1, got {draws}")
    if args["spectrum"] is not None:
        raise click.UsageError("give either --problem or --spectrum, not both")
    # Setup validates kappa, alpha, sigma2, n and ridge with the library's messages.
    Setup(standard_problem("isotropic"), kappa=args["kappa"], alpha=args["alpha"], sigma2=args["sigma2"],
          n=args["n"], ridge=args["ridge"])
    return RandomFeaturesSetup(args["kappa"], args["alpha"], args["n"], input_dim, activation, draws,
                               args["sigma2"], args["ridge"])


def _sampled_counts(setup, width=None, points=None, width_min=None) -> np.ndarray:
    """Feature counts of one width (default: full) or of a ``points`` sweep from ``width_min``."""
    if points is None:
        return setup.count(setup.kappa if width is None else width)
    return setup.count(np.linspace(width_min or setup.kappa / points, setup.kappa, points))


_SAMPLED = (RandomFeaturesSetup, CovarianceSetup)


@main.command()
@problem_options
@click.option("--width", type=float, default=None, help="Model width p/n  [default: kappa, the full latent problem].")
@click.option("--seed", type=int, default=0, show_default=True,
              help="relu-features: seed of the feature matrices; --covariance: of the DC sampling.")
def risk(fmt, width, seed, **kwargs):
    """Predicted risks of one model: dense, pruned (MP, HP, OP, random) and retrained."""
    setup = _setup_from(kwargs)
    if isinstance(setup, _SAMPLED):
        _emit_sampled(setup, setup.theory(_sampled_counts(setup, width), seed), fmt, seed, single=True)
        return
    result = predict_one(setup, width)
    _emit(result, fmt)


@main.command()
@problem_options
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
def curve(fmt, points, width_min, plot_path, retrain, sim_trials, sim_points, seed, quiet, **kwargs):
    """The sparse double-descent curve: every risk over widths p/n from near 0 to kappa."""
    sampled = kwargs["problem"] == RF_PROBLEM or kwargs["covariance"] is not None
    points = points if points is not None else (20 if sampled else 200)
    if not 2 <= points <= _MAX_POINTS:
        raise click.UsageError(f"--points must be from 2 to {_MAX_POINTS:,} (a readable curve), got {points}")
    if sim_trials is not None and sim_trials < 2:
        raise click.UsageError(f"--simulate must be at least 2 trials (a standard error needs two), got {sim_trials}")
    if sim_points is not None and not 2 <= sim_points <= _MAX_POINTS:
        raise click.UsageError(f"--sim-points must be from 2 to {_MAX_POINTS:,}, got {sim_points}")
    if plot_path is None and (retrain or quiet):
        raise click.UsageError(f"{'--retrain' if retrain else '--quiet'} changes the plot: give --plot FILE too")
    if plot_path is not None:
        from .plotting import check_plot_path  # matplotlib only when plotting

        check_plot_path(plot_path)  # fail before any computation
    if sim_trials is not None:
        if plot_path is None:
            raise click.UsageError("--simulate overlays Monte Carlo on a plot: give --plot FILE too")
        if kwargs["n"] is None:
            raise click.UsageError("--simulate needs --n (Monte Carlo has a finite sample size)")
    if sampled and plot_path is not None:
        raise click.UsageError(
            "--plot draws diagonal problems only; for random features `dcprune figure fig2` / `fig4` draw "
            "the paper's plots, and --format csv gives any curve's numbers to plot"
            if kwargs["problem"] == RF_PROBLEM else
            "--plot draws diagonal problems only; for --covariance use --format csv and plot the columns")
    setup = _setup_from(kwargs)
    if isinstance(setup, _SAMPLED):
        _emit_sampled(setup, setup.theory(_sampled_counts(setup, None, points, width_min), seed), fmt, seed,
                      single=False)
        return
    result = predict_curve(setup, points=points, width_min=width_min)
    simulation = None
    if sim_trials is not None:
        from .montecarlo import simulate as run_simulation

        with _LazyProgress(sim_trials, enabled=not quiet and sys.stderr.isatty()) as progress:
            simulation = run_simulation(setup, points=sim_points, width_min=width_min, trials=sim_trials,
                                        seed=seed, progress=progress)
    if plot_path is not None:
        from .plotting import plot_curve

        plot_curve(result, plot_path, simulation=simulation, retrain=retrain)
        if quiet:
            return
    _emit(result, fmt)


@main.command()
@click.argument("name")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="figures", show_default=True,
              help="Directory for the PNG, PDF and CSV files.")
@click.option("--quick", is_flag=True, help="Few trials on a coarse grid (a smoke test).")
@click.option("--no-mc", is_flag=True, help="Theory lines only.")
def figure(name, out_dir, quick, no_mc):
    """Regenerate a figure of the paper into --out.

    NAME is one of fig2, fig3a, fig3b, fig4, fig7a, fig7b, lemma1, or all.
    """
    from .figures.build import build

    for path in build(name, out_dir, quick=quick, mc=not no_mc):
        click.echo(str(path))


@main.command()
@problem_options
@click.option("--trials", type=int, default=100, show_default=True, help="Independent experiments.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed; the same seed gives the same numbers.")
@click.option("--width", type=float, default=None, help="One model of width p/n  [default: kappa].")
@click.option("--points", type=int, default=None, help="A sweep over the width grid of `dcprune curve --points P`.")
@click.option("--width-min", type=float, default=None, help="Smallest width of the sweep  [default: kappa/points].")
@click.option("--threads", type=int, default=None, help="Numba threads  [default: all cores].")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def simulate(fmt, trials, seed, width, points, width_min, threads, quiet, **kwargs):
    """Monte Carlo of the real regressions: fit, prune, retrain, exact population risk."""
    if kwargs["n"] is None:
        raise click.UsageError("--n is required for simulate")
    if width is not None and points is not None:
        raise click.UsageError("give either --width or --points, not both")
    if threads is not None and threads < 1:
        raise click.UsageError(f"--threads must be >= 1, got {threads}")
    setup = _setup_from(kwargs)
    progress = _LazyProgress(trials, enabled=not quiet and sys.stderr.isatty())
    if isinstance(setup, _SAMPLED):
        counts = _sampled_counts(setup, width, points, width_min)
        with progress as callback:
            result = setup.simulate(counts, trials, seed, threads=threads, progress=callback)
        title = setup.title(seed)[:1] + [f"# Monte Carlo: n={setup.n}, s={setup.s}, trials={trials}, "
                                         f"seed={seed}; mean ± standard error"]
        _emit_simulation(result, fmt, points is None, title, head={**setup.header(seed), "s": setup.s})
        return
    from .montecarlo import simulate as run_simulation  # Numba compiles only when simulating

    with progress as callback:
        result = run_simulation(setup, width=width, points=points, width_min=width_min, trials=trials,
                                seed=seed, threads=threads, progress=callback)
    st = result.setup
    title = [f"# Monte Carlo: {st.spectrum.name}, kappa={st.kappa:g}, alpha={st.alpha:g}, "
             f"sigma2={st.sigma2:g}, ridge={st.ridge:g}",
             f"# n={st.n}, d={st.d}, s={result.s}, trials={result.trials}, seed={result.seed}; "
             f"mean ± standard error"]
    _emit_simulation(result, fmt, points is None, title)


class _LazyProgress:
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
@click.option("--quick", is_flag=True, help="The small grid CI runs (8 configurations, seconds).")
@click.option("--size", type=int, default=_FULL_GRID_SIZE, show_default=True,
              help="Configurations in the full grid.")
@click.option("--trials", type=int, default=None, help="Trials per configuration  [default: 100, quick 60].")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the grid sample and the runs.")
@click.option("--threshold", type=float, default=4.0, show_default=True, help="Fail when a claimed |z| exceeds it.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="validation/results",
              show_default=True, help="Directory for report.md, checks.csv and zscores.png.")
@click.option("--no-plot", is_flag=True, help="Skip the z-score figure.")
def validate(quick, size, trials, seed, threshold, out_dir, no_plot):
    """Theory vs Monte Carlo over a grid of problems; non-zero exit if any claimed |z| > threshold."""
    from pathlib import Path

    from .validate import grid, validate as run_validation, write_outputs

    if not (math.isfinite(threshold) and threshold > 0):
        raise click.UsageError(f"--threshold must be finite and > 0, got {threshold}")
    if quick and size != _FULL_GRID_SIZE:
        raise click.UsageError("--size sets the full grid; --quick runs its fixed eight configurations")
    if size < 1:
        raise click.UsageError(f"--size must be >= 1, got {size}")
    trials = trials if trials is not None else (60 if quick else 100)
    if trials < 2:
        raise click.UsageError(f"--trials must be >= 2 (a standard error needs two), got {trials}")
    if seed < 0:
        raise click.UsageError(f"--seed must be >= 0, got {seed}")
    from .output import prepare_directory

    configs = grid(quick=quick, size=size, seed=seed)
    prepare_directory(out_dir)  # a bad --out fails now, not after minutes of simulation
    with _LazyProgress(len(configs), enabled=sys.stderr.isatty(), after=0.0) as progress:
        checks = run_validation(configs, trials=trials, seed=seed, progress=progress)
    failures = write_outputs(checks, Path(out_dir), threshold=threshold, trials=trials, plot=not no_plot)
    click.echo(f"{len(configs)} configurations, {sum(c.claimed for c in checks)} claimed checks, "
               f"{len(failures)} with |z| > {threshold:g}; report: {Path(out_dir) / 'report.md'}")
    for c in failures:
        click.echo(f"FAIL {c.config.label()} {c.quantity}: theory {c.theory:.5g}, "
                   f"MC {c.mean:.5g} ± {c.se:.2g}, z = {c.z:+.2f}", err=True)
    if failures:
        raise click.exceptions.Exit(1)


# --- output -----------------------------------------------------------------------------

_SHORT = {
    "dense": "dense",
    "magnitude": "MP",
    "hessian": "HP",
    "oracle": "OP",
    "random": "random",
    "magnitude_retrain": "MP+rt",
    "hessian_retrain": "HP+rt",
    "oracle_retrain": "OP+rt",
}


def _emit(result: Prediction | Curve, fmt: str) -> None:
    if fmt == "json":
        click.echo(json.dumps(result.to_dict(), indent=2, allow_nan=False))
        return
    for line in result.warnings:
        click.echo(f"warning: {line}", err=True)
    rows = result.rows if isinstance(result, Curve) else [result]
    if fmt == "csv":
        click.echo(_csv(rows, result.setup.finite), nl=False)
    else:
        click.echo(_table(result, rows))


def _csv(rows, finite: bool) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["width", "p", "zeta", "gamma", "converged", *RISK_NAMES])
    for r in rows:
        writer.writerow([
            repr(r.width), repr(_count(r.p, finite)), repr(r.zeta), repr(r.gamma), int(r.converged),
            *(repr(getattr(r.risk, k)) for k in RISK_NAMES),
        ])
    return buf.getvalue()


def _fmt(x: float, width: int = 8) -> str:
    if math.isinf(x):
        return "inf".rjust(width)
    return f"{x:{width}.4g}"


def _table(result, rows) -> str:
    setup = result.setup
    head = setup.header()
    problem = head["problem"]
    params = ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in problem.items() if k != "name")
    size = f"n={setup.n}, d={setup.d}, s={result.s:g}" if setup.finite else f"asymptotic, s/n={result.s:g}"
    lines = [
        f"# {problem['name']} ({params})",
        f"# kappa={setup.kappa:g}, alpha={setup.alpha:g}, sigma2={setup.sigma2:g}, ridge={setup.ridge:g}, {size}",
    ]
    ref = result.reference
    lines.append(
        f"# reference: best dense p<=n {_fmt(ref.best_small_dense, 0).strip()} (width {ref.best_width:.3g}), "
        f"oracle+retrain {_fmt(ref.oracle_retrain, 0).strip()}"
    )
    cols = ["width", "zeta", *(_SHORT[k] for k in RISK_NAMES)]
    lines.append(" ".join(c.rjust(7) for c in cols))
    for r in rows:
        cells = [f"{r.width:7.4g}", f"{r.zeta:7.4g}", *(_fmt(getattr(r.risk, k), 7) for k in RISK_NAMES)]
        lines.append(" ".join(cells) + ("" if r.converged else "  (not converged)"))
    return "\n".join(lines)



_SIM_BLOCKS = (
    ("pruning", ("dense", "magnitude", "hessian", "oracle", "random")),
    ("fresh retraining (the theory's prediction)", ("magnitude_retrain", "hessian_retrain", "oracle_retrain")),
    ("same-data retraining (what practitioners do)", SAME_DATA_NAMES),
)


def _emit_simulation(result, fmt: str, single: bool, title: list[str], head: dict | None = None) -> None:
    """Print a Monte Carlo run; ``head`` (the problem's JSON header) goes first in JSON."""
    from .montecarlo import QUANTITIES

    if fmt == "json":
        body = result.to_dict(single=single)
        out = {**head, **body} if head else body
        click.echo(json.dumps(out, indent=2, allow_nan=False))
        return
    for line in result.warnings:
        click.echo(f"warning: {line}", err=True)
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(["width", "p", "flagged", *(c for q in QUANTITIES for c in (q, f"{q}_se"))])
        for r in result.rows:
            writer.writerow([repr(r.width), r.p, r.flagged,
                             *(repr(x) for q in QUANTITIES for x in (r.risk[q].mean, r.risk[q].se))])
        click.echo(buf.getvalue(), nl=False)
        return
    lines = list(title)
    short = {**_SHORT, "magnitude_retrain_same": "MP+rt=", "hessian_retrain_same": "HP+rt=",
             "oracle_retrain_same": "OP+rt="}
    for block, names in _SIM_BLOCKS:
        lines.append(f"# {block}")
        lines.append("  width" + "".join(short[k].rjust(14) for k in names))
        for r in result.rows:
            cells = "".join(_pm(r.risk[k].mean, r.risk[k].se) for k in names)
            lines.append(f"{r.width:7.4g}" + cells + (f"  ({r.flagged} flagged)" if r.flagged else ""))
    click.echo("\n".join(lines))


def _pm(mean: float, se: float) -> str:
    return " " + f"{mean:.4g}±{se:.2g}".rjust(13)


# --- problems whose theory samples the DC (random features, covariance files) --------------


def _sampled_row(row) -> dict:
    return {
        "width": row.p / row.n,
        "p": row.p,
        "zeta": row.zeta,
        "gamma": _json_float(row.gamma),
        "converged": bool(row.converged),
        "risk": {k: _json_float(v[0]) for k, v in row.risk.items()},
        "risk_se": {k: _json_float(v[1]) for k, v in row.risk.items()},
    }


def _json_float(x: float):
    return float(x) if math.isfinite(x) else None


def _emit_sampled(setup, predictions, fmt: str, seed: int, single: bool) -> None:
    rows = [_sampled_row(r) for r in predictions]
    warnings = list(dict.fromkeys(w for r in predictions for w in r.warnings))
    if fmt == "json":
        out = {**setup.header(seed), "s": setup.s, "warnings": warnings}
        if single:
            out.update(rows[0])
        else:
            out["rows"] = rows
        click.echo(json.dumps(out, indent=2, allow_nan=False))
        return
    for line in warnings:
        click.echo(f"warning: {line}", err=True)
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(["width", "p", "zeta", "gamma", "converged", *RISK_NAMES, *(f"{k}_se" for k in RISK_NAMES)])
        for r in predictions:
            writer.writerow([repr(r.p / r.n), r.p, repr(r.zeta), repr(r.gamma), int(r.converged),
                             *(repr(r.risk[k][0]) for k in RISK_NAMES), *(repr(r.risk[k][1]) for k in RISK_NAMES)])
        click.echo(buf.getvalue(), nl=False)
        return
    lines = setup.title(seed) + [" ".join(c.rjust(7) for c in ["width", "zeta", *(_SHORT[k] for k in RISK_NAMES)])]
    for r in predictions:
        lines.append(" ".join([f"{r.p / r.n:7.4g}", f"{r.zeta:7.4g}", *(_fmt(r.risk[k][0], 7) for k in RISK_NAMES)]))
    click.echo("\n".join(lines))
