"""What a diagonal prediction warns of (docs/theory.rst §2–5, §11–12, §14): infinite values and
where they sit (the interpolation peaks of the dense, retrained and distilled models), same-data
retraining where its heuristic does not predict, failed root solves, and the caveats of the
spectrum and of the coefficients, one line each, naming the widths.
"""

from __future__ import annotations

import math

import numpy as np

from ..coefficients import few_kept_warnings
from ..quantities import DISTILLABLE, SAME_DATA_PREDICTED
from ..rules import RULES
from ..samedata import not_predicted
from ..solver import peak_reason
from .base import Reference

__all__ = ["caveats"]


def caveats(setup, values: dict, counts: np.ndarray, ref: Reference) -> list[str]:
    """One line per kind of infinite value or failed solve, naming the widths, and the spectrum's
    and the coefficients' own caveats; ``setup`` is the :class:`~dcprune.families.diagonal.Diagonal`
    problem, ``values`` the risks of its models of sizes ``counts``, ``ref`` its reference line."""
    n = setup.scale
    out = list(setup.spectrum.warnings(setup.finite))
    if setup.finite and round(setup.alpha * setup.d) < 1:
        out.append(f"alpha*d = {setup.alpha * setup.d:.3g} rounds to no coordinate; s = 1 is used (the "
                   f"smallest pruned model)")
    if setup.finite and np.any(counts > setup.s):
        out += few_kept_warnings(setup.coefficients, setup.s)

    def where(mask):
        ws = counts[mask] / n
        shown = ", ".join(f"{w:g}" for w in ws[:5])
        return f"width {shown}" + (f" and {ws.size - 5} more" if ws.size > 5 else "")

    dense_inf = ~np.isfinite(values["dense"])
    if dense_inf.any():
        p = counts[dense_inf][0]
        out.append(f"risk.dense is infinite at {where(dense_inf)}: {peak_reason(p, n, setup.finite)}")
        pruned = [r for r in (*RULES, *(f"{r}_distill" for r in DISTILLABLE))
                  if (~np.isfinite(values[r]) & dense_inf).any()]
        if pruned:
            out.append(
                f"risk.{'/'.join(pruned)} infinite at {where(dense_inf)}: a pruned model keeps "
                f"the infinite-variance coordinates of the dense model at the peak"
            )
    sizes = (f"s = {setup.s:g} features with n = {n:g} samples" if setup.finite
             else f"s/n = {setup.s:g} (as many kept features as samples)")
    for rule in (r.name for r in RULES.values() if r.retrainable):
        bad = ~np.isfinite(values[f"{rule}_retrain"])
        if bad.any():
            out.append(
                f"risk.{rule}_retrain is infinite at {where(bad)}: retraining on {sizes} "
                f"sits at the retrained model's interpolation peak"
            )
    bad = np.any([~np.isfinite(values[f"{r}_distill"]) for r in DISTILLABLE], axis=0) & ~dense_inf
    if bad.any():
        m = f"M = {setup.unlabelled:g}" if setup.finite else f"M/n = {setup.unlabelled:g}"
        out.append(f"risk.{'/'.join(f'{r}_distill' for r in DISTILLABLE)} infinite at {where(bad)}: the "
                   f"students have as many features, min(s, p), as unlabelled inputs ({m}), their "
                   f"interpolation peak")
    if not math.isfinite(ref.oracle_retrain) and np.all(np.isfinite(values["oracle_retrain"])):
        out.append(f"reference.oracle_retrain is infinite: retraining on {sizes} sits at the retrained "
                   f"model's interpolation peak")
    for rule in SAME_DATA_PREDICTED:
        name = f"{rule}_retrain_same"
        missing = np.isnan(values[name])
        reason = not_predicted(setup.s, n, setup.ridge, setup.finite, setup.coefficients)
        if missing.any() and reason:
            out.append(f"risk.{name} is NaN at {where(missing)}: {reason}")
        elif missing.any():
            for part, why in ((missing & dense_inf, "the interpolation peak (the heuristic needs the first fit's "
                                                    "finite noise level τ)"),
                              (missing & ~dense_inf, "the heuristic's conditioned design is degenerate there")):
                if part.any():
                    out.append(f"risk.{name} is NaN at {where(part)}: {why}; simulate measures it "
                               f"(docs/theory.rst §14)")
    failed = ~values["converged"]
    if failed.any():
        out.append(
            f"a root solve did not converge at {where(failed)} "
            f"(largest relative residual {np.nanmax(values['residual'][failed]):.2e}); treat those "
            f"values with care"
        )
    return out
