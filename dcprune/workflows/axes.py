"""Predictions along any axis: width, sparsity, sample size, noise or ridge (``curve --over``).

The width axis is :func:`dcprune.sweep` (one batched call of the family's theory). Along the
other axes each point is a problem of its own, ``dataclasses.replace(problem, axis=value)``,
predicted by :func:`dcprune.predict` at a fixed width (a diagonal problem's ridge axis in one
batched solve, :meth:`~dcprune.Diagonal.ridge_theory`), so every point equals the
``dcprune risk`` of the same parameters exactly; along ``n`` the latent size ``d`` and the
model's ``p`` stay fixed (``kappa = d/n``, width ``p/n``), a learning curve. Spacing is linear for the ratios (width,
``alpha``) and logarithmic for the scales (``n``, ``sigma2``, ``ridge``): a learning curve in
``n`` at fixed ``d`` and ``s`` shows the sample-size double descent, its peak at ``n = p``
(docs/theory.rst §2, the finite-size dense risk ``σ_eff²(n−1)/(n−p−1)`` below the peak).

>>> import dcprune
>>> from dcprune.workflows.axes import along
>>> problem = dcprune.Diagonal(dcprune.SpikedCovariance(), kappa=2, alpha=0.3, sigma2=0.1)
>>> curve = along(problem, "sigma2", start=0.01, stop=1.0, points=3)
>>> [round(v, 3) for v in curve.values], round(float(curve.mean("dense")[0]), 4)
([0.01, 0.1, 1.0], 0.3351)
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from ..checks import ParameterError, finite_number
from ..families import Diagonal
from ..families.base import MAX_POINTS, Family, ModelRow, Reference
from ..predict import Prediction, predict, sweep
from ..results import RowsView

__all__ = ["AXES", "LOG_AXES", "AxisSweep", "along"]

#: The axes a curve can run along.
AXES = ("width", "alpha", "n", "sigma2", "ridge")
#: Axes that are scales, spaced logarithmically.
LOG_AXES = ("n", "sigma2", "ridge")


@dataclass(frozen=True)
class AxisSweep(RowsView):
    """Predictions of ``problem`` at the points ``values`` of ``axis`` (the model's width fixed,
    unless the axis is the width). ``rows`` are :class:`~dcprune.families.base.ModelRow`; the
    :class:`~dcprune.results.RowsView` accessors and ``to_frame()`` (the axis as first column)
    work as for a :class:`~dcprune.Sweep`."""

    problem: Family
    axis: str
    values: tuple[float, ...]
    predictions: tuple
    reference: Reference | None
    warnings: tuple[str, ...] = ()

    @property
    def rows(self) -> tuple[ModelRow, ...]:
        return tuple(p.row for p in self.predictions)

    def to_frame(self):
        """A pandas DataFrame: the axis, then the columns of :meth:`RowsView.to_frame`."""
        frame = super().to_frame()
        if self.axis != "width":
            frame.insert(0, self.axis, list(self.values))
        return frame

    def to_dict(self) -> dict:
        """The JSON of ``dcprune curve --over AXIS``: the curve's header with the axis ``null``,
        ``"over"``, and rows that start with the axis's value."""
        head = self.predictions[0].to_dict()
        out = {k: v for k, v in head.items() if k not in ("p", "zeta", "gamma", "converged", "risk", "risk_se",
                                                           "reference", "warnings")}
        out[self.axis] = None
        if self.axis in ("alpha", "n"):
            out["s"] = None
        if self.axis == "n":
            out["d"] = None
        out["over"] = self.axis
        out["converged"] = all(r.converged for r in self.rows)
        if self.reference is not None:
            out["reference"] = self.reference.to_dict()
        out["warnings"] = list(self.warnings)
        rows = []
        for value, pred in zip(self.values, self.predictions):
            d = pred.to_dict()
            row = {self.axis: value, "width": d["width"], "p": d["p"]}
            if self.axis in ("alpha", "n"):
                row["s"] = d["s"]
            row.update({k: d[k] for k in ("zeta", "gamma", "converged", "risk", "risk_se") if k in d})
            rows.append(row)
        out["rows"] = rows
        return out


