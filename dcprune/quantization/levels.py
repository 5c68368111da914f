r"""The quantizers' levels and the real rounding map (docs/theory.rst §11).

Both quantizers code a coefficient as a sign and a magnitude, ``Q(x) = sign(x) · q(|x|)``,
where ``q`` rounds a magnitude to one of the *magnitude levels* ``0 ≤ ℓ_0 < … < ℓ_{L−1}``
and clips magnitudes beyond the end levels to them:

- **mid-tread** with ``b ≥ 2`` bits: ``ℓ_k = kΔ``, ``k = 0..K``, ``K = 2^{b−1} − 1``,
  ``Δ = c/K`` — the ``2^b − 1`` signed levels ``−KΔ..KΔ`` with a zero level (``b = 2`` is
  ternary ``{−c, 0, c}``);
- **sign-magnitude on** ``[t, c]``: ``ℓ_j = t + (j + ½) w``, ``j = 0..2^{b−1} − 1``,
  ``w = (c − t)/2^{b−1}`` — ``2^b`` signed levels and no zero (``b = 1``: ``±(t + c)/2``).
  ``t`` is the magnitude-pruning threshold for a pruned model (kept magnitudes in
  ``[t, ℓ_0)`` round to ``ℓ_0``, never to 0) and ``t = 0`` for a dense model, where it is the
  usual mid-rise quantizer.

Rounding of a magnitude ``a`` with ``ℓ_k ≤ a < ℓ_{k+1}``: *nearest* takes the closer level
(ties up); *stochastic* takes ``ℓ_{k+1}`` with probability ``(a − ℓ_k)/(ℓ_{k+1} − ℓ_k)``, so
``E[q(a)] = a`` between the end levels. For mid-tread this is the usual rounding between
signed neighbours (the neighbours of ``x ∈ (0, Δ)`` are 0 and Δ); for sign-magnitude the sign
is kept, so a magnitude below ``ℓ_0`` goes to ``ℓ_0``.

The functions are Numba-compiled so that the Monte Carlo applies the very same map to each
trial's fit; they run from Python too.

>>> import numpy as np
>>> from dcprune.quantization import magnitude_levels, quantize
>>> magnitude_levels(2, 0, 1.0, 0.0)          # mid-tread, 2 bits: ternary
array([0., 1.])
>>> magnitude_levels(2, 1, 1.0, 0.0)          # sign-magnitude, 2 bits on [0, 1]
array([0.25, 0.75])
>>> quantize(np.array([-0.9, 0.1, 0.6]), magnitude_levels(2, 1, 1.0, 0.0), False, np.zeros(3))
array([-0.75,  0.25,  0.75])
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = [
    "QUANTIZERS",
    "ROUNDINGS",
    "MAX_BITS",
    "check_bits",
    "check_clip",
    "check_quantizer",
    "check_rounding",
    "magnitude_levels",
    "neighbours",
    "round_magnitude",
    "rounding_moments",
    "quantize",
]

#: Quantizer names and their codes in the compiled functions.
QUANTIZERS = {"mid-tread": 0, "sign-magnitude": 1}
#: Rounding names and whether they are stochastic.
ROUNDINGS = {"nearest": False, "stochastic": True}
#: The widest code searched and accepted (bits per weight).
MAX_BITS = 16


def check_quantizer(quantizer) -> int:
    """The code of quantizer ``quantizer`` (a name of :data:`QUANTIZERS`), else ValueError."""
    if quantizer not in QUANTIZERS:
        raise ValueError(f"quantizer must be one of {', '.join(QUANTIZERS)}, got {quantizer!r}")
    return QUANTIZERS[quantizer]


def check_rounding(rounding) -> bool:
    """Whether rounding ``rounding`` (a name of :data:`ROUNDINGS`) is stochastic, else ValueError."""
    if rounding not in ROUNDINGS:
        raise ValueError(f"rounding must be one of {', '.join(ROUNDINGS)}, got {rounding!r}")
    return ROUNDINGS[rounding]


def check_bits(bits, quantizer: str = "sign-magnitude") -> int:
    """``bits`` as an int in ``1..MAX_BITS`` (``2..`` for mid-tread, which needs a zero and two
    signed levels), else ValueError naming ``bits``."""
    code = check_quantizer(quantizer)
    low = 2 if code == QUANTIZERS["mid-tread"] else 1
    if isinstance(bits, bool) or not isinstance(bits, (int, np.integer, float, np.floating)):
        raise ValueError(f"bits must be an integer, got {bits!r}")
    if not math.isfinite(bits) or bits != int(bits):
        raise ValueError(f"bits must be an integer, got {bits!r}")
    if not low <= int(bits) <= MAX_BITS:
        raise ValueError(f"bits must be between {low} and {MAX_BITS} for the {quantizer} quantizer, got {bits!r}")
    return int(bits)


def check_clip(clip) -> float:
    """A fixed clipping range ``clip`` as a positive finite float, else ValueError naming ``clip``."""
    try:
        value = float(clip)
    except (TypeError, ValueError):
        raise ValueError(f"clip must be a positive number, got {clip!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"clip must be a positive finite number, got {clip!r}")
    return value


@njit(cache=True)
def magnitude_levels(bits, kind, clip, threshold):
    """The magnitude levels of quantizer ``kind`` (0 mid-tread, 1 sign-magnitude) with ``bits``
    bits on ``[threshold, clip]`` (``threshold`` is ignored by mid-tread), increasing."""
    if kind == 0:
        top = 2 ** (bits - 1) - 1
        step = clip / top
        out = np.empty(top + 1)
        for k in range(top + 1):
            out[k] = k * step
        return out
    count = 2 ** (bits - 1)
    width = (clip - threshold) / count
    out = np.empty(count)
    for j in range(count):
        out[j] = threshold + (j + 0.5) * width
    return out


@njit(cache=True)
def neighbours(a, levels):
    """The levels ``(ℓ_k, ℓ_{k+1})`` with ``ℓ_k ≤ a < ℓ_{k+1}`` around the magnitude ``a``;
    ``(ℓ_0, ℓ_0)`` at or below the first level, ``(ℓ_{L−1}, ℓ_{L−1})`` at or beyond the last."""
    last = levels.shape[0] - 1
    if a <= levels[0]:
        return levels[0], levels[0]
    if a >= levels[last]:
        return levels[last], levels[last]
    k = np.searchsorted(levels, a, side="right") - 1
    return levels[k], levels[k + 1]


@njit(cache=True)
def round_magnitude(a, levels, stochastic, u):
    """Round the magnitude ``a ≥ 0`` to ``levels``; ``u`` is a uniform on [0, 1) used only by
    stochastic rounding (round up when ``u < (a − ℓ_k)/(ℓ_{k+1} − ℓ_k)``)."""
    lo, hi = neighbours(a, levels)
    if lo == hi:
        return lo
    if stochastic:
        return hi if u < (a - lo) / (hi - lo) else lo
    return hi if a - lo >= hi - a else lo


@njit(cache=True)
def rounding_moments(a, levels, stochastic):
    """``(E[q(a)], E[q(a)²])`` over the rounding's own randomness: ``(q, q²)`` for nearest;
    for stochastic rounding between neighbours ``(a, (ℓ_k + ℓ_{k+1}) a − ℓ_k ℓ_{k+1})``, clipped
    beyond the end levels (what a clip rule averages over, before the rounding is drawn)."""
    lo, hi = neighbours(a, levels)
    if lo == hi:
        return lo, lo * lo
    if stochastic:
        return a, (lo + hi) * a - lo * hi
    q = round_magnitude(a, levels, False, 0.0)
    return q, q * q


@njit(cache=True)
def quantize(values, levels, stochastic, uniforms):
    """``sign(x) · q(|x|)`` for each of ``values``, with ``uniforms[i]`` driving stochastic
    rounding of ``values[i]`` (a zero value stays zero)."""
    out = np.empty_like(values)
    for i in range(values.shape[0]):
        x = values[i]
        if x == 0.0:
            out[i] = 0.0
            continue
        mag = round_magnitude(abs(x), levels, stochastic, uniforms[i])
        out[i] = mag if x > 0 else -mag
    return out
