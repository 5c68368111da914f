"""Where the theory of a quantized model is claimed, and why it is only reported elsewhere
(docs/theory.rst §11).

One rule serves ``dcprune validate`` and ``dcprune check``: :func:`quantized_reason` returns
``None`` where §11 says the DC holds for the quantized model (every ``p > n``, and ``p < n``
apart from the cases below), so that a difference beyond the threshold's SEs (plus the
allowance :func:`quantized_allowance` states) fails the run, and otherwise the reason the
comparison is reported only:

- ``p < n`` with an *absmax* clip and at most 2 bits: the DC understates the spread of
  ``max_i |β̂_i|`` by 7–14%, measured 0.6–2.8% off at ``n = 200`` (+2.8%, ``z = 4.0``, for
  1-bit fixed coefficients with 2,000 trials) and within 0.75% at ``n = 400``;
- a tiny quantized set (at most :data:`TINY` weights) with a tuned clip (*mse* or
  *optimal*): the closed form puts the clip and the pruning threshold at their large-count
  limits, while the real rule tunes the clip to a handful of weights whose smallest kept
  magnitude fluctuates;
- the magnitude-pruned model with a tuned clip and fixed coefficients on one atom (every
  coordinate the same ``λ_j`` and ``|β_j|``, the isotropic problem): the levels line up with
  ``β`` (§11: an artifact of ``β ∝ 1``), and at n = 200, p = 300, 4 bits, 800 trials the Monte Carlo is +0.13% (s = 30),
  +0.18% (s = 60) and +0.43–0.53% (s = 120) above the closed form, ``z`` up to 4.5, where the
  spiked covariance problem (two atoms) is within 0.1%;
- the magnitude-pruned model with Gaussian coefficients and ``s ≤`` :data:`~dcprune.coefficients.FEW_KEPT`:
  the ranking rule's closed form is the large-``s`` limit of the exact top-``s`` order
  statistics (+0.8% at ``s = 50``).

>>> from dcprune.quantization.spec import Quantization
>>> spec = Quantization(2, clip="absmax")
>>> quantized_reason("dense", n=200, p=100, s=50, coefficients="fixed", quantization=spec)[:26]
'p < n with a 2-bit absmax '
>>> quantized_reason("dense", n=200, p=300, s=150, coefficients="fixed", quantization=spec) is None
True
"""

from __future__ import annotations

from ..coefficients import FEW_KEPT

__all__ = ["TINY", "TUNED_ALLOWANCE", "MODELS", "quantized_reason", "quantized_allowance"]

#: The quantized models and the quantity names their checks carry.
MODELS = {"dense": "q_dense", "magnitude": "q_magnitude"}
#: A quantized set of at most this many weights is "tiny" for a tuned clip. Measured at n = 200,
#: p = 300, fixed coefficients, 2 and 4 bits, 800 trials: at s = 5 the pruned model's mse and
#: optimal clips give z = −3.5 to +3.9 (biases of 0.05–0.07%) where absmax gives +0.4; at
#: s = 20 mse still gives z = −2.0 and −3.0 (−0.09%, −0.13%).
TINY = 20


#: Relative allowance of a claimed prune-then-quantize check with a tuned (mse, optimal) clip:
#: the pruned model's Monte Carlo SE is small (0.05–0.2% with fixed coefficients, 800 trials)
#: and the closed form's count threshold and clip are large-s limits. Measured at n = 200,
#: p = 300, 4-bit sign-magnitude, spiked covariance, 800 trials: mse −0.08% to −0.09% at
#: s = 30–60 (z down to −1.4) and −0.13% at s = 20 (z = −3.0); optimal within 0.05%.
TUNED_ALLOWANCE = 0.002


def quantized_allowance(model: str, *, p: int, s: int, quantization) -> float:
    """The relative allowance of the quantized ``model``'s claimed check: :data:`TUNED_ALLOWANCE`
    for the pruned model (``p > s``) with a tuned clip, else 0 (|z| ≤ threshold alone)."""
    if model == "magnitude" and p > s and quantization.clip_rule in ("mse", "optimal"):
        return TUNED_ALLOWANCE
    return 0.0


def quantized_reason(model: str, *, n: int, p: int, s: int, coefficients: str, quantization,
                     one_atom: bool = False) -> str | None:
    """``None`` where the quantized ``model`` (``"dense"`` or ``"magnitude"``) of width ``p``
    (``s`` kept) is claimed, else why its comparison is reported only (module docstring);
    ``one_atom``: every coordinate of the model has the same ``λ_j`` and ``|β_j|``."""
    if model not in MODELS:
        raise ValueError(f"model must be one of {', '.join(MODELS)}, got model={model!r}")
    rule = quantization.clip_rule
    if p < n and rule == "absmax" and quantization.bits <= 2:
        return (f"p < n with a {quantization.bits}-bit absmax clip: the DC understates the spread of the maximum "
                f"(0.6-2.8% at n = 200, within 0.75% at n = 400; docs/theory.rst §11)")
    size = p if model == "dense" or p <= s else s
    if size <= TINY and rule in ("mse", "optimal"):
        return (f"{size} weights with a tuned ({rule}) clip: the closed form takes the clip and threshold at their "
                f"large-count limits (docs/theory.rst §11)")
    if model == "magnitude" and p > s and one_atom and coefficients == "fixed" and rule in ("mse", "optimal"):
        return ("one atom of fixed coefficients with a tuned clip on the pruned model: every kept weight has one law "
                "and the levels line up with β (+0.13-0.53% at s = 30-120; docs/theory.rst §11)")
    if model == "magnitude" and p > s and coefficients == "gaussian" and s <= FEW_KEPT:
        return (f"gaussian coefficients with s = {s} kept: the ranking rule's closed form is the large-s limit "
                f"(+0.8% at s = 50; docs/theory.rst §11)")
    return None
