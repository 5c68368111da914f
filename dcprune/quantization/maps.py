r"""Quantized and pruned-then-quantized coefficients as pieces (docs/theory.rst §11).

Both quantizers are ``Q(x) = sign(x) · q(|x|)`` on the magnitude levels of
:func:`dcprune.quantization.levels.magnitude_levels` (the one definition of the levels). On
the magnitude half-line ``[0, ∞)``:

- *nearest* rounding: ``q = ℓ_k`` (constant) on the bin between the midpoints of neighbouring
  levels; magnitudes below the first midpoint go to ``ℓ_0``, beyond the last to ``ℓ_{L−1}``;
- *stochastic* rounding: on ``[ℓ_k, ℓ_{k+1})``, ``E[q | a] = a`` and
  ``E[q² | a] = (ℓ_k + ℓ_{k+1}) a − ℓ_k ℓ_{k+1}``; ``q = ℓ_0`` below ``ℓ_0`` (for
  sign-magnitude the sign is kept, so a small magnitude goes to ``ℓ_0``, not across zero) and
  ``q = ℓ_{L−1}`` beyond the last level.

Prune-then-quantize sets ``M = 0`` on ``(−t, t)`` and quantizes ``|x| ≥ t``: the magnitude
pieces are cut at ``t``. The negative half-line mirrors the positive one: a magnitude piece
``(m0, m1, v0, v1, v2)`` on ``[a, b)`` is the piece ``(−m0, m1, v0, −v1, v2)`` on ``(−b, −a]``.

``reach`` (optional, per row) drops the levels beyond the largest magnitude any atom reaches
(callers pass ``max_a |μ_a| + 12 s_a``, beyond which an atom's mass is below 1e-32): only the
map beyond ``reach`` changes, so the loss is unchanged in double precision while a 16-bit
code costs the levels the atoms can reach, not all ``2^15``.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numba import njit

from .levels import check_bits, check_quantizer, check_rounding, magnitude_levels
from .pieces import Pieces

__all__ = ["quantizer_pieces", "threshold_pieces", "fine_pieces", "level_spacing", "envelope_pieces"]


@lru_cache(maxsize=64)
def _level_basis(bits: int, kind: int):
    """``(A, U, T)`` with levels.py's magnitude levels ``ℓ(c, t) = A + c U + t T`` exactly
    affine in the clip ``c`` and the threshold ``t`` (true of both quantizers: uniform levels
    on ``[0, c]`` or ``[t, c]``), read off levels.py at three ranges and checked at a fourth."""
    one, two, shifted = (magnitude_levels(bits, kind, c, t) for c, t in ((1.0, 0.0), (2.0, 0.0), (2.0, 1.0)))
    u = two - one
    a = one - u
    t = shifted - two
    probe = magnitude_levels(bits, kind, 3.0, 0.5)
    if not np.allclose(a + 3.0 * u + 0.5 * t, probe, rtol=1e-12, atol=1e-12):
        raise AssertionError("magnitude levels are not affine in (clip, threshold)")
    return a, u, t


def _level_rows(bits, kind, clips, thresholds, reach=None):
    """levels.py's magnitude levels for each ``(clip, threshold)`` pair, as rows ``(B, K)``; with
    ``reach`` (per row) only the levels up to one step past the largest reach: levels beyond it
    carry no mass, and a 16-bit code then costs the levels the atoms reach, not all 2^15."""
    a, u, t = _level_basis(int(bits), int(kind))
    count = a.size
    if reach is not None and count > 2:
        first = a[0] + clips * u[0] + thresholds * t[0]
        step = (a[1] - a[0]) + clips * (u[1] - u[0]) + thresholds * (t[1] - t[0])
        need = np.floor((reach - first) / step) + 2
        count = int(min(count, max(2, np.max(need))))
    return a[:count] + clips[:, None] * u[:count] + thresholds[:, None] * t[:count]


def _magnitude_pieces(levels, stochastic: bool):
    """Bounds ``(B, K+1)`` from 0 to ∞ and coefficients ``(5, B, K)`` of ``q`` on ``[0, ∞)`` for
    rows of increasing magnitude levels ``(B, L)``."""
    rows, count = levels.shape
    pieces = count + 1 if stochastic else count
    bounds, coef = np.empty((rows, pieces + 1)), np.zeros((5, rows, pieces))
    _fill_magnitude(np.ascontiguousarray(levels, dtype=float), stochastic, bounds, coef)
    return bounds, coef


@njit(cache=True)
def _fill_magnitude(levels, stochastic, bounds, coef):
    """The pieces of the module docstring, row by row (``coef`` starts at zero)."""
    rows, count = levels.shape
    for r in range(rows):
        bounds[r, 0] = 0.0
        if stochastic:  # ℓ_0 below the first level, linear between levels, the last beyond
            first, last = levels[r, 0], levels[r, count - 1]
            coef[0, r, 0], coef[2, r, 0] = first, first * first
            for k in range(count):
                bounds[r, k + 1] = levels[r, k]
            for k in range(count - 1):
                lo, hi = levels[r, k], levels[r, k + 1]
                coef[1, r, k + 1], coef[2, r, k + 1], coef[3, r, k + 1] = 1.0, -lo * hi, lo + hi
            coef[0, r, count], coef[2, r, count] = last, last * last
            bounds[r, count + 1] = np.inf
        else:  # each level on the bin between the midpoints around it
            for k in range(count - 1):
                bounds[r, k + 1] = 0.5 * (levels[r, k] + levels[r, k + 1])
            for k in range(count):
                coef[0, r, k], coef[2, r, k] = levels[r, k], levels[r, k] * levels[r, k]
            bounds[r, count] = np.inf


def _cut_and_mirror(bounds, coef, threshold):
    """The full-line pieces of ``sign(x)·q(|x|)`` with ``M = 0`` on ``(−t, t)``; ``bounds``
    ``(B, K+1)`` and ``coef`` ``(5, B, K)`` on the magnitude half-line."""
    t = np.ascontiguousarray(np.broadcast_to(np.asarray(threshold, dtype=float), (bounds.shape[0],)))
    rows, k = bounds.shape[0], coef.shape[2]
    edges, full = np.empty((rows, 2 * k + 3)), np.empty((5, rows, 2 * k + 2))
    _mirror(np.ascontiguousarray(bounds, dtype=float), np.ascontiguousarray(coef, dtype=float), t, edges, full)
    return Pieces(edges, *full)


@njit(cache=True)
def _mirror(bounds, coef, t, edges, full):
    """Fill ``edges`` and ``full`` as ``[mirrored pieces, (−t, 0], [0, t), pieces]`` (compiled: a
    few pieces a row make NumPy's row-by-row slices cost more than the loss itself)."""
    rows, k = bounds.shape[0], coef.shape[2]
    for r in range(rows):
        for i in range(k + 1):
            cut = max(bounds[r, i], t[r])  # pieces below t collapse to zero width (no mass)
            edges[r, k - i] = -cut
            edges[r, k + 2 + i] = cut
        edges[r, k + 1] = -0.0
        for q in range(5):
            sign = -1.0 if q == 0 or q == 3 else 1.0  # m0 and v1 change sign under x → −x
            full[q, r, k] = sign * 0.0  # [0, t) maps to 0
            full[q, r, k + 1] = 0.0
            for j in range(k):
                full[q, r, k + 2 + j] = coef[q, r, j]
                full[q, r, k - 1 - j] = sign * coef[q, r, j]


def quantizer_pieces(bits, quantizer: str, rounding: str, clip, threshold=0.0, reach=None) -> Pieces:
    """Pieces of the (pruned-then-)quantized coefficient, one row per entry of ``clip``.

    ``clip`` is the clipping range ``c`` per row, ``threshold`` the pruning threshold ``t``
    (0: dense), ``reach`` an optional per-row magnitude beyond which no atom has mass (see the
    module docstring). Sign-magnitude levels lie on ``[t, c]`` and need ``c > t``.

    >>> import numpy as np
    >>> pcs = quantizer_pieces(2, "mid-tread", "nearest", np.array([1.0]))
    >>> pcs.edges[0].tolist()        # the zero-width pieces at 0 are the empty pruned interval
    [-inf, -0.5, -0.0, -0.0, 0.0, 0.5, inf]
    >>> pcs.m0[0].tolist()
    [-1.0, -0.0, -0.0, 0.0, 0.0, 1.0]
    """
    kind = check_quantizer(quantizer)
    bits = check_bits(bits, quantizer)
    stochastic = check_rounding(rounding)
    clip = np.atleast_1d(np.asarray(clip, dtype=float))
    threshold = np.broadcast_to(np.asarray(threshold, dtype=float), clip.shape)
    reach = None if reach is None else np.broadcast_to(np.asarray(reach, dtype=float), clip.shape)
    levels = _level_rows(bits, kind, clip, np.asarray(threshold, dtype=float), reach)
    bounds, coef = _magnitude_pieces(levels, stochastic)
    return _cut_and_mirror(bounds, coef, threshold)


def threshold_pieces(threshold) -> Pieces:
    """Magnitude pruning alone: ``M = 0`` on ``(−t, t)``, the identity elsewhere (docs/theory.rst
    §3 as a special case of the pieces)."""
    t = np.atleast_1d(np.asarray(threshold, dtype=float))
    bounds = np.stack([np.zeros_like(t), np.full_like(t, np.inf)], axis=1)
    coef = np.zeros((5, t.size, 1))
    coef[1] = 1.0
    coef[4] = 1.0
    return _cut_and_mirror(bounds, coef, t)


def fine_pieces(bits, quantizer: str, rounding: str, clip, threshold=0.0) -> Pieces:
    """The fine-regime stand-in of :func:`quantizer_pieces` (docs/theory.rst §11): between the
    first and the last level the quantized value is the coefficient plus independent noise of
    variance ``Δ²/12`` (nearest) or ``Δ²/6`` (stochastic), ``Δ`` the level spacing; below the
    first level it is ``ℓ_0`` (stochastic sign-magnitude) or the identity, beyond the last it
    clips. Exact up to terms of relative order ``(Δ/s)²`` at the ends of the range and
    ``exp(−2π² s²/Δ²)`` inside: cheap (three pieces a side) for locating a clip at many bits.
    """
    kind = check_quantizer(quantizer)
    bits = check_bits(bits, quantizer)
    stochastic = check_rounding(rounding)
    clip = np.atleast_1d(np.asarray(clip, dtype=float))
    threshold = np.broadcast_to(np.asarray(threshold, dtype=float), clip.shape)
    a, u, t = _level_basis(bits, kind)
    ends = [a[i] + clip * u[i] + threshold * t[i] for i in (0, min(1, a.size - 1), a.size - 1)]
    first, second, top = ends
    step = second - first
    noise = step**2 / (6.0 if stochastic else 12.0)
    bounds = np.empty((clip.size, 4))
    bounds[:, 0], bounds[:, 1], bounds[:, 2], bounds[:, 3] = 0.0, first, top, np.inf
    coef = np.zeros((5, clip.size, 3))  # (m0, m1, v0, v1, v2) of [0, ℓ_0), [ℓ_0, ℓ_top), [ℓ_top, ∞)
    if stochastic:  # stochastic keeps ℓ_0 below it
        coef[0, :, 0], coef[2, :, 0] = first, first**2
    else:  # nearest: the identity below ℓ_0
        coef[1, :, 0], coef[4, :, 0] = 1.0, 1.0
    coef[1, :, 1], coef[2, :, 1], coef[4, :, 1] = 1.0, noise, 1.0
    coef[0, :, 2], coef[2, :, 2] = top, top**2
    return _cut_and_mirror(bounds, coef, threshold)


def level_spacing(bits, quantizer: str, clip, threshold=0.0):
    """The spacing of neighbouring magnitude levels (per entry of ``clip``): ``w = (c − t)/2^{b−1}``
    for sign-magnitude on ``[t, c]``, ``Δ = c/(2^{b−1} − 1)`` for mid-tread; a single level
    (1-bit sign-magnitude, at ``(t + c)/2``) counts the whole range ``c − t``. Every quantized
    value lies within half of it of the coefficient while ``|x| ≤ c`` (in conditional RMS for
    stochastic rounding and for the fine-regime map)."""
    kind = check_quantizer(quantizer)
    bits = check_bits(bits, quantizer)
    a, u, t = _level_basis(bits, kind)
    clip = np.asarray(clip, dtype=float)
    threshold = np.asarray(threshold, dtype=float)
    if a.size < 2:
        return clip - threshold
    return (a[1] - a[0]) + clip * (u[1] - u[0]) + threshold * (t[1] - t[0])


def envelope_pieces(threshold, clip, half_step) -> Pieces:
    """The map ``M(x) = x − sign(x)((|x| − c)₊ + h)`` on ``|x| ≥ t`` and ``M(x) = x`` on
    ``(−t, t)``, one row per entry of ``threshold``: its loss against the coefficient itself,
    ``E[((|X| − c)₊ + h)² 1{|X| ≥ t}]``, bounds the quantization error of the kept weights of every
    quantizer map with clip ``c`` and half level spacing ``h`` (:func:`level_spacing`), and of
    every clip ``c' ≥ c`` whose half spacing is at most ``h``."""
    t = np.atleast_1d(np.asarray(threshold, dtype=float))
    c = np.broadcast_to(np.asarray(clip, dtype=float), t.shape)
    h = np.broadcast_to(np.asarray(half_step, dtype=float), t.shape)
    knee = np.maximum(c, t)
    bounds = np.stack([np.zeros_like(t), t, knee, np.full_like(t, np.inf)], axis=1)
    zero, one = np.zeros_like(t), np.ones_like(t)
    top = c - h  # beyond the knee: x − (x − c + h)
    m0 = np.stack([zero, -h, top], axis=1)
    m1 = np.stack([one, one, zero], axis=1)
    v0 = np.stack([zero, h * h, top * top], axis=1)
    v1 = np.stack([zero, -2.0 * h, zero], axis=1)
    v2 = np.stack([one, one, zero], axis=1)
    return _cut_and_mirror(bounds, np.stack([m0, m1, v0, v1, v2]), np.zeros_like(t))
