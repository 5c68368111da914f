"""Figures of the sparse double-descent curve and of validation z-scores (docs/theory.rst §5, §9).

With :mod:`dcprune.plotaxes` (the axes, markers and files every figure shares) and
:mod:`dcprune.frontierplot` (the bit-budget figure), the only modules of dcprune that import
matplotlib; ``import dcprune`` never loads them. They select the non-interactive ``Agg``
backend on import, so they work on machines without a display (CI, batch jobs), and draw on
:class:`matplotlib.figure.Figure` objects directly, so no pyplot figure is left open. Files are
written atomically: to a temporary file in the target directory, then renamed over the
target, so a failed or interrupted run never leaves a half-written figure or table behind.

    import dcprune
    from dcprune.plotting import plot_curve
    setup = dcprune.Diagonal(dcprune.SpikedCovariance(), kappa=3, alpha=1/6, sigma2=0.05, n=200)
    plot_curve(dcprune.sweep(setup), "curve.png")
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter

from .output import atomic_write
from .plotaxes import (
    FIGSIZE,
    FORMATS,
    bottom_label,
    check_plot_path,
    draw_errorbars,
    finite_or_nan,
    save_figure,
    set_risk_limits,
)
from .predict import Sweep
from .quantities import PREDICTED as RISK_NAMES

__all__ = [
    "FORMATS",
    "BASE_NAMES",
    "RETRAIN_NAMES",
    "check_plot_path",
    "plot_curve",
    "default_title",
    "plot_zscores",
    "Panel",
    "plot_panels",
]

#: Theory lines drawn by default, and the fresh-retraining lines added by ``retrain=True``.
BASE_NAMES = ("dense", "magnitude", "hessian", "oracle")
RETRAIN_NAMES = ("magnitude_retrain", "hessian_retrain", "oracle_retrain")

# One look per quantity: the line of the theory and the marker of its Monte Carlo estimate
# share colour and marker, so a reader matches them without the legend. HP is dashed so that
# where it coincides with MP (Σ = I) both stay visible; retrained variants take a lighter hue
# of their rule and a dash-dot line (HP's with two dots, for the same reason). Same-data
# retraining (Monte Carlo only, no theory) reuses the fresh marker, unfilled.
_STYLE = {
    "dense": dict(label="dense", color="black", marker="o", linestyle="-", linewidth=1.8),
    "magnitude": dict(label="MP", color="C0", marker="s", linestyle="-"),
    "hessian": dict(label="HP", color="C3", marker="^", linestyle=(0, (5, 2))),
    "oracle": dict(label="OP", color="C2", marker="D", linestyle="-"),
    "random": dict(label="random", color="C7", marker="x", linestyle=":"),
    "magnitude_retrain": dict(label="MP + retrain", color="C9", marker="v", linestyle="-."),
    "hessian_retrain": dict(label="HP + retrain", color="C1", marker="<", linestyle=(0, (4, 1.5, 1, 1.5, 1, 1.5))),
    "oracle_retrain": dict(label="OP + retrain", color="C8", marker="P", linestyle="-."),
    # Distilled students: their rule's colour family, dotted (with diagonal Σ and M = ∞ they
    # lie on the pruned line, which stays visible under them).
    "magnitude_distill": dict(label="MP + distill", color="C4", marker="h", linestyle=(0, (1, 1.5))),
    "oracle_distill": dict(label="OP + distill", color="C5", marker="*", linestyle=(0, (1, 1.5))),
    # Same-data retraining's heuristic (§14): the fresh colour and marker (unfilled), long dashes.
    "magnitude_retrain_same": dict(label="MP + retrain, same data", color="C9", marker="v", linestyle=(0, (6, 2))),
}
_REFERENCE_COLOR = "0.35"
def plot_curve(
    curve: Sweep,
    path,
    *,
    simulation=None,
    retrain: bool = False,
    title: str | None = None,
    names: Sequence[str] | None = None,
    same_data: bool = True,
) -> Path:
    """Plot the sparse double-descent curve of ``curve`` to ``path``; returns the path.

    Theory lines for ``names`` (default :data:`BASE_NAMES`, plus :data:`RETRAIN_NAMES` when
    ``retrain``) against the width ``p/n``; a vertical line at ``p = s`` and a dashed
    horizontal line at the paper's reference ``curve.reference.line`` (the better of the best
    dense model with at most ``n`` weights and oracle pruning + retraining, docs/theory.rst §4). With a Monte Carlo
    ``simulation`` (:func:`dcprune.montecarlo.simulate` on the same setup), its means ± one
    standard error are markers in the colour of their line; for each drawn ``*_retrain`` line
    the same-data retraining estimate ``*_retrain_same`` is added as unfilled markers unless
    ``same_data=False``. The risk axis is logarithmic when the interpolation peak makes the
    values span more than a factor 20, and its top is clipped so the region away from the
    peak stays readable. The format follows the extension (:data:`FORMATS`).
    """
    path = check_plot_path(path)
    names = _check_names(names, retrain)
    if simulation is not None:
        sim_problem = getattr(simulation, "problem", None)
        if sim_problem is not None and not _same_problem(sim_problem, curve.problem):
            raise ValueError("the simulation was run on a different problem than the curve")

    fig = Figure(figsize=FIGSIZE, layout="constrained")
    ax = fig.add_subplot()
    widths = curve.widths
    shown = []  # (widths, values) of everything drawn, for the axis limits

    for name in names:
        style = _STYLE[name]
        values = finite_or_nan(curve.mean(name))
        ax.plot(widths, values, color=style["color"], linestyle=style["linestyle"],
                linewidth=style.get("linewidth", 1.4), zorder=2)
        shown.append((widths, values))
        if curve.problem.sampled:  # a sampled theory (random features, --covariance): ± one SE band
            se = finite_or_nan(curve.se(name))
            ax.fill_between(widths, values - se, values + se, color=style["color"], alpha=0.18, linewidth=0,
                            zorder=1)

    marked = set()
    if simulation is not None:
        for name in names:
            est = _estimate(simulation, name)
            if est is not None:
                draw_errorbars(ax, *est, _STYLE[name], filled=not name.endswith("_same"))
                shown.append(est[:2])
                marked.add(name)
            if same_data and name.endswith("_retrain") and f"{name}_same" not in names:
                est = _estimate(simulation, f"{name}_same")
                if est is not None:
                    draw_errorbars(ax, *est, _STYLE[name], filled=False)
                    shown.append(est[:2])
                    marked.add(f"{name}_same")

    reference = curve.reference.line if curve.reference is not None else math.nan
    if math.isfinite(reference):
        ax.axhline(reference, color=_REFERENCE_COLOR, linestyle="--", linewidth=1.2, zorder=1)
    scale = curve.problem.scale
    s_width = curve.s / scale
    ax.axvline(s_width, color="0.55", linestyle=":", linewidth=1.2, zorder=1)
    bottom_label(ax, s_width, "p = s")
    if widths.min() < 1 < widths.max():
        ax.axvline(1.0, color="0.8", linestyle="-", linewidth=0.8, zorder=0)
        bottom_label(ax, 1.0, "p = n")

    set_risk_limits(ax, shown, reference, widths)
    ax.set_xlabel("p/n")
    ax.set_ylabel("test risk")
    ax.set_title(title if title is not None else default_title(curve), fontsize=10)
    ax.grid(True, which="major", color="0.92", linewidth=0.6)
    ax.tick_params(labelsize=9)
    _legend(ax, names, marked, curve, simulation)
    save_figure(fig, path)
    return path


def _same_problem(a, b) -> bool:
    """Whether two problems are the same (a problem holding arrays compares by identity)."""
    if a is b:
        return True
    try:
        return bool(a == b)
    except ValueError:  # array fields: `==` is elementwise
        return False


def _check_names(names, retrain: bool) -> tuple[str, ...]:
    if names is None:
        return BASE_NAMES + (RETRAIN_NAMES if retrain else ())
    names = tuple(names)
    if unknown := [n for n in names if n not in RISK_NAMES]:
        raise ValueError(f"unknown risk names {unknown}; choose from {', '.join(RISK_NAMES)}")
    if not names:
        raise ValueError("names must name at least one risk to plot")
    return names


def _estimate(simulation, name: str):
    """``(widths, mean, se)`` of quantity ``name``, or ``None`` if the simulation lacks it."""
    try:
        mean = finite_or_nan(simulation.mean(name))
        se = np.asarray(simulation.se(name), dtype=float)
    except (KeyError, ValueError, AttributeError):
        return None
    return np.asarray(simulation.widths, dtype=float), mean, np.where(np.isfinite(se), se, 0.0)


def _legend(ax, names, marked, curve: Sweep, simulation) -> None:
    handles = [_line_handle(_STYLE[name], name, marked) for name in names]
    handles += [_same_handle(_STYLE[n]) for n in names if f"{n}_same" in marked and f"{n}_same" not in names]
    ref = curve.reference
    if ref is not None and math.isfinite(ref.line):
        handles.append(Line2D([], [], color=_REFERENCE_COLOR, linestyle="--", linewidth=1.2,
                              label="best dense ≤ n weights\nor OP + retrain"))
    handles.append(Line2D([], [], color="0.55", linestyle=":", linewidth=1.2, label="p = s"))
    title = "lines: theory" + (" ± s.e. (shaded)" if curve.problem.sampled else "")
    if simulation is not None:
        title += f"\nmarkers: Monte Carlo\nmean ± s.e., {simulation.trials} trials"
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8,
                       title=title, title_fontsize=8, frameon=False, borderaxespad=0.0,
                       alignment="left")


def _line_handle(style, name: str, marked, label: str | None = None) -> Line2D:
    """A theory line's legend entry, with its marker if Monte Carlo marks it (unfilled: ``*_same``)."""
    return Line2D([], [], color=style["color"], linestyle=style["linestyle"], linewidth=style.get("linewidth", 1.4),
                  marker=style["marker"] if name in marked else None, markersize=4.5,
                  markerfacecolor="white" if name.endswith("_same") else style["color"],
                  label=style["label"] if label is None else label)


