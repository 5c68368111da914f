r"""Monte Carlo kernels: real regressions, pruned and retrained, with exact population risk.

One *trial* draws a training sample :math:`(X, y)` with :math:`X \in \mathbb{R}^{n\times d}`,
a fresh independent sample :math:`(X', y')` of the same size, and then, for every model width
:math:`p` in a strictly increasing array ``widths`` (the width-:math:`p` model uses the columns
:math:`0..p-1`, so models are nested), it

1. fits :math:`\hat b = \arg\min_b \tfrac1n\|y - X_p b\|^2 + \lambda\|b\|^2`; for
   :math:`\lambda = 0` this is the minimum-norm least-squares solution :math:`X_p^+ y`
   (OLS for :math:`p < n`, the min-norm interpolator for :math:`p > n`);
2. prunes :math:`\hat b` to ``s`` nonzeros by magnitude (largest :math:`|\hat b_i|`), Hessian
   (largest :math:`\hat H_{ii}\hat b_i^2` with :math:`\hat H_{ii} = (X^\top X)_{ii}/n`),
   oracle (largest given ``oracle_score[i]``, ties to the lower index) and random (a
   uniformly random ``s``-subset);
3. retrains on the kept columns of magnitude, Hessian and oracle pruning, on :math:`(X', y')`
   ("fresh") and on :math:`(X, y)` ("same"), with the same :math:`\lambda`;
4. evaluates every model exactly: for coefficients :math:`b` padded with zeros to length
   :math:`d`,

   .. math:: R(b) = c_0 - 2 b^\top q + b^\top \Sigma b,

   which for the linear Gaussian problem :math:`y = x^\top\beta + \sigma z`, :math:`x\sim
   N(0,\Sigma)` is :math:`E(y - x^\top b)^2` with :math:`c_0 = \sigma^2 + \beta^\top\Sigma\beta`
   and :math:`q = \Sigma\beta` (omitted features count automatically).

If :math:`p \le s` nothing is pruned: every pruned model and every same-data retrained model
is the dense model, and the fresh retrained model is the dense fit on :math:`(X', y')`.

Samplers (``kind``), all driven by latent standard normals :math:`Z` and label noise :math:`e`:

- ``KIND_DIAGONAL``: :math:`x_j = \sqrt{\lambda_j} z_j`, :math:`y = x^\top\beta + \sigma e`
  (``scale`` :math:`= \sqrt\lambda`, ``label_vec`` :math:`=\beta`);
- ``KIND_FACTOR``: :math:`x = L z`, :math:`\Sigma = LL^\top`, :math:`y = x^\top\beta+\sigma e`
  (``mixing`` :math:`= L`, ``label_vec`` :math:`=\beta`);
- ``KIND_RELU``: random features :math:`x = \mathrm{ReLU}(W g)`, :math:`g\sim N(0, I_D)`,
  :math:`y = (\theta^\top g)^2 + \sigma e` (``mixing`` :math:`= W`, ``label_vec``
  :math:`=\theta`); the caller supplies :math:`c_0, q, \Sigma` of the equivalent problem
  (THEORY.md §7).

Three layers, each testable on its own: ``@njit`` kernels on plain arrays
(:func:`sample_trial`; the stages :func:`transpose_gram`, :func:`fit_widths`,
:func:`prune_sets`, :func:`retrain`, built on :func:`fit_subset`, :func:`top_s`, :func:`risk`;
and :func:`trial_kernel` composing them), the ``parallel=True`` driver
:func:`simulate_trials` (``prange`` over trials, one output slot per trial), and the
validating wrapper :func:`run`, which also pins BLAS to one thread while the trials run in
parallel (:func:`single_threaded_blas`).

Reproducibility: each trial reseeds Numba's generator with :func:`trial_seed`\ ``(seed,
trial)`` before drawing anything, so a trial's numbers depend only on ``(seed, trial)`` and not
on which thread runs it or how many threads there are.

Numerics: fits solve the normal (or, for :math:`p > n`, the dual) equations by Cholesky on a
Gram matrix, which squares the condition number, so every fit estimates
:math:`\mathrm{cond}(M)` of its Gram matrix :math:`M`. Above ``_REFINE_FROM`` the solution is
iteratively refined against :math:`X` itself (corrected semi-normal equations, Björck 1987),
which restores the accuracy of a QR or SVD solver while :math:`\varepsilon\,\mathrm{cond}(M)
\ll 1`. When :math:`\sqrt{\mathrm{cond}(M)} > ` ``COND_LIMIT`` (for :math:`\lambda = 0` this
is :math:`\mathrm{cond}(X_S)`), when the factorization breaks down, or when refinement does
not converge, the fit is redone by SVD and the width's flag is set.
"""

import contextlib
import ctypes
import functools
import re

import numba
import numpy as np
from numba import njit, prange, types
from numba.np.linalg import _LAPACK  # private, but stable since Numba 0.2x; see _potrf

from ..predict import RISK_NAMES, SAME_DATA_NAMES

__all__ = [
    "QUANTITIES",
    "KINDS",
    "KIND_DIAGONAL",
    "KIND_FACTOR",
    "KIND_RELU",
    "COND_LIMIT",
    "trial_seed",
    "draw_latent",
    "features",
    "random_subsets",
    "sample_trial",
    "fit_widths",
    "fit_subset",
    "top_s",
    "risk",
    "prune_sets",
    "retrain",
    "transpose_gram",
    "trial_kernel",
    "simulate_trials",
    "run",
    "estimate_bytes",
    "single_threaded_blas",
]

QUANTITIES = RISK_NAMES + SAME_DATA_NAMES  # the column order of every kernel's output
# Column offsets in the output: pruned, fresh-retrained and same-data-retrained blocks are each
# ordered (magnitude, hessian, oracle).
_DENSE, _PRUNED, _RANDOM, _FRESH, _SAME = 0, 1, 4, 5, 8

