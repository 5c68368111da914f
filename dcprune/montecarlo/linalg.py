r"""Dense linear algebra for the Monte Carlo kernels, in Numba: Cholesky, solves, conditioning.

Every fit of :mod:`dcprune.montecarlo.kernels` solves the normal equations
:math:`M b = X_S^\top y` with :math:`M = X_S^\top X_S + n\lambda I` (primal, :math:`k \le n`) or
the dual ones :math:`M w = y`, :math:`b = X_S^\top w` with :math:`M = X_S X_S^\top + n\lambda I`
(:math:`k > n`, the min-norm solution for :math:`\lambda = 0`) by Cholesky on the Gram matrix.

Numerics: a Gram matrix squares the condition number, so every fit estimates
:math:`\mathrm{cond}(M)` of its Gram matrix :math:`M` (:func:`cond_est`). Above ``_REFINE_FROM``
the solution is iteratively refined against :math:`X` itself (corrected semi-normal equations,
Björck 1987; :func:`refine`), which restores the accuracy of a QR or SVD solver while
:math:`\varepsilon\,\mathrm{cond}(M) \ll 1`. When :math:`\sqrt{\mathrm{cond}(M)} > `
``COND_LIMIT`` (for :math:`\lambda = 0` this is :math:`\mathrm{cond}(X_S)`), when the
factorization breaks down, or when refinement does not converge, the fit is redone by SVD
(:func:`svd_fit`) and the caller flags the width.

Layout: factors are upper triangular and row-major, :math:`M = U^\top U`, so every inner loop
runs over contiguous memory (rows of :math:`U` or of :math:`X^\top`). Matrix-vector products are
plain loops rather than BLAS: at these sizes BLAS call and threading overhead (OpenBLAS threads
competing with the prange threads) costs more than the arithmetic. Reductions may be
reassociated (``_FM``) so that they vectorize; no flag assumes finite values, so NaN checks stay
valid. Nothing here raises: a ``prange`` body must not, so failures are return values.

Fits share work: :func:`fit_widths` factors one Gram block for all nested widths up to ``n``
and grows the dual factor by rank-one updates (:func:`chol_update`) beyond; :func:`fit_subset`
fits one column subset (a pruned model's refit). :func:`risk` is every model's exact
population risk, the quadratic form :math:`c_0 - 2b^\top q + b^\top\Sigma b`.
"""

import numba
import numba.np.linalg
import numpy as np
from numba import njit, types

__all__ = [
    "COND_LIMIT",
    "COND_ITERS",
    "UPDATE_RATIO",
    "EPS",
    "dot",
    "mv",
    "mtv",
    "potrf",
    "chol_upper",
    "chol_update",
    "solve_lower",
    "solve_upper",
    "chol_solve",
    "cond_est",
    "all_finite",
    "svd_fit",
    "refine",
    "gram_solve",
    "add_ridge",
    "fit_subset",
    "fit_widths",
    "risk",
]

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
COND_ITERS = 2
"""Power and inverse iterations of :func:`cond_est`. Extreme eigenvalues of Gram matrices are
either clustered (any iterate is within a small factor) or, near singularity, well separated
(fast convergence). Two of each give cond(M) within a factor ~3 (cond(X) within ~1.7) at
8m² flops; a third would tighten that to ~1.4 for 50% more, as much as the factorization."""

UPDATE_RATIO = 36
"""Columns added to a dual Gram matrix are folded into its factor by rank-one updates while
fewer than ``n / UPDATE_RATIO`` are added, else it is refactored: an update sweep costs ~3n²
scalar flops per added column, a refactorization n³/3 at LAPACK speed (~4x faster per flop)."""

EPS = np.finfo(np.float64).eps

_FM = {"reassoc", "contract", "arcp", "nsz"}

# Numba's LAPACK binding is private API, but stable since Numba 0.2x (see potrf).
_xxpotrf = numba.np.linalg._LAPACK().numba_xxpotrf(types.float64)
_LAPACK_DOUBLE, _LAPACK_LOWER = ord("d"), ord("L")


@njit(cache=True, fastmath=_FM)
def dot(a, b):
    acc = 0.0
    for i in range(a.shape[0]):
        acc += a[i] * b[i]
    return acc


@njit(cache=True, fastmath=_FM)
def mv(A, x, out):
    """``out ← A x`` for a row-major ``A`` (k×n)."""
    for a in range(A.shape[0]):
        out[a] = dot(A[a], x)