def _same_handle(style) -> Line2D:
    """The legend entry of same-data markers without a line: the fresh style's marker, unfilled."""
    return Line2D([], [], color=style["color"], linestyle="none", marker=style["marker"], markerfacecolor="white",
                  markersize=4.5, label=f"{style['label']}, same data")


def default_title(curve: Sweep, kept: bool = True) -> str:
    """A one-line description of the setup: problem, sizes (``s`` only if ``kept``) and noise."""
    setup = curve.problem
    if not hasattr(setup, "spectrum"):  # other families describe themselves
        import textwrap

        return textwrap.fill("; ".join(line.lstrip("# ") for line in setup.title()[:2]), width=100)
    problem = setup.spectrum.describe()
    symbols = {"spike_fraction": "f", "spike": "C", "exponent": "a", "signal": "βᵀΣβ"}
    params = [f"{symbols.get(k, k)} = {v:g}" for k, v in problem.items()
              if k != "name" and isinstance(v, (int, float)) and not (k == "signal" and v == 1)]
    head = problem["name"] + (f" ({', '.join(params)})" if params else "")
    if setup.finite and not kept:
        return f"{head}: n = {setup.n}, d = {setup.d}, σ² = {setup.sigma2:g}"
    if setup.finite:
        sizes = f"n = {setup.n}, d = {setup.d}, s = {int(setup.s)}"
    else:
        sizes = f"n → ∞, d/n = {setup.kappa:g}, s/d = {setup.alpha:.4g}"
    ridge = f", ridge = {setup.ridge:g}" if setup.ridge else ""
    return f"{head}: {sizes}, σ² = {setup.sigma2:g}{ridge}"