KIND_DIAGONAL, KIND_FACTOR, KIND_RELU = 0, 1, 2
KINDS = {"diagonal": KIND_DIAGONAL, "factor": KIND_FACTOR, "relu features": KIND_RELU}

COND_LIMIT = 1e6
"""Condition number of the design (:math:`\\sqrt{\\mathrm{cond}(M)}`) above which a fit is
flagged and solved by SVD. Refinement converges at the rate :math:`\\varepsilon\\,
\\mathrm{cond}(M) \\approx 10^{-4}` here, so below the limit the Cholesky path is accurate."""

# A Cholesky solve is accurate to about m * eps * cond(M). The estimate of cond(M) below is low
# by up to ~3x (measured on Gaussian, spiked, ReLU and constructed Grams), so refining from an
# estimate of 1e3 bounds an unrefined solution's error by ~m·eps·3e3 < 1e-9 for m <= 1e3.
_REFINE_FROM = 1e3
_REFINE_STEPS = 8
# Stop once a correction is at rounding level; accept a stalled refinement whose last correction
# is 10x below the 1e-8 agreement promised with lstsq, otherwise fall back to SVD.
_REFINE_TOL = 1e-14
_REFINE_ACCEPT = 1e-9
# Power / inverse iterations of the condition estimate. Extreme eigenvalues of Gram matrices are
# either clustered (any iterate is within a small factor) or, near singularity, well separated
# (fast convergence). Two of each give cond(M) within a factor ~3 (cond(X) within ~1.7) at
# 8m² flops; a third would tighten that to ~1.4 for 50% more, as much as the factorization.
_COND_ITERS = 2
# A rank-one update sweep costs ~3n² scalar flops per added column, a refactorization n³/3 at
# LAPACK speed (~4x faster per flop here): update only while fewer than n/36 columns are added.
_UPDATE_RATIO = 36

_M32 = 0xFFFFFFFF
_EPS = np.finfo(np.float64).eps


# --------------------------------------------------------------------------------------------
# Seeding and sampling
# --------------------------------------------------------------------------------------------


@njit(cache=True)
def _mul32(h, c):
    # (h * c) mod 2^32 for 32-bit h and c, split so no intermediate exceeds 2^49: int64 stays
    # exact in compiled and in pure-Python (NUMBA_DISABLE_JIT) runs alike.
    lo = h * (c & 0xFFFF)
    hi = ((h * (c >> 16)) & 0xFFFF) << 16
    return (lo + hi) & _M32


@njit(cache=True)
def _fmix32(h):
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
    base = _fmix32(_fmix32(seed & _M32) ^ ((seed >> 32) & _M32))
    return _fmix32(base + trial)


@njit(cache=True)
def draw_latent(n, latent):
    """Draw ``Z ~ N(0, I)`` of shape ``(n, latent)`` and label noise ``e ~ N(0, I_n)``."""
    Z = np.random.standard_normal((n, latent))
    e = np.random.standard_normal(n)
    return Z, e


@njit(cache=True)
def features(kind, Z, e, scale, mixing, label_vec, sigma):
    """Features ``X`` (n×d) and labels ``y`` from latent normals ``Z`` and noise ``e``.

    - ``KIND_DIAGONAL``: ``X = Z diag(scale)``, ``y = X label_vec + sigma e``;
    - ``KIND_FACTOR``: ``X = Z mixingᵀ`` (rows ``x = L z``), ``y = X label_vec + sigma e``;
    - ``KIND_RELU``: ``X = max(Z mixingᵀ, 0)``, ``y = (Z label_vec)² + sigma e``.
    """
    if kind == KIND_DIAGONAL:
        X = Z * scale
    elif kind == KIND_FACTOR:
        X = np.dot(Z, mixing.T)
    else:
        X = np.maximum(np.dot(Z, mixing.T), 0.0)
    y = np.empty(Z.shape[0])
    if kind == KIND_RELU:
        _mv(Z, label_vec, y)
        y *= y
    else:
        _mv(X, label_vec, y)
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
def sample_trial(seed, trial, kind, n, scale, mixing, label_vec, sigma, widths, s):
    """Everything random in one trial: ``(X, y, X2, y2, rand_keep)``.

    Seeds Numba's generator with ``trial_seed(seed, trial)``, then draws in this order: the
    training sample (``draw_latent`` + ``features``), the fresh sample, the random-pruning
    subsets (``random_subsets``). The rest of a trial (:func:`trial_kernel`) is deterministic.
    """
    np.random.seed(trial_seed(seed, trial))
    latent = scale.shape[0] if kind == KIND_DIAGONAL else mixing.shape[1]
    Z, e = draw_latent(n, latent)
    X, y = features(kind, Z, e, scale, mixing, label_vec, sigma)
    Z, e = draw_latent(n, latent)
    X2, y2 = features(kind, Z, e, scale, mixing, label_vec, sigma)
    return X, y, X2, y2, random_subsets(widths, s)


# --------------------------------------------------------------------------------------------
# Dense kernels. Factors are upper triangular and row-major, M = UᵀU, so every inner loop runs
# over contiguous memory (rows of U or of Xᵀ). Matrix-vector products are plain loops rather
# than BLAS: at these sizes BLAS call and threading overhead (OpenBLAS threads competing with
# the prange threads) costs more than the arithmetic. Reductions may be reassociated (``_FM``)
# so that they vectorize; no flag assumes finite values, so NaN checks stay valid.
# --------------------------------------------------------------------------------------------

_FM = {"reassoc", "contract", "arcp", "nsz"}

_xxpotrf = _LAPACK().numba_xxpotrf(types.float64)
_LAPACK_DOUBLE, _LAPACK_LOWER = ord("d"), ord("L")


