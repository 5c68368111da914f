"""Theory beside Monte Carlo for one configuration (``dcprune check``).

For one model of any problem family, the prediction (:func:`dcprune.predict`) and a Monte
Carlo run of the real regressions (:func:`dcprune.montecarlo.simulate`) give, per quantity,
``z = (MC mean − theory) / se`` with ``se = sqrt(se_MC² + se_theory²)`` — the comparison of
``dcprune validate`` (:func:`dcprune.validate.zscores.compare`, docs/theory.rst §1–4): the
quantities the theory claims (dense, pruned, fresh retraining, distillation) fail the check
when ``|z|`` exceeds the threshold; magnitude pruning's same-data retraining is claimed against
its heuristic prediction (§14) with the stated allowance (:func:`dcprune.samedata.allowance`:
``|MC − theory| <= threshold·SE + allowance·theory``), Hessian and oracle same-data
retraining are reported beside the fresh-retraining prediction only (not what §4 predicts).
An infinite or NaN (not predicted) prediction is not scored.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..predict import predict
from ..results import json_number
from ..validate.zscores import compare

__all__ = ["Comparison", "check"]


@dataclass(frozen=True)
class Comparison:
    """The checks of one model (:class:`~dcprune.validate.zscores.Check` per quantity), the
    threshold and the run's size."""

    prediction: object
    simulation: object
    checks: tuple
    threshold: float

    def worst(self, claimed: bool):
        """The scored check of largest ``|z|`` among the claimed ones held to ``z`` alone (or the
        reported ones), or ``None``."""
        scored = [c for c in self.checks if c.claimed == claimed and math.isfinite(c.z) and not c.allowance]
        return max(scored, key=lambda c: abs(c.z)) if scored else None

    @property
    def heuristic(self) -> list:
        """The scored claimed checks held to a heuristic's allowance (same-data retraining, §14)."""
        return [c for c in self.checks if c.claimed and c.allowance and math.isfinite(c.z)]

    @property
    def failures(self) -> list:
        """Claimed checks beyond the threshold (and a heuristic's allowance)."""
        return [c for c in self.checks if c.fails(self.threshold)]

    @property
    def passed(self) -> bool:
        return not self.failures

    def verdict(self) -> str:
        """One line: the largest claimed and reported ``|z|`` and pass/fail."""
        claimed, reported = self.worst(True), self.worst(False)
        text = ("no claimed quantity is finite" if claimed is None
                else f"largest claimed |z| = {abs(claimed.z):.2f} ({claimed.quantity})")
        for c in self.heuristic:
            text += (f"; {c.quantity} (heuristic): theory/MC − 1 = {c.theory / c.mean - 1:+.2%}, z = {c.z:+.2f}, "
                     f"allowance {c.allowance:.0%}")
        if reported is not None:
            text += f"; reported only: largest |z| = {abs(reported.z):.2f} ({reported.quantity})"
        state = "PASS" if self.passed else f"FAIL ({len(self.failures)} claimed beyond)"
        return f"{state}: {text}; threshold {self.threshold:g}, {self.simulation.trials} trials"

    def to_dict(self) -> dict:
        """The JSON of ``dcprune check``: the problem's header, the run, one entry per quantity
        and the verdict."""
        head = self.prediction.to_dict()
        out = {k: v for k, v in head.items() if k not in ("zeta", "gamma", "converged", "risk", "risk_se",
                                                           "reference", "warnings")}
        out.update(trials=self.simulation.trials, seed=self.simulation.seed, threshold=self.threshold,
                   flagged=self.simulation.rows[0].flagged)
        risk = self.prediction.risk
        out["checks"] = [{"quantity": c.quantity, "claimed": c.claimed, "theory": json_number(c.theory),
                          "theory_se": json_number(risk[c.quantity if c.quantity in risk
                                                        else c.quantity.removesuffix("_same")].se),
                          "mean": json_number(c.mean), "se": json_number(c.se),
                          "z": json_number(c.z), "allowance": c.allowance} for c in self.checks]
        worst, reported = self.worst(True), self.worst(False)
        out["verdict"] = {"passed": self.passed,
                          "max_abs_z_claimed": None if worst is None else abs(worst.z),
                          "worst_claimed": None if worst is None else worst.quantity,
                          "max_abs_z_reported": None if reported is None else abs(reported.z),
                          "line": self.verdict()}
        out["warnings"] = list(dict.fromkeys((*self.prediction.warnings, *self.simulation.warnings)))
        return out


def check(problem, width: float | None = None, *, trials: int = 200, seed: int = 0, threshold: float = 4.0,
          threads=None, progress=None) -> Comparison:
    """Theory and Monte Carlo of the model of width ``width`` (default κ) of ``problem``.

    Parameters
    ----------
    problem : Family
        Any family with a Monte Carlo sampler (``n`` given).
    trials, seed, threads, progress
        As for :func:`dcprune.montecarlo.simulate` (the same seed gives the same numbers).
    threshold : float
        A claimed quantity with ``|z| > threshold`` fails the check.
    """
    from ..montecarlo import simulate  # Numba loads only when simulating

    prediction = predict(problem, width)
    simulation = simulate(problem, width=prediction.width, trials=trials, seed=seed, threads=threads,
                          progress=progress)
    checks = compare(problem, prediction, simulation.rows[0])
    return Comparison(prediction, simulation, tuple(checks), float(threshold))
