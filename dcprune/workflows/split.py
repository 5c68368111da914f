r"""The bias/variance split of the dense and retrained risks, and the dense training error.

For a model of a diagonal problem (docs/theory.rst §2) with DC shrinkage
:math:`c_a = \lambda_a/(\lambda_a+\zeta)`, :math:`df_1 = \sum_a m_a c_a`,
:math:`df_2 = \sum_a m_a c_a^2`, :math:`b_0 = \sum_a m_a \lambda_a \beta_a^2 (1-c_a)^2` and the
effective noise :math:`\sigma_{eff}^2 = \sigma^2 + \text{omitted}` (the energy of the features
the model leaves out acts as noise, §5), the test risk splits into four parts:

.. math::

    R = \underbrace{\sigma^2}_{\text{noise}} + \underbrace{\text{omitted}}_{\text{misspecification}}
        + \underbrace{\frac{b_0}{1 - df_2/n}}_{\text{bias}}
        + \underbrace{\sigma_{eff}^2 \frac{df_2/n}{1 - df_2/n}}_{\text{variance}},

asymptotically; at finite ``n`` without ridge the variance's denominator is
:math:`1 - df_2/n - 1/\max(n, p)` (§2), and with ridge both parts carry the first-order
corrections of §13 (``DenseRisk.bias`` and ``variance`` of :mod:`dcprune.solver`). For the isotropic
problem at full width this is Hastie et al.'s split (*Surprises in high-dimensional ridgeless
least squares interpolation*, 2022, Thm. 1): bias 0 and variance :math:`\sigma^2\kappa/(1-\kappa)` below the
peak, bias :math:`r^2(1 - 1/\kappa)` and variance :math:`\sigma^2/(\kappa-1)` above it. A
retrained model (fresh retraining, §4) is the dense model of its kept support, whose dropped
features join the omitted energy. With Gaussian coefficients (§11) every part is averaged over
β, and a kept coordinate carries the energy the rule kept, :math:`E[\beta^2 \mid \text{kept}]`.
Same-data retraining (``magnitude_retrain_same``, the heuristic of §14) is no dense model of a
sub-problem, has no such split, and is left out.

The training error :math:`\frac1n\lVert y - X\hat b\rVert^2` of the dense model is, by the
DC's generalized cross-validation identity (the ridge equation :math:`\lambda = \zeta(1 -
df_1/n)`), :math:`R\,(1 - df_1/n)^2 = R\,(\lambda/\zeta)^2`: zero for min-norm interpolation
(:math:`p > n`), :math:`\sigma_{eff}^2 (1 - p/n)` for least squares below the peak; at finite
``n`` without ridge it is the exact :math:`\sigma_{eff}^2 \max(n - p, 0)/n`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..checks import ParameterError
from ..families import Diagonal
from ..pruning import kept_problem, prune
from ..results import json_number
from ..rules import RULES
from ..solver import dense_risk

__all__ = ["Split", "split"]

#: The parts of a risk, in output order.
PARTS = ("noise", "omitted", "bias", "variance")


@dataclass(frozen=True)
class Split:
    """The parts of the dense risk and of each freshly retrained model's, per name (``dense``,
    ``RULE_retrain``): a dict with ``risk`` and :data:`PARTS`; ``train_error`` of the dense model."""

    problem: Diagonal
    width: float
    parts: dict
    train_error: float

    def to_dict(self) -> dict:
        head = self.problem.header()
        out = {"kappa": head.pop("kappa"), "alpha": head.pop("alpha"), "width": self.width, **head,
               "s": self.problem.as_count(self.problem.s)}
        out["split"] = {name: {k: json_number(v) for k, v in row.items()} for name, row in self.parts.items()}
        out["train_error"] = json_number(self.train_error)
        return out


def _parts(lam, beta, mult, noise, omitted, n, ridge, finite):
    """The split of one model's dense risk (arrays of one row) and its training error."""
    sigma_eff = noise + omitted
    fit = dense_risk(lam, beta, mult, sigma_eff, n, ridge=ridge, finite=finite)
    df1 = float((mult * fit.shrink).sum())
    p = float(mult.sum())
    gamma = float(fit.gamma[0])
    if not np.isfinite(gamma):
        bias = variance = np.inf
    else:
        bias, variance = float(fit.bias[0]), float(fit.variance[0])
    row = {"risk": gamma, "noise": float(noise), "omitted": float(omitted), "bias": bias, "variance": variance}
    if finite and ridge == 0:
        train = float(sigma_eff) * max(n - p, 0.0) / n
    else:
        train = gamma * (1.0 - df1 / n) ** 2 if np.isfinite(gamma) else np.inf
    return row, train


def split(problem: Diagonal, width: float | None = None) -> Split:
    """The bias/variance split of the dense and retrained risks of the model of width ``width``
    (default κ), and the dense model's training error (see the module docstring)."""
    if not isinstance(problem, Diagonal):
        raise ParameterError("problem", "must be a diagonal problem (the split reads the DC's atoms)",
                             shown_value=getattr(problem, "name", problem))
    width = problem.kappa if width is None else width
    count = problem.count(width)[:1]
    lay = problem.spectrum.layout(problem.d, count, problem.s, problem.finite)
    n, ridge, finite, s = problem.scale, problem.ridge, problem.finite, problem.s
    tail = float(lay.tail[0])
    parts = {}
    parts["dense"], train = _parts(lay.lam, lay.beta, lay.mult, problem.sigma2, tail, n, ridge, finite)
    sigma_eff = problem.sigma2 + lay.tail
    dense = dense_risk(lay.lam, lay.beta, lay.mult, sigma_eff, n, ridge=ridge, finite=finite)
    for rule in RULES.values():
        if not rule.retrainable:
            continue
        pruned = prune(rule, lay.lam, lay.beta, lay.mult, lay.oracle_mult, sigma_eff, s, n, dense,
                       problem.coefficients)
        kept, dropped = kept_problem(lay.lam, lay.beta, lay.mult, pruned.keep, pruned.kept_energy)
        parts[f"{rule.name}_retrain"], _ = _parts(lay.lam, kept, lay.mult * pruned.keep, problem.sigma2,
                                                  tail + float(dropped[0]), n, ridge, finite)
    return Split(problem, float(count[0] / n), parts, train)
