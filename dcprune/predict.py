"""One ``predict`` and one ``sweep`` for every problem family, and their result types.

Both ask the problem's family for the DC's risks (:meth:`dcprune.families.Family.theory`)
and wrap them in one vocabulary: a :class:`Prediction` (one model) or a :class:`Sweep` (many
widths), whose risks are :class:`~dcprune.results.Estimate` values named as in
:mod:`dcprune.quantities`.

>>> import dcprune
>>> problem = dcprune.Diagonal(dcprune.SpikedCovariance(), kappa=2, alpha=0.3)
>>> pred = dcprune.predict(problem)
>>> round(pred.risk.magnitude.mean, 4), pred.risk.magnitude.se
(0.7885, 0.0)
>>> curve = dcprune.sweep(problem, points=50)
>>> len(curve.rows), round(float(curve.mean("dense").min()), 4)
(50, 0.5284)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .families.base import Family, ModelRow, Reference
from .results import Risks, RowsView, json_number

__all__ = ["Prediction", "Sweep", "predict", "sweep"]


def _check_problem(problem) -> Family:
    if not isinstance(problem, Family):
        raise ValueError(f"problem must be a dcprune problem (Diagonal, Correlated, RandomFeatures, "
                         f"RankOne), got problem={problem!r}")
    return problem


def _check_quantization(quantization):
    from .quantization.spec import Quantization

    if quantization is not None and not isinstance(quantization, Quantization):
        raise ValueError(f"quantization must be a dcprune.Quantization or None, got quantization={quantization!r}")
    return quantization


def _row_dict(problem: Family, row: ModelRow) -> dict:
    out = {
        "width": row.width,
        "p": problem.as_count(row.p),
        "zeta": row.zeta,
        "gamma": json_number(row.gamma),
        "converged": row.converged,
        "risk": row.risk.to_dict(),
    }
    if problem.sampled:
        out["risk_se"] = row.risk.se_dict()
    return out


@dataclass(frozen=True)
class Prediction:
    """Every predicted risk of one model of ``problem`` (width ``p/n``).

    ``risk`` maps each quantity of :data:`~dcprune.quantities.PREDICTED` to an
    :class:`~dcprune.results.Estimate` (``se = 0`` for closed forms); ``reference`` is the
    paper's reference line where the family has one (diagonal problems), else ``None``.
    """

    problem: Family
    row: ModelRow
    reference: Reference | None
    warnings: tuple[str, ...] = ()
    #: The quantized models (a :class:`~dcprune.quantization.Quantized`) when asked for.
    quantized: object = None

    @property
    def width(self) -> float:
        return self.row.width

    @property
    def p(self) -> float:
        return self.row.p

    @property
    def s(self) -> float:
        return float(self.problem.s)

    @property
    def zeta(self) -> float:
        return self.row.zeta

    @property
    def gamma(self) -> float:
        return self.row.gamma

    @property
    def converged(self) -> bool:
        return self.row.converged

    @property
    def risk(self) -> Risks:
        return self.row.risk

    @property
    def rows(self) -> tuple[ModelRow, ...]:
        """The one model as a one-row table (renderers treat every result alike)."""
        return (self.row,)

    def to_dict(self) -> dict:
        """The JSON contract of ``dcprune risk``."""
        head = self.problem.header()
        out = {"kappa": head.pop("kappa"), "alpha": head.pop("alpha"), "width": self.width, **head}
        row = _row_dict(self.problem, self.row)
        out.update(p=row.pop("p"), s=self.problem.as_count(self.s))
        row.pop("width")
        out.update(row)
        if self.quantized is not None:
            out["quantized"] = self.quantized.to_dict()
        if self.reference is not None:
            out["reference"] = self.reference.to_dict()
        out["warnings"] = list(self.warnings)
        return out


@dataclass(frozen=True)
class Sweep(RowsView):
    """Predicted risks over many models of ``problem``: the sparse double-descent curve.

    ``rows`` are :class:`~dcprune.families.base.ModelRow` (``width``, ``p``, ``zeta``,
    ``gamma``, ``converged``, ``risk``); the accessors of :class:`~dcprune.results.RowsView`
    give columns (``widths``, ``mean(name)``, ``se(name)``, ``to_frame()``).
    """

    problem: Family
    rows: tuple[ModelRow, ...]
    reference: Reference | None
    warnings: tuple[str, ...] = ()
    #: One :class:`~dcprune.quantization.Quantized` per row when asked for.
    quantized: tuple | None = None

    @property
    def s(self) -> float:
        return float(self.problem.s)

    def to_dict(self) -> dict:
        """The JSON contract of ``dcprune curve``."""
        head = self.problem.header()
        out = {"kappa": head.pop("kappa"), "alpha": head.pop("alpha"), "width": None, **head,
               "s": self.problem.as_count(self.s), "converged": all(r.converged for r in self.rows)}
        if self.reference is not None:
            out["reference"] = self.reference.to_dict()
        out["warnings"] = list(self.warnings)
        out["rows"] = [_row_dict(self.problem, r) for r in self.rows]
        if self.quantized is not None:
            for row, q in zip(out["rows"], self.quantized):
                row["quantized"] = q.to_dict()
        return out


def predict(problem: Family, width: float | None = None, *, quantization=None) -> Prediction:
    """Every prediction for the model of width ``width = p/n`` (default: the full ``κ``).

    Works for every family (:class:`~dcprune.Diagonal`, :class:`~dcprune.Correlated`,
    :class:`~dcprune.RandomFeatures`, :class:`~dcprune.RankOne`). With ``quantization`` (a
    :class:`~dcprune.Quantization`; diagonal problems) the result's ``quantized`` holds the
    quantized dense and magnitude-pruned risks and their clips (docs/theory.rst §11).
    """
    problem = _check_problem(problem)
    quantization = _check_quantization(quantization)
    width = problem.kappa if width is None else width
    counts = problem.count(width)
    theory = problem.theory(counts[:1])
    warnings = list(theory.warnings)
    if problem.finite and round(float(width) * problem.n) < 1:
        warnings.append(f"width*n = {float(width) * problem.n:.3g} rounds to no feature; p = 1 is used")
    quantized = None if quantization is None else problem.quantized(counts[:1], quantization)[0]
    return Prediction(problem, theory.rows[0], theory.reference, tuple(warnings), quantized)


def sweep(problem: Family, points: int = 200, width_min: float | None = None, *, widths=None,
          quantization=None) -> Sweep:
    """Predictions over widths: ``points`` widths evenly spaced in ``[width_min, κ]``
    (``width_min`` defaulting to ``κ/points``), or the given ``widths``; ``quantization`` as
    in :func:`predict`, one ``quantized`` entry per row.

    At finite size widths are rounded to whole features and deduplicated.
    """
    problem = _check_problem(problem)
    quantization = _check_quantization(quantization)
    counts = problem.grid(points, width_min) if widths is None else np.unique(problem.count(widths))
    theory = problem.theory(counts)
    quantized = None if quantization is None else problem.quantized(counts, quantization)
    return Sweep(problem, theory.rows, theory.reference, theory.warnings, quantized)
