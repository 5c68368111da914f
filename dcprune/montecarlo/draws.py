r"""What a Monte Carlo trial draws: its seed, its samples, its random subsets (and coefficients).

Reproducibility: each trial reseeds Numba's generator with :func:`trial_seed`\ ``(seed, trial)``
before drawing anything (:func:`sample_trial`, :func:`sample_gaussian_trial`), so a trial's
numbers depend only on ``(seed, trial)`` and not on which thread runs it or how many threads
there are. The draws of one trial, in order: Gaussian coefficients (when the problem draws
them, docs/theory.rst §11), the training sample, the fresh sample, the random-pruning subsets,
distillation's unlabelled inputs (§12); a quantized run's stochastic rounding then continues
the same stream
(:func:`dcprune.montecarlo.kernels.simulate_trials`). Samplers (``kind``) are those of
:mod:`dcprune.montecarlo.sampler`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .linalg import mv
from .sampler import KIND_DIAGONAL, KIND_FACTOR, KIND_RELU

__all__ = ["trial_seed", "fmix32", "draw_latent", "inputs", "features", "random_subsets", "sample_trial",
           "draw_samples", "sample_gaussian_trial"]

_M32 = 0xFFFFFFFF


@njit(cache=True)
def _mul32(h, c):
    # (h * c) mod 2^32 for 32-bit h and c, split so no intermediate exceeds 2^49: int64 stays
    # exact in compiled and in pure-Python (NUMBA_DISABLE_JIT) runs alike.
    lo = h * (c & 0xFFFF)
    hi = ((h * (c >> 16)) & 0xFFFF) << 16
    return (lo + hi) & _M32


@njit(cache=True)
def fmix32(h):
    # MurmurHash3's finalizer: a bijection of [0, 2^32) with full avalanche.
    h &= _M32
    h ^= h >> 16
    h = _mul32(h, 0x85EBCA6B)
    h ^= h >> 13
    h = _mul32(h, 0xC2B2AE35)
    h ^= h >> 16
    return h


@njit(cache=True)
def trial_seed(seed, trial):
    """32-bit seed of trial ``trial`` of a run with integer ``seed`` (``0 <= seed < 2**63``).

    ``fmix32(base(seed) + trial)`` with ``base`` a hash of both halves of ``seed``: for one
    ``seed`` the map is injective in ``trial`` (distinct trials never share a stream), and for
    ``seed < 2**32`` ``base`` is injective too. Numba's Mersenne Twister accepts only 32-bit
    seeds, so two runs with different seeds can share a trial stream with probability about
    ``2 * trials / 2**32``.
    """
    base = fmix32(fmix32(seed & _M32) ^ ((seed >> 32) & _M32))
    return fmix32(base + trial)


@njit(cache=True)
def draw_latent(n, latent):
    """Draw ``Z ~ N(0, I)`` of shape ``(n, latent)`` and label noise ``e ~ N(0, I_n)``."""
    Z = np.random.standard_normal((n, latent))
    e = np.random.standard_normal(n)
    return Z, e


@njit(cache=True)
def inputs(kind, Z, scale, mixing):
    """Features ``X`` (n×d) of latent normals ``Z``: ``Z diag(scale)``, ``Z mixingᵀ`` (rows
    ``x = L z``) or ``max(Z mixingᵀ, 0)`` by ``kind``."""
    if kind == KIND_DIAGONAL:
        return Z * scale
    if kind == KIND_FACTOR:
        return np.dot(Z, mixing.T)
    return np.maximum(np.dot(Z, mixing.T), 0.0)


@njit(cache=True)
def features(kind, Z, e, scale, mixing, label_vec, sigma):
    """Features ``X`` (n×d) and labels ``y`` from latent normals ``Z`` and noise ``e``.

    - ``KIND_DIAGONAL``: ``X = Z diag(scale)``, ``y = X label_vec + sigma e``;
    - ``KIND_FACTOR``: ``X = Z mixingᵀ`` (rows ``x = L z``), ``y = X label_vec + sigma e``;
    - ``KIND_RELU``: ``X = max(Z mixingᵀ, 0)``, ``y = (Z label_vec)² + sigma e``.
    """
    X = inputs(kind, Z, scale, mixing)
    y = np.empty(Z.shape[0])
    if kind == KIND_RELU:
        mv(Z, label_vec, y)
        y *= y
    else:
        mv(X, label_vec, y)
    return X, y + sigma * e


@njit(cache=True)
def random_subsets(widths, s):
    """For each width ``p > s``, a uniformly random ``s``-subset of ``0..p-1`` (sorted).

    Partial Fisher–Yates shuffle, consuming ``s`` draws of Numba's generator per such width.
    Returns an int64 array ``(len(widths), min(s, widths[-1]))``; rows of widths ``p <= s``
    (nothing pruned) are ``-1``.
    """
    nw = widths.shape[0]
    out = np.full((nw, min(s, widths[-1])), -1, np.int64)
    perm = np.empty(widths[-1], np.int64)
    for wi in range(nw):
        p = widths[wi]
        if p <= s:
            continue
        for i in range(p):
            perm[i] = i
        for i in range(s):
            j = np.random.randint(i, p)
            perm[i], perm[j] = perm[j], perm[i]
        out[wi, :s] = np.sort(perm[:s])
    return out


@njit(cache=True)
def sample_trial(seed, trial, kind, n, scale, mixing, label_vec, sigma, widths, s, unlabelled):
    """Everything random in one trial: ``(X, y, X2, y2, rand_keep, X3)``.

    Seeds Numba's generator with ``trial_seed(seed, trial)``, then draws in this order: the
    training sample (``draw_latent`` + ``features``), the fresh sample, the random-pruning
    subsets (``random_subsets``), and last the ``unlabelled`` inputs ``X3`` of distillation
    (``unlabelled × d``; none when ``unlabelled = 0``, the population projection), so that
    the other draws do not depend on it. The rest of a trial
    (:func:`dcprune.montecarlo.kernels.trial_kernel`) is deterministic.
    """
    np.random.seed(trial_seed(seed, trial))
    return draw_samples(kind, n, scale, mixing, label_vec, sigma, widths, s, unlabelled)


@njit(cache=True)
def draw_samples(kind, n, scale, mixing, label_vec, sigma, widths, s, unlabelled):
    """The draws of :func:`sample_trial` after its seeding, from Numba's generator as it stands."""
    latent = scale.shape[0] if kind == KIND_DIAGONAL else mixing.shape[1]
    Z, e = draw_latent(n, latent)
    X, y = features(kind, Z, e, scale, mixing, label_vec, sigma)
    Z, e = draw_latent(n, latent)
    X2, y2 = features(kind, Z, e, scale, mixing, label_vec, sigma)
    rand_keep = random_subsets(widths, s)
    X3 = inputs(kind, np.random.standard_normal((unlabelled, latent)), scale, mixing)
    return X, y, X2, y2, rand_keep, X3


@njit(cache=True)
def sample_gaussian_trial(seed, trial, coef_sd, n, scale, sigma, widths, s, unlabelled):
    """One diagonal trial with Gaussian coefficients (docs/theory.rst §11): ``(X, y, X2, y2,
    rand_keep, X3, beta)``. Seeds as :func:`sample_trial`, draws ``β_j = coef_sd_j z_j`` first, then
    the samples of :func:`draw_samples` with labels ``y = Xβ + σe``: a new β per trial, depending
    only on ``(seed, trial)``."""
    np.random.seed(trial_seed(seed, trial))
    beta = coef_sd * np.random.standard_normal(coef_sd.shape[0])
    X, y, X2, y2, rand_keep, X3 = draw_samples(KIND_DIAGONAL, n, scale, np.empty((0, 0)), beta, sigma, widths, s,
                                               unlabelled)
    return X, y, X2, y2, rand_keep, X3, beta