@njit(cache=True, fastmath=_FM)
def _dot(a, b):
    acc = 0.0
    for i in range(a.shape[0]):
        acc += a[i] * b[i]
    return acc


@njit(cache=True, fastmath=_FM)
def _mv(A, x, out):
    """``out ← A x`` for a row-major ``A`` (k×n)."""
    for a in range(A.shape[0]):
        out[a] = _dot(A[a], x)


@njit(cache=True, fastmath=_FM)
def _mtv(A, x, out):
    """``out ← Aᵀ x`` for a row-major ``A`` (k×n), accumulated row by row."""
    out[:] = 0.0
    for a in range(A.shape[0]):
        xa = x[a]
        row = A[a]
        for j in range(out.shape[0]):
            out[j] += xa * row[j]


@njit(cache=True)
def _potrf(A, m):
    """LAPACK Cholesky of ``A[:m, :m]`` in place (upper triangle, ``A = UᵀU``); LAPACK's info.

    LAPACK reads the row-major ``A`` as its transpose, so its column-major lower factor ``L``
    lands in our upper triangle as ``U = Lᵀ``; the row stride is LAPACK's leading dimension.
    Numba's own ``np.linalg.cholesky`` would raise on failure, which a prange body must not.
    """
    if m == 0:
        return 0  # LAPACK rejects a leading dimension of 0
    return _xxpotrf(_LAPACK_DOUBLE, _LAPACK_LOWER, m, A.ctypes, A.shape[1])


if numba.config.DISABLE_JIT:  # pragma: no cover
    # Coverage runs (NUMBA_DISABLE_JIT=1) execute the kernels as Python, where Numba's LAPACK
    # binding cannot be called: the same contract through SciPy.
    def _potrf(A, m):
        if m == 0:
            return 0
        import scipy.linalg.lapack

        U, info = scipy.linalg.lapack.dpotrf(A[:m, :m], lower=False, clean=False)
        upper = np.triu_indices(m)
        A[:m, :m][upper] = U[upper]
        return info


@njit(cache=True)
def _chol_upper(A, m):
    """Unblocked Cholesky of ``A[:m, :m]`` (upper triangle) in place; 0 or ``k+1`` at failure.

    On failure at pivot ``k`` the factor of ``A[:k, :k]`` is complete (LAPACK's blocked
    routine does not promise that), which tells which nested widths can still use it.
    """
    for k in range(m):
        piv = A[k, k]
        if not piv > 0.0:  # also catches NaN
            return k + 1
        ukk = np.sqrt(piv)
        A[k, k] = ukk
        inv = 1.0 / ukk
        for j in range(k + 1, m):
            A[k, j] *= inv
        for i in range(k + 1, m):
            uki = A[k, i]
            for j in range(i, m):
                A[i, j] -= uki * A[k, j]
    return 0


@njit(cache=True, fastmath=_FM)
def _chol_update(U, m, x):
    """Rank-one update to the factor of ``UᵀU + x xᵀ`` in place (``x`` is overwritten).

    Each step rotates row ``k`` of ``U`` against ``x`` (LINPACK ``dchud``): 6m²/2 flops, stable.
    """
    for k in range(m):
        ukk = U[k, k]
        r = np.sqrt(ukk * ukk + x[k] * x[k])
        c = r / ukk
        sn = x[k] / ukk
        U[k, k] = r
        rc = 1.0 / c
        for j in range(k + 1, m):
            ukj = (U[k, j] + sn * x[j]) * rc
            U[k, j] = ukj
            x[j] = c * x[j] - sn * ukj


@njit(cache=True, fastmath=_FM)
def _solve_lower(U, m, b):
    """``b ← U⁻ᵀ b`` (forward substitution, column-oriented over rows of ``U``)."""
    for k in range(m):
        bk = b[k] / U[k, k]
        b[k] = bk
        for j in range(k + 1, m):
            b[j] -= bk * U[k, j]


@njit(cache=True, fastmath=_FM)
def _solve_upper(U, m, b):
    """``b ← U⁻¹ b`` (back substitution)."""
    for k in range(m - 1, -1, -1):
        acc = 0.0
        for j in range(k + 1, m):
            acc += U[k, j] * b[j]
        b[k] = (b[k] - acc) / U[k, k]


@njit(cache=True)
def _chol_solve(U, m, b):
    """``b ← (UᵀU)⁻¹ b`` in place."""
    _solve_lower(U, m, b)
    _solve_upper(U, m, b)


@njit(cache=True, fastmath=_FM)
def _cond_est(U, m):
    """Estimate of ``cond(M) = λmax/λmin`` for ``M = UᵀU``: a lower bound, usually within 3×.

    ``_COND_ITERS`` power iterations for λmax (Rayleigh quotient ``‖Uv‖²``) and as many inverse
    iterations for λmin (``vᵀM⁻¹v = ‖U⁻ᵀv‖²``): ``4·_COND_ITERS·m²`` flops against the
    factor's ``m³/3``.
    """
    start = np.empty(m)
    for i in range(m):
        # Deterministic, equidistributed entries with a positive mean: not orthogonal to the
        # constant vector (dominant for mean-positive features such as ReLU) nor to generic
        # eigenvectors, and no draw from the random stream.
        start[i] = 0.5 + ((i + 1) * 0.6180339887498949) % 1.0
    start /= np.sqrt(_dot(start, start))
    v = start.copy()
    u = np.empty(m)
    lam_max = 0.0
    for _ in range(_COND_ITERS):
        for k in range(m):  # u = U v
            acc = 0.0
            for j in range(k, m):
                acc += U[k, j] * v[j]
            u[k] = acc
        lam_max = _dot(u, u)
        v[:] = 0.0
        for k in range(m):  # v = Uᵀ u
            uk = u[k]
            for j in range(k, m):
                v[j] += uk * U[k, j]
        v /= np.sqrt(_dot(v, v))
    v[:] = start
    inv_min = 0.0
    for _ in range(_COND_ITERS):
        _solve_lower(U, m, v)
        inv_min = _dot(v, v)
        _solve_upper(U, m, v)
        v /= np.sqrt(_dot(v, v))
    return lam_max * inv_min


