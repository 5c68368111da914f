r"""Fixed or Gaussian coefficients: the joint law of a trained coefficient and its target
(docs/theory.rst §11, "Random coefficients").

The DC says a trained coefficient of atom ``a`` is ``X = c_a β + s_a h`` (``c_a`` the shrinkage,
``s_a`` the per-coordinate noise sd, ``h ~ N(0, 1)``). Every closed form of dcprune needs the law
of ``X`` and the law of the target ``β`` given ``X``: ``X ~ N(μ, sd²)``,
``E[β | X] = b0 + b1 X``, ``Var(β | X) = w``.

- ``"fixed"``: β is the spectrum's coefficient ``β_a``: ``μ = c_a β_a``, ``sd = s_a``,
  ``(b0, b1, w) = (β_a, 0, 0)``.
- ``"gaussian"``: each coordinate draws ``β ~ N(0, v_a)`` independently with ``v_a = β_a²`` (the
  same expected energy as the fixed coefficient). ``(X, β)`` is jointly Gaussian:

  .. math::
      X \sim N(0, c_a^2 v_a + s_a^2), \quad
      E[\beta \mid X] = \rho_a X,\ \rho_a = \frac{c_a v_a}{c_a^2 v_a + s_a^2}, \quad
      \operatorname{Var}(\beta \mid X) = w_a = \frac{v_a s_a^2}{c_a^2 v_a + s_a^2}.

  Where the noise is infinite (the interpolation peak) ``X`` says nothing of β: ``ρ = 0``,
  ``w = v``. A prediction with Gaussian coefficients is the risk averaged over β as well; the
  Monte Carlo draws a new β per trial.

>>> import numpy as np
>>> mu, sd, b0, b1, w = coefficient_law("gaussian", np.array([1.0]), np.array([0.5]), np.array([0.5]))
>>> [round(float(x[0]), 4) for x in (mu, sd, b0, b1, w)]
[0.0, 0.7071, 0.0, 1.0, 0.5]
"""

from __future__ import annotations

import numpy as np

from .checks import ParameterError

__all__ = ["COEFFICIENTS", "FEW_KEPT", "check_coefficients", "coefficient_law", "few_kept_warnings"]

#: How a diagonal problem's coefficients are taken: as given, or drawn per coordinate.
COEFFICIENTS = ("fixed", "gaussian")
#: With Gaussian coefficients and at most this many kept weights, the exact top-s order
#: statistics move the ranking rules' risks measurably off their count-threshold limit (§11).
FEW_KEPT = 100


def check_coefficients(coefficients) -> str:
    """``coefficients`` if it names one of :data:`COEFFICIENTS`, else ``ValueError`` naming it."""
    if not isinstance(coefficients, str) or coefficients not in COEFFICIENTS:
        raise ParameterError("coefficients", f"must be one of {', '.join(COEFFICIENTS)}", coefficients)
    return coefficients


def coefficient_law(coefficients: str, beta, shrink, noise):
    """``(mu, sd, b0, b1, w)`` of each atom (see the module docstring) for coefficients
    ``coefficients``, the spectrum's ``beta`` (the sd of a Gaussian coefficient), the shrinkage
    ``shrink`` (``c_a``) and the DC noise sd ``noise`` (``s_a``; ``inf`` at the peak)."""
    beta, shrink, noise = np.broadcast_arrays(*(np.asarray(x, dtype=float) for x in (beta, shrink, noise)))
    if check_coefficients(coefficients) == "fixed":
        zeros = np.zeros_like(beta)
        return shrink * beta, noise, beta, zeros, zeros
    v = beta * beta
    signal = shrink * shrink * v
    var = signal + noise * noise
    blind = ~np.isfinite(noise)
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = np.where(blind | (var == 0), 0.0, shrink * v / np.where(var > 0, var, 1.0))
        w = np.where(blind, v, np.where(var > 0, v * noise * noise / np.where(var > 0, var, 1.0), 0.0))
    return np.zeros_like(beta), np.sqrt(var), np.zeros_like(beta), rho, w


def few_kept_warnings(coefficients: str, s: float) -> list[str]:
    """The warning of a pruned model with Gaussian coefficients and at most :data:`FEW_KEPT` kept
    weights (docs/theory.rst §11), or none."""
    if coefficients != "gaussian" or s > FEW_KEPT:
        return []
    return [f"gaussian coefficients with s = {s:g} kept: the closed forms of magnitude, Hessian and oracle pruning "
            f"(and their retraining) use the count threshold, the large-s limit of the exact top-s order statistics, "
            f"which add about +0.8% at s = 50, +0.4% at s = 100 and +0.1% at s = 150 (docs/theory.rst §11)"]
