"""The workflow commands: ``best`` (the minimizing width, sparsity or ridge per rule) and
``check`` (theory beside Monte Carlo for one configuration).

Like :mod:`~dcprune.cli.commands`, each builds its problem with
:func:`~dcprune.cli.options.problem_from`, calls the library (:mod:`dcprune.workflows`) and
prints table, CSV or JSON.
"""

from __future__ import annotations

import click

from ..quantities import QUANTITIES
from ..workflows.axes import along
from ..workflows.best import AXES, best
from .commands import main
from .options import is_sampled, problem_from, problem_options
from .quantize import quantization_from, quantization_options
from .render import csv_text, emit_prediction, json_text, warn
from .scheduler import on_scheduler, scheduler_option

__all__ = ["best_command", "curve_over"]


def curve_over(kwargs, *, fmt, over, start, stop, width, points, width_min, seed, plot) -> None:
    """``dcprune curve --over AXIS``: predictions along any axis (:func:`dcprune.workflows.axes.along`)."""
    if plot:
        raise click.UsageError("--plot and --simulate draw width curves: leave out --over/--from/--to/--width")
    if over == "width" and width is not None:
        raise click.UsageError("--width fixes the model along another axis: give --over alpha, n, sigma2 or ridge")
    if width_min is not None:
        if over != "width" or start is not None:
            raise click.UsageError("--width-min is the start of a width curve: use --from with --over")
        start = width_min
    points = points if points is not None else (20 if is_sampled(kwargs) else 200)
    problem = problem_from(kwargs, seed)
    result = along(problem, over, start=start, stop=stop, points=points, width=width)
    emit_prediction(result, fmt, lead=over if over != "width" else None)


def _cell(x) -> str:
    return "inf" if x is None else f"{x:.6g}"


@main.command("best")
@problem_options
@click.option("--over", type=click.Choice(AXES), default="width", show_default=True,
              help="The axis to minimize along: the width p/n, the sparsity alpha = s/d (at --width) or the "
                   "ridge (at --width).")
@click.option("--width", type=float, default=None,
              help="With --over alpha or ridge: the model's width p/n  [default: kappa].")
def best_command(fmt, over, width, **kwargs):
    """The best model per rule: the width (or alpha, or ridge) that minimizes each risk.

    Bounded 1-D search on the closed forms (diagonal problems), refined inside the atom where
    the minimum lies; every integer p (or s) at finite --n. Prints each rule's minimizer, its
    risk, and how far it lies below the baseline (full width; the dense model for alpha;
    ridge 0 for ridge) and below the reference line.
    """
    if over == "width" and width is not None:
        raise click.UsageError("--width is what best --over width searches: give it with --over alpha or ridge")
    problem = problem_from(kwargs)
    result = best(problem, over=over, width=width)
    data = result.to_dict()
    if fmt == "json":
        click.echo(json_text(data))
        return
    warn(result.warnings)
    size = {"width": "p", "alpha": "s"}.get(over)
    columns = ["quantity", over, *([size] if size else []), "risk", "converged", "baseline", "below_baseline",
               *(["below_reference"] if result.reference is not None else [])]
    rows = [[name, *(row.get(c) for c in columns[1:])] for name, row in data["best"].items()]
    if fmt == "csv":
        click.echo(csv_text(columns, [[("" if v is None else v) for v in r] for r in rows]), nl=False)
        return
    lines = problem.title()
    lines.append(f"# best {over} per quantity; baseline: {data['baseline']}"
                 + (f"; reference line {_cell(result.reference.line)}" if result.reference is not None else ""))
    lines.append(f"{'quantity':>22} {over:>10}" + (f" {size:>8}" if size else "") + f" {'risk':>10} {'baseline':>10} "
                 f"{'gain':>10}" + (f" {'vs ref':>10}" if result.reference is not None else ""))
    for name, row in data["best"].items():
        cells = [f"{QUANTITIES[name].name:>22}", f"{row[over]:10.6g}"]
        if size:
            cells.append(f"{row[size]:8.6g}")
        cells += [f"{_cell(row['risk']):>10}", f"{_cell(row['baseline']):>10}", f"{_cell(row['below_baseline']):>10}"]
        if result.reference is not None:
            cells.append(f"{_cell(row['below_reference']):>10}")
        lines.append(" ".join(cells) + ("" if row["converged"] else "  (not converged)"))
    click.echo("\n".join(lines))


@main.command("check")
@problem_options
@quantization_options
@click.option("--width", type=float, default=None, help="The model's width p/n  [default: kappa].")
@click.option("--trials", type=int, default=200, show_default=True, help="Monte Carlo trials.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed; the same seed gives the same numbers.")
@click.option("--threshold", type=float, default=4.0, show_default=True,
              help="Fail (exit 1) when a claimed quantity's |z| exceeds it.")
