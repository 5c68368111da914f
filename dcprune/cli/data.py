"""``dcprune data FILE``: will pruning help on my rows, and can the prediction be trusted?

Parses the options, calls :func:`dcprune.yourdata.analysis.analyze` and prints (or writes with
``--output``, atomically) the table, CSV or JSON of :class:`dcprune.yourdata.report.DataReport`.
Every refusal happens before anything is computed or written: one ``Error:`` line, non-zero exit.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import click

from .commands import main

__all__ = ["data_command"]


def _counts(option: str, text: str) -> list[float]:
    try:
        values = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise click.UsageError(f"{option} must be comma-separated numbers, got {text!r}") from None
    if not values or not all(math.isfinite(v) and v > 0 for v in values):
        raise click.UsageError(f"{option} must list positive numbers, got {text!r}")
    return values


def _widths(widths, grid, n):
    if widths is not None and grid is not None:
        raise click.UsageError("give either --widths (column counts) or --width-grid (widths p/n), not both")
    if widths is not None:
        values = _counts("--widths", widths)
        if any(v != int(v) for v in values):
            raise click.UsageError(f"--widths are column counts (whole numbers), got {widths!r}")
        return [int(v) for v in values]
    if grid is not None:
        return [max(1, round(v * n)) for v in _counts("--width-grid", grid)]
    return None


@main.command("data")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--target", default=None, help="The target column (CSV: its header name; .npz: y; .npy: its index "
              "[default: last]).")
@click.option("--n", "n", type=int, required=True, help="Training rows the model is fitted on.")
@click.option("--s", "s", type=int, required=True, help="Nonzero weights kept by pruning.")
@click.option("--widths", default=None, help="Model widths as column counts, e.g. 5,10,20  [default: up to 20 "
              "evenly spaced from 1 to d].")
@click.option("--width-grid", "width_grid", default=None, help="Model widths as p/n, e.g. 0.1,0.5,1.5.")
@click.option("--order", type=click.Choice(("saliency", "file")), default="saliency", show_default=True,
              help="Column order: population saliency Σ_jj β_j² (largest first) or the file's.")
@click.option("--standardize", is_flag=True, help="Divide every column by its population standard deviation.")
@click.option("--empirical", "empirical", type=int, default=None, metavar="TRIALS",
              help="Also run the real procedure TRIALS times on subsamples of the rows.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the theory's sampling and the check.")
@click.option("--robust", is_flag=True, help="Sandwich noise covariance for p < n - 1 (a partial correction: "
              "residuals that depend on x only).")
@click.option("--format", "fmt", type=click.Choice(("table", "json", "csv")), default="table", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False), default=None, help="Write to FILE instead of stdout.")
def data_command(file, target, n, s, widths, width_grid, order, standardize, empirical, seed, robust, fmt, output):
    """Predict pruning on your own rows (the rows are the population), with diagnostics and an
    optional empirical check on subsamples of the same rows."""
    from ..output import atomic_write, check_directory, write_csv
    from ..yourdata.analysis import analyze
    from ..yourdata.dataset import load_dataset
    from ..yourdata.report import CSV_HEADER

    trials = empirical  # its own parameter name: "trials" is --trials in the option table of errors.py
    if seed < 0:
        raise click.UsageError(f"--seed must be >= 0, got {seed}")
    if trials is not None and trials < 2:
        raise click.UsageError(f"--empirical must be at least 2 trials (a standard error needs two), got {trials}")
    counts = _widths(widths, width_grid, n)
    if output is not None:
        check_directory(Path(output))  # a bad --output fails before any computation
    dataset = load_dataset(file, target)
    report = analyze(dataset, n=n, s=s, widths=counts, order=order, standardize=standardize, trials=trials,
                     seed=seed, robust=robust)
    if fmt == "csv":
        comments = report.title() + [f"warning: {w}" for w in report.warnings]
        rows = [[None if isinstance(x, float) and math.isnan(x) else x for x in r] for r in report.long_rows()]
        if output is not None:
            write_csv(output, CSV_HEADER, rows, comments=[c.lstrip("# ") for c in comments])
            return
        import csv
        import io

        buf = io.StringIO()
        for c in comments:
            buf.write(f"# {c.lstrip('# ')}\n")
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(CSV_HEADER)
        writer.writerows(["" if x is None else (repr(float(x)) if isinstance(x, float) else x) for x in r]
                         for r in rows)
        text = buf.getvalue().rstrip("\n")
    elif fmt == "json":
        text = json.dumps(report.to_dict(), indent=2, allow_nan=False)
    else:
        text = report.table()
    if output is not None:
        atomic_write(output, lambda tmp: Path(tmp).write_text(text + "\n", encoding="utf-8"))
    else:
        click.echo(text)
