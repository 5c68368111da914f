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

from .predict import RISK_NAMES, Curve, Prediction, Setup, curve as predict_curve, predict as predict_one
from .problems import PROBLEMS, load_spectrum, standard_problem

__all__ = ["main"]


class _OneLineErrors(click.Group):
    """A group whose usage errors and library ``ValueError``s print as a single line."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        try:
            rv = super().main(args=args, prog_name=prog_name, complete_var=complete_var,
                              standalone_mode=False, **extra)
        except click.exceptions.Exit as exc:
            code = exc.exit_code
        except click.ClickException as exc:
            click.echo(f"Error: {_one_line(exc.format_message())}", err=True)
            code = exc.exit_code
        except (ValueError, MemoryError) as exc:
            click.echo(f"Error: {_one_line(str(exc))}", err=True)
            code = 2
        except click.Abort:
            click.echo("Aborted.", err=True)
            code = 1
        else:
            code = rv if isinstance(rv, int) else 0
        if standalone_mode:
            sys.exit(code)
        return code


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
        click.option("--kappa", type=float, required=True, help="Latent dimension over samples, d/n."),
        click.option("--alpha", type=float, required=True, help="Target nonzeros over latent dimension, s/d, in (0, 1]."),
        click.option("--sigma2", type=float, default=0.1, show_default=True, help="Label noise variance σ²."),
        click.option("--problem", type=click.Choice(sorted(PROBLEMS)), default=None,
                     help="Standard latent problem  [default: spiked-covariance]."),
        click.option("--spike-fraction", type=float, default=None, help="Fraction of spiked coordinates (spiked problems)  [default: 0.1]."),
        click.option("--spike", type=float, default=None, help="Spike value C (spiked problems)  [default: 10]."),
        click.option("--exponent", type=float, default=None, help="Power-law exponent a, λ_j = (j/d)^(-a)  [default: 0.5]."),
        click.option("--signal", type=float, default=None, help="Signal energy βᵀΣβ  [default: 1; a spectrum file's own]."),
        click.option("--spectrum", type=click.Path(dir_okay=False), default=None,
                     help="User spectrum: .csv with columns lambda,beta or .npy of shape (d, 2); replaces --problem."),
        click.option("--n", "n", type=int, default=None, help="Sample size for finite-size predictions (absent: asymptotic)."),
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


def _setup_from(kwargs) -> Setup:
    keys = ("kappa", "alpha", "sigma2", "problem", "spike_fraction", "spike", "exponent", "signal",
            "spectrum", "n", "ridge")
    return build_setup(**{k: kwargs.pop(k) for k in keys})


@main.command()
@problem_options
@click.option("--width", type=float, default=None, help="Model width p/n  [default: kappa, the full latent problem].")
def risk(fmt, width, **kwargs):
    """Predicted risks of one model: dense, pruned (MP, HP, OP, random) and retrained."""
    setup = _setup_from(kwargs)
    result = predict_one(setup, width)
    _emit(result, fmt)


@main.command()
@problem_options
@click.option("--points", type=int, default=200, show_default=True, help="Number of widths.")
@click.option("--width-min", type=float, default=None, help="Smallest width p/n  [default: kappa/points].")
def curve(fmt, points, width_min, **kwargs):
    """The sparse double-descent curve: every risk over widths p/n from near 0 to kappa."""
    setup = _setup_from(kwargs)
    result = predict_curve(setup, points=points, width_min=width_min)
    _emit(result, fmt)


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
        click.echo(_csv(rows), nl=False)
    else:
        click.echo(_table(result, rows))


def _csv(rows) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["width", "p", "zeta", "gamma", "converged", *RISK_NAMES])
    for r in rows:
        writer.writerow([
            repr(r.width), repr(r.p), repr(r.zeta), repr(r.gamma), int(r.converged),
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


if __name__ == "__main__":  # pragma: no cover
    main()
