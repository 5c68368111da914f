"""The best model per rule: the width, the sparsity or the ridge that minimizes each risk.

For a diagonal problem every risk of :data:`~dcprune.quantities.PREDICTED` is a closed form
(docs/theory.rst §2–5) of the model's width ``W = p/n``, of the sparsity ``α = s/d`` and of the
ridge ``λ``. :func:`best` minimizes each of them along one of these axes, the others fixed, by
the batched bounded search of :mod:`dcprune.workflows.search`:

- ``over="width"``: ``p* = argmin_{0 < p <= d} R_rule(p)`` at the problem's ``s`` and ``n``,
  over real ``p`` in the ``n → ∞`` limit (refined to ``1e-8·κ`` inside the atom where the
  minimum lies: the risks are smooth between atom edges) and over every integer ``p`` at
  finite ``n`` (exact); ``p = 0``, the null model ``b = 0`` with risk ``σ² + βᵀΣβ``, is a
  candidate too (it wins when no fitted model beats predicting nothing). The starting grid
  includes the atom edges, ``p = s`` and the interpolation peak's neighbours. The result
  says how far each minimum lies below the reference line (docs/theory.rst §4: the best
  dense model with at most ``n`` weights, and oracle + fresh retraining) and below the full
  width's risk.
- ``over="alpha"``: ``s* = argmin_{0 < s <= p} R_rule(s)`` at a fixed width (pruning to
  ``s >= p`` keeps the whole model); the dense risk does not depend on ``s`` and is the
  comparison.
- ``over="ridge"``: ``λ* = argmin_{λ >= 0} R_rule(λ)``, searched in ``log10 λ`` on
  ``[1e-8, 1e6]·(σ² + signal)`` and compared with ``λ = 0``. For the isotropic problem the
  dense optimum is Hastie et al.'s ``λ* = σ² κ / ‖β‖²`` (docs/theory.rst §2).

>>> import dcprune
>>> from dcprune.workflows import best
>>> problem = dcprune.Diagonal(dcprune.SpikedCovariance(), kappa=3, alpha=0.1)
>>> b = best.best(problem)
>>> round(b.minima["hessian"].x, 4), round(b.minima["hessian"].value, 4)
(3.0, 0.7385)
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from ..checks import ParameterError
from ..families import Diagonal
from ..predict import predict
from ..quantities import PREDICTED
from ..results import json_number
from .search import Minimum, zoom

__all__ = ["AXES", "Best", "best"]

#: The axes :func:`best` minimizes along.
AXES = ("width", "alpha", "ridge")
# Grid points of the starting search along each axis (the width's is batched, so finer).
_GRID = {"width": 256, "alpha": 48, "ridge": 113}
# Interior points per bracket and round: the width's rounds are one batched call for all rules.
_POINTS = {"width": 8, "alpha": 4, "ridge": 8}
# Relative bracket width at which a continuous search stops (the risk is then exact to ~1e-15
# at a smooth minimum and to ~1e-9 times the slope at a kink).
_XTOL = 1e-8
# The ridge range searched, relative to the label scale σ² + signal.
_LOG_RIDGE = (-8.0, 6.0)


@dataclass(frozen=True)
class Best:
    """The minimizer of every risk along one axis (see the module docstring).

    ``minima`` maps each quantity to a :class:`~dcprune.workflows.search.Minimum` (``x`` in
    the axis's units: width ``p/n``, ``alpha``, or ``ridge``); ``baseline`` maps each to the
    risk it is compared with (full width; the dense model for ``alpha``; ``λ = 0`` for
    ``ridge``); ``reference`` is the problem's reference line (width search only).
    """

    problem: Diagonal
    over: str
    width: float | None
    minima: dict
    baseline: dict
    reference: object
    warnings: tuple[str, ...]

    def size(self, x: float):
        """The model's size at ``x``: ``p`` (width), ``s`` (alpha), nothing for ridge."""
        if self.over == "width":
            return self.problem.as_count(x * self.problem.scale)
        if self.over == "alpha":
            return self.problem.as_count(x * self.problem.d)
        return None

    def to_dict(self) -> dict:
        """The JSON contract of ``dcprune best``."""
        head = self.problem.header()
        out = {"kappa": head.pop("kappa"), "alpha": head.pop("alpha"), "width": self.width, **head,
               "s": self.problem.as_count(self.problem.s), "over": self.over}
        size_key = {"width": "p", "alpha": "s"}.get(self.over)
        line = self.reference.line if self.reference is not None else None
        rows = {}
        for name, m in self.minima.items():
            row = {self.over: m.x}
            if size_key:
                row[size_key] = self.size(m.x)
            row.update(risk=json_number(m.value), converged=m.converged,
                       baseline=json_number(self.baseline[name]),
                       below_baseline=json_number(self.baseline[name] - m.value))
            if line is not None:
                row["below_reference"] = json_number(line - m.value)
            rows[name] = row
        out["best"] = rows
        out["baseline"] = {"width": "full width", "alpha": "the dense model",
                           "ridge": "ridge 0 (min-norm)"}[self.over]
        if self.reference is not None:
            out["reference"] = self.reference.to_dict()
        out["warnings"] = list(self.warnings)
        return out


def _values(rows):
    values = {k: np.array([r.risk[k].mean for r in rows]) for k in PREDICTED}
    return values, np.array([r.converged for r in rows])


def _check(problem) -> Diagonal:
    if not isinstance(problem, Diagonal):
        raise ParameterError("problem", "must be a diagonal problem (best minimizes closed forms; a sampled "
                             "theory has no smooth risk to minimize)", shown_value=getattr(problem, "name", problem))
    return problem


def _over_width(problem: Diagonal):
    n, d, s = problem.scale, problem.d, problem.s

    def evaluate(ps):
        return _values(problem.theory(ps).rows)

    edges = problem.spectrum.breakpoints(d, problem.finite)
    special = [s, n - 2, n - 1, n, n + 1, n + 2] + ([] if edges is None else list(edges))
    if problem.finite:
        grid = np.r_[np.linspace(1, d, min(int(d), _GRID["width"])), special]
        minima = zoom(evaluate, PREDICTED, grid[(grid >= 1) & (grid <= d)], 1, d, integer=True,
                      points=_POINTS["width"])
    else:
        lo = d * 1e-6
        grid = np.r_[np.linspace(lo, d, _GRID["width"]), special, n * (1 - 1e-9), n * (1 + 1e-9)]
        minima = zoom(evaluate, PREDICTED, grid[(grid >= lo) & (grid <= d)], lo, d, points=_POINTS["width"],
                      xtol=_XTOL * d)
    full = problem.theory(np.array([float(d)]))
    baseline = {k: full.rows[0].risk[k].mean for k in PREDICTED}
    # p = 0 is the null model b = 0, risk σ² + βᵀΣβ (docs/theory.rst §4); it wins ties.
    null = float(problem.sigma2 + problem.spectrum.tail(d, np.zeros(1), problem.finite)[0])
    minima = {k: Minimum(0.0, null, m.converged) if null <= m.value else Minimum(m.x / n, m.value, m.converged)
              for k, m in minima.items()}
    return minima, baseline, full.reference, full.warnings


def _over_alpha(problem: Diagonal, width: float):
    p = float(problem.count(width)[0])
    d = problem.d
    names = tuple(k for k in PREDICTED if k != "dense")

    def evaluate(xs):
        rows = [dataclasses.replace(problem, alpha=float(x) / d).theory(np.array([p])).rows[0] for x in xs]
        return _values(rows)

    if problem.finite:
        minima = zoom(evaluate, names, np.linspace(1, p, min(int(p), _GRID["alpha"])), 1, p, integer=True,
                      points=_POINTS["alpha"])
    else:
        lo = p * 1e-6
        minima = zoom(evaluate, names, np.linspace(lo, p, _GRID["alpha"]), lo, p, points=_POINTS["alpha"],
                      xtol=_XTOL * p)
    dense = predict(problem, width)
    minima = {k: Minimum(m.x / d, m.value, m.converged) for k, m in minima.items()}
    return minima, {k: dense.risk.dense.mean for k in names}, None, dense.warnings


def _over_ridge(problem: Diagonal, width: float):
    scale = problem.sigma2 + problem.spectrum.tail(problem.d, np.zeros(1), problem.finite)[0]
    lo, hi = (math.log10(scale) + e for e in _LOG_RIDGE)

    count = float(problem.count(width)[0])

    def evaluate(xs):  # one batched solve for all the ridges of a round
        return _values(problem.ridge_theory(count, 10.0 ** np.asarray(xs)).rows)

    minima = zoom(evaluate, PREDICTED, np.linspace(lo, hi, _GRID["ridge"]), lo, hi, points=_POINTS["ridge"],
                  xtol=_XTOL * (hi - lo))
    ridgeless = predict(dataclasses.replace(problem, ridge=0.0), width)
    baseline = {k: ridgeless.risk[k].mean for k in PREDICTED}
    out = {}
    for k, m in minima.items():
        # λ = 0 is in the domain too: it wins where no ridge helps (past the peak, no noise).
        if baseline[k] <= m.value:
            out[k] = Minimum(0.0, baseline[k], True)
        else:
            out[k] = Minimum(10.0 ** m.x, m.value, m.converged)
    return out, baseline, None, ()


def best(problem: Diagonal, over: str = "width", width: float | None = None) -> Best:
    """The minimizer of every predicted risk of ``problem`` along the axis ``over``.

    Parameters
    ----------
    problem : Diagonal
        A diagonal problem (closed forms, docs/theory.rst §2–5).
    over : {"width", "alpha", "ridge"}
        The axis; the problem's other parameters stay fixed.
    width : float, optional
        The model's width ``p/n`` for ``alpha`` and ``ridge`` (default the full width κ);
        refused for ``over="width"``.

    Returns
    -------
    Best
    """
    problem = _check(problem)
    if over not in AXES:
        raise ParameterError("over", f"must be one of {', '.join(AXES)} for best", over)
    if over == "width":
        if width is not None:
            raise ParameterError("width", "is what best --over width searches: leave it out", width)
        minima, baseline, reference, warnings = _over_width(problem)
        return Best(problem, over, None, minima, baseline, reference, tuple(warnings))
    width = problem.kappa if width is None else width
    problem.count(width)  # a width outside (0, κ] is refused here
    if over == "alpha":
        minima, baseline, reference, warnings = _over_alpha(problem, width)
    else:
        minima, baseline, reference, warnings = _over_ridge(problem, width)
    return Best(problem, over, float(width), minima, baseline, reference, tuple(warnings))