# --------------------------------------------------------------------------------------------
# Least-squares fits
# --------------------------------------------------------------------------------------------


@njit(cache=True)
def _all_finite(a):
    for v in a.ravel():
        if not np.isfinite(v):
            return False
    return True


@njit(cache=True)
def _svd_fit(XtS, y, rn, b):
    r"""Stable fallback: ``b ← argmin (1/n)‖y − X_S b‖² + (rn/n)‖b‖²`` by SVD, min-norm.

    ``XtS`` is :math:`X_S^\top` (k×n). With :math:`X_S^\top = A\,\mathrm{diag}(s)\,B^\top`,
    :math:`b = A\, f(s) \odot (B^\top y)` with :math:`f(s) = s/(s^2 + rn)`; for ``rn = 0``,
    :math:`f(s) = 1/s` above NumPy's ``lstsq`` cutoff :math:`\varepsilon \max(n, k) s_1` and 0
    below it. Non-finite data give NaN coefficients rather than an exception.
    """
    if not (_all_finite(XtS) and _all_finite(y)):
        b[:] = np.nan
        return
    A, sv, Bt = np.linalg.svd(XtS, full_matrices=False)
    c = np.dot(Bt, y)
    cutoff = _EPS * max(XtS.shape[0], XtS.shape[1]) * sv[0]
    for i in range(sv.shape[0]):
        if rn > 0.0:
            c[i] *= sv[i] / (sv[i] * sv[i] + rn)
        elif sv[i] > cutoff:
            c[i] /= sv[i]
        else:
            c[i] = 0.0
    b[:] = np.dot(A, c)


@njit(cache=True)
def _refine(XtS, y, rn, U, m, primal, b, w):
    """Iterative refinement of a Gram-based solution against ``X_S`` itself; True if converged.

    Primal (``M = X_SᵀX_S + rn I``): ``b += M⁻¹ (X_Sᵀ(y − X_S b) − rn b)``.
    Dual (``M = X_S X_Sᵀ + rn I``, ``b = X_Sᵀ w``): ``w += M⁻¹ (y − X_S b − rn w)``.
    Residuals are formed with ``X_S``, not with ``M``, which is what removes the squared
    condition number. Stops at a rounding-level correction or when a correction fails to halve.
    """
    k = XtS.shape[0]
    r = np.empty(XtS.shape[1])
    delta = np.empty(k)
    prev = np.inf
    dn = np.inf
    bn = 0.0
    for _ in range(_REFINE_STEPS):
        _mtv(XtS, b, r)
        r[:] = y - r
        if primal:
            _mv(XtS, r, delta)
            delta -= rn * b
            _chol_solve(U, m, delta)
        else:
            r -= rn * w
            _chol_solve(U, m, r)
            w += r
            _mv(XtS, r, delta)
        b += delta
        dn = np.sqrt(_dot(delta, delta))
        bn = np.sqrt(_dot(b, b))
        if dn <= _REFINE_TOL * bn:
            return True
        if dn > 0.5 * prev:
            break
        prev = dn
    return dn <= _REFINE_ACCEPT * bn


@njit(cache=True)
def _solve(XtS, y, rn, U, m, primal, b):
    """Fit ``b`` (length k) given the Cholesky factor ``U`` (m×m) of the Gram matrix; returns flag.

    ``primal``: ``M = X_SᵀX_S + rn I`` (m = k ≤ n), ``b = M⁻¹X_Sᵀy``;
    dual: ``M = X_S X_Sᵀ + rn I`` (m = n < k), ``b = X_Sᵀ M⁻¹ y`` (the min-norm solution).
    Returns 1 (and an SVD solution) if ``M`` is too ill-conditioned or refinement fails.
    """
    cond_m = _cond_est(U, m)
    if not cond_m <= COND_LIMIT * COND_LIMIT:  # also catches NaN
        _svd_fit(XtS, y, rn, b)
        return 1
    if primal:
        w = np.empty(0)
        _mv(XtS, y, b)
        _chol_solve(U, m, b)
    else:
        w = y.copy()
        _chol_solve(U, m, w)
        _mv(XtS, w, b)
    if cond_m > _REFINE_FROM and not _refine(XtS, y, rn, U, m, primal, b, w):
        _svd_fit(XtS, y, rn, b)
        return 1
    return 0


@njit(cache=True)
def _add_ridge(M, m, rn):
    for i in range(m):
        M[i, i] += rn


@njit(cache=True)
def fit_subset(Xt, idx, y, ridge, G, b):
    """Fit on the columns ``idx`` of ``X`` (given as ``Xt = Xᵀ``, d×n); ``b`` (len(idx)) ← fit.

    ``b = argmin (1/n)‖y − X_S b‖² + ridge ‖b‖²``, min-norm when ``ridge = 0``. For
    ``k = len(idx) ≤ n`` the Gram block ``G[idx][:, idx]`` of ``G = XᵀX`` (at least
    ``max(idx)+1`` square) is factored; for ``k > n`` the dual Gram ``X_S X_Sᵀ`` is formed
    (``G`` unused). Returns 1 if the fit was ill-conditioned (solved by SVD), else 0.
    """
    n = Xt.shape[1]
    k = idx.shape[0]
    rn = n * ridge
    XtS = np.empty((k, n))
    for a in range(k):
        XtS[a] = Xt[idx[a]]
    if k <= n:
        M = np.empty((k, k))
        for a in range(k):
            for c in range(a, k):
                M[a, c] = G[idx[a], idx[c]]
        m = k
    else:
        M = np.dot(XtS.T, XtS)
        m = n
    _add_ridge(M, m, rn)
    if _potrf(M, m) != 0:
        _svd_fit(XtS, y, rn, b)
        return 1
    return _solve(XtS, y, rn, M, m, k <= n, b)


