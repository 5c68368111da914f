"""``dcprune frontier``: the least predicted risk of a model stored in a bit budget
(docs/theory.rst §11; :func:`dcprune.quantization.frontier.frontier`)."""

from __future__ import annotations

import click

from .commands import main
from .options import problem_from, problem_options
from .render import csv_text, json_text, warn

__all__ = ["frontier_command"]


def _cells(c):
    return ["", "", "", "", ""] if c is None else [c.s, c.bits, c.quantizer or "", "" if c.clip is None else
                                                   f"{c.clip:.4g}", f"{c.risk:.4g}"]


@main.command("frontier")
@problem_options
@click.option("--budget", type=float, required=True, help="Bits to store the model: s weights of b bits each.")
@click.option("--index-bits", is_flag=True, help="Count the sparsity pattern too: log2 C(p, s) bits.")
@click.option("--points", type=int, default=20, show_default=True, help="Widths searched (the curve's grid).")
@click.option("--clip", default="mse", show_default=True, metavar="RULE",
              help="Clipping range: mse, absmax, optimal or a positive number.")
@click.option("--rounding", default="nearest", show_default=True, metavar="NAME", help="nearest or stochastic.")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), default=None,
              help="Also draw risk against width at the budget to FILE (.png, .pdf or .svg): the best model, the "
                   "dense quantized model, 32-bit pruning and the full-precision dense curve.")
def frontier_command(fmt, budget, index_bits, points, clip, rounding, plot_path, **kwargs):
    """The best compressed model for a bit budget: widths, kept counts s and bits 1-16 of both
    quantizers, with s·b (+ log2 C(p, s) with --index-bits) <= BUDGET (diagonal problems, --n)."""
    from ..quantization.frontier import frontier

    if kwargs["n"] is None:
        raise click.UsageError("frontier needs --n (kept counts are whole weights)")
    if plot_path is not None:
        from ..plotting import check_plot_path  # matplotlib only when plotting

        check_plot_path(plot_path)  # fail before any computation
    problem = problem_from(kwargs)
    result = frontier(problem, budget, index_bits=index_bits, points=points, clip=clip, rounding=rounding)
    if plot_path is not None:
        from ..frontierplot import plot_frontier
        from ..predict import sweep

        plot_frontier(result, plot_path, dense=sweep(problem))
    if fmt == "json":
        click.echo(json_text(result.to_dict()))
        return
    warn(result.warnings)
    head = ["width", "p", "s", "bits", "quantizer", "clip", "risk", "prune_only_s", "prune_only_risk",
            "dense_bits", "dense_quantizer", "dense_risk"]
    rows = []
    for r in result.rows:
        b, po, dq = _cells(r.best), r.prune_only, r.dense_quantized
        rows.append([f"{r.width:.4g}", r.p, *b, *(["", ""] if po is None else [po.s, f"{po.risk:.4g}"]),
                     *(["", "", ""] if dq is None else [dq.bits, dq.quantizer, f"{dq.risk:.4g}"])])
    if fmt == "csv":
        click.echo(csv_text(head, rows), nl=False)
        return
    best, ref = result.best, result.reference
    lines = problem.title() + [
        f"# budget {result.budget:g} bits{' (with index bits)' if result.index_bits else ''}: best p={best.p}, "
        f"s={best.s}, {best.bits} bits {best.quantizer}, risk {best.risk:.4g}",
        f"# reference: dense full precision {ref['dense_full_precision']}, best dense p<=n "
        f"{ref['best_small_dense']:.4g}",
        " ".join(h.rjust(9) for h in head)]
    lines += [" ".join(str(c).rjust(9) for c in row) for row in rows]
    click.echo("\n".join(lines))