def plot_zscores(zscores, path, *, threshold: float = 4.0) -> Path:
    """Histogram of ``z = (MC − theory)/SE`` against N(0, 1), and its normal QQ plot.

    If the theory is exact and the standard errors honest, the histogram follows the standard
    normal density and the QQ points the diagonal; a bias shifts both.
    """
    from scipy import stats

    path = check_plot_path(path)
    z = np.asarray([x for x in zscores if math.isfinite(x)], dtype=float)
    fig = Figure(figsize=(9.0, 3.8), layout="constrained")
    ax_h, ax_q = fig.subplots(1, 2)
    lim = max(threshold + 0.5, float(np.abs(z).max()) + 0.5) if z.size else threshold + 0.5
    ax_h.hist(z, bins=np.linspace(-lim, lim, 41), density=True, color="C0", alpha=0.6, label=f"{z.size} checks")
    grid = np.linspace(-lim, lim, 400)
    ax_h.plot(grid, stats.norm.pdf(grid), color="black", label="N(0, 1)")
    for x in (-threshold, threshold):
        ax_h.axvline(x, color="C3", linestyle=":", linewidth=1)
    ax_h.set_xlabel("z = (MC mean − theory) / SE")
    ax_h.set_ylabel("density")
    ax_h.legend(frameon=False)
    if z.size:
        theo = stats.norm.ppf((np.arange(1, z.size + 1) - 0.5) / z.size)
        ax_q.plot(theo, np.sort(z), "o", markersize=3, color="C0")
    ax_q.plot([-lim, lim], [-lim, lim], color="black", linewidth=1)
    ax_q.set_xlabel("normal quantile")
    ax_q.set_ylabel("ordered z")
    ax_q.set_title("QQ plot")
    atomic_write(path, lambda tmp: fig.savefig(tmp, format=path.suffix[1:], dpi=120))
    return path