@njit(cache=True)
def fit_widths(Xt, y, widths, ridge, G, B, flags):
    """Dense fits of all nested widths: ``B[wi, :p] ← fit on columns 0..p-1``, ``p = widths[wi]``.

    ``Xt = Xᵀ`` (d×n), ``G = XᵀX`` (at least the leading block of the widths ``≤ n``; may be
    empty if there are none). Work is shared across widths: one Cholesky factor of ``G[:m, :m]``
    (``m`` the largest width ``≤ n``) serves every width ``≤ n`` as a leading block. For widths
    ``> n`` the dual matrix ``X_p X_pᵀ + n·ridge·I`` grows with the added columns, and its
    factor is either updated by one rank-one rotation sweep per added column or, when that
    would be slower, refactored. Sets ``flags[wi] = 1`` for ill-conditioned fits.
    """
    n = Xt.shape[1]
    rn = n * ridge
    nw = widths.shape[0]
    m = 0
    for wi in range(nw):
        if widths[wi] <= n:
            m = widths[wi]
    U = G[:m, :m].copy()
    _add_ridge(U, m, rn)
    good = m
    if _potrf(U, m) != 0:
        # Rare: find exactly which leading blocks are positive definite.
        U[:, :] = G[:m, :m]
        _add_ridge(U, m, rn)
        info = _chol_upper(U, m)
        good = m if info == 0 else info - 1
    nd = n if widths[-1] > n else 0  # dual work space only if some width exceeds n
    K = np.zeros((nd, nd))  # X_q X_qᵀ + rn I for the first q = in_k columns
    _add_ridge(K, nd, rn)
    in_k = 0
    Ud = np.empty((nd, nd))
    in_u = 0  # columns in the dual factor Ud; 0 if it must be rebuilt
    x = np.empty(n)
    for wi in range(nw):
        p = widths[wi]
        primal = p <= n
        if primal:
            F, m_f, ok = U, p, p <= good
        else:
            if in_u > 0 and _UPDATE_RATIO * (p - in_u) < n:
                for j in range(in_u, p):
                    x[:] = Xt[j]
                    _chol_update(Ud, n, x)
                in_u = p
            else:
                K += np.dot(Xt[in_k:p].T, Xt[in_k:p])
                in_k = p
                Ud[:, :] = K
                in_u = p if _potrf(Ud, n) == 0 else 0
            F, m_f, ok = Ud, n, in_u > 0
        if ok:
            f = _solve(Xt[:p], y, rn, F, m_f, primal, B[wi, :p])
        else:
            _svd_fit(Xt[:p], y, rn, B[wi, :p])
            f = 1
        if f:
            flags[wi] = 1


# --------------------------------------------------------------------------------------------
# Pruning and risk
# --------------------------------------------------------------------------------------------


@njit(cache=True)
def top_s(score, s):
    """Indices (ascending) of the ``s`` largest entries of ``score``; ties go to the lower index."""
    order = np.argsort(-score, kind="mergesort")  # stable: equal scores keep index order
    return np.sort(order[:s])


@njit(cache=True)
def risk(idx, coef, c0, q, cov_diag, cov):
    r"""Population risk :math:`R(b) = c_0 - 2 b^\top q + b^\top\Sigma b` of a sparse ``b``.

    ``b[idx] = coef``, zero elsewhere (omitted features thus count as error through
    :math:`c_0`). :math:`\Sigma` is ``cov`` (d×d), or ``diag(cov_diag)``
    when ``cov`` is empty (0×0).
    """
    k = idx.shape[0]
    lin = 0.0
    quad = 0.0
    if cov.shape[0] == 0:
        for a in range(k):
            i = idx[a]
            lin += coef[a] * q[i]
            quad += cov_diag[i] * coef[a] * coef[a]
    else:
        for a in range(k):
            i = idx[a]
            lin += coef[a] * q[i]
            row = 0.0
            for c in range(k):
                row += cov[i, idx[c]] * coef[c]
            quad += coef[a] * row
    # A risk is an expectation of a square: at an exact fit (σ² = 0, p = d) the expansion's
    # cancellation can leave −1e-17, which must not print as a negative risk.
    return max(c0 - 2.0 * lin + quad, 0.0)


# --------------------------------------------------------------------------------------------
# One trial, and the parallel driver
# --------------------------------------------------------------------------------------------


@njit(cache=True)
def prune_sets(B, widths, s, hdiag, oracle_score):
    """Kept sets of magnitude, Hessian and oracle pruning of the dense fits ``B`` (rows as in
    :func:`fit_widths`): ``kept[wi, k, :]`` for strategy ``k`` in that order, ascending.

    Scores are ``|b_i|``, ``hdiag[i]·b_i²`` and ``oracle_score[i]`` over ``i < p``. For widths
    ``p ≤ s`` nothing is pruned and every strategy keeps ``0..p-1`` (padded with -1). Shape
    ``(len(widths), 3, min(s, widths[-1]))``.
    """
    nw = widths.shape[0]
    kept = np.full((nw, 3, min(s, widths[-1])), -1, np.int64)
    score = np.empty(widths[-1])
    for wi in range(nw):
        p = widths[wi]
        if p <= s:
            for k in range(3):
                kept[wi, k, :p] = np.arange(p)
            continue
        b = B[wi, :p]
        for k in range(3):
            for j in range(p):
                if k == 0:
                    score[j] = abs(b[j])
                elif k == 1:
                    score[j] = hdiag[j] * b[j] * b[j]
                else:
                    score[j] = oracle_score[j]
            kept[wi, k] = top_s(score[:p], s)
    return kept