@njit(cache=True, fastmath=_FM)
def mtv(A, x, out):
    """``out ← Aᵀ x`` for a row-major ``A`` (k×n), accumulated row by row."""
    out[:] = 0.0
    for a in range(A.shape[0]):
        xa = x[a]
        row = A[a]
        for j in range(out.shape[0]):
            out[j] += xa * row[j]


@njit(cache=True)
def potrf(A, m):
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
    def potrf(A, m):
        if m == 0:
            return 0
        import scipy.linalg.lapack

        U, info = scipy.linalg.lapack.dpotrf(A[:m, :m], lower=False, clean=False)
        upper = np.triu_indices(m)
        A[:m, :m][upper] = U[upper]
        return info


@njit(cache=True)
def chol_upper(A, m):
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
def chol_update(U, m, x):
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
def solve_lower(U, m, b):
    """``b ← U⁻ᵀ b`` (forward substitution, column-oriented over rows of ``U``)."""
    for k in range(m):
        bk = b[k] / U[k, k]
        b[k] = bk
        for j in range(k + 1, m):
            b[j] -= bk * U[k, j]


@njit(cache=True, fastmath=_FM)
def solve_upper(U, m, b):
    """``b ← U⁻¹ b`` (back substitution)."""
    for k in range(m - 1, -1, -1):
        acc = 0.0
        for j in range(k + 1, m):
            acc += U[k, j] * b[j]
        b[k] = (b[k] - acc) / U[k, k]


@njit(cache=True)
def chol_solve(U, m, b):
    """``b ← (UᵀU)⁻¹ b`` in place."""
    solve_lower(U, m, b)
    solve_upper(U, m, b)


@njit(cache=True, fastmath=_FM)
def cond_est(U, m):
    """Estimate of ``cond(M) = λmax/λmin`` for ``M = UᵀU``: a lower bound, usually within 3×.

    ``COND_ITERS`` power iterations for λmax (Rayleigh quotient ``‖Uv‖²``) and as many inverse
    iterations for λmin (``vᵀM⁻¹v = ‖U⁻ᵀv‖²``): ``4·COND_ITERS·m²`` flops against the
    factor's ``m³/3``.
    """
    start = np.empty(m)
    for i in range(m):
        # Deterministic, equidistributed entries with a positive mean: not orthogonal to the
        # constant vector (dominant for mean-positive features such as ReLU) nor to generic
        # eigenvectors, and no draw from the random stream.
        start[i] = 0.5 + ((i + 1) * 0.6180339887498949) % 1.0
    start /= np.sqrt(dot(start, start))
    v = start.copy()
    u = np.empty(m)
    lam_max = 0.0
    for _ in range(COND_ITERS):
        for k in range(m):  # u = U v
            acc = 0.0
            for j in range(k, m):
                acc += U[k, j] * v[j]
            u[k] = acc
        lam_max = dot(u, u)
        v[:] = 0.0
        for k in range(m):  # v = Uᵀ u
            uk = u[k]
            for j in range(k, m):
                v[j] += uk * U[k, j]
        v /= np.sqrt(dot(v, v))
    v[:] = start
    inv_min = 0.0
    for _ in range(COND_ITERS):
        solve_lower(U, m, v)
        inv_min = dot(v, v)
        solve_upper(U, m, v)
        v /= np.sqrt(dot(v, v))
    return lam_max * inv_min


# --------------------------------------------------------------------------------------------
# Solves from a factor, and the SVD fallback
# --------------------------------------------------------------------------------------------


@njit(cache=True)
def all_finite(a):
    for v in a.ravel():
        if not np.isfinite(v):
            return False
    return True