@dataclass(frozen=True)
class Panel:
    """One axes of :func:`plot_panels`: theory lines and Monte Carlo markers against ``x``.

    ``lines[name]``: theory values on ``x`` (``name`` a risk name of :data:`RISK_NAMES`;
    non-finite values leave a gap). ``markers[name]``: ``(x, mean, se)`` of a Monte Carlo
    estimate, drawn in the style of ``name``; a name ending in ``_same`` (same-data retraining)
    takes the style of its fresh counterpart with unfilled markers. ``vlines``: ``(x, label)``
    dotted vertical lines (e.g. ``p = s``); ``reference``: a dashed horizontal line, with its
    legend label ``reference_label``. ``styles[key] = (name, changes)``: a key of ``lines`` and ``markers``
    that is no risk name (a second line of one quantity, e.g. distillation at another ``M``) drawn
    in the style of risk ``name`` with ``changes`` (``label``, ``color``, ``marker``, ``linestyle``).
    """

    x: np.ndarray
    lines: Mapping[str, np.ndarray]
    markers: Mapping[str, tuple] = field(default_factory=dict)
    title: str | None = None
    vlines: Sequence[tuple[float, str]] = ()
    reference: float = math.nan
    reference_label: str = "reference"
    styles: Mapping[str, tuple] = field(default_factory=dict)

    def looks(self) -> dict:
        """The style of every key this panel may draw: the risk names' and :attr:`styles`'."""
        if unknown := [name for name, _ in self.styles.values() if name not in _STYLE]:
            raise ValueError(f"styles name unknown risks {unknown}; choose from {', '.join(_STYLE)}")
        return {**_STYLE, **{key: {**_STYLE[name], **changes} for key, (name, changes) in self.styles.items()}}


def _base_name(name: str) -> str:
    return name.removesuffix("_same")