@njit(cache=True)
def retrain(Xt, y, G, ridge, kept, sizes, c0, q, cov_diag, cov, flags, fits):
    """Risks ``(len(sizes), 3)`` of the least-squares refits on ``kept[wi, k, :sizes[wi]]``.

    ``kept`` as from :func:`prune_sets`; rows with ``sizes[wi] == 0`` are skipped (NaN). Fits
    on the sample ``Xt = Xᵀ``, ``y`` (``G = XᵀX`` as in :func:`fit_subset`). A refit depends
    only on its kept set, so a set equal to the latest set of any strategy (at this width or
    the previous one; e.g. the oracle's, which rarely changes) reuses that fit.
    ``flags[wi] = 1`` if a fit was ill-conditioned; ``fits[wi] +=`` the number of fits done.
    """
    nw = sizes.shape[0]
    risks = np.full((nw, 3), np.nan)
    kmax = kept.shape[2]
    slot = np.empty((3, kmax), np.int64)  # latest set of each strategy ...
    slot_size = np.zeros(3, np.int64)  # ... its size (0: none yet), risk and flag
    slot_risk = np.empty(3)
    slot_flag = np.zeros(3, np.int64)
    bs = np.empty(kmax)
    for wi in range(nw):
        size = sizes[wi]
        if size == 0:
            continue
        for k in range(3):
            idx = kept[wi, k, :size]
            src = -1
            for j in range(3):
                if slot_size[j] == size and np.array_equal(slot[j, :size], idx):
                    src = j
                    break
            if src < 0:
                slot_flag[k] = fit_subset(Xt, idx, y, ridge, G, bs[:size])
                slot_risk[k] = risk(idx, bs[:size], c0, q, cov_diag, cov)
                fits[wi] += 1
            elif src != k:
                slot_risk[k], slot_flag[k] = slot_risk[src], slot_flag[src]
            slot[k, :size] = idx
            slot_size[k] = size
            risks[wi, k] = slot_risk[k]
            if slot_flag[k]:
                flags[wi] = 1
    return risks


@njit(cache=True)
def transpose_gram(X, pmax, gram):
    """``(Xt, G)``: ``Xt = X[:, :pmax]ᵀ`` (contiguous) and ``G = Xt Xtᵀ`` if ``gram``, else 0×0."""
    Xt = np.ascontiguousarray(X[:, :pmax].T)
    G = np.dot(Xt, Xt.T) if gram else np.empty((0, 0))
    return Xt, G


@njit(cache=True)
def trial_kernel(X, y, X2, y2, rand_keep, widths, s, ridge, oracle_score, c0, q, cov_diag, cov,
                 out, flags):
    """Fit, prune, retrain and evaluate one trial (deterministic given its samples).

    ``X, y``: training sample (n×d, n); ``X2, y2``: fresh sample; ``rand_keep``: random subsets
    from :func:`random_subsets`; ``out`` (len(widths)×11) ← risks in the order of
    ``QUANTITIES``; ``flags`` (len(widths), int8) ← 1 where any fit of that width was
    ill-conditioned (SVD fallback). ``c0, q, cov_diag, cov`` as in :func:`risk`. Returns the
    number of least-squares fits per width (dense fit included), a measure of the work done.

    Stages: :func:`transpose_gram` (both samples), :func:`fit_widths`, :func:`prune_sets`,
    :func:`retrain` (fresh sample, then same sample), :func:`risk` of every model.
    """
    n = X.shape[0]
    nw = widths.shape[0]
    pmax = widths[-1]
    # Every Gram block a primal fit needs is a sub-matrix of XᵀX; primal fits happen when a
    # dense width or the pruned size is at most n.
    gram = widths[0] <= n or s <= n
    Xt, G = transpose_gram(X, pmax, gram)
    Xt2, G2 = transpose_gram(X2, pmax, gram)
    hdiag = np.empty(pmax)
    for j in range(pmax):
        hdiag[j] = _dot(Xt[j], Xt[j]) / n
    flags[:] = 0
    fits = np.ones(nw, np.int64)
    B = np.zeros((nw, pmax))
    fit_widths(Xt, y, widths, ridge, G, B, flags)
    kept = prune_sets(B, widths, s, hdiag, oracle_score)
    # Fresh refits for every width (for p <= s: the dense fit on the fresh sample); same-data
    # refits only where something was pruned (for p <= s they are the dense model itself).
    fresh_sizes = np.minimum(widths, s)
    same_sizes = np.where(widths > s, s, 0)
    fresh = retrain(Xt2, y2, G2, ridge, kept, fresh_sizes, c0, q, cov_diag, cov, flags, fits)
    same = retrain(Xt, y, G, ridge, kept, same_sizes, c0, q, cov_diag, cov, flags, fits)
    for wi in range(nw):
        p = widths[wi]
        b = B[wi, :p]
        dense = risk(np.arange(p), b, c0, q, cov_diag, cov)
        out[wi, _DENSE] = dense
        out[wi, _FRESH:_SAME] = fresh[wi]
        if p <= s:
            out[wi, _PRUNED:_FRESH] = dense
            out[wi, _SAME:] = dense
            continue
        for k in range(3):
            idx = kept[wi, k, :s]
            out[wi, _PRUNED + k] = risk(idx, b[idx], c0, q, cov_diag, cov)
            out[wi, _SAME + k] = same[wi, k]
        idx = rand_keep[wi, :s]
        out[wi, _RANDOM] = risk(idx, b[idx], c0, q, cov_diag, cov)
    return fits


