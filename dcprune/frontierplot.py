"""The figure of a bit budget's frontier: the quantized double descent (docs/theory.rst §11).

``dcprune frontier --plot FILE`` and the compression figure draw it, with the axes, error bars
and files of :mod:`dcprune.plotaxes`.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from .plotaxes import (
    FIGSIZE,
    bottom_label,
    check_plot_path,
    draw_errorbars,
    finite_or_nan,
    save_figure,
    set_risk_limits,
)
from .plotting import default_title
from .predict import Sweep

__all__ = ["FRONTIER_NAMES", "plot_frontier", "problem_title"]


#: Lines of a bit budget's frontier (:func:`plot_frontier`), one value per width.
FRONTIER_NAMES = ("best", "dense_quantized", "prune_only")
_FRONTIER_STYLE = {
    "best": dict(label="best in budget\n(prune, then quantize)", color="C0", marker="o", linestyle="-",
                 linewidth=1.8),
    "dense_quantized": dict(label="dense, quantized\n(most bits that fit)", color="C1", marker="s",
                            linestyle=(0, (5, 2))),
    "prune_only": dict(label="pruned, 32-bit", color="C3", marker="^", linestyle=":"),
}
_FULL_PRECISION = dict(label="dense, full precision\n(no budget)", color="0.25", linestyle="-", linewidth=1.0)


def plot_frontier(frontiers, path, *, dense: Sweep | None = None, markers=None, title: str | None = None,
                  legend_title: str = "lines: theory") -> Path:
    """Risk against width at a bit budget: the quantized double descent (docs/theory.rst §11).

    ``frontiers``: a :class:`~dcprune.quantization.frontier.Frontier` or several (one axes each,
    sharing the risk axis). Each axes draws, per width, the best model stored in the budget, the
    dense model quantized at the most bits that fit (labelled with its bits where they change) and
    32-bit magnitude pruning within the budget, with the overall best starred; ``dense`` (a
    :class:`~dcprune.Sweep` of the same problem) adds its full-precision dense curve.
    ``markers`` (one mapping per frontier, optional): ``name → (widths, mean, se)`` Monte Carlo
    estimates of a line of :data:`FRONTIER_NAMES`, drawn as error bars in its style. Returns
    ``path``; the extension picks the format (:data:`FORMATS`).
    """
    from .quantization.frontier import Frontier

    path = check_plot_path(path)
    frontiers = [frontiers] if isinstance(frontiers, Frontier) else list(frontiers)
    if not frontiers:
        raise ValueError("frontiers must hold at least one Frontier")
    markers = [{}] * len(frontiers) if markers is None else list(markers)
    if len(markers) != len(frontiers):
        raise ValueError(f"markers must hold one mapping per frontier ({len(frontiers)}), got {len(markers)}")
    for panel in markers:
        unknown = [k for k in panel if k not in _FRONTIER_STYLE]
        if unknown:
            raise ValueError(f"unknown frontier lines {unknown}; choose from {', '.join(FRONTIER_NAMES)}")

    k = len(frontiers)
    fig = Figure(figsize=(FIGSIZE[0] if k == 1 else 4.2 * k + 2.4, FIGSIZE[1]), layout="constrained")
    axes = fig.subplots(1, k, sharey=True, squeeze=False)[0]
    shown, xs, marked = [], [], set()
    for ax, result, panel in zip(axes, frontiers, markers):
        widths = np.array([r.width for r in result.rows])
        xs.append(widths)
        if dense is not None:
            ax.plot(dense.widths, finite_or_nan(dense.mean("dense")), color=_FULL_PRECISION["color"],
                    linestyle=_FULL_PRECISION["linestyle"], linewidth=_FULL_PRECISION["linewidth"], zorder=1)
            shown.append((np.asarray(dense.widths, dtype=float), finite_or_nan(dense.mean("dense"))))
        for name in FRONTIER_NAMES:
            style = _FRONTIER_STYLE[name]
            values = finite_or_nan([math.nan if getattr(r, name) is None else getattr(r, name).risk
                                     for r in result.rows])
            ax.plot(widths, values, color=style["color"], linestyle=style["linestyle"],
                    linewidth=style.get("linewidth", 1.4), zorder=2)
            shown.append((widths, values))
        _label_bits(ax, result)
        for name, (mx, mean, se) in panel.items():
            se = np.asarray(se, dtype=float)
            draw_errorbars(ax, np.asarray(mx, dtype=float), finite_or_nan(mean), np.where(np.isfinite(se), se, 0.0),
                      _FRONTIER_STYLE[name], filled=True)
            shown.append((np.asarray(mx, dtype=float), finite_or_nan(mean)))
            marked.add(name)
        heading = f"budget {result.budget:g} bits{', with index bits' if result.index_bits else ''}"
        if result.best is not None:
            best = result.best
            ax.plot([best.width], [best.risk], marker="*", markersize=11, color="C0", markeredgecolor="black",
                    markeredgewidth=0.6, linestyle="none", zorder=5)
            heading += f"\nbest: p = {best.p}, s = {best.s}, {best.bits}-bit {best.quantizer}, risk {best.risk:.3f}"
        if widths.min() < 1 < widths.max():
            ax.axvline(1.0, color="0.8", linestyle="-", linewidth=0.8, zorder=0)
            bottom_label(ax, 1.0, "p = n")
        ax.set_title(heading, fontsize=8)
        ax.set_xlabel("p/n")
        ax.grid(True, which="major", color="0.92", linewidth=0.6)
        ax.tick_params(labelsize=9)
    set_risk_limits(axes[0], shown, math.nan, np.concatenate(xs))
    for ax, x in zip(axes, xs):
        pad = 0.02 * (x.max() - x.min())
        ax.set_xlim(max(0.0, x.min() - pad), x.max() + pad)
    axes[0].set_ylabel("test risk")
    if title is None and dense is not None:
        title = problem_title(dense)
    if title:
        fig.suptitle(title, fontsize=10)
    handles = [Line2D([], [], color=s["color"], linestyle=s["linestyle"], linewidth=s.get("linewidth", 1.4),
                      marker=s["marker"] if name in marked else None, markersize=4.5, label=s["label"])
               for name, s in _FRONTIER_STYLE.items()]
    if dense is not None:
        handles.append(Line2D([], [], **_FULL_PRECISION))
    handles.append(Line2D([], [], color="C0", marker="*", markersize=9, markeredgecolor="black",
                          markeredgewidth=0.6, linestyle="none", label="best overall"))
    axes[-1].legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8, title=legend_title,
                    title_fontsize=8, frameon=False, borderaxespad=0.0, alignment="left")
    save_figure(fig, path)
    return path


def _label_bits(ax, result) -> None:
    """The dense quantized model's bits, written where they change along the widths."""
    last = None
    for row in result.rows:
        choice = row.dense_quantized
        if choice is None or not math.isfinite(choice.risk) or choice.bits == last:
            continue
        last = choice.bits
        ax.annotate(f"{choice.bits}b", xy=(row.width, choice.risk), xytext=(0, 5), textcoords="offset points",
                    ha="center", va="bottom", fontsize=7, color=_FRONTIER_STYLE["dense_quantized"]["color"],
                    bbox=dict(boxstyle="round,pad=0.1", facecolor="white", edgecolor="none", alpha=0.75))


def problem_title(curve: Sweep) -> str:
    """:func:`~dcprune.plotting.default_title` of a finite diagonal problem without its ``s`` (the
    bit-budget search chooses the kept count), with its coefficients."""
    return f"{default_title(curve, kept=False)}, {getattr(curve.problem, 'coefficients', 'fixed')} coefficients"
