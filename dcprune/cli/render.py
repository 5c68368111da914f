"""Renderers: one per result type, each serving table, CSV and JSON for every family.

Columns and labels come from the quantity registry (:mod:`dcprune.quantities`); a sampled
theory (``problem.sampled``) adds a ``NAME_se`` column per quantity, a Monte Carlo run always
does. Warnings go to stderr (as ``warning: ...``) in table and CSV output, into the document
in JSON.
"""

from __future__ import annotations

import csv
import io
import json
import math

import click

from ..quantities import BLOCKS, PREDICTED, QUANTITIES
from .quantize import QUANTIZED_COLUMNS

__all__ = ["emit_prediction", "emit_simulation", "csv_text", "json_text", "warn"]


def _fmt(x: float, width: int = 8) -> str:
    if math.isinf(x):
        return "inf".rjust(width)
    return f"{x:{width}.4g}"


def _pm(mean: float, se: float) -> str:
    text = "inf" if math.isinf(mean) else f"{mean:.4g}±{se:.2g}"
    return " " + text.rjust(13)


def csv_text(header, rows) -> str:
    """CSV text of a header and rows."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def json_text(data) -> str:
    """Indented JSON (infinite values must already be ``None``)."""
    return json.dumps(data, indent=2, allow_nan=False)


def warn(lines) -> None:
    """Warnings on stderr, one ``warning: ...`` line each."""
    for line in lines:
        click.echo(f"warning: {line}", err=True)


def emit_prediction(result, fmt: str, lead: str | None = None) -> None:
    """Print a :class:`~dcprune.predict.Prediction` or :class:`~dcprune.predict.Sweep`; with
    ``lead``, an axis sweep (:class:`~dcprune.workflows.axes.AxisSweep`) whose first column is
    that axis's values."""
    if fmt == "json":
        click.echo(json_text(result.to_dict()))
        return
    warn(result.warnings)
    problem = result.problem
    quantized = _quantized_rows(result)
    if fmt == "csv":
        se = [f"{k}_se" for k in PREDICTED] if problem.sampled else []
        first = [[repr(v)] for v in result.values] if lead else [[] for _ in result.rows]
        rows = [[*lead_cells, repr(r.width), repr(problem.as_count(r.p)), repr(r.zeta), repr(r.gamma), int(r.converged),
                 *(repr(r.risk[k].mean) for k in PREDICTED),
                 *((repr(r.risk[k].se) for k in PREDICTED) if problem.sampled else ()),
                 *((repr(x) for x in _quantized_cells(q)) if q is not None else ())]
                for lead_cells, r, q in zip(first, result.rows, quantized)]
        header = [*([lead] if lead else []), "width", "p", "zeta", "gamma", "converged", *PREDICTED, *se,
                  *(QUANTIZED_COLUMNS if quantized[0] is not None else ())]
        click.echo(csv_text(header, rows), nl=False)
        return
    lines = problem.title()
    ref = result.reference
    if ref is not None:
        lines.append(
            f"# reference: best dense p<=n {_fmt(ref.best_small_dense, 0).strip()} (width {ref.best_width:.3g}), "
            f"oracle+retrain {_fmt(ref.oracle_retrain, 0).strip()}")
    if problem.sampled:  # sampled theories: mean ± standard error of the DC sampling
        lines += _blocks(result.rows, PREDICTED, lambda r: "" if r.converged else "  (not converged)")
    else:
        # One line of every risk would pass 80 columns: pruning and fresh retraining (with ζ)
        # make the first table, each further block of BLOCKS (distillation, same-data
        # retraining) its own.
        for title, names in _CLOSED_FORM_TABLES:
            extra = ["zeta"] if title is None else []
            if title is not None:
                lines.append(f"# {title}")
            lines.append(" ".join(c.rjust(7) for c in [*([lead] if lead else []), "width", *extra,
                                                       *(QUANTITIES[k].label for k in names)]))
            for i, r in enumerate(result.rows):
                cells = [*([f"{result.values[i]:7.4g}"] if lead else []), f"{r.width:7.4g}",
                         *([f"{r.zeta:7.4g}"] if extra else []), *(_fmt(r.risk[k].mean, 7) for k in names)]
                lines.append(" ".join(cells) + ("" if r.converged else "  (not converged)"))
    if quantized[0] is not None:
        lines += _quantized_table(result.rows, quantized)
    click.echo("\n".join(lines))


