r"""The Monte Carlo's distilled students (docs/theory.rst §12), in Numba.

A student of the width-``p`` dense model :math:`\hat b` (the *teacher*) on a kept set ``S`` is
least squares on the columns ``S`` (min-norm, no ridge) fitted to the teacher's labels
:math:`X''_p\hat b` at ``M`` unlabelled inputs :math:`X''` drawn for the trial
(:func:`dcprune.montecarlo.kernels.sample_trial` draws them last), or, with ``M = 0``, the
population projection :math:`\Sigma_{SS}^{-1}\Sigma_{SP}\hat b` (:func:`projection`; for a
diagonal Σ simply the kept coefficients). :func:`fit_students` fits them for every width of a
trial; :func:`dcprune.montecarlo.kernels.trial_kernel` evaluates their risks.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .linalg import EPS, chol_solve, cond_est, dot, fit_subset, mtv, potrf

__all__ = ["projection", "fit_students", "unlabelled_count", "PROJECTION_COND"]

#: Condition number of :math:`\Sigma_{SS}` above which a projection is solved by SVD instead of
#: Cholesky (far above any Σ a problem is given with, far below where Cholesky loses digits).
PROJECTION_COND = 1e12


@njit(cache=True)
def projection(cov, idx, b, U, refactor, coef):
    r"""``coef ←`` :math:`\Sigma_{SS}^{-1}\Sigma_{SP}\, b`: the population projection of the dense
    model ``b`` (on columns ``0..p-1``, ``p = len(b)``) on the columns ``idx``.

    ``U`` (at least k×k) holds the Cholesky factor of :math:`\Sigma_{SS}`, recomputed when
    ``refactor``; returns whether it is usable (positive definite, ``cond <=``
    :data:`PROJECTION_COND`). A singular :math:`\Sigma_{SS}` (a rank-deficient Σ) is solved by
    SVD (min-norm): the projected prediction :math:`x_S^\top b_S` is unique even when its
    coefficients are not.
    """
    k = idx.shape[0]
    p = b.shape[0]
    for a in range(k):
        coef[a] = dot(cov[idx[a], :p], b)
    good = not refactor
    if refactor:
        for a in range(k):
            for c in range(a, k):
                U[a, c] = cov[idx[a], idx[c]]
        good = potrf(U, k) == 0 and cond_est(U, k) <= PROJECTION_COND
    if good:
        chol_solve(U, k, coef)
        return True
    sub = np.empty((k, k))
    for a in range(k):
        for c in range(k):
            sub[a, c] = cov[idx[a], idx[c]]
    coef[:] = np.linalg.lstsq(sub, coef[:k].copy(), EPS * k)[0]
    return False


@njit(cache=True)
def fit_students(B, widths, s, kept, sets, Xt3, G3, cov, flags, fits):
    r"""Student coefficients ``(len(widths), len(sets), s)`` on the kept sets ``kept[wi, sets[j]]``.

    ``B``, ``kept`` as in :func:`~dcprune.montecarlo.kernels.prune_sets` (all of ``0..p-1``
    when ``p <= s``); ``Xt3 = X3ᵀ`` (``d × M``) the unlabelled inputs and ``G3 = X3ᵀX3`` (for
    students of at most ``M`` columns); with ``M = 0`` the population projection on ``cov``
    (Σ; empty for a diagonal Σ, whose projection keeps the kept coefficients, as does every
    projection on all ``p`` columns). Equal kept sets at one width share one fit; the latest
    factor of :math:`\Sigma_{SS}` of each set is reused while its support does not change (the
    oracle's rarely does). ``flags[wi] = 1`` for an ill-conditioned fit, ``fits[wi] +=`` the
    fits done. Row ``[wi, j]`` holds ``min(p, s)`` coefficients, in the order of its kept set.
    """
    nw = widths.shape[0]
    m = Xt3.shape[1]
    kmax = kept.shape[2]
    ns = len(sets)
    out = np.full((nw, ns, kmax), np.nan)
    yhat = np.empty(m)
    factors = np.empty((ns, kmax, kmax))
    factored = np.full((ns, kmax), -1, np.int64)
    factored_size = np.zeros(ns, np.int64)
    usable = np.zeros(ns, np.bool_)
    for wi in range(nw):
        p = widths[wi]
        size = min(p, s)
        b = B[wi, :p]
        if m > 0:
            mtv(Xt3[:p], b, yhat)  # the teacher's labels at the unlabelled inputs
        for j in range(ns):
            idx = kept[wi, sets[j], :size]
            coef = out[wi, j, :size]
            src = -1
            for i in range(j):
                if np.array_equal(idx, kept[wi, sets[i], :size]):
                    src = i
                    break
            if src >= 0:
                coef[:] = out[wi, src, :size]
            elif m > 0:
                if fit_subset(Xt3, idx, yhat, 0.0, G3, coef):
                    flags[wi] = 1
                fits[wi] += 1
            elif size == p or cov.shape[0] == 0:
                for a in range(size):
                    coef[a] = b[idx[a]]
            else:
                same = factored_size[j] == size and np.array_equal(factored[j, :size], idx)
                usable[j] = projection(cov, idx, b, factors[j], not (same and usable[j]), coef)
                factored[j, :size] = idx
                factored_size[j] = size
    return out


def unlabelled_count(unlabelled) -> int:
    """Distillation's ``M`` as the kernels take it: a whole number ``>= 1``, or 0 for the
    population projection (given as ``None``, ``inf`` or 0)."""
    try:
        m = math.inf if unlabelled is None else float(unlabelled)
    except (TypeError, ValueError):
        m = math.nan
    if m == math.inf:
        return 0
    if isinstance(unlabelled, bool) or not (m.is_integer() and m >= 0):
        raise ValueError(f"unlabelled must be a whole number >= 1 or inf, got {unlabelled=}")
    return int(m)