@njit(cache=True)
def svd_fit(XtS, y, rn, b):
    r"""Stable fallback: ``b ← argmin (1/n)‖y − X_S b‖² + (rn/n)‖b‖²`` by SVD, min-norm.

    ``XtS`` is :math:`X_S^\top` (k×n). With :math:`X_S^\top = A\,\mathrm{diag}(s)\,B^\top`,
    :math:`b = A\, f(s) \odot (B^\top y)` with :math:`f(s) = s/(s^2 + rn)`; for ``rn = 0``,
    :math:`f(s) = 1/s` above NumPy's ``lstsq`` cutoff :math:`\varepsilon \max(n, k) s_1` and 0
    below it. Non-finite data give NaN coefficients rather than an exception.
    """
    if not (all_finite(XtS) and all_finite(y)):
        b[:] = np.nan
        return
    A, sv, Bt = np.linalg.svd(XtS, full_matrices=False)
    c = np.dot(Bt, y)
    cutoff = EPS * max(XtS.shape[0], XtS.shape[1]) * sv[0]
    for i in range(sv.shape[0]):
        if rn > 0.0:
            c[i] *= sv[i] / (sv[i] * sv[i] + rn)
        elif sv[i] > cutoff:
            c[i] /= sv[i]
        else:
            c[i] = 0.0
    b[:] = np.dot(A, c)


@njit(cache=True)
def refine(XtS, y, rn, U, m, primal, b, w):
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
        mtv(XtS, b, r)
        r[:] = y - r
        if primal:
            mv(XtS, r, delta)
            delta -= rn * b
            chol_solve(U, m, delta)
        else:
            r -= rn * w
            chol_solve(U, m, r)
            w += r
            mv(XtS, r, delta)
        b += delta
        dn = np.sqrt(dot(delta, delta))
        bn = np.sqrt(dot(b, b))
        if dn <= _REFINE_TOL * bn:
            return True
        if dn > 0.5 * prev:
            break
        prev = dn
    return dn <= _REFINE_ACCEPT * bn


@njit(cache=True)
def gram_solve(XtS, y, rn, U, m, primal, b):
    """Fit ``b`` (length k) given the Cholesky factor ``U`` (m×m) of the Gram matrix; returns flag.

    ``primal``: ``M = X_SᵀX_S + rn I`` (m = k ≤ n), ``b = M⁻¹X_Sᵀy``;
    dual: ``M = X_S X_Sᵀ + rn I`` (m = n < k), ``b = X_Sᵀ M⁻¹ y`` (the min-norm solution).
    Returns 1 (and an SVD solution) if ``M`` is too ill-conditioned or refinement fails.
    """
    cond_m = cond_est(U, m)
    if not cond_m <= COND_LIMIT * COND_LIMIT:  # also catches NaN
        svd_fit(XtS, y, rn, b)
        return 1
    if primal:
        w = np.empty(0)
        mv(XtS, y, b)
        chol_solve(U, m, b)
    else:
        w = y.copy()
        chol_solve(U, m, w)
        mv(XtS, w, b)
    if cond_m > _REFINE_FROM and not refine(XtS, y, rn, U, m, primal, b, w):
        svd_fit(XtS, y, rn, b)
        return 1
    return 0


@njit(cache=True)
def add_ridge(M, m, rn):
    for i in range(m):
        M[i, i] += rn


# --------------------------------------------------------------------------------------------
# Least-squares fits of column subsets and of nested widths
# --------------------------------------------------------------------------------------------


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
    add_ridge(M, m, rn)
    if potrf(M, m) != 0:
        svd_fit(XtS, y, rn, b)
        return 1
    return gram_solve(XtS, y, rn, M, m, k <= n, b)


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
    add_ridge(U, m, rn)
    good = m
    if potrf(U, m) != 0:
        # Rare: find exactly which leading blocks are positive definite.
        U[:, :] = G[:m, :m]
        add_ridge(U, m, rn)
        info = chol_upper(U, m)
        good = m if info == 0 else info - 1
    nd = n if widths[-1] > n else 0  # dual work space only if some width exceeds n
    K = np.zeros((nd, nd))  # X_q X_qᵀ + rn I for the first q = in_k columns
    add_ridge(K, nd, rn)
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
            if in_u > 0 and UPDATE_RATIO * (p - in_u) < n:
                for j in range(in_u, p):
                    x[:] = Xt[j]
                    chol_update(Ud, n, x)
                in_u = p
            else:
                K += np.dot(Xt[in_k:p].T, Xt[in_k:p])
                in_k = p
                Ud[:, :] = K
                in_u = p if potrf(Ud, n) == 0 else 0
            F, m_f, ok = Ud, n, in_u > 0
        if ok:
            f = gram_solve(Xt[:p], y, rn, F, m_f, primal, B[wi, :p])
        else:
            svd_fit(Xt[:p], y, rn, B[wi, :p])
            f = 1
        if f:
            flags[wi] = 1


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