@click.option("--threads", type=int, default=None, help="Numba threads  [default: all cores].")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@scheduler_option
def check_command(fmt, width, trials, seed, threshold, threads, quiet, scheduler, **kwargs):
    """Theory beside Monte Carlo for one model: theory, MC mean ± SE and z per quantity.

    The verdict line gives the largest |z| of the claimed quantities (dense, pruned, fresh
    retraining, distillation), magnitude pruning's same-data retraining against its heuristic
    prediction (claimed within --threshold SE plus its allowance, docs/theory.rst §14) and the
    largest |z| of the reported ones (Hessian and oracle same-data retraining); the exit status
    is 1 when a claimed check fails. With --bits, the quantized dense and magnitude-pruned
    models too, claimed or reported only (with the reason) by the rule of `dcprune validate`.
    """
    import math
    import sys

    from ..workflows.check import check
    from .commands import LazyProgress, announce_compile, check_threads_option

    if kwargs["n"] is None:
        raise click.UsageError("--n is required for check (Monte Carlo has a finite sample size)")
    if trials < 2:
        raise click.UsageError(f"--trials must be at least 2 (a standard error needs two), got {trials}")
    if not (math.isfinite(threshold) and threshold > 0):
        raise click.UsageError(f"--threshold must be finite and > 0, got {threshold}")
    check_threads_option(threads, scheduler)
    quantization = quantization_from(kwargs)
    problem = problem_from(kwargs, seed)
    announce_compile()
    with on_scheduler(scheduler), LazyProgress(trials, enabled=not quiet and sys.stderr.isatty()) as progress:
        result = check(problem, width, trials=trials, seed=seed, threshold=threshold, threads=threads,
                       progress=progress, quantization=quantization)
    data = result.to_dict()
    if fmt == "json":
        click.echo(json_text(data))
    else:
        warn(data["warnings"])
        columns = ["quantity", "claimed", "theory", "theory_se", "mean", "se", "z", "reason"]
        if fmt == "csv":
            click.echo(csv_text(columns, [[("" if c[k] is None else c[k]) for k in columns] for c in data["checks"]]),
                       nl=False)
        else:
            lines = result.simulation.title()
            if "quantized" in data:
                q, mc = data["quantized"]["theory"], data["quantized"]["monte_carlo"]["clip"]
                clips = ", ".join(f"{model} {q['clip'][model]:.4g} (MC {mc[model]['mean']:.4g})"
                                  for model in ("dense", "magnitude"))
                lines.append(f"# quantized (q_): {q['bits']} bits, {q['quantizer']}, {q['rounding']} rounding, "
                             f"clip {q['clip_rule']}: {clips}")
            lines.append(f"{'quantity':>34} {'theory':>10} {'Monte Carlo':>18} {'z':>7}")
            for check, c in zip(result.checks, data["checks"]):
                # null is inf (the peak) or NaN: not predicted (same-data retraining, §14), or a
                # quantized risk undefined where a fixed clip leaves no levels (§11)
                nan = "undefined" if c["quantity"].startswith("q_") else "n/a"
                none = "inf" if math.isinf(check.theory) else nan
                theory = none if c["theory"] is None else f"{c['theory']:.5g}"
                if c["theory_se"]:
                    theory += f"±{c['theory_se']:.2g}"
                mc = ("undefined" if c["quantity"].startswith("q_") else "inf") if c["mean"] is None \
                    else f"{c['mean']:.5g} ± {c['se']:.2g}"
                z = "-" if c["z"] is None else f"{c['z']:+.2f}"
                note = (" (reported)" if not c["claimed"]
                        else " (heuristic)" if check in result.heuristic else "")
                lines.append(f"{c['quantity'] + note:>34} {theory:>10} {mc:>18} {z:>7}")
            reasons = {}
            for c in data["checks"]:
                if not c["claimed"]:
                    reasons.setdefault(c["reason"], []).append(c["quantity"])
            lines += [f"reported only, {', '.join(names)}: {reason}" for reason, names in reasons.items()]
            click.echo("\n".join(lines))
    click.echo(data["verdict"]["line"], err=fmt != "table")
    if not result.passed:
        raise click.exceptions.Exit(1)


@main.command("split")
@problem_options
@click.option("--width", type=float, default=None, help="The model's width p/n  [default: kappa].")
def split_command(fmt, width, **kwargs):
    """The bias/variance split of the dense and retrained risks, and the dense training error.

    risk = noise σ² + omitted (signal of the features the model leaves out) + bias + variance
    (diagonal problems, docs/theory.rst §2).
    """
    from ..workflows.split import PARTS, split

    result = split(problem_from(kwargs), width)
    data = result.to_dict()
    if fmt == "json":
        click.echo(json_text(data))
        return
    columns = ["quantity", "risk", *PARTS]
    rows = [[name, *(row[c] for c in columns[1:])] for name, row in data["split"].items()]
    if fmt == "csv":
        rows.append(["train_error", data["train_error"], *[""] * len(PARTS)])
        click.echo(csv_text(columns, [[("" if v is None else v) for v in r] for r in rows]), nl=False)
        return
    lines = result.problem.title() + [f"# width {result.width:.6g}: risk = noise + omitted + bias + variance"]
    lines.append("".join(c.rjust(18 if i == 0 else 11) for i, c in enumerate(columns)))
    for r in rows:
        lines.append(r[0].rjust(18) + "".join(_cell(v).rjust(11) for v in r[1:]))
    lines.append(f"# training error of the dense model: {_cell(data['train_error'])}")
    click.echo("\n".join(lines))
