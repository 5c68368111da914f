r"""Same-data retraining of magnitude pruning: the heuristic prediction of docs/theory.rst §14.

What practitioners do after pruning is retrain the kept features on the *same* sample. For
min-norm least squares (diagonal :math:`\Sigma = \Lambda`, ``p`` features, ``n`` samples) the
retrained model is :math:`b = (X_S^\top X_S)^{-1} X_S^\top y` on the kept set ``S``, and its risk is
:math:`\sigma^2 + E_{\rm drop} + \lVert \Lambda_S^{1/2} b - \theta_S\rVert^2` with
:math:`\theta = \Lambda^{1/2}\beta` and :math:`E_{\rm drop}` the dropped signal. The kept set
depends on the data, so §4's fresh-retraining formula does not apply. The predictor:

1. *The first fit as linear constraints* on the whitened design :math:`Z = X\Lambda^{-1/2}`,
   given the labels (rows :math:`z \mid y \sim N(\theta y/\rho, \Omega)`,
   :math:`\rho = \lVert\theta\rVert^2 + \sigma^2`,
   :math:`\Omega = I - \theta\theta^\top/\rho`): :math:`Z^\top a = g` and :math:`Zh = w`, with
   :math:`h = \Lambda^{1/2}\hat\beta`, :math:`g = \Lambda^{-1/2}\hat\beta` and
   :math:`a = (XX^\top)^{-1}y`, :math:`w = y` for ``p > n``; :math:`a = y - X\hat\beta`, :math:`g = 0`,
   :math:`w = y - a` for ``p < n``.
2. *Gaussian conditioning* on those constraints, ignoring their Jacobian (the heuristic step):
   the kept columns are :math:`Z_S = u_1 v_1^\top + u_2 (v_2 + \xi)^\top + E` in an orthonormal
   basis :math:`u_1 = a/\lVert a\rVert`, :math:`u_2` of :math:`\mathrm{span}(a, y)`, with
   :math:`v_1 = g_S/\lVert a\rVert`, :math:`v_2` a combination of :math:`\theta_S` and
   :math:`(\Omega h)_S`, :math:`\xi \sim N(0, \tilde\Omega)` and ``E`` of ``N = n − 2``
   i.i.d. rows :math:`N(0, \tilde\Omega)`, :math:`\tilde\Omega = I - \theta_S\theta_S^\top/\rho
   - (\Omega h)_S(\Omega h)_S^\top/h^\top\Omega h`.
3. *Retraining* regresses :math:`y = y_1u_1 + y_2u_2` on :math:`Z_S`. With :math:`A = E^\top E`
   (Wishart), Woodbury gives :math:`b' = A^{-1}V(I + V^\top A^{-1}V)^{-1}c`,
   :math:`V = [v_1, v_2 + \xi]`, :math:`c = (y_1, y_2)`. The terms in :math:`\xi` are replaced by
   their expectations (:math:`\xi^\top A^{-1}\xi \to s/(N-s-1)`,
   :math:`\xi^\top A^{-2}\xi \to (N-1)\operatorname{tr}\tilde\Omega^{-1}/((N-s)(N-s-1)(N-s-3))`);
   ``A`` is averaged *exactly*: partitioning the kept space into :math:`\mathrm{span}(V)` and its
   complement, :math:`V^\top A^{-1}V` depends only on the Schur complement
   :math:`A_{11\cdot2} \sim W_k(N - s + k, \tilde\Omega_{11\cdot2})` (``k = 2``, or 1 for ``p < n``
   where :math:`v_1 = 0`), and the complement's block of :math:`b'` is Gaussian given it, with
   :math:`E[A_{22}^{-1}] = \tilde\Omega_{22}^{-1}/(N - s + k - 1)`. The remaining average over the
   small Wishart is Gauss quadrature on its Bartlett factors (χ² and normal).

Plugging the means of :math:`A^{-1}` and :math:`A^{-2}` into the Woodbury form instead (the
first version of §14) overshoots by 1–3% at ``n = 200``: the bilinear forms
:math:`v^\top A^{-1}v` fluctuate by :math:`\sqrt{2/(n-s)}` (16% at ``n − s = 80``), and the
ratio is far from linear in them.

Inputs, all from the finite-size DC of §2–3 (:math:`\hat\beta_a \sim N(\mu_a, sd_a^2)` per atom
and the magnitude threshold ``t``): the Gram matrix of :math:`(\theta_S, (\Omega h)_S, g_S)`
(six kept-set sums of centred truncated-normal moments, per atom in the units of ``h``, so
that neither nearly parallel ``h_S``, ``θ_S`` nor spectra spanning many decades lose digits),
the totals :math:`\lVert\theta\rVert^2`, :math:`\theta^\top h`, :math:`h^\top\Omega h`,
:math:`\lVert\hat\beta\rVert^2`, :math:`\lVert y\rVert^2 = n\rho`, and
:math:`\lVert a\rVert^2 = \tau/(n\zeta^2)` (``p > n``) or :math:`(n - p)\sigma^2` (``p < n``),
all in units of :math:`\rho` (the risk is homogeneous of degree 1 in signal and noise). In the
``n → ∞`` limit the Wishart average is its mean and every count offset drops.

Scope: magnitude pruning of min-norm least squares (no ridge), diagonal Σ, a fixed β (the
conditioning of step 1 is on the labels given β; with Gaussian coefficients, docs/theory.rst §11,
the kept set also selects on β and the heuristic is not derived), ``3 <= s <= n − 6`` at finite
size (``s < n`` asymptotically): below ``n − 5`` the inverse-Wishart moments of step 3 exist.
A model with ``p <= s`` is not pruned (its same-data retraining is the dense model, exactly);
a noiseless fit (τ = 0) keeps a data-independent set, so same-data retraining is fresh
retraining, exactly. Elsewhere the value is NaN and :func:`not_predicted` says why.
Accuracy against Monte Carlo: docs/theory.rst §14 and validation/same_data.py.

>>> import dcprune
>>> pred = dcprune.predict(dcprune.Diagonal(dcprune.SpikedCovariance(), kappa=3, alpha=0.2, n=200))
>>> round(pred.risk.magnitude_retrain_same.mean, 4), round(pred.risk.magnitude_retrain.mean, 4)
(1.1862, 1.9379)
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from scipy.special import ndtri

from .numerics import normal_pdf, truncated_moments
from .pruning import Pruned
from .results import Estimate
from .solver import DenseRisk

__all__ = ["retrain_same", "not_predicted", "allowance", "OUTSIDE_DIAGONAL", "UNPREDICTED", "MIN_KEPT",
           "MIN_SPARE"]

#: Fewest kept features at finite size: the kept space must hold the three directions
#: :math:`\theta_S, h_S, g_S` besides the isotropic rest.
MIN_KEPT = 3
#: Fewest samples beyond ``s`` at finite size: :math:`E[A^{-2}]` of a Wishart with
#: ``N = n − 2`` rows exists for ``N − s − 3 > 0``.
MIN_SPARE = 6
#: The estimate of a risk that is not predicted: NaN mean and standard error (``null`` in JSON).
UNPREDICTED = Estimate(math.nan, math.nan)
#: The warning of the families the heuristic does not cover (correlated and random features).
OUTSIDE_DIAGONAL = ("risk.magnitude_retrain_same is NaN: same-data retraining is predicted for diagonal Σ only "
                    "(docs/theory.rst §14), not for correlated or random features; simulate measures it")
# Gauss nodes per Bartlett factor of the small Wishart: 6 give the average to ~1e-6 relative
# down to n − s = 10 (checked against 32), far below the heuristic's own error.
_NODES = 6
# Eigenvalues of the kept-space Gram matrix below this fraction of the largest are directions
# the three vectors do not span (one λ on the kept set makes g_S parallel to h_S).
_RANK_TOL = 1e-12


def allowance(n) -> float:
    """The relative error the heuristic is held to at sample size ``n`` (checks allow it on top of
    their SE bound): 3% from ``n = 200`` on, ``3% × 200/n`` below. The measured error (validation/same_data.py,
    docs/theory.rst §14) is at most 1.4% at ``n = 200`` on the grid of §14 and shrinks like ``1/n``.

    >>> allowance(400), allowance(100)
    (0.03, 0.06)
    """
    if n is None:
        return _ALLOWANCE
    return _ALLOWANCE * max(1.0, _ALLOWANCE_N / float(n))


# The stated accuracy: the acceptance bound of issue 18 at n >= 200, growing like 1/n below.
_ALLOWANCE, _ALLOWANCE_N = 0.03, 200.0


def not_predicted(s: float, n: float, ridge: float, finite: bool, coefficients: str = "fixed") -> str:
    """Why a problem's same-data retraining is not predicted where it prunes, or ``""``
    (``coefficients`` as :class:`dcprune.Diagonal`'s).

    >>> not_predicted(120, 200, 0.0, True)
    ''
    >>> not_predicted(250, 200, 0.0, True).split(" (")[0]
    's = 250 is not below n − 5 = 195'
    """
    if coefficients != "fixed":
        return (f"{coefficients} coefficients: the same-data heuristic (docs/theory.rst §14) is derived for a "
                f"fixed β, not a random one; simulate measures it")
    if ridge > 0:
        return ("ridge > 0: the same-data heuristic (docs/theory.rst §14) is for min-norm least squares; "
                "simulate measures it")
    if finite and s < MIN_KEPT:
        return f"s = {s:g} is below {MIN_KEPT} (the heuristic of docs/theory.rst §14 needs s >= {MIN_KEPT})"
    if finite and s > n - MIN_SPARE:
        return (f"s = {s:g} is not below n − {MIN_SPARE - 1} = {n - MIN_SPARE + 1:g} (same-data retraining is "
                f"predicted for s <= n − {MIN_SPARE} only, docs/theory.rst §14; simulate measures it)")
    if not finite and s >= n:
        return (f"s/n = {s:g} is not below 1 (same-data retraining is predicted for s < n only, "
                f"docs/theory.rst §14; simulate measures it)")
    return ""


def retrain_same(lam, beta, mult, pruned: Pruned, fresh, sigma2_eff, s: float, n: float, dense: DenseRisk, *,
                 ridge: float = 0.0, finite: bool = False) -> np.ndarray:
    r"""Same-data retraining risk of magnitude pruning, batched (docs/theory.rst §14).

    Parameters
    ----------
    lam, beta, mult : ndarray, shape (models, atoms)
        The models' atoms (λ_a, β_a, m_a).
    pruned : Pruned
        Magnitude pruning of the models (:func:`dcprune.pruning.prune`): keep fractions and
        threshold.
    fresh : ndarray, shape (models,)
        Fresh retraining's risk on that support: the answer when the support is
        data-independent (τ = 0).
    sigma2_eff : ndarray, shape (models,)
        Label noise plus the omitted features' energy.
    s, n : float
        Kept features and samples (ratios to ``n`` with ``finite=False``, ``n = 1``).
    dense : DenseRisk
        The models' DC (:func:`dcprune.solver.dense_risk`).
    ridge : float or ndarray, shape (models,)
        The fits' ridge (models with ``ridge > 0`` are not predicted).

    Returns
    -------
    ndarray, shape (models,)
        The risk :math:`E(y - x^\top b)^2`; the dense risk where ``p <= s``; NaN where it is
        not predicted (:func:`not_predicted`, Gaussian coefficients in ``pruned.law`` included,
        and the interpolation peak, where τ is infinite).
    """
    lam, beta, mult = (np.asarray(x, dtype=float) for x in (lam, beta, mult))
    sigma2_eff = np.broadcast_to(np.asarray(sigma2_eff, dtype=float), mult.shape[:-1])
    p = mult.sum(axis=-1)
    out = np.full(p.shape, np.nan)
    whole = p <= s * (1.0 + 1e-12)
    out[whole] = dense.gamma[whole]
    if not_predicted(s, n, 0.0, finite, pruned.law.coefficients):
        return out
    ridgeless = np.broadcast_to(np.asarray(ridge, dtype=float) == 0, p.shape)  # one ridge, or one per model
    noiseless = ~whole & ridgeless & (dense.tau == 0)
    out[noiseless] = np.asarray(fresh)[noiseless]
    rows = ~whole & ridgeless & (dense.tau > 0) & np.isfinite(dense.tau) & (np.abs(p - n) > 1e-9 * n)
    if rows.any():
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # degenerate rows end NaN
            out[rows] = _predict(lam[rows], beta[rows], mult[rows], pruned.keep[rows], pruned.threshold[0][rows],
                             sigma2_eff[rows], s, n, dense.zeta[rows], dense.tau[rows], dense.shrink[rows], finite)
    return out


def _kept_sums(lam, theta, mult, keep, t_h, mu_h, sd_h, k):
    r"""The Gram matrix of :math:`(\theta_S, (\Omega h)_S, g_S)` and the dropped signal, from the DC.

    Per atom in the units of :math:`h = \Lambda^{1/2}\hat\beta \sim N(\mu_h, sd_h^2)` (``θ``
    its target, ``t_h`` the magnitude threshold in these units), so that no moment under- or
    overflows however far apart the atoms' λ; :math:`g = h/\lambda`. With
    :math:`(\Omega h)_S = h_S - k\theta_S`, :math:`k = \theta^\top h/\rho`, every entry is a
    kept-set sum of centred truncated-normal moments (:func:`dcprune.numerics.truncated_moments`):
    no difference of large sums (``h_S`` and ``θ_S`` may be nearly parallel, their difference is
    not). An atom the threshold cannot resolve (a tie, shared by
    :func:`dcprune.pruning.threshold_keep`) keeps its fraction, its largest values: the moments of
    the tail of that fraction.
    """
    prob, first, second = truncated_moments(mu_h, sd_h, t_h)
    tied = np.abs(prob - keep) > 1e-9
    if tied.any():
        # The threshold sits inside an atom narrower than its mean's rounding: the kept share is
        # that atom's largest |β̂|, one tail cut at z = Q⁻¹(share) (the limit of the resolved case).
        z = -ndtri(keep)
        tail = normal_pdf(z)
        prob = np.where(tied, keep, prob)
        first = np.where(tied, np.sign(mu_h) * sd_h * tail, first)
        second = np.where(tied, sd_h * sd_h * (keep + np.where(np.isfinite(z), z * tail, 0.0)), second)
    off = mu_h - k[:, None] * theta                                     # E h − kθ
    kept_h = mu_h * prob + first                                        # E[h 1{kept}]
    kept_hh = mu_h * (mu_h * prob + 2.0 * first) + second               # E[h² 1{kept}]
    sums = (mult * np.stack([
        prob * theta * theta,                                           # θθ
        theta * (off * prob + first),                                   # θ·Ωh
        theta * kept_h / lam,                                           # θ·g
        off * (off * prob + 2.0 * first) + second,                      # Ωh·Ωh
        (off * mu_h * prob + (mu_h + off) * first + second) / lam,      # Ωh·g
        kept_hh / lam / lam,                                            # g·g
        (1.0 - prob) * theta * theta,                                   # the dropped signal
    ])).sum(axis=-1)
    return sums[_GRAM].transpose(2, 0, 1), sums[6]


# Where the six kept sums sit in the symmetric Gram matrix.
_GRAM = np.array([[0, 1, 2], [1, 3, 4], [2, 4, 5]])


def _predict(lam, beta, mult, keep, t, sigma2, s, n, zeta, tau, shrink, finite):
    # The risk is homogeneous of degree 1 in (βᵀΛβ, σ²): compute in units of their sum, where
    # the products below (‖y‖²‖a‖², (aᵀy)², ...) stay far from overflow whatever the scale.
    root_lam = np.sqrt(lam)
    theta = root_lam * beta                                             # θ = Λ^{1/2}β per atom
    unit = (mult * theta * theta).sum(axis=-1) + sigma2
    root = np.sqrt(unit)[:, None]
    theta, sigma2, tau = theta / root, sigma2 / unit, tau / unit
    mu_h = shrink * theta                                               # h = Λ^{1/2}β̂ ~ N(μ_h, sd_h²)
    sd_h = shrink * np.sqrt(tau / n)[:, None]
    t_h = (t[:, None] / root) * root_lam
    p, signal, th_all, lag, bb_all = (mult * np.stack([
        np.ones_like(lam), theta * theta, theta * mu_h, theta * (theta - mu_h),
        (mu_h * mu_h + sd_h * sd_h) / lam])).sum(axis=-1)
    rho = signal + sigma2
    k = th_all / rho                                                    # θᵀh/ρ
    one_minus_k = (sigma2 + lag) / rho                                  # 1 − k, without its cancellation
    gram, dropped = _kept_sums(lam, theta, mult, keep, t_h, mu_h, sd_h, k)
    off = mu_h - k[:, None] * theta
    # hᵀΩh = ‖h − kθ‖² + k²σ²: two nonnegative terms (‖h‖² − (θᵀh)²/ρ cancels when h ≈ θ).
    h_om_h = (mult * (off * off + sd_h * sd_h)).sum(axis=-1) + k * k * sigma2
    yy = n * rho
    over = p > n
    with np.errstate(divide="ignore", invalid="ignore"):
        aa = np.where(over, tau / (n * zeta**2), (n - p) * sigma2)      # ‖a‖²
    ay = np.where(over, bb_all, aa)                                     # aᵀy (‖β̂‖² above the peak)
    # The conditioned law needs ‖a‖ > 0, y outside span(a) and h outside span(θ).
    ok = (aa > 0) & (yy * aa > ay * ay) & (h_om_h > 0) & np.isfinite(gram).all(axis=(-2, -1))
    loss = np.full(p.shape, np.nan)
    for kind in (1, 2):  # the dimension of span(V): 1 below the peak, where v₁ = 0
        rows = ok & (over if kind == 2 else ~over)
        if rows.any():
            loss[rows] = _loss(kind, gram[rows], rho[rows], yy[rows], aa[rows], ay[rows], one_minus_k[rows],
                               h_om_h[rows], s, n, finite)
    return (sigma2 + dropped + loss) * unit


def _loss(k, gram, rho, yy, aa, ay, one_minus_k, h_om_h, s, n, finite):
    r""":math:`E\lVert b' - \theta_S\rVert^2` of the conditioned regression, rows with ``dim span V = k``."""
    rows = gram.shape[0]
    root_a = np.sqrt(aa)
    y1 = ay / root_a
    y2 = np.sqrt(yy - y1 * y1)
    # Coefficients in (θ_S, (Ωh)_S, g_S) of θ_S, v₁ = g_S/‖a‖ (0 below the peak), v₂ = y₂θ_S/ρ +
    # w₂(Ωh)_S/hᵀΩh, and the spikes of Ω̃ = I − u₁u₁ᵀ − u₂u₂ᵀ, u₁ = θ_S/√ρ, u₂ = (Ωh)_S/√hᵀΩh;
    # w₂ = (1 − k)y₂ is the first fit's w = y (or y − a below the peak) tilted by the law given y,
    # along u₂ (the same expression on both sides of the peak).
    coef = np.zeros((rows, 3, 5))
    coef[:, 0, 0] = 1.0
    coef[:, 2, 1] = (1.0 if k == 2 else 0.0) / root_a
    coef[:, 0, 2] = y2 / rho
    coef[:, 1, 2] = one_minus_k * y2 / h_om_h
    coef[:, 0, 3] = 1.0 / np.sqrt(rho)
    coef[:, 1, 4] = 1.0 / np.sqrt(h_om_h)
    # Orthonormal coordinates of the span of the three vectors, x = Rα with RᵀR = G, from the
    # eigenvectors of their correlation matrix (scale-free: the vectors' norms may be decades
    # apart); directions they do not span get zero coordinates, like the isotropic rest.
    norm = np.sqrt(np.diagonal(gram, axis1=-2, axis2=-1))
    norm = np.where(norm > 0, norm, 1.0)
    ev, vec = np.linalg.eigh(gram / (norm[:, :, None] * norm[:, None, :]))
    root = np.sqrt(np.where(ev > _RANK_TOL * ev[:, -1:], ev, 0.0))
    x = (root[:, :, None] * np.swapaxes(vec, -1, -2) * norm[:, None, :]) @ coef   # (rows, 3, 5)
    V, spikes = x[:, :, 1:3], x[:, :, 3:5]
    omega = np.eye(3) - spikes @ np.swapaxes(spikes, -1, -2)
    # Ω̃ is a conditional covariance; DC sums that make it indefinite leave the row unpredicted.
    definite = np.linalg.eigvalsh(omega)[:, 0] > _RANK_TOL
    omega[~definite] = np.eye(3)
    # Rotate so that the first k axes span V (k = 1: v₂ alone).
    Q = np.linalg.qr(V if k == 2 else V[:, :, 1:], mode="complete").Q
    Qt = np.swapaxes(Q, -1, -2)
    V1 = (Qt @ V)[:, :k, :]
    th_rot = (Qt @ x[:, :, :1])[:, :, 0]
    om = Qt @ omega @ Q
    o11, o12, o22 = om[:, :k, :k], om[:, :k, k:], om[:, k:, k:]
    o22_inv = np.linalg.inv(o22)
    K = o22_inv @ np.swapaxes(o12, -1, -2)                             # Ω̃₂₂⁻¹Ω̃₂₁ (W-part; 0 on the rest)
    sigma_s = o11 - o12 @ K                                             # Ω̃₁₁·₂
    pv = th_rot[:, :k] - (np.swapaxes(K, -1, -2) @ th_rot[:, k:, None])[:, :, 0]
    if finite:
        extra = s - 3.0                                                 # the isotropic rest
        tr_inv = np.trace(np.linalg.inv(omega), axis1=-2, axis2=-1) + extra
        tr22 = np.trace(o22_inv, axis1=-2, axis2=-1) + extra
        big_n = n - 2.0
        dof = big_n - s + k
        t1 = s / (big_n - s - 1.0)
        t2 = (big_n - 1.0) * tr_inv / ((big_n - s) * (big_n - s - 1.0) * (big_n - s - 3.0))
        t22 = tr22 / (dof - 1.0)
    else:
        dof = n - s
        t1, t2, t22 = s / (n - s), np.full(rows, n * s / (n - s) ** 3), np.full(rows, s / (n - s))
    metric = np.eye(k) + np.swapaxes(K, -1, -2) @ K + t22[:, None, None] * sigma_s
    # With S = C W Cᵀ (C the Cholesky factor of Ω̃₁₁·₂, W ~ W_k(dof, I) = LLᵀ by Bartlett) the
    # regression reads in X = L⁻¹C⁻¹V₁: VᵀA⁻¹V = XᵀX and b₁ = C⁻ᵀL⁻ᵀX u, all in 2×2 closed forms.
    chol = np.linalg.cholesky(sigma_s)
    ct_inv = np.linalg.inv(chol)
    v_t = ct_inv @ V1                                                   # C⁻¹V₁, (rows, k, 2)
    metric_t = ct_inv @ metric @ np.swapaxes(ct_inv, -1, -2)
    p_t = np.einsum("rij,rj->ri", ct_inv, pv)
    a, b, z, weights = _wishart_nodes(k, dof) if finite else _mean_nodes(dof)
    # X = L⁻¹ v_t with L = [[a, 0], [z, b]] (k = 1: [[a]]); rows × nodes × 2 columns.
    x0 = v_t[:, None, 0, :] / a[None, :, None]
    if k == 2:
        x1 = (v_t[:, None, 1, :] - (z / a)[None, :, None] * v_t[:, None, 0, :]) / b[None, :, None]
        cols = (x0, x1)
    else:
        cols = (x0,)
    # Y = I + diag(0, t1) + XᵀX, then u = Y⁻¹c.
    y00 = 1.0 + sum(x[..., 0] ** 2 for x in cols)
    y01 = sum(x[..., 0] * x[..., 1] for x in cols)
    y11 = 1.0 + t1 + sum(x[..., 1] ** 2 for x in cols)
    det = y00 * y11 - y01 * y01
    u0 = (y11 * y1[:, None] - y01 * y2[:, None]) / det
    u1 = (y00 * y2[:, None] - y01 * y1[:, None]) / det
    q = [x[..., 0] * u0 + x[..., 1] * u1 for x in cols]                # X u
    # r = L⁻ᵀ q, so that b₁ = C⁻ᵀ r.
    if k == 2:
        r1 = q[1] / b[None]
        r = (q[0] / a[None] - (z / a)[None] * r1, r1)
    else:
        r = (q[0] / a[None],)
    quad = sum(metric_t[:, i, j, None] * r[i] * r[j] for i in range(k) for j in range(k))
    cross = sum(p_t[:, i, None] * r[i] for i in range(k))
    loss = quad - 2.0 * cross + t2[:, None] * u1**2 + gram[:, 0, 0][:, None]
    return np.where(definite, loss @ weights, np.nan)


def _mean_nodes(dof: float):
    """The ``n → ∞`` limit: the Wishart is its mean ``dof·I`` (one node)."""
    root = np.array([np.sqrt(dof)])
    return root, root, np.zeros(1), np.ones(1)


@lru_cache(maxsize=64)
def _wishart_nodes(k: int, dof: float):
    r"""Gauss nodes of :math:`W_k(\mathrm{dof}, I) = LL^\top` by Bartlett's factors
    :math:`L = [[a, 0], [z, b]]`, :math:`a^2 \sim \chi^2_{dof}`, :math:`b^2 \sim \chi^2_{dof-1}`,
    :math:`z \sim N(0, 1)` (``k = 1``: ``a`` alone): flat arrays ``(a, b, z, weights)``."""
    a2, wa = _chi2_nodes(dof)
    if k == 1:
        return np.sqrt(a2), np.ones_like(a2), np.zeros_like(a2), wa
    b2, wb = _chi2_nodes(dof - 1.0)
    z, wz = np.polynomial.hermite_e.hermegauss(_NODES)
    A, B, Z = np.broadcast_arrays(np.sqrt(a2)[:, None, None], np.sqrt(b2)[None, :, None], z[None, None, :])
    weights = wa[:, None, None] * wb[None, :, None] * (wz / wz.sum())[None, None, :]
    return A.ravel(), B.ravel(), Z.ravel(), weights.ravel()


def _chi2_nodes(dof: float):
    r"""Gauss nodes and weights of :math:`\chi^2_{dof}` (Golub–Welsch on the generalized
    Laguerre recurrence; the weights come normalized, so no Γ(dof/2) overflows)."""
    alpha = dof / 2.0 - 1.0
    i = np.arange(_NODES, dtype=float)
    off = np.sqrt(i[1:] * (i[1:] + alpha))
    x, vec = np.linalg.eigh(np.diag(2.0 * i + alpha + 1.0) + np.diag(off, 1) + np.diag(off, -1))
    return 2.0 * x, vec[0] ** 2