@njit(cache=True, parallel=True)
def simulate_trials(seed, first_trial, trials, kind, n, scale, mixing, label_vec, sigma, widths,
                    s, ridge, oracle_score, c0, q, cov_diag, cov):
    """Run trials ``first_trial .. first_trial + trials - 1`` in parallel: ``(values, flags)``.

    ``values[t]`` and ``flags[t]`` are :func:`trial_kernel` applied to
    :func:`sample_trial`\\ ``(seed, first_trial + t, ...)``: each iteration writes only its own
    slot, and its random stream is reseeded from the trial's number, so results depend neither
    on the threads nor on how a run is split into batches.
    """
    nw = widths.shape[0]
    values = np.empty((trials, nw, len(QUANTITIES)))
    flags = np.zeros((trials, nw), np.int8)
    for t in prange(trials):
        # prange indices are unsigned; one integer type avoids a second compilation
        X, y, X2, y2, rand_keep = sample_trial(seed, first_trial + np.int64(t), kind, n, scale,
                                               mixing, label_vec, sigma, widths, s)
        trial_kernel(X, y, X2, y2, rand_keep, widths, s, ridge, oracle_score, c0, q, cov_diag,
                     cov, values[t], flags[t])
    return values, flags


# --------------------------------------------------------------------------------------------
# Python layer
# --------------------------------------------------------------------------------------------


def estimate_bytes(n, d, n_widths, trials, threads, *, latent=None):
    """Upper estimate of the peak memory (bytes) :func:`run` needs beyond its inputs.

    Per running trial (one per thread), in float64 words: two samples with their latent normals
    and transposes (``2·n·latent + 4·n·d``), two Gram matrices (``2·d²``), dense coefficients and
    kept sets (``4·n_widths·d``), the dual Gram and factor (``2·n²``), one refit's gathered
    design, Gram and SVD work (``4·n·d + 2·n²``); plus ``Σ = LLᵀ`` built by :func:`run`
    (``d²``) and the outputs ``trials·n_widths·(11·8 + 1)`` bytes. ``latent`` is the latent
    dimension of ReLU features (default ``d``). Measured peaks stay below this (tests).
    """
    latent = d if latent is None else latent
    per_trial = 2 * n * latent + 8 * n * d + 2 * d * d + 4 * n_widths * d + 4 * n * n + 16 * d
    return int(8 * (threads * per_trial + d * d) + trials * n_widths * (8 * len(QUANTITIES) + 1))


@functools.cache
def _openblas_thread_controls():
    """``(set_num_threads, get_num_threads)`` of every OpenBLAS loaded in this process (Linux).

    Numba's ``np.dot`` and Cholesky call SciPy's OpenBLAS. Left multi-threaded, its threads
    compete with the prange threads, and its threaded small Cholesky is several times slower
    than the serial one even without prange (measured: 0.44 ms vs 0.12 ms at 200×200).
    """
    try:
        with open("/proc/self/maps") as f:
            paths = sorted(set(re.findall(r"(/\S*openblas\S*\.so\S*)", f.read())))
    except OSError:
        return ()
    controls = []
    for path in paths:
        lib = ctypes.CDLL(path)
        for prefix, suffix in (("scipy_", ""), ("scipy_", "64_"), ("", ""), ("", "64_")):
            setter = getattr(lib, f"{prefix}openblas_set_num_threads{suffix}", None)
            getter = getattr(lib, f"{prefix}openblas_get_num_threads{suffix}", None)
            if setter is not None and getter is not None:
                controls.append((setter, getter))
                break
    return tuple(controls)


