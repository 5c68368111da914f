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
An infinite or NaN (not predicted) prediction is not scored. With a quantization
(docs/theory.rst §11) the quantized dense and prune-then-quantize risks are two more checks,
claimed or reported only by :func:`dcprune.validate.claims.quantized_reason`, the rule of the
validation grid.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..predict import predict
from ..results import json_number
from ..validate.quantized import QUANTIZED, compare_quantized
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
        heuristic = self.heuristic
        scored = [c for c in self.checks if c.claimed == claimed and math.isfinite(c.z) and c not in heuristic]
        return max(scored, key=lambda c: abs(c.z)) if scored else None

    @property
    def heuristic(self) -> list:
        """The scored claimed checks of a heuristic prediction, held to its allowance (same-data
        retraining, §14; the quantized models' allowance is a small stated margin, not this)."""
        return [c for c in self.checks if c.claimed and c.allowance and math.isfinite(c.z)
                and c.quantity not in QUANTIZED]

    @property
    def failures(self) -> list:
        """Claimed checks beyond the threshold (and their stated allowance)."""
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

    def theory_se(self, quantity: str) -> float:
        """The standard error of the prediction of ``quantity`` (0 for a closed form)."""
        if quantity in QUANTIZED:
            return self.prediction.quantized.risk[quantity.removeprefix("q_")].se
        risk = self.prediction.risk
        return risk[quantity if quantity in risk else quantity.removesuffix("_same")].se

    def to_dict(self) -> dict:
        """The JSON of ``dcprune check``: the problem's header, the run, one entry per quantity
        and the verdict."""
        head = self.prediction.to_dict()
        out = {k: v for k, v in head.items() if k not in ("zeta", "gamma", "converged", "risk", "risk_se",
                                                           "reference", "warnings")}
        out.update(trials=self.simulation.trials, seed=self.simulation.seed, threshold=self.threshold,
                   flagged=self.simulation.rows[0].flagged)
        out["checks"] = [{"quantity": c.quantity, "claimed": c.claimed, "theory": json_number(c.theory),
                          "theory_se": json_number(self.theory_se(c.quantity)),
                          "mean": json_number(c.mean), "se": json_number(c.se),
                          "z": json_number(c.z), "reason": c.reason, "allowance": c.allowance}
                         for c in self.checks]
        if self.prediction.quantized is not None:
            out["quantized"] = {"theory": self.prediction.quantized.to_dict(),
                                "monte_carlo": self.simulation.rows[0].quantized.to_dict()}
        worst, reported = self.worst(True), self.worst(False)
        out["verdict"] = {"passed": self.passed,
                          "max_abs_z_claimed": None if worst is None else abs(worst.z),
                          "worst_claimed": None if worst is None else worst.quantity,
                          "max_abs_z_reported": None if reported is None else abs(reported.z),
                          "line": self.verdict()}
        out["warnings"] = list(dict.fromkeys((*self.prediction.warnings, *self.simulation.warnings)))
        return out


def check(problem, width: float | None = None, *, trials: int = 200, seed: int = 0, threshold: float = 4.0,
          threads=None, progress=None, quantization=None) -> Comparison:
    """Theory and Monte Carlo of the model of width ``width`` (default κ) of ``problem``.

    Parameters
    ----------
    problem : Family
        Any family with a Monte Carlo sampler (``n`` given).
    trials, seed, threads, progress
        As for :func:`dcprune.montecarlo.simulate` (the same seed gives the same numbers).
    threshold : float
        A claimed quantity with ``|MC − theory| > threshold·se`` (plus its stated relative
        allowance times the theory: :func:`dcprune.samedata.allowance` for same-data retraining,
        :func:`dcprune.validate.claims.quantized_allowance` for prune-then-quantize) fails the check.
    quantization : Quantization, optional
        Also check the quantized dense and magnitude-pruned models (diagonal problems,
        docs/theory.rst §11), as :func:`dcprune.predict` and :func:`dcprune.montecarlo.simulate`
        take it.
    """
    from ..montecarlo import simulate  # Numba loads only when simulating

    prediction = predict(problem, width, quantization=quantization)
    simulation = simulate(problem, width=prediction.width, trials=trials, seed=seed, threads=threads,
                          progress=progress, quantization=quantization)
    checks = compare(problem, prediction, simulation.rows[0])
    if quantization is not None:
        checks += compare_quantized(problem, prediction, simulation.rows[0])
    return Comparison(prediction, simulation, tuple(checks), float(threshold))
