r"""The clipping range ``c`` of a quantizer, rule by rule, and the risk it gives (docs/theory.rst §11).

How ``c`` is chosen decides how it is predicted:

- a fixed ``c``: plugged in;
- ``mse`` (per model, the ``c`` minimizing the quantization error ``Σ_i (Q_c(β̂_i) − β̂_i)²``):
  it concentrates, so it is predicted as the argmin of the predicted error
  ``Σ_a m_a E[(Q_c(X_a) − X_a)²]`` (the pieces' formula with target ``X`` itself,
  ``(b0, b1, w) = (0, 1, 0)``);
- ``optimal`` (the risk-minimizing ``c``, an oracle): the argmin of the predicted risk;
- ``absmax`` (``c = max_i |β̂_i|``): it does not concentrate, so the risk is the exact
  extreme-value integral of :func:`absmax_risk`, not the risk at ``E[c]``.

Both searches are multimodal in general (levels can line up with β), so they scan a grid of
:data:`GRID` clips on ``(t, max_a(|μ_a| + 10 s_a)]`` and refine the best one by zoomed grids
between its neighbours (a few vectorized evaluations rather than one per step of a scalar
search).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.optimize import brentq
from scipy.special import ndtr

from ..numerics import normal_pdf
from .maps import fine_pieces, quantizer_pieces
from .pieces import Pieces, loss_at, piece_loss

__all__ = ["AtomTargets", "map_risks", "quantization_error", "search_clip", "search_clips", "clip_grid", "zoom_reach",
           "absmax_risk", "GRID", "ZOOMS", "ZOOM", "NODES", "FINE_SEARCH_BITS", "FINE_ABSMAX_BITS"]

#: Clips scanned before the bounded refinement of ``mse`` and ``optimal``.
GRID = 48
#: Rounds of the zoomed search after the grid, and the clips of each round.
ZOOMS, ZOOM = 4, 17
#: From this many bits on, clips are searched on the fine-regime map (its relative error, of
#: order (Δ/s)², is ~1e-6 at 8 bits: it moves the argmin a little, not the risk reported at it).
FINE_SEARCH_BITS = 8
#: From this many bits on, the absmax integral uses the fine-regime map (relative error ≲ 1e-8).
FINE_ABSMAX_BITS = 12
# Piece evaluations (rows × atoms × pieces) held at once: the formula's dozens of temporaries
# then stay in cache (65,536 measured 3× faster per evaluation than 400,000, 1.5× than 8,192).
_CHUNK = 65_536
#: Gauss–Legendre nodes of the absmax integral, between the 1e-9 and 1 − 1e-12 quantiles of the max.
NODES = 150
# Magnitudes beyond |μ| + _REACH·s carry mass below 1e-32: levels past them are dropped.
_REACH = 12.0
# The clip search's upper end, in sd beyond the largest mean.
_SPAN = 10.0


_FIELDS = ("mu", "sd", "b0", "b1", "w", "mult", "lam")


@dataclass(frozen=True)
class AtomTargets:
    """One model's atoms as the quantizers see them (arrays of shape ``(A,)``): the law
    ``X ~ N(mu, sd²)`` of the trained coefficient, the target's conditional mean ``b0 + b1 X``
    and variance ``w`` (docs/theory.rst §11), multiplicities ``mult`` and variances ``lam``.

    *Stacked* atoms hold arrays ``(M, A)``: one model per row of the clips and thresholds they
    are evaluated with (the bit-budget search predicts many widths in one call; a model with
    fewer atoms pads with ``mult = 0``, which contributes nothing). ``reach`` and ``span`` are
    then per row.
    """

    mu: np.ndarray
    sd: np.ndarray
    b0: np.ndarray
    b1: np.ndarray
    w: np.ndarray
    mult: np.ndarray
    lam: np.ndarray

    @property
    def stacked(self) -> bool:
        return np.ndim(self.mu) == 2

    @property
    def reach(self):
        top = np.max(np.where(self.mult > 0, np.abs(self.mu) + _REACH * self.sd, 0.0), axis=-1)
        return top if self.stacked else float(top)

    @property
    def span(self):
        top = np.max(np.where(self.mult > 0, np.abs(self.mu) + _SPAN * self.sd, 0.0), axis=-1)
        top = np.where(top > 0, top, 1.0)
        return top if self.stacked else float(top)

    def rows(self, index) -> AtomTargets:
        """The stacked models at ``index`` (an integer: one model, arrays ``(A,)``)."""
        return AtomTargets(*(np.asarray(getattr(self, f))[index] for f in _FIELDS))


def _pieces(spec, clips, threshold, reach=None, fine=False) -> Pieces:
    if fine:
        return fine_pieces(spec.bits, spec.quantizer, spec.rounding, clips, threshold)
    return quantizer_pieces(spec.bits, spec.quantizer, spec.rounding, clips, threshold, reach)


def _batch(atoms: AtomTargets, rows: int):
    """The atoms as rows ``(1, A)``: they broadcast against ``rows`` clips in the pieces' formula."""
    return [np.asarray(v, dtype=float)[None] for v in (atoms.mu, atoms.sd, atoms.b0, atoms.b1, atoms.w)]


