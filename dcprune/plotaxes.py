"""Axes, markers and files shared by dcprune's figures (:mod:`dcprune.plotting`,
:mod:`dcprune.frontierplot`): the plot path check, the risk axis (logarithmic when the peak at
``p = n`` makes the values span more than a factor 20, its top set away from the peak), Monte
Carlo error bars, and byte-stable atomic files. Importing it selects matplotlib's
non-interactive ``Agg`` backend.
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter  # noqa: E402

from .output import atomic_write, check_directory  # noqa: E402

__all__ = ["FORMATS", "FIGSIZE", "check_plot_path", "finite_or_nan", "draw_errorbars", "bottom_label",
           "set_risk_limits", "save_figure"]

#: Figure formats, chosen by the file extension.
FORMATS = (".png", ".pdf", ".svg")
# Widths (p/n) closer than this to the interpolation peak p = n do not set the top of the
# risk axis: there the dense risk diverges, and letting it set the scale would squash every
# curve worth reading into the bottom of the plot.
_PEAK_BAND = 0.15
# A log risk axis when the finite values span more than this factor (the peak needs it).
_LOG_RATIO = 20.0
# Headroom above the readable region: the clipped peak visibly leaves the top of the axes.
_HEADROOM_LOG = 3.0
_HEADROOM_LINEAR = 1.08
#: The size of a one-panel figure (inches).
FIGSIZE = (8.0, 4.6)
# Metadata that would make two runs of the same figure differ byte for byte.
_METADATA = {".pdf": {"CreationDate": None}, ".svg": {"Date": None}, ".png": {}}


def check_plot_path(path) -> Path:
    """``path`` as a :class:`~pathlib.Path` if a figure can be written there, else ``ValueError``.

    The extension picks the format (one of :data:`FORMATS`, case-insensitive) and the
    directory must exist. Call it before any computation, so a typo costs nothing.

    >>> check_plot_path("curve.txt")
    Traceback (most recent call last):
    ...
    ValueError: plot file must end in .png, .pdf or .svg, got path='curve.txt'
    """
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise ValueError(f"plot file must end in .png, .pdf or .svg, got path='{path}'")
    check_directory(path)
    return path


def finite_or_nan(values) -> np.ndarray:
    """``values`` as floats with every non-finite one ``nan`` (a gap in a line)."""
    values = np.asarray(values, dtype=float)
    return np.where(np.isfinite(values), values, np.nan)


def draw_errorbars(ax, widths, mean, se, style, filled: bool) -> None:
    """Monte Carlo means ± standard errors as markers of ``style`` (a line's colour and marker),
    filled or hollow; bars stop just above zero on a log axis."""
    ok = np.isfinite(mean)
    if not ok.any():
        return
    w, m, e = widths[ok], mean[ok], se[ok]
    # On a log axis a bar reaching zero or below would vanish: stop it just above zero.
    lower = np.minimum(e, 0.999 * m)
    ax.errorbar(w, m, yerr=np.vstack([lower, e]), fmt=style["marker"], color=style["color"],
                markersize=4.5, markeredgewidth=1.1, elinewidth=1.0, capsize=2.0,
                markerfacecolor=style["color"] if filled else "white", zorder=3 if filled else 4)


def bottom_label(ax, x: float, text: str) -> None:
    """A small grey label at ``x`` at the bottom of the axes (e.g. ``p = n``)."""
    # At the bottom of the axes: the top is where the peak leaves the plot.
    ax.annotate(text, xy=(x, 0.0), xycoords=ax.get_xaxis_transform(), xytext=(3, 3),
                textcoords="offset points", ha="left", va="bottom", fontsize=8, color="0.35")


def set_risk_limits(ax, shown, reference: float, widths: np.ndarray) -> None:
    """Width and risk limits for ``shown`` ``[(widths, values), ...]``: logarithmic when the values
    span more than a factor 20, and the top set away from the peak at ``p/n = 1``."""
    values = np.concatenate([v for _, v in shown])
    values = values[np.isfinite(values) & (values > 0)]
    lo_x, hi_x = float(widths.min()), float(widths.max())
    pad = 0.02 * (hi_x - lo_x)
    ax.set_xlim(max(0.0, lo_x - pad), hi_x + pad)
    if values.size == 0:
        return
    away = np.concatenate([v[np.abs(w - 1.0) >= _PEAK_BAND] for w, v in shown])
    away = away[np.isfinite(away) & (away > 0)]
    core = float(away.max()) if away.size else float(values.max())
    if math.isfinite(reference):
        core = max(core, reference)
    lo, hi_all = float(values.min()), float(values.max())
    if hi_all / lo > _LOG_RATIO:
        ax.set_yscale("log")
        bottom, top = lo / 1.25, min(hi_all * 1.25, core * _HEADROOM_LOG)
        ax.yaxis.set_major_locator(LogLocator(base=10, subs=_log_subs(bottom, top)))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _: f"{y:g}"))
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.set_ylim(bottom, top)
    else:
        ax.set_ylim(0.0, min(hi_all, core) * _HEADROOM_LINEAR)


def _log_subs(bottom: float, top: float) -> tuple[float, ...]:
    """Mantissas of the labelled log ticks: the sparsest set giving at least 5 ticks."""
    choices = ((1.0,), (1.0, 2.0, 5.0), (1.0, 2.0, 3.0, 5.0), (1.0, 1.5, 2.0, 3.0, 5.0, 7.0))
    lo, hi = math.floor(math.log10(bottom)), math.ceil(math.log10(top))
    for subs in choices:
        ticks = [m * 10.0**e for e in range(lo, hi + 1) for m in subs]
        if sum(bottom <= t <= top for t in ticks) >= 5:
            return subs
    return choices[-1]


def save_figure(fig: Figure, path: Path) -> None:
    """Write ``fig`` to ``path`` whole (temporary file, then rename), byte-stable across runs."""
    ext = path.suffix.lower()
    with matplotlib.rc_context({"svg.hashsalt": "dcprune"}):  # stable SVG element ids
        atomic_write(path, lambda tmp: fig.savefig(tmp, format=ext[1:], dpi=150, metadata=_METADATA[ext]))