def _points(axis: str, start, stop, points: int) -> np.ndarray:
    if isinstance(points, bool) or not float(points).is_integer() or not 2 <= points <= MAX_POINTS:
        raise ParameterError("points", f"must be an integer from 2 to {MAX_POINTS:,} (a readable curve)", points)
    start = finite_number("start", start)
    stop = finite_number("stop", stop)
    if not start < stop:
        raise ParameterError("start", f"must be below the end of the range, {stop:g}", start)
    if axis in LOG_AXES:
        if start <= 0:
            raise ParameterError("start", f"must be > 0: {axis} is spaced logarithmically (a log axis cannot "
                                 f"reach 0)", start)
        values = np.geomspace(start, stop, int(points))
    else:
        values = np.linspace(start, stop, int(points))
    if axis == "n":
        values = np.unique(np.round(values))
    return np.array([float(f"{v:.12g}") for v in values])


def along(problem: Family, axis: str = "width", *, start=None, stop=None, points: int = 200,
          width: float | None = None) -> AxisSweep:
    """Every prediction of ``problem`` along ``axis`` from ``start`` to ``stop``.

    Parameters
    ----------
    problem : Family
        Any problem family (an axis must be one of its parameters).
    axis : {"width", "alpha", "n", "sigma2", "ridge"}
    start, stop : float
        The range (width: default ``κ/points`` to ``κ``; required for the other axes).
    points : int
        Points in the range (log-spaced for ``n``, ``sigma2``, ``ridge``; ``n`` rounded to
        whole samples and deduplicated).
    width : float, optional
        The model's width ``p/n`` along the other axes (default the full width ``κ``).
    """
    if axis not in AXES:
        raise ParameterError("over", f"must be one of {', '.join(AXES)}", axis)
    if axis == "width":
        if width is not None:
            raise ParameterError("width", "is the axis of curve --over width: leave it out", width)
        stop = problem.kappa if stop is None else stop
        start = stop / points if start is None else start
        values = _points(axis, start, stop, points)
        result = sweep(problem, widths=values)
        preds = tuple(dataclasses.replace(predict(problem, result.rows[0].width), row=r) for r in result.rows)
        return AxisSweep(problem, axis, tuple(r.width for r in result.rows), preds, result.reference,
                         result.warnings)
    names = {f.name for f in dataclasses.fields(problem)} if dataclasses.is_dataclass(problem) else set()
    if axis not in names:
        raise ParameterError("over", f"does not apply to a {problem.name} problem (it has no {axis} parameter)",
                             axis)
    if start is None or stop is None:
        raise ParameterError("start" if start is None else "stop", f"is required for curve --over {axis}", None)
    values = _points(axis, start, stop, points)
    width = problem.kappa if width is None else width
    if axis == "alpha" and values[-1] * problem.kappa > float(width) * (1 + 1e-12):
        raise ParameterError("stop", f"keeps s = alpha*d above the model's p at --width {float(width):g} "
                             f"(pruning to s >= p keeps the whole model): end the range at most at "
                             f"{float(width) / problem.kappa:g}",
                             values[-1])
    preds = []
    warnings: dict[str, None] = {}
    if axis == "n":
        if not problem.finite or "kappa" not in names:
            raise ParameterError("over", "n needs a finite problem with a width (give --n: the latent size "
                                 "d = kappa*n and the model's p stay fixed along the learning curve)", axis)
        p = float(problem.count(width)[0])
    if axis == "ridge" and isinstance(problem, Diagonal):  # one batched solve for every ridge
        count = float(problem.count(width)[0])
        rows = problem.ridge_theory(count, values).rows
        ends = [predict(dataclasses.replace(problem, ridge=float(v)), width) for v in (values[0], values[-1])]
        preds = [Prediction(dataclasses.replace(problem, ridge=float(v)), row, None, ends[0].warnings)
                 for v, row in zip(values, rows)]
        warnings = dict.fromkeys(w for e in ends for w in e.warnings)
        return AxisSweep(problem, axis, tuple(float(v) for v in values), tuple(preds), None, tuple(warnings))
    for v in values:
        if axis == "n":  # a learning curve: d and p (hence s) fixed, n moving
            point, at = dataclasses.replace(problem, n=int(v), kappa=problem.d / v), p / v
        else:
            point, at = dataclasses.replace(problem, **{axis: float(v)}), width
        pred = predict(point, at)
        preds.append(pred)
        warnings.update(dict.fromkeys(pred.warnings))
    return AxisSweep(problem, axis, tuple(float(v) for v in values), tuple(preds), None, tuple(warnings))