@contextlib.contextmanager
def single_threaded_blas():
    """Run the block with BLAS limited to one thread (parallelism comes from the trials).

    Uses ``threadpoolctl`` when installed, else OpenBLAS's own setter (found through
    ``/proc/self/maps``); elsewhere it does nothing (then set ``OPENBLAS_NUM_THREADS=1``).
    The limit is process-wide while the block runs, and restored afterwards.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        controls = _openblas_thread_controls()
        saved = [get() for _, get in controls]
        for setter, _ in controls:
            setter(1)
        try:
            yield
        finally:
            for (setter, _), k in zip(controls, saved):
                setter(k)
    else:
        with threadpool_limits(1, user_api="blas"):
            yield


def _array(name, a, ndim, length=None):
    a = np.asarray(a)
    if a.dtype.kind not in "iuf":
        raise ValueError(f"{name} must be a real numeric array, got {a.dtype=}")
    a = a.astype(np.float64, copy=False)
    if a.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimension(s), got {a.shape=}")
    if length is not None and a.shape[0] != length:
        raise ValueError(f"{name} must have leading length {length}, got {a.shape=}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must be finite, got non-finite entries")
    return np.ascontiguousarray(a)


def run(*, n, widths, s, trials, seed, beta=None, lam=None, L=None, Sigma=None, W=None,
        theta=None, sigma=0.0, ridge=0.0, c0=None, q=None, oracle_score=None, threads=None,
        first_trial=0):
    r"""Monte Carlo of fit → prune → retrain → exact risk; returns ``(values, flags)``.

    Exactly one sampler:

    - ``lam`` (d,) and ``beta`` (d,): diagonal :math:`\Sigma = \mathrm{diag}(\lambda)`;
    - ``L`` (d×d) and ``beta``: :math:`x = Lz`, :math:`\Sigma = LL^\top` (``Sigma`` may be
      passed to avoid recomputing it; it must equal :math:`LL^\top`);
    - ``W`` (d×D), ``theta`` (D,), and ``c0``, ``q``, ``Sigma``, ``oracle_score``: ReLU random
      features :math:`x = \max(Wg, 0)`, :math:`y = (\theta^\top g)^2 + \sigma e`, with the
      second moments :math:`c_0 = E y^2` (including :math:`\sigma^2`), :math:`q = E[xy]`,
      :math:`\Sigma = E[xx^\top]` of the equivalent problem (THEORY.md §7).

    For the linear problems :math:`c_0 = \sigma^2 + \beta^\top\Sigma\beta` and
    :math:`q = \Sigma\beta` are computed here, and the oracle score defaults to
    :math:`\Sigma_{ii}\beta_i^2`.

    ``widths``: strictly increasing ints in ``[1, d]``; ``s``: pruned size (``>= 1``);
    ``ridge``: :math:`\lambda` of :math:`\tfrac1n\|y - Xb\|^2 + \lambda\|b\|^2`; ``seed``:
    integer in ``[0, 2**63)``; ``threads``: Numba threads for this call (default: current);
    ``first_trial``: number of the first trial, so that a run split into batches
    (``first_trial = 0, b, 2b, ...``) gives the same trials as one run.
    Returns ``values`` float64 ``(trials, len(widths), 11)`` in the order of ``QUANTITIES``
    and ``flags`` int8 ``(trials, len(widths))``, 1 where a fit was ill-conditioned.
    Results depend only on ``(seed, trial number)`` and the problem, not on ``threads``.

    Example::

        >>> v, f = run(n=50, widths=[10, 40, 80], s=20, trials=4, seed=1,
        ...            lam=np.ones(80), beta=np.full(80, 0.1), sigma=0.5)
        >>> v.shape, f.shape
        ((4, 3, 11), (4, 3))
    """
    for name, val in (("n", n), ("s", s), ("trials", trials), ("seed", seed),
                      ("first_trial", first_trial)):
        if not isinstance(val, (int, np.integer)) or isinstance(val, bool):
            raise ValueError(f"{name} must be an integer, got {val=}")
    if n < 1 or s < 1 or trials < 1 or first_trial < 0:
        raise ValueError(f"n, s, trials must be >= 1 and first_trial >= 0, got {n=}, {s=}, "
                         f"{trials=}, {first_trial=}")
    if not 0 <= seed < 2**63:
        raise ValueError(f"seed must be in [0, 2**63), got {seed=}")
    if threads is not None and not (isinstance(threads, (int, np.integer)) and not isinstance(threads, bool)
                                    and 1 <= threads <= numba.config.NUMBA_NUM_THREADS):
        # Numba's pool is sized at start-up (NUMBA_NUM_THREADS, default: the cores).
        raise ValueError(f"threads must be an integer from 1 to {numba.config.NUMBA_NUM_THREADS} (the cores "
                         f"Numba started with), got threads={threads}")
    sigma, ridge = float(sigma), float(ridge)
    if not (np.isfinite(sigma) and sigma >= 0 and np.isfinite(ridge) and ridge >= 0):
        raise ValueError(f"sigma and ridge must be finite and >= 0, got {sigma=}, {ridge=}")
    given = [name for name, a in (("lam", lam), ("L", L), ("W", W)) if a is not None]
    if len(given) != 1:
        raise ValueError(f"pass exactly one of lam, L, W, got {given=}")
    empty1, empty2 = np.empty(0), np.empty((0, 0))

    if W is not None:
        kind = KIND_RELU
        mixing = _array("W", W, 2)
        d = mixing.shape[0]
        if theta is None or c0 is None or q is None or Sigma is None or oracle_score is None:
            raise ValueError("ReLU features need theta, c0, q, Sigma and oracle_score")
        label_vec = _array("theta", theta, 1, mixing.shape[1])
        scale, cov_diag = empty1, empty1
        cov = _array("Sigma", Sigma, 2, d)
        c0 = float(c0)
        q = _array("q", q, 1, d)
    else:
        if beta is None:
            raise ValueError("linear Gaussian problems need beta")
        if c0 is not None or q is not None or theta is not None:
            raise ValueError("c0, q and theta are for ReLU features; linear problems compute c0, q")
        if lam is not None and Sigma is not None:
            raise ValueError("with lam, Sigma is diag(lam); pass L and Sigma for a full Sigma")
        label_vec = _array("beta", beta, 1)
        d = label_vec.shape[0]
        if lam is not None:
            kind = KIND_DIAGONAL
            cov_diag = _array("lam", lam, 1, d)
            if np.any(cov_diag < 0):
                raise ValueError("lam must be >= 0")
            scale, mixing, cov = np.sqrt(cov_diag), empty2, empty2
            q = cov_diag * label_vec
            diag = cov_diag
        else:
            kind = KIND_FACTOR
            mixing = _array("L", L, 2, d)
            full = mixing @ mixing.T
            if Sigma is None:
                cov = full
            else:
                cov = _array("Sigma", Sigma, 2, d)
                if cov.shape != full.shape or not np.allclose(cov, full, rtol=1e-10,
                                                              atol=1e-12 * np.abs(full).max()):
                    raise ValueError("Sigma must equal L @ L.T")
            scale, cov_diag = empty1, empty1
            q = cov @ label_vec
            diag = np.diag(cov)
        c0 = sigma**2 + float(label_vec @ q)
        if oracle_score is None:
            oracle_score = diag * label_vec**2
    if cov.shape[0] and cov.shape != (d, d):
        raise ValueError(f"Sigma must be {d}x{d}, got {cov.shape=}")
    oracle_score = _array("oracle_score", oracle_score, 1, d)
    given_widths = np.asarray(widths)
    widths = np.ascontiguousarray(given_widths.astype(np.int64))
    if (given_widths.dtype.kind not in "iuf" or np.any(widths != given_widths)
            or widths.ndim != 1 or widths.size == 0 or widths[0] < 1 or widths[-1] > d
            or np.any(np.diff(widths) <= 0)):
        raise ValueError(f"widths must be strictly increasing integers in [1, {d}], "
                         f"got {given_widths=}")
    if not np.isfinite(c0):
        raise ValueError(f"c0 must be finite, got {c0=}")

    old = numba.get_num_threads()
    if threads is not None:
        numba.set_num_threads(int(threads))
    try:
        with single_threaded_blas():
            return simulate_trials(int(seed), int(first_trial), int(trials), kind, int(n), scale,
                                   mixing, label_vec, sigma, widths, int(s), ridge, oracle_score,
                                   c0, q, cov_diag, cov)
    finally:
        numba.set_num_threads(old)
