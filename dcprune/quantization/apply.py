r"""The clip rules applied to one fitted coefficient vector: what the Monte Carlo does per trial
(docs/theory.rst §11).

The theory predicts a clip rule from the DC law (:mod:`dcprune.quantization.clipping`); the
real procedure applies it to the coefficients one fit produced, ``v_1..v_k`` (the dense fit, or
the kept weights of magnitude pruning with ``t`` their smallest magnitude):

- *fixed*: the given ``c``;
- *absmax*: ``c = max_i |v_i|`` (for the pruned model the same max: the largest weight is kept);
- *mse*: the ``c`` minimizing the quantization error ``Σ_i E[(Q_c(v_i) − v_i)²]``;
- *optimal*: the ``c`` minimizing the model's exact population risk
  ``E R(Q_c(v)) = c_0 − 2 Σ_i E[Q_c(v_i)] q_i + Σ_i λ_i E[Q_c(v_i)²]`` (diagonal Σ; ``q = Σβ``),
  an oracle that knows β, as an infinitely large validation set would. The theory's optimal
  clip minimizes the *expected* risk; per trial the risk concentrates around it, so the two
  agree up to the risk's curvature in ``c`` times the spread of the trial's minimizer (the
  tests measure it).

``E`` is over the rounding's own randomness only (:func:`dcprune.quantization.levels.rounding_moments`):
stochastic rounding is drawn after the clip is chosen, independently of it, as the theory's
objectives average over it. Both searches scan :data:`~dcprune.quantization.clipping.GRID`
clips evenly spaced in ``(low, 2 max_i |v_i|]`` (``low = t`` for sign-magnitude, else 0; a
1-bit code's best clip ``2 mean|v| − t`` lies below the top) and refine the best by
:data:`~dcprune.quantization.clipping.ZOOMS` zoomed grids of
:data:`~dcprune.quantization.clipping.ZOOM` between its neighbours: the schedule of the
theory's :func:`~dcprune.quantization.clipping.search_clips`, on the trial's own objective.
The functions are Numba-compiled: the Monte Carlo kernels call them inside their trial loop.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .clipping import GRID, ZOOM, ZOOMS
from .levels import magnitude_levels, rounding_moments

__all__ = ["CLIP_CODES", "clip_objective", "choose_clip"]

#: Clip rules and their codes in the compiled functions.
CLIP_CODES = {"fixed": 0, "mse": 1, "absmax": 2, "optimal": 3}
_FIXED, _MSE, _ABSMAX, _OPTIMAL = 0, 1, 2, 3


@njit(cache=True)
def clip_objective(values, threshold, clip, bits, kind, rule, stochastic, target_q, target_lam):
    """The objective of clip rule ``rule`` (``mse`` or ``optimal``) at range ``clip`` for the
    coefficients ``values`` quantized on ``[threshold, clip]`` by quantizer ``kind``; ``target_q``
    and ``target_lam`` are ``q_i = λ_i β_i`` and ``λ_i`` of the same coordinates (``optimal``
    only; the constant ``c_0`` is left out)."""
    levels = magnitude_levels(bits, kind, clip, threshold)
    total = 0.0
    for i in range(values.shape[0]):
        x = values[i]
        if x == 0.0:  # stays 0: no error, no risk term
            continue
        a = abs(x)
        m1, m2 = rounding_moments(a, levels, stochastic)
        if rule == _MSE:
            total += m2 - 2.0 * a * m1 + a * a
        else:
            sign = 1.0 if x > 0 else -1.0
            total += target_lam[i] * m2 - 2.0 * sign * m1 * target_q[i]
    return total


@njit(cache=True)
def _value(values, threshold, clip, bits, kind, rule, stochastic, target_q, target_lam):
    v = clip_objective(values, threshold, clip, bits, kind, rule, stochastic, target_q, target_lam)
    return v if np.isfinite(v) else np.inf


@njit(cache=True)
def choose_clip(values, threshold, bits, kind, rule, fixed, stochastic, target_q, target_lam):
    """The clip rule ``rule`` (a code of :data:`CLIP_CODES`) applied to ``values`` (see the module
    docstring); ``fixed`` is the fixed rule's clip. NaN when every value is 0 (no range to fit)."""
    if rule == _FIXED:
        return fixed
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
        v = _value(values, threshold, c, bits, kind, rule, stochastic, target_q, target_lam)
        if v < best_value:
            best, best_value = c, v
    step = (high - low) / GRID
    for _ in range(ZOOMS):
        lo = max(best - step, low + 1e-9 * (high - low))
        span = best + step - lo
        for j in range(ZOOM):
            c = lo + span * j / (ZOOM - 1)
            v = _value(values, threshold, c, bits, kind, rule, stochastic, target_q, target_lam)
            if v <= best_value:
                best, best_value = c, v
        step = span / (ZOOM - 1)
    return best
