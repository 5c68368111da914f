"""The quantity registry: every risk dcprune predicts or measures, named once.

A *quantity* is the test risk ``E (y − xᵀb)²`` (label noise included) of one model built
from the trained coefficients: the dense fit, a pruning rule applied to it, and optionally
retraining on the kept features (on a fresh sample, which the theory predicts, or on the same
sample, which the Monte Carlo measures and, for magnitude pruning, the heuristic of
docs/theory.rst §14 predicts) or distilling into them (a student on the kept features fitted
to the dense model's labels at unlabelled inputs, docs/theory.rst §12). Tables, CSV columns,
JSON keys, plots and validation all read their names, labels and order from here, so adding a
rule is one entry in :data:`PRUNING_RULES` (and its maps in :mod:`dcprune.rules`).

>>> from dcprune.quantities import PREDICTED, QUANTITIES
>>> PREDICTED[:3]
('dense', 'magnitude', 'hessian')
>>> PREDICTED[-1], QUANTITIES["magnitude_retrain_same"].heuristic
('magnitude_retrain_same', True)
>>> QUANTITIES["hessian_retrain"].label
'HP+rt'
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "Quantity",
    "QUANTITIES",
    "PRUNING_RULES",
    "RETRAINABLE",
    "DISTILLABLE",
    "PREDICTED",
    "SAME_DATA",
    "SAME_DATA_PREDICTED",
    "MEASURED",
    "BLOCKS",
]

#: Pruning rules in output order, with their short labels.
PRUNING_RULES = {"magnitude": "MP", "hessian": "HP", "oracle": "OP", "random": "random"}
#: The rules whose kept features are retrained (random's retraining is not reported).
RETRAINABLE = ("magnitude", "hessian", "oracle")
#: The rules whose kept features are distilled into (docs/theory.rst §12).
DISTILLABLE = ("magnitude", "oracle")
#: The rules whose same-data retraining is predicted too: magnitude pruning, by the heuristic
#: of docs/theory.rst §14 (diagonal Σ, s < n; elsewhere the value is NaN and a warning says why).
SAME_DATA_PREDICTED = ("magnitude",)


@dataclass(frozen=True)
class Quantity:
    """One risk: ``rule`` (``None`` for the dense model) and ``retrain``.

    ``retrain`` is ``None`` (no retraining), ``"fresh"`` (least squares on the kept features
    and a fresh sample: predicted by the DC), ``"same"`` (on the training sample itself:
    measured, and predicted for the rules of :data:`SAME_DATA_PREDICTED`) or ``"distill"``
    (least squares on the kept features and the dense model's labels at fresh unlabelled
    inputs: predicted, docs/theory.rst §12). ``label`` is the short column title of tables and
    plot legends.
    """

    name: str
    label: str
    rule: str | None = None
    retrain: str | None = None

    @property
    def predicted(self) -> bool:
        """Whether the theory predicts it (everything but same-data retraining of the rules
        outside :data:`SAME_DATA_PREDICTED`)."""
        return self.retrain != "same" or self.rule in SAME_DATA_PREDICTED

    @property
    def heuristic(self) -> bool:
        """Whether the prediction is the heuristic of docs/theory.rst §14 (same-data retraining):
        within 2.3% of Monte Carlo at n = 200 on the cases of §14, its bias shrinking like 1/n,
        but not exact, so checks allow for it rather than scoring it by z alone."""
        return self.retrain == "same" and self.predicted


def _registry() -> dict[str, Quantity]:
    out = {"dense": Quantity("dense", "dense")}
    for rule, label in PRUNING_RULES.items():
        out[rule] = Quantity(rule, label, rule)
    for rule in RETRAINABLE:
        out[f"{rule}_retrain"] = Quantity(f"{rule}_retrain", f"{PRUNING_RULES[rule]}+rt", rule, "fresh")
    for rule in DISTILLABLE:
        out[f"{rule}_distill"] = Quantity(f"{rule}_distill", f"{PRUNING_RULES[rule]}+kd", rule, "distill")
    for rule in RETRAINABLE:
        out[f"{rule}_retrain_same"] = Quantity(f"{rule}_retrain_same", f"{PRUNING_RULES[rule]}+rt=", rule, "same")
    return out


#: Every quantity by name, in output order.
QUANTITIES: dict[str, Quantity] = _registry()
#: The quantities the theory predicts, in output order (the ``risk`` keys of predictions).
PREDICTED = tuple(name for name, q in QUANTITIES.items() if q.predicted)
#: Same-data retraining, every rule: measured by Monte Carlo (magnitude's is predicted too).
SAME_DATA = tuple(name for name, q in QUANTITIES.items() if q.retrain == "same")
#: What a Monte Carlo run measures, every quantity in registry order: the column order of every
#: kernel's output.
MEASURED = tuple(QUANTITIES)
#: Groups of quantities printed together in Monte Carlo tables.
BLOCKS = (
    ("pruning", tuple(n for n, q in QUANTITIES.items() if q.retrain is None)),
    ("fresh retraining (the theory's prediction)", tuple(n for n, q in QUANTITIES.items() if q.retrain == "fresh")),
    ("distillation (the student fitted to the dense model's labels)",
     tuple(n for n, q in QUANTITIES.items() if q.retrain == "distill")),
    ("same-data retraining (what practitioners do)", SAME_DATA),
)
