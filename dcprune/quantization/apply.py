r"""The clip rules applied to one fitted coefficient vector: what the Monte Carlo does per trial
(docs/theory.rst §11).

The theory predicts a clip rule from the DC law (:mod:`dcprune.quantization.clipping`); the
real procedure applies it to the coefficients one fit produced, ``v_1..v_k`` (the dense fit, or
the kept weights of magnitude pruning with ``t`` their smallest magnitude):

- *fixed*: the given ``c``;
- *absmax*: ``c = max_i |v_i|`` (for the pruned model the same max: the largest weight is kept);
- *mse*: the ``c`` minimizing the quantization error ``Σ_i E[(Q_c(v_i) − v_i)²]``, ``E`` over the
  rounding's own randomness only (:func:`dcprune.quantization.levels.rounding_moments`):
  stochastic rounding is drawn after the clip is chosen, independently of it, as the theory's
  objective averages over it. The search scans :data:`~dcprune.quantization.clipping.GRID`
  clips evenly spaced in ``(low, 2 max_i |v_i|]`` (``low = t`` for sign-magnitude, else 0; a
  1-bit code's best clip ``2 mean|v| − t`` lies below the top) and refines the best by
  :data:`~dcprune.quantization.clipping.ZOOMS` zoomed grids of
  :data:`~dcprune.quantization.clipping.ZOOM` between its neighbours: the schedule of the
  theory's :func:`~dcprune.quantization.clipping.search_clips`, on the trial's own objective.

*optimal* is no rule on one vector: the theory's optimal clip minimizes the *expected* risk
(an oracle that knows the problem's law, or a validation set of many problems), so the Monte
Carlo applies that one range in every trial: ``c`` itself for the dense model and mid-tread,
and for sign-magnitude pruned weights the same span ``c − t`` above the trial's own threshold
``t`` (the two agree as ``t`` concentrates; the optimum can sit at ``c → t``, where a fixed
``c`` would fall below half the trials' thresholds). Minimizing each trial's own
population risk instead (an oracle that knows the trial's β) is a better rule than the theory
predicts: 2.5% below it at 2 bits with Gaussian coefficients, ``n = 200``, ``p = 600``
(docs/theory.rst §11).

The functions are Numba-compiled: the Monte Carlo kernels call them inside their trial loop.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .clipping import GRID, ZOOM, ZOOMS
from .levels import magnitude_levels, rounding_moments

__all__ = ["CLIP_CODES", "quantization_error", "choose_clip"]

#: The clip rules of one vector and their codes in the compiled functions (``optimal``: the
#: theory's range, given as its span above the threshold, see the module docstring).
CLIP_CODES = {"fixed": 0, "mse": 1, "absmax": 2, "optimal": 3}
_FIXED, _MSE, _ABSMAX, _SPAN = 0, 1, 2, 3


@njit(cache=True)
def quantization_error(values, threshold, clip, bits, kind, stochastic):
    """``Σ_i E[(Q(v_i) − v_i)²]`` of the coefficients ``values`` quantized on ``[threshold, clip]``
    by quantizer ``kind``, ``E`` over the rounding (the ``mse`` rule's objective); ``inf`` where
    it is not a number."""
    levels = magnitude_levels(bits, kind, clip, threshold)
    total = 0.0
    for i in range(values.shape[0]):
        a = abs(values[i])
        if a == 0.0:  # stays 0
            continue
        m1, m2 = rounding_moments(a, levels, stochastic)
        total += m2 - 2.0 * a * m1 + a * a
    return total if np.isfinite(total) else np.inf


@njit(cache=True)
def choose_clip(values, threshold, bits, kind, rule, fixed, stochastic):
    """The clip rule ``rule`` (a code of :data:`CLIP_CODES`) applied to ``values`` (see the module
    docstring); ``fixed`` is the fixed rule's clip, or the optimal rule's span above the
    threshold (sign-magnitude; mid-tread levels start at 0). NaN when every value is 0."""
    if rule == _FIXED:
        return fixed
    if rule == _SPAN:
        return (threshold if kind == 1 else 0.0) + fixed
    top = 0.0
    for i in range(values.shape[0]):
        top = max(top, abs(values[i]))
    if rule == _ABSMAX:
        return top if top > 0 else np.nan
    low = threshold if kind == 1 else 0.0
    high = 2.0 * top
    if not high > low:
        return np.nan
    best, best_value = high, np.inf
    for k in range(1, GRID + 1):
        c = low + (high - low) * k / GRID
        v = quantization_error(values, threshold, c, bits, kind, stochastic)
        if v < best_value:
            best, best_value = c, v
    step = (high - low) / GRID
    for _ in range(ZOOMS):
        lo = max(best - step, low + 1e-9 * (high - low))
        span = best + step - lo
        for j in range(ZOOM):
            c = lo + span * j / (ZOOM - 1)
            v = quantization_error(values, threshold, c, bits, kind, stochastic)
            if v <= best_value:
                best, best_value = c, v
        step = span / (ZOOM - 1)
    return best