def _weighted_loss(pieces: Pieces, atoms: AtomTargets, weight, target=None) -> np.ndarray:
    """``Σ_a weight_a E[(M(X_a) − β_a)²]`` per row of ``pieces``, in chunks of rows and atoms of
    at most :data:`_CHUNK` piece evaluations (a sweep of many clips over a spectrum of many atoms
    would otherwise hold rows × atoms × pieces numbers at once). Stacked ``atoms`` (and
    ``weight``) have one row per row of ``pieces``."""
    rows, width = pieces.m0.shape
    b0, b1, w = (atoms.b0, atoms.b1, atoms.w) if target is None else target
    # As rows (1, A), or (rows, A) when stacked: one model per row of pieces.
    mu, sd, b0, b1, w, weight = (np.atleast_2d(np.broadcast_to(np.asarray(v, dtype=float), atoms.mu.shape))
                                 for v in (atoms.mu, atoms.sd, b0, b1, w, weight))
    count = mu.shape[-1]
    per_atom = max(1, _CHUNK // max(width, 1))
    atom_step = min(count, per_atom)
    row_step = max(1, per_atom // max(atom_step, 1))
    out = np.zeros(rows)
    for r in range(0, rows, row_step):
        part = Pieces(*(getattr(pieces, k)[r:r + row_step] for k in ("edges", "m0", "m1", "v0", "v1", "v2")))
        own = slice(r, r + row_step) if atoms.stacked else slice(0, 1)
        for a in range(0, count, atom_step):
            cut = (own, slice(a, a + atom_step))
            loss = piece_loss(part, mu[cut], sd[cut], b0[cut], b1[cut], w[cut])
            out[r:r + row_step] += (weight[cut] * loss).sum(axis=-1)
    return out


def _map_loss(spec, clips, threshold, atoms: AtomTargets, weight, target=None, fine=False) -> np.ndarray:
    """:func:`_weighted_loss` of the quantized map at each clip, its pieces built for a cache-sized
    chunk of clips at a time (building every row's pieces first would hold rows × pieces × 6
    numbers and cost as much again as the loss)."""
    clips = np.atleast_1d(np.asarray(clips, dtype=float))
    threshold = np.broadcast_to(np.asarray(threshold, dtype=float), clips.shape)
    reach = np.broadcast_to(np.asarray(atoms.reach, dtype=float), clips.shape)
    # At most 2^(b−1) magnitude levels, three more pieces a side (the fine map has four a side).
    width = 8 if fine else 2 * (2 ** (spec.bits - 1) + 3)
    step = max(1, _CHUNK // (width * max(np.shape(atoms.mu)[-1], 1)))
    out = np.empty(clips.size)
    for r in range(0, clips.size, step):
        part = slice(r, r + step)
        own = atoms.rows(part) if atoms.stacked else atoms
        own_weight = np.asarray(weight)[part] if atoms.stacked else weight
        out[part] = _weighted_loss(_pieces(spec, clips[part], threshold[part], reach[part], fine), own, own_weight,
                                   target)
    return out


def map_risks(spec, clips, threshold: float, atoms: AtomTargets, sigma2_eff: float, fine: bool = False) -> np.ndarray:
    """Risk ``σ_eff² + Σ_a m_a λ_a E[(M_c(X_a) − β_a)²]`` of the quantized map at each clip of
    ``clips`` (``fine``: of its fine-regime stand-in, :func:`dcprune.quantization.maps.fine_pieces`)."""
    return sigma2_eff + _map_loss(spec, clips, threshold, atoms, atoms.mult * atoms.lam, fine=fine)


def quantization_error(spec, clips, threshold: float, atoms: AtomTargets, fine: bool = False) -> np.ndarray:
    """The predicted quantization error ``Σ_a m_a E[(M_c(X_a) − X_a)²]`` at each clip (the ``mse``
    rule's objective; with pruning it adds the clip-free ``E[X² 1{|X| < t}]``)."""
    return _map_loss(spec, clips, threshold, atoms, atoms.mult, target=(0.0, 1.0, 0.0), fine=fine)


def search_clip(objective, low: float, high: float, grid: int = GRID) -> tuple[float, float]:
    """``(c, objective(c))`` minimizing a possibly multimodal ``objective`` (vectorized over
    clips) on ``(low, high]``: the best of ``grid`` evenly spaced clips, then :data:`ZOOMS` rounds
    of :data:`ZOOM` clips between the best one's neighbours (each round shrinks the bracket
    ``ZOOM/2``-fold, so the clip is located to ~1e-5 of ``high − low``: the objective is quadratic
    there, so its value is within ~1e-10 relative)."""
    clip, value = search_clips(lambda c, rows: objective(c[0])[None], np.array([low]), np.array([high]), grid)
    return float(clip[0]), float(value[0])


def clip_grid(low, high, grid: int = GRID) -> np.ndarray:
    """The first clips of :func:`search_clips`: ``grid`` evenly spaced on ``(low, high]``, ``(M, grid)``."""
    low, high = np.asarray(low, dtype=float), np.asarray(high, dtype=float)
    return low[:, None] + (high - low)[:, None] * np.linspace(0.0, 1.0, grid + 1)[1:]


def zoom_reach(step):
    """How far the zoomed rounds of :func:`search_clips` can move the clip from the first grid's
    best one, ``step`` the grid's spacing: each round stays within its spacing of the previous
    best and shrinks it ``(ZOOM − 1)/2``-fold, so at most ``step/(1 − 2/(ZOOM − 1))``."""
    return np.asarray(step, dtype=float) / (1.0 - 2.0 / (ZOOM - 1))


def search_clips(objective, low, high, grid: int = GRID, screen=None):
    """:func:`search_clip` for many models at once: ``objective(clips, rows)`` maps clips
    ``(R, G)`` of the models ``rows`` (indices into ``low``) to values ``(R, G)``; ``low``/``high``
    are ``(M,)``; returns the clips and values ``(M,)``.

    ``screen(lo, hi)`` (optional) is asked after the first grid, with a bracket per model that
    the refined clip cannot leave (the zoomed rounds stay within ``step/(1 − 2/(ZOOM − 1))`` of
    the grid's best, ``step`` its spacing), which models are worth refining: the others return
    clip ``nan`` and their grid value (the bit-budget search drops models whose risk is bounded
    above the best found at every clip of the bracket)."""
    low, high = np.asarray(low, dtype=float), np.asarray(high, dtype=float)
    clips = clip_grid(low, high, grid)
    every = np.arange(low.size)
    values = objective(clips, every)
    best = np.nanargmin(values, axis=1)
    c_best, v_best = clips[every, best], values[every, best]
    step = (high - low) / grid
    keep = np.ones(low.size, dtype=bool)
    if screen is not None:
        spread = zoom_reach(step)
        keep = np.asarray(screen(np.maximum(c_best - spread, low), c_best + spread), dtype=bool)
    rows = np.flatnonzero(keep)
    if rows.size:
        c, v, st = c_best[rows], v_best[rows], step[rows]
        bottom = low[rows] + 1e-9 * (high - low)[rows]
        at = np.arange(rows.size)
        zoom = np.linspace(-1.0, 1.0, ZOOM)
        for _ in range(ZOOMS):
            lo = np.maximum(c - st, bottom)
            clips = lo[:, None] + (c + st - lo)[:, None] * (zoom + 1.0) / 2.0
            values = objective(clips, rows)
            best = np.nanargmin(values, axis=1)
            better = values[at, best] <= v
            c = np.where(better, clips[at, best], c)
            v = np.where(better, values[at, best], v)
            st = clips[:, 1] - clips[:, 0]
        c_best[rows], v_best[rows] = c, v
    c_best[~keep] = np.nan
    return c_best, v_best


def _cdf_abs(c, mu, sd):
    """``F(c) = P(|X| ≤ c)``, ``1 − F`` and the density ``f`` of ``|X|`` at ``c`` (``(K, A)``)."""
    hi = (c[:, None] - mu) / sd
    lo = (-c[:, None] - mu) / sd
    tail = ndtr(-hi) + ndtr(lo)
    inside = np.where(hi > 0, np.maximum(1.0 - tail, 0.0), ndtr(hi) - ndtr(lo))
    return inside, tail, (normal_pdf(hi) + normal_pdf(lo)) / sd


def _log_max_cdf(c, atoms):
    """``log G(c) = Σ_a m_a log F_a(c)`` for the max of ``|X_i|`` over the model's coordinates."""
    inside, tail, _ = _cdf_abs(np.atleast_1d(c), atoms.mu, atoms.sd)
    with np.errstate(divide="ignore", invalid="ignore"):
        logf = np.where(tail < 0.5, np.log1p(-tail), np.log(inside))
        # An empty atom (m_a = 0, e.g. beyond a narrow model's last coordinate) has no max: 0, not 0·log 0.
        return np.where(atoms.mult > 0, atoms.mult * logf, 0.0).sum(axis=-1)


def _quantile(level_log: float, atoms: AtomTargets) -> float:
    """The ``c`` with ``log G(c) = level_log``, to 1e-7 relative (an end of the quadrature
    range: the mass beyond it is what matters, not its last digits)."""
    hi = atoms.span
    while _log_max_cdf(hi, atoms)[0] < level_log:
        hi *= 2.0
    return brentq(lambda c: _log_max_cdf(c, atoms)[0] - level_log, 0.0, hi, xtol=1e-9 * hi, rtol=1e-7)


@lru_cache(maxsize=8)
def _legendre(nodes: int):
    return np.polynomial.legendre.leggauss(nodes)


def absmax_risk(spec, threshold: float, atoms: AtomTargets, sigma2_eff: float,
                nodes: int = NODES) -> tuple[float, float]:
    r"""``(E R, E c)`` of the absmax clip ``c = max_i |β̂_i|`` (docs/theory.rst §11).

    Under the DC the max has the law :math:`G(c) = \prod_a F_a(c)^{m_a}`,
    :math:`F_a(c) = P(|X_a| \le c)`, with density :math:`g = G \sum_a h_a`,
    :math:`h_a = m_a f_a / F_a`. Given the max ``= c``, attained in atom ``a`` with probability
    :math:`h_a/\sum h`, the other coordinates are conditioned on :math:`|X| \le c` and the arg-max
    sits at ``±c`` (sign probability :math:`\propto \varphi((\pm c - \mu_a)/s_a)`):

    .. math::
        E R = \sigma_{eff}^2 + \int g(c) \sum_a \frac{h_a}{\sum h}
            \Big[\sum_{a'} m_{a'}\lambda_{a'} T_{a'}(c) - \lambda_a T_a(c) + \lambda_a T^*_a(c)\Big] dc,

    :math:`T_a(c) = E_a[\ell_c(X) \mid |X| \le c]`, :math:`T^*_a(c) = E_a[\ell_c(X) \mid |X| = c]`,
    :math:`\ell_c` the per-coordinate loss of the quantizer with range ``c``. The integral is
    Gauss–Legendre with ``nodes`` points between the 1e-9 and 1 − 1e-12 quantiles of ``G``,
    normalized by the quadrature's own mass. The multiplicities must be counts (finite ``n``).
    From :data:`FINE_ABSMAX_BITS` bits on, ``ℓ_c`` is the fine-regime map's loss
    (:func:`dcprune.quantization.maps.fine_pieces`, relative error ≲ 1e-8 there) rather than
    a sum over ``2^b`` bins at each of the nodes.
    """
    lo = _quantile(np.log(1e-9), atoms)
    hi = _quantile(np.log1p(-1e-12), atoms)
    x, wts = _legendre(nodes)
    c = 0.5 * (hi + lo) + 0.5 * (hi - lo) * x
    wts = 0.5 * (hi - lo) * wts
    # A sign-magnitude range needs c > t; the max falls below t with negligible probability.
    c = np.maximum(c, threshold * (1.0 + 1e-12) + 1e-300)
    inside, _, dens = _cdf_abs(c, atoms.mu, atoms.sd)
    active = atoms.mult > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        h = np.where(active, atoms.mult * dens / inside, 0.0)
    density = np.exp(_log_max_cdf(c, atoms)) * h.sum(axis=-1)
    inner, at_max = _conditioned_losses(spec, c, threshold, atoms)
    weight = atoms.mult * atoms.lam
    total = (weight * inner).sum(axis=-1)
    with np.errstate(invalid="ignore"):
        which = np.where(active, h / h.sum(axis=-1, keepdims=True), 0.0)
    cond = total + (which * atoms.lam * (at_max - inner)).sum(axis=-1)
    mass = (wts * density).sum()
    risk = sigma2_eff + (wts * density * cond).sum() / mass
    return float(risk), float((wts * density * c).sum() / mass)


def _conditioned_losses(spec, c, threshold, atoms):
    """``T_a(c)`` and ``T*_a(c)`` of :func:`absmax_risk` at the nodes ``c``, ``(K, A)`` each."""
    fine = spec.bits >= FINE_ABSMAX_BITS
    mu, sd, b0, b1, w = _batch(atoms, c.size)
    inside, _, _ = _cdf_abs(c, atoms.mu, atoms.sd)
    active = atoms.mult > 0
    inner, at_max = np.empty(inside.shape), np.empty(inside.shape)
    levels = 2 if fine else 2 ** spec.bits + 2
    rows = max(1, _CHUNK // (levels * max(atoms.mu.size, 1)))
    for start in range(0, c.size, rows):
        part = slice(start, start + rows)
        cs = c[part]
        pieces = _pieces(spec, cs, threshold, fine=fine)
        # E[ℓ 1{|X| ≤ c}]: the same pieces with edges clamped to [−c, c].
        clamped = Pieces(np.clip(pieces.edges, -cs[:, None], cs[:, None]), pieces.m0, pieces.m1, pieces.v0,
                         pieces.v1, pieces.v2)
        with np.errstate(divide="ignore", invalid="ignore"):
            inner[part] = np.where(active, piece_loss(clamped, mu, sd, b0, b1, w) / inside[part], 0.0)
            up = normal_pdf((cs[:, None] - mu) / sd)
            down = normal_pdf((-cs[:, None] - mu) / sd)
            share_up = np.where(up + down > 0, up / (up + down), 0.5)
        shape = (cs.size, atoms.mu.size)
        at_max[part] = (share_up * loss_at(pieces, np.broadcast_to(cs[:, None], shape), b0, b1, w)
                        + (1.0 - share_up) * loss_at(pieces, np.broadcast_to(-cs[:, None], shape), b0, b1, w))
    return inner, at_max