# The closed-form tables: (title, names); the first, untitled, has pruning, fresh retraining and ζ.
_CLOSED_FORM_TABLES = (
    (None, tuple(k for k in PREDICTED if QUANTITIES[k].retrain in (None, "fresh"))),
    *((title, tuple(k for k in names if k in PREDICTED)) for title, names in BLOCKS
      if any(k in PREDICTED and QUANTITIES[k].retrain not in (None, "fresh") for k in names)),
)


def _quantized_rows(result) -> list:
    """The :class:`~dcprune.quantization.Quantized` of each row, or ``None`` per row."""
    q = getattr(result, "quantized", None)
    if q is None:
        return [None] * len(result.rows)
    return [q] if not isinstance(q, tuple) else list(q)


def _quantized_cells(q) -> tuple:
    """``(q_dense, q_magnitude, clip_dense, clip_magnitude)``: numbers for a prediction,
    ``(mean, se)`` pairs for a Monte Carlo run."""
    if q.measured:
        return (tuple(q.risk["dense"]), tuple(q.risk["magnitude"]), tuple(q.clip["dense"]),
                tuple(q.clip["magnitude"]))
    return (q.risk["dense"].mean, q.risk["magnitude"].mean, q.clip["dense"], q.clip["magnitude"])


def _quantized_table(rows, quantized) -> list[str]:
    """The quantized block: risks and clips of the dense and magnitude-pruned models (mean ± SE
    over trials for a Monte Carlo run)."""
    spec = quantized[0].spec
    measured = quantized[0].measured
    clip = ("max|b| of each trial" if measured else "E[max|b|]") if spec.clip_rule == "absmax" \
        else f"{spec.clip_rule} clip" + (" of each trial" if measured else "")
    lines = [f"# quantized: {spec.bits} bits, {spec.quantizer}, {spec.rounding} rounding, clip {spec.clip_rule}"
             f" (clip columns: the {clip})"]
    if measured:
        lines.append("  width" + "".join(c.rjust(14) for c in ("q_dense", "q_MP", "clip_dense", "clip_MP")))
        for r, q in zip(rows, quantized):
            lines.append(f"{r.width:7.4g}" + "".join(_pm(*e) for e in _quantized_cells(q)))
        return lines
    lines.append("  width  q_dense  q_MP     clip_dense clip_MP")
    for r, q in zip(rows, quantized):
        d, m, cd, cm = _quantized_cells(q)
        lines.append(f"{r.width:7.4g} {_fmt(d)} {_fmt(m)} {_fmt(cd, 10)} {_fmt(cm, 10)}"
                     + ("" if q.converged else "  (not converged)"))
    return lines


def emit_simulation(result, fmt: str, single: bool) -> None:
    """Print a Monte Carlo run (:class:`dcprune.montecarlo.Simulation`): one model when ``single``."""
    if fmt == "json":
        click.echo(json_text(result.to_dict(single=single)))
        return
    warn(result.warnings)
    names = result.names
    quantized = [r.quantized for r in result.rows]
    if fmt == "csv":
        extra = quantized[0] is not None
        rows = [[repr(r.width), r.p, r.flagged, *(repr(x) for q in names for x in (r.risk[q].mean, r.risk[q].se)),
                 *((repr(x) for e in _quantized_cells(q) for x in e) if extra else ())]
                for r, q in zip(result.rows, quantized)]
        header = ["width", "p", "flagged", *(c for q in names for c in (q, f"{q}_se")),
                  *((c for k in QUANTIZED_COLUMNS for c in (k, f"{k}_se")) if extra else ())]
        click.echo(csv_text(header, rows), nl=False)
        return
    lines = result.title() + _blocks(result.rows, names, lambda r: f"  ({r.flagged} flagged)" if r.flagged else "")
    if quantized[0] is not None:
        lines += _quantized_table(result.rows, quantized)
    click.echo("\n".join(lines))


def _blocks(rows, names, note) -> list[str]:
    """Mean ± SE cells, one block of columns per group of :data:`BLOCKS` (each fits 80 columns)."""
    lines = []
    for block, block_names in BLOCKS:
        block_names = [k for k in block_names if k in names]
        if not block_names:
            continue
        lines.append(f"# {block}")
        lines.append("  width" + "".join(QUANTITIES[k].label.rjust(14) for k in block_names))
        for r in rows:
            cells = "".join(_pm(r.risk[k].mean, r.risk[k].se) for k in block_names)
            lines.append(f"{r.width:7.4g}" + cells + note(r))
    return lines
