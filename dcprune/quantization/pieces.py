r"""The one formula for the loss of every piecewise coordinate map (docs/theory.rst §11).

A coordinate-wise map ``M`` of a trained coefficient ``X ~ N(μ, s²)`` is described by
*pieces*: intervals ``I_j = [e_j, e_{j+1})`` of the real line on which its conditional mean
is ``m0_j + m1_j x`` and its conditional second moment ``v0_j + v1_j x + v2_j x²``
(deterministic maps have ``v = m²``; stochastic rounding has ``v ≠ m²``). The *target*
``β`` of the loss ``E[(M(X) − β)²]`` may be random too, with
``E[β | X = x] = b0 + b1 x`` and ``Var(β | X) = w``:

- a fixed coefficient: ``(b0, b1, w) = (β_a, 0, 0)``;
- the coefficient itself (the quantization error of the ``mse`` clip): ``(0, 1, 0)``;
- Gaussian coefficients ``β ~ N(0, v)`` (then ``X ~ N(0, c²v + s²)``): ``(0, ρ, w)``.

The randomness of ``M`` given ``x`` is independent of ``β``, so
``E[(M − β)² | x] = L0_j + L1_j x + L2_j x²`` with

.. math::
    L_0 = v_0 - 2 m_0 b_0 + b_0^2 + w,\quad
    L_1 = v_1 - 2(m_0 b_1 + m_1 b_0) + 2 b_0 b_1,\quad
    L_2 = v_2 - 2 m_1 b_1 + b_1^2,

and with ``z_j = (e_j − μ)/s``, ``Y = (X − μ)/s``:

.. math::
    P_j = \Phi(z_{j+1}) - \Phi(z_j),\quad M_{1,j} = E[Y 1_j] = \varphi(z_j) - \varphi(z_{j+1}),\quad
    M_{2,j} = E[Y^2 1_j] = P_j + z_j\varphi(z_j) - z_{j+1}\varphi(z_{j+1}),

    E[(M(X) - \beta)^2] = \sum_j (L_0 + L_1\mu + L_2\mu^2) P_j + (L_1 + 2L_2\mu)\, s M_{1,j}
        + L_2 s^2 M_{2,j}.

``P_j`` is taken as ``Q(z_j) − Q(z_{j+1})`` when ``z_j > 0`` (upper-tail differences do not
cancel there) and ``zφ(z) = 0`` at ``±∞``. A deterministic atom (``s = 0``) puts all its
mass on the piece that contains ``μ``.

>>> import numpy as np
>>> from dcprune.quantization.pieces import Pieces, piece_loss
>>> identity = Pieces(np.array([[-np.inf, np.inf]]), *(np.array([[v]]) for v in (0., 1., 0., 0., 1.)))
>>> round(float(piece_loss(identity, np.array([[0.3]]), np.array([[0.2]]), 0.5, 0.0, 0.0)[0, 0]), 12)  # 0.2² + 0.2²
0.08
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

__all__ = ["Pieces", "piece_loss", "loss_at", "loss_coefficients"]


@dataclass(frozen=True)
class Pieces:
    """A batch of piecewise maps: ``edges`` of shape ``(B, J+1)`` (increasing, ``−inf`` first
    and ``+inf`` last) and the coefficients ``m0, m1, v0, v1, v2`` of shape ``(B, J)``."""

    edges: np.ndarray
    m0: np.ndarray
    m1: np.ndarray
    v0: np.ndarray
    v1: np.ndarray
    v2: np.ndarray


def _coefficients(m0, m1, v0, v1, v2, b0, b1, w):
    """``(L0, L1, L2)`` from a piece's moments and the target's ``(b0, b1, w)`` (the module
    docstring); plain arithmetic, so it serves NumPy arrays and the compiled loss alike."""
    return (v0 - 2.0 * m0 * b0 + b0 * b0 + w,
            v1 - 2.0 * (m0 * b1 + m1 * b0) + 2.0 * b0 * b1,
            v2 - 2.0 * m1 * b1 + b1 * b1)


_coefficients_compiled = njit(inline="always", cache=True)(_coefficients)


def loss_coefficients(pieces: Pieces, b0, b1, w):
    """``(L0, L1, L2)`` of each piece and atom, shape ``(B, A, J)``, for targets ``(b0, b1, w)``
    broadcastable to ``(B, A)``."""
    b0, b1, w = (np.asarray(v, dtype=float)[..., None] for v in (b0, b1, w))
    m0, m1, v0, v1, v2 = (c[:, None, :] for c in (pieces.m0, pieces.m1, pieces.v0, pieces.v1, pieces.v2))
    return _coefficients(m0, m1, v0, v1, v2, b0, b1, w)


_SQRT_HALF = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


@njit(cache=True, inline="always")
def _edge(e, mu, sd):
    """``(z, Q(|z|), Φ(z), φ(z), zφ(z))`` at an edge; a point mass (``sd = 0``) sits in the piece
    ``[e_j, e_{j+1})`` that contains it (``z = ±inf``)."""
    gap = e - mu
    if sd > 0:
        z = gap / sd
    else:
        z = math.inf if gap > 0 else -math.inf
    if math.isinf(z):
        return z, 0.0, (1.0 if z > 0 else 0.0), 0.0, 0.0
    small = 0.5 * math.erfc(abs(z) * _SQRT_HALF)  # the small side exactly; the other is 1 − it
    phi = _INV_SQRT_2PI * math.exp(-0.5 * z * z)
    return z, small, (small if z < 0 else 1.0 - small), phi, z * phi


@njit(cache=True)
def _piece_loss(edges, m0, m1, v0, v1, v2, mu, sd, b0, b1, w, out):
    rows, count = m0.shape
    for r in range(rows):
        for a in range(mu.shape[1]):
            m, s, t0, t1, tw = mu[r, a], sd[r, a], b0[r, a], b1[r, a], w[r, a]
            z, small, cdf, phi, zphi = _edge(edges[r, 0], m, s)
            total = 0.0
            for j in range(count):
                z1, small1, cdf1, phi1, zphi1 = _edge(edges[r, j + 1], m, s)
                prob = small - small1 if z > 0 else cdf1 - cdf  # upper-tail differences above the mean
                first = phi - phi1
                second = prob + zphi - zphi1
                # Pieces an atom cannot reach contribute exactly 0 (their L may be huge: not inf·0).
                if prob != 0.0 or first != 0.0 or second != 0.0:
                    l0, l1, l2 = _coefficients_compiled(m0[r, j], m1[r, j], v0[r, j], v1[r, j], v2[r, j], t0, t1, tw)
                    total += (l0 + l1 * m + l2 * m * m) * prob + (l1 + 2.0 * l2 * m) * s * first \
                        + l2 * s * s * second
                z, small, cdf, phi, zphi = z1, small1, cdf1, phi1, zphi1
            out[r, a] = total


def piece_loss(pieces: Pieces, mu, sd, b0, b1, w):
    """``E[(M(X) − β)²]`` per atom, shape ``(B, A)``, for ``X ~ N(mu, sd²)`` (arrays ``(B, A)``)
    and targets ``(b0, b1, w)`` broadcastable to ``(B, A)`` (see the module docstring).

    Compiled: Φ, Q, φ and zφ once per edge, then differenced per piece, with no temporaries
    (the NumPy form of the same sum held a dozen arrays of rows × atoms × pieces)."""
    rows = pieces.m0.shape[0]
    atoms = np.shape(mu)[-1]
    shape = (rows, atoms)
    args = [np.ascontiguousarray(np.broadcast_to(np.asarray(v, dtype=float), shape)) for v in (mu, sd, b0, b1, w)]
    coef = [np.ascontiguousarray(c, dtype=float) for c in (pieces.edges, pieces.m0, pieces.m1, pieces.v0,
                                                           pieces.v1, pieces.v2)]
    out = np.empty(shape)
    _piece_loss(*coef, *args, out)
    return out


def loss_at(pieces: Pieces, x, b0, b1, w):
    """``E[(M(x) − β)² | X = x]`` at points ``x`` of shape ``(B, A)`` (the loss of a coordinate
    whose value is known, e.g. the arg-max of the absmax clip)."""
    x = np.asarray(x, dtype=float)
    l0, l1, l2 = loss_coefficients(pieces, b0, b1, w)
    # The piece [e_j, e_{j+1}) holding x: the count of edges at or below x, less one.
    j = (pieces.edges[:, None, :] <= x[..., None]).sum(axis=-1) - 1
    j = np.clip(j, 0, pieces.m0.shape[-1] - 1)[..., None]
    pick = [np.take_along_axis(c, j, axis=-1)[..., 0] for c in (l0, l1, l2)]
    return pick[0] + pick[1] * x + pick[2] * x * x
