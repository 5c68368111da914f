"""The result of ``dcprune data``: theory and the empirical check per width, in JSON, table and CSV.

One :class:`DataReport` holds everything; :meth:`DataReport.to_dict` is the JSON contract::

    {"file", "target", "N", "d", "n", "s", "sigma2", "order": [column names, as used],
     "finite_population_factor", "diagnostics": {"minsupp", "levk", "het", "warnings", ...},
     "rows": [{"p", "theory": {rule: value}, "empirical": {rule: {"mean", "se", "median", "q90"}},
               "theory_se": {...}, "compared": {...}, "gap": {...}}],
     "trials", "seed", "warnings"}

``theory`` is the Gaussian prediction without the finite-population factor; ``compared`` is the
prediction the empirical check is held to (for ``p < n − 1`` the factor applied to the
estimation noise, else ``theory``) and ``gap`` is ``empirical mean / compared − 1``. Same-data
retraining (``*_retrain_same``) appears in ``empirical`` only: it is measured, not predicted.
Infinite values (the interpolation peak) are ``null``. :meth:`long_rows` are the table and CSV
lines, one per (width, quantity), with the same numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..quantities import MEASURED, PREDICTED, QUANTITIES
from ..results import Estimate, json_number
from .diagnostics import Diagnostics

__all__ = ["DataReport", "WidthRow", "Summary", "CSV_HEADER"]

#: Columns of the CSV output (and of the table).
CSV_HEADER = ("p", "quantity", "theory", "theory_se", "compared", "mean", "se", "median", "q90", "gap")


@dataclass(frozen=True)
class Summary:
    """Mean ± SE, median and 90% quantile of one quantity's per-trial risks."""

    mean: float
    se: float
    median: float
    q90: float

    def to_dict(self) -> dict:
        return {"mean": json_number(self.mean), "se": json_number(self.se),
                "median": json_number(self.median), "q90": json_number(self.q90)}


@dataclass(frozen=True)
class WidthRow:
    """One width: ``theory`` and ``compared`` (quantity → :class:`Estimate`), ``empirical``
    (quantity → :class:`Summary`, empty without a check)."""

    p: int
    theory: dict
    compared: dict
    empirical: dict = field(default_factory=dict)

    def gap(self, name: str) -> float:
        if name not in self.empirical or name not in self.compared:
            return math.nan
        ref = self.compared[name].mean
        if not (math.isfinite(ref) and ref > 0 and math.isfinite(self.empirical[name].mean)):
            return math.nan
        return self.empirical[name].mean / ref - 1.0

    def to_dict(self) -> dict:
        out = {"p": self.p,
               "theory": {k: json_number(v.mean) for k, v in self.theory.items()},
               "empirical": {k: v.to_dict() for k, v in self.empirical.items()},
               "theory_se": {k: json_number(v.se) for k, v in self.theory.items()},
               "compared": {k: json_number(v.mean) for k, v in self.compared.items()}}
        if self.empirical:
            out["gap"] = {k: json_number(self.gap(k)) for k in PREDICTED}
        return out


@dataclass(frozen=True)
class DataReport:
    """Everything ``dcprune data`` prints (module docstring)."""

    file: str
    target: str
    N: int
    d: int
    n: int
    s: int
    sigma2: float
    order: tuple[str, ...]
    order_rule: str
    standardized: bool
    robust: bool
    finite_population_factor: float
    diagnostics: Diagnostics
    rows: tuple[WidthRow, ...]
    trials: int | None
    seed: int
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {"file": self.file, "target": self.target, "N": self.N, "d": self.d, "n": self.n, "s": self.s,
                "sigma2": self.sigma2, "order": list(self.order),
                "finite_population_factor": self.finite_population_factor,
                "diagnostics": self.diagnostics.to_dict(), "rows": [r.to_dict() for r in self.rows],
                "trials": self.trials, "seed": self.seed, "warnings": list(self.warnings),
                "standardized": self.standardized, "robust": self.robust}

    def long_rows(self) -> list[tuple]:
        """``(p, quantity, theory, theory_se, compared, mean, se, median, q90, gap)`` rows."""
        out = []
        names = MEASURED if self.trials else PREDICTED
        for row in self.rows:
            for name in names:
                th = row.theory.get(name, Estimate(math.nan, math.nan))
                cmp = row.compared.get(name, Estimate(math.nan))
                emp = row.empirical.get(name)
                cells = (emp.mean, emp.se, emp.median, emp.q90) if emp else (math.nan,) * 4
                out.append((row.p, name, th.mean, th.se, cmp.mean, *cells, row.gap(name)))
        return out

    def title(self) -> list[str]:
        d = self.diagnostics
        lines = [f"# data {self.file}: target {self.target}, N={self.N} rows, d={self.d} columns, n={self.n}, "
                 f"s={self.s}, sigma2={self.sigma2:.6g} (from the rows), order {self.order_rule}"
                 f"{', standardized' if self.standardized else ''}"
                 f"{', robust (sandwich, p < n - 1)' if self.robust else ''}",
                 f"# columns as used: {', '.join(self.order[:12])}{' ...' if len(self.order) > 12 else ''}",
                 f"# diagnostics (first {d.p} columns): minsupp {d.minsupp:.2%}, levk {d.levk:.3f}, "
                 f"max leverage {d.max_leverage:.1f}·p, het {d.het:.3f}"]
        if self.trials:
            lines.append(f"# empirical check: {self.trials} trials (seed {self.seed}) of 2n rows drawn without "
                         f"replacement; finite-population factor (N-n)/(N-1) = {self.finite_population_factor:.4f} "
                         f"applied to the estimation noise in 'compared' for p < n - 1")
            lines.append("# *_retrain: retrained on a fresh sample (predicted); *_retrain_same: on the training "
                         "rows (measured only)")
        return lines

    def table(self) -> str:
        def cell(x, width=11):
            text = "-" if math.isnan(x) else ("inf" if x == math.inf else f"{x:.5g}")
            return f"{text:>{width}}"

        lines = self.title()
        for w in self.warnings:
            lines.append(f"# warning: {w}")
        head = f"{'p':>5} {'quantity':<22}" + "".join(f"{h:>11}" for h in CSV_HEADER[2:-1]) + f"{'gap':>9}"
        lines.append(head)
        for r in self.long_rows():
            gap = r[-1]
            gap_text = "-" if math.isnan(gap) else f"{gap:+.1%}"
            lines.append(f"{r[0]:>5} {QUANTITIES[r[1]].name:<22}" + "".join(cell(x) for x in r[2:-1])
                         + f"{gap_text:>9}")
        return "\n".join(lines)
