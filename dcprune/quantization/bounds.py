r"""A lower bound on the risk of every quantized map of the kept weights (docs/theory.rst §11).

Magnitude pruning at threshold ``t`` then any quantizer map ``M`` of the kept weights sets
``M = 0`` on ``(−t, t)``; on the kept set ``K = {|X| ≥ t}``, Minkowski's inequality in L²
(over the coefficient ``X``, the target ``β`` and the rounding's randomness) gives, per atom,

.. math::
    \sqrt{E[(M - \beta)^2 1_K]} \ge \sqrt{E[(X - \beta)^2 1_K]} - \sqrt{E[(M - X)^2 1_K]},

and the quantization error of every map of :mod:`dcprune.quantization.maps` with clip ``c``
is at most ``E[((|X| − c)₊ + h)² 1_K]``, ``h`` half the level spacing
(:func:`~dcprune.quantization.maps.level_spacing`): within ``|x| ≤ c`` a value is rounded to a
neighbouring level (or, for the fine-regime map, given noise of RMS ``Δ/√12`` or ``Δ/√6``), and
beyond it is clipped to the top level, at least ``c − h``. The bound grows with ``h`` and falls
with ``c``, so for every clip in ``[c_lo, c_hi]``

.. math::
    R \ge \sigma_{eff}^2 + \sum_a m_a\lambda_a \Big[E[\beta^2 1\{|X_a| < t\}]
        + \big(\sqrt{E[(X_a - \beta_a)^2 1_K]} - \sqrt{U_a}\big)_+^2\Big],\quad
    U_a = E[((|X_a| - c_{lo})_+ + h(c_{hi}))^2 1_K].

It is an inequality, not an approximation (no claim that quantizing cannot lower the risk:
clipping shrinks the largest coefficients and often does). The bit-budget search uses it to
skip the refinement of configurations that cannot beat the best one found
(:mod:`dcprune.quantization.frontier`).

The clip bracket comes from the clip search (:func:`~dcprune.quantization.clipping.search_clips`):
after its first grid, the refined clip stays within
:func:`~dcprune.quantization.clipping.zoom_reach` of the grid's best. Before any exact
evaluation, :func:`mse_bracket` bounds the ``mse`` clip from the same envelope: the clip found
has a quantization error at most that of every grid clip, hence at most ``min_g Σ_a m_a
U_a(c_g, c_g)``, while every clip ``c`` has at least the clipping error
``Σ_a m_a E[(|X_a| − c)₊² 1_K]`` (values beyond ``c`` land on a level ``≤ c``), which falls with
``c``: grid clips whose clipping error exceeds that bound lie below the clip found.
"""

from __future__ import annotations

import numpy as np

from .clipping import AtomTargets, clip_grid, zoom_reach
from .maps import envelope_pieces, level_spacing
from .pieces import Pieces, piece_loss

__all__ = ["risk_floor", "mse_bracket"]


def _interval(lo, hi, map_zero: bool) -> Pieces:
    """One piece ``[lo, hi)`` per row: ``M = 0`` or the identity (a batch covering part of the line)."""
    rows = lo.size
    zero, one = np.zeros((rows, 1)), np.ones((rows, 1))
    ident = zero if map_zero else one
    return Pieces(np.stack([lo, hi], axis=1), zero, ident, zero, zero, ident)


def _columns(atoms: AtomTargets, rows: int):
    shape = (rows, np.shape(atoms.mu)[-1])
    return [np.broadcast_to(np.asarray(getattr(atoms, f), dtype=float), shape)
            for f in ("mu", "sd", "b0", "b1", "w", "mult", "lam")]


def _half_spacing(spec, clips, thresholds):
    low = thresholds if spec.quantizer == "sign-magnitude" else np.zeros_like(thresholds)
    return 0.5 * level_spacing(spec.bits, spec.quantizer, clips, low)


def mse_bracket(spec, thresholds, low, high, grid: int, atoms: AtomTargets):
    """``(lo, hi)`` per threshold holding the ``mse`` clip that
    :func:`~dcprune.quantization.clipping.search_clips` finds on ``(low, high]`` with a first grid
    of ``grid`` clips (the module docstring), from the error envelope alone (no bin sums)."""
    t = np.asarray(thresholds, dtype=float)
    low, high = np.asarray(low, dtype=float), np.asarray(high, dtype=float)
    clips = clip_grid(low, high, grid)
    rows, count = clips.shape
    at = np.repeat(np.arange(rows), count)
    own = atoms.rows(at) if atoms.stacked else atoms
    mu, sd, _, _, _, mult, _ = _columns(own, at.size)
    c, tt = clips.ravel(), t[at]
    above = (mult * piece_loss(envelope_pieces(tt, c, _half_spacing(spec, c, tt)), mu, sd, 0.0, 1.0, 0.0)).sum(-1)
    below = (mult * piece_loss(envelope_pieces(tt, c, np.zeros_like(c)), mu, sd, 0.0, 1.0, 0.0)).sum(-1)
    worst = above.reshape(rows, count).min(axis=1)
    excluded = below.reshape(rows, count) > worst[:, None] * (1.0 + 1e-12)
    lo = np.where(excluded, clips, -np.inf).max(axis=1)
    return np.maximum(lo, low), high + zoom_reach((high - low) / grid)


def risk_floor(spec, thresholds, clip_lo, clip_hi, atoms: AtomTargets, sigma2_eff) -> np.ndarray:
    """The lower bound of the module docstring on the risk of ``spec``'s map of the weights kept
    at each threshold (arrays ``(R,)``), for every clip in ``[clip_lo, clip_hi]``. ``atoms`` is
    one model or stacked (one per row), ``sigma2_eff`` a number or one per row."""
    t = np.asarray(thresholds, dtype=float)
    lo, hi = (np.broadcast_to(np.asarray(v, dtype=float), t.shape) for v in (clip_lo, clip_hi))
    mu, sd, b0, b1, w, mult, lam = _columns(atoms, t.size)
    inf = np.full(t.shape, np.inf)
    dropped = piece_loss(_interval(-t, t, True), mu, sd, b0, b1, w)
    kept = (piece_loss(_interval(-inf, -t, False), mu, sd, b0, b1, w)
            + piece_loss(_interval(t, inf, False), mu, sd, b0, b1, w))
    error = piece_loss(envelope_pieces(t, lo, _half_spacing(spec, hi, t)), mu, sd, 0.0, 1.0, 0.0)
    gap = np.maximum(np.sqrt(np.maximum(kept, 0.0)) - np.sqrt(np.maximum(error, 0.0)), 0.0)
    return sigma2_eff + (mult * lam * (dropped + gap * gap)).sum(axis=-1)