def plot_panels(
    panels: Sequence[Panel],
    path,
    *,
    xlabel: str = "p/n",
    ylabel: str = "test risk",
    xscale: str = "linear",
    title: str | None = None,
    legend_title: str = "lines: theory",
    peak: float | None = 1.0,
    peak_label: str = "p = n",
) -> Path:
    """Side-by-side panels of theory lines and Monte Carlo markers sharing the risk axis.

    The general form of :func:`plot_curve` for results that are not a :class:`Sweep` (random
    features, Lemma 1): each :class:`Panel` is one axes; styles (colour, marker, line) are
    those of :func:`plot_curve`, filled markers for Monte Carlo estimates of a theory line and
    unfilled ones for same-data retraining (``*_same``; the filled ones are then labelled
    "fresh data"). ``peak``: an x where the risk diverges (``p/n = 1``), drawn as a thin line
    labelled ``peak_label``; values within ±0.15 of it do not set the top
    of the shared risk axis, which is logarithmic when the values span more than a factor 20.
    ``xscale``: ``"linear"`` or ``"log"``. Returns ``path``; the extension picks the format.
    """
    path = check_plot_path(path)
    if not panels:
        raise ValueError("panels must hold at least one Panel")
    if xscale not in ("linear", "log"):
        raise ValueError(f"xscale must be 'linear' or 'log', got {xscale=}")
    looks = {key: look for panel in panels for key, look in panel.looks().items()}
    for panel in panels:
        if unknown := [k for k in [*panel.lines, *map(_base_name, panel.markers)] if k not in looks]:
            raise ValueError(f"unknown risk names {unknown}; choose from {', '.join(_STYLE)}")

    k = len(panels)
    fig = Figure(figsize=(FIGSIZE[0] if k == 1 else 3.3 * k + 2.2, FIGSIZE[1]), layout="constrained")
    axes = fig.subplots(1, k, sharey=True, squeeze=False)[0]
    shown, xs, drawn, marked, references = [], [], [], set(), []
    for ax, panel in zip(axes, panels):
        x = np.asarray(panel.x, dtype=float)
        xs.append(x)
        for name, values in panel.lines.items():
            style = looks[name]
            values = finite_or_nan(values)
            ax.plot(x, values, color=style["color"], linestyle=style["linestyle"],
                    linewidth=style.get("linewidth", 1.4), zorder=2)
            # The shared axis limits use x relative to the peak (p/n), as set_risk_limits expects.
            shown.append((x if peak is None else x - peak + 1.0, values))
            if name not in drawn:
                drawn.append(name)
        for name, (mx, mean, se) in panel.markers.items():
            mx, mean, se = np.asarray(mx, dtype=float), finite_or_nan(mean), np.asarray(se, dtype=float)
            base = _base_name(name)
            draw_errorbars(ax, mx, mean, np.where(np.isfinite(se), se, 0.0), looks[base], filled=name == base)
            shown.append((mx if peak is None else mx - peak + 1.0, mean))
            marked.add(name)
            if base not in drawn:
                drawn.append(base)
        if math.isfinite(panel.reference):
            ax.axhline(panel.reference, color=_REFERENCE_COLOR, linestyle="--", linewidth=1.2, zorder=1)
            references.append(panel.reference_label)
        for vx, label in panel.vlines:
            ax.axvline(vx, color="0.55", linestyle=":", linewidth=1.2, zorder=1)
            bottom_label(ax, vx, label)
        if peak is not None and x.min() < peak < x.max():
            ax.axvline(peak, color="0.8", linestyle="-", linewidth=0.8, zorder=0)
            bottom_label(ax, peak, peak_label)
        if panel.title:
            ax.set_title(panel.title, fontsize=9)
        ax.set_xlabel(xlabel)
        ax.grid(True, which="major", color="0.92", linewidth=0.6)
        ax.tick_params(labelsize=9)

    reference = max((p.reference for p in panels if math.isfinite(p.reference)), default=math.nan)
    all_x = np.concatenate(xs)
    set_risk_limits(axes[0], shown, reference, all_x if peak is None else all_x - peak + 1.0)
    for ax, x in zip(axes, xs):
        if xscale == "log":
            ax.set_xscale("log")
            ax.set_xlim(x.min() / 1.15, x.max() * 1.15)
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        else:
            pad = 0.02 * (x.max() - x.min())
            ax.set_xlim(max(0.0, x.min() - pad), x.max() + pad)
    axes[0].set_ylabel(ylabel)
    if title is not None:
        fig.suptitle(title, fontsize=10)

    handles = [_line_handle(looks[name], name, marked,
                            looks[name]["label"] + (", fresh data" if f"{name}_same" in marked else ""))
               for name in drawn]
    handles += [_same_handle(looks[n]) for n in drawn if f"{n}_same" in marked and f"{n}_same" not in drawn]
    handles += [Line2D([], [], color=_REFERENCE_COLOR, linestyle="--", linewidth=1.2, label=label)
                for label in dict.fromkeys(references)]
    axes[-1].legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8,
                    title=legend_title, title_fontsize=8, frameon=False, borderaxespad=0.0,
                    alignment="left")
    save_figure(fig, path)
    return path

