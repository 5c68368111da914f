r"""Correlated features: the DC for a general covariance Σ, pruning by sampling (docs/theory.rst §6).

The DC is rotation invariant, so ζ, γ and the finite-size noise level τ are solved once in the
eigenbasis :math:`\Sigma = U\,\mathrm{diag}(\lambda)\,U^\top` by the diagonal engine
(:func:`dcprune.solver.dense_risk`, docs/theory.rst §2) and rotated back:

.. math::
    \hat\beta \approx N\!\left(\Sigma(\Sigma+\zeta I)^{-1}\beta,\;
        \tfrac{\tau}{n}\,\Sigma(\Sigma+\zeta I)^{-2}\right)

(τ = γ asymptotically; at finite ``n`` the noise level that makes the dense risk equal γ_n, as
in the diagonal code). Pruning acts coordinate-wise in the *original* basis, where the
coordinates are correlated, so there are no closed forms: the pruned risks are averages over
draws of this Gaussian, each pruned to ``s`` nonzeros (magnitude: largest :math:`|\hat\beta_i|`;
Hessian: largest :math:`\Sigma_{ii}\hat\beta_i^2`; oracle: the fixed top-``s`` of
:math:`\Sigma_{ii}\beta_i^2`; random: a uniform ``s``-subset) and evaluated exactly,
:math:`R(b) = \sigma^2 + (b-\beta)^\top\Sigma(b-\beta)`.

Fresh retraining (docs/theory.rst §4 with correlated features). On a kept support ``S`` the data
:math:`(x_S, y)` are again a linear Gaussian problem: :math:`x_S \sim N(0, \Sigma_{SS})` and
:math:`y = x_S^\top\beta_S + e_S` with the best predictor restricted to ``S``,
:math:`\beta_S = \Sigma_{SS}^{+}\Sigma_{S\cdot}\beta`, and a residual :math:`e_S` independent of
:math:`x_S` (jointly Gaussian and uncorrelated) of variance

.. math:: \sigma_S^2 = \sigma^2 + \beta^\top\Sigma\beta - \beta_S^\top\Sigma_{SS}\beta_S .

The retrained risk is the dense risk of that sub-problem (min-norm for :math:`|S| > n`, OLS
:math:`\sigma_S^2 (n-1)/(n-|S|-1)` at finite size for :math:`|S| < n-1`, infinite at the peak),
averaged over the supports that the sampled draws keep.

Rank-deficient Σ. Eigenvalues at or below ``rank_tol`` (:data:`RANK_RTOL` times the largest,
times ``p``) are treated as exact zeros: min-norm least squares on features confined to an
``r``-dimensional subspace is exactly the ``r``-dimensional regression in that subspace
(:math:`X = Z\Lambda_r^{1/2}U_r^\top` gives :math:`X^+ y = U_r\Lambda_r^{-1/2}Z^+ y`), so the
DC is solved on the ``r`` nonzero eigenvalues and β̂ lives in the range of Σ. With a rank-one
Σ this reproduces the exact finite-``n`` risks of docs/theory.rst §8 (see :mod:`dcprune.families.rankone`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..checks import ParameterError, finite_number, whole_number
from ..distill import distill_draws, distill_support, finite_estimate
from ..quantities import DISTILLABLE, PREDICTED
from ..results import Estimate, Risks, estimate, json_number
from ..rules import RULES, top_s_stable
from ..samedata import OUTSIDE_DIAGONAL, UNPREDICTED
from ..solver import check_sample_size, dense_risk, peak_reason
from .spectra import DiagonalProblem

__all__ = [
    "CovarianceProblem",
    "CovarianceDC",
    "CovariancePrediction",
    "sweep_covariance",
    "solve_covariance_dc",
    "predict_covariance",
    "retrain_risk",
    "SYMMETRY_RTOL",
    "PSD_RTOL",
    "RANK_RTOL",
]

# Σ is accepted as symmetric when max|Σ − Σᵀ| <= SYMMETRY_RTOL · max|Σ| (rounding in a
# computed covariance is far below this; a genuinely asymmetric input is far above).
SYMMETRY_RTOL = 1e-10
# Σ is accepted as PSD when its smallest eigenvalue is >= −PSD_RTOL · (largest eigenvalue).
PSD_RTOL = 1e-10
# Eigenvalues <= RANK_RTOL · p · λ_max count as exact zeros: the usual numerical-rank cut
# (numpy.linalg.matrix_rank uses eps · max(shape) · σ_max); below it an eigenvalue is rounding.
RANK_RTOL = np.finfo(float).eps
# Moments are consistent when c0 − βᵀΣβ >= −_NEGATIVE_NOISE_RTOL·|c0| (rounding makes a tiny
# negative noise out of an exactly-determined label; anything larger is an input error).
_NEGATIVE_NOISE_RTOL = 1e-8

# Draws per chunk when sampling: bounds memory at a few (chunk × p) arrays.
_CHUNK = 512
# Supports per batched eigendecomposition when retraining: bounds memory at (batch × s × s).
_SUPPORT_BATCH_ELEMENTS = 4_000_000


def _check_scale(scale, sigma, beta) -> None:
    # The spectra's range (MAX_SCALE): beyond it the risk's squares and sums overflow and
    # the DC returns inf or nan (with "converged"), so refuse with the remedy instead.
    from .spectra import MAX_SCALE

    rescale = "; rescale the features or the labels (risks scale with the signal energy)"
    if scale > MAX_SCALE:
        raise ValueError(f"Sigma has an entry of size {scale:.3g}, above {MAX_SCALE:g}, where the risk's squares "
                         f"overflow double precision" + rescale)
    with np.errstate(over="ignore", invalid="ignore"):
        energy = float(beta @ sigma @ beta)
        big = float(np.max(np.abs(beta))) if beta.size else 0.0
    if not (big <= np.sqrt(MAX_SCALE) and abs(energy) <= MAX_SCALE):
        raise ValueError(f"the signal energy beta'Sigma beta (or a beta^2) exceeds {MAX_SCALE:g}, where the risk "
                         f"overflows double precision" + rescale)


@dataclass(frozen=True, eq=False)
class CovarianceProblem:
    r"""A linear Gaussian problem with a general covariance: ``x ~ N(0, Σ)``, ``y = xᵀβ + σz``.

    ``Sigma`` (p×p) must be finite, symmetric (relative tolerance :data:`SYMMETRY_RTOL`) and
    positive semidefinite (eigenvalues >= −:data:`PSD_RTOL`·max); it is stored symmetrized.
    ``beta`` has length ``p``; ``sigma2 >= 0``. The eigendecomposition is done once, here:
    ``eigenvalues`` (descending, tiny negatives clipped to 0) and ``eigenvectors`` (columns).
    ``rank`` counts the eigenvalues above the numerical-rank cut (:data:`RANK_RTOL`).
    """

    Sigma: np.ndarray
    beta: np.ndarray
    sigma2: float
    eigenvalues: np.ndarray = field(init=False, repr=False)
    eigenvectors: np.ndarray = field(init=False, repr=False)

    def __post_init__(self):
        sigma = np.array(self.Sigma, dtype=float, copy=True)
        if sigma.ndim != 2 or sigma.shape[0] != sigma.shape[1] or sigma.shape[0] == 0:
            raise ValueError(f"Sigma must be a non-empty square matrix, got Sigma.shape={sigma.shape}")
        if not np.all(np.isfinite(sigma)):
            raise ValueError("Sigma must be finite, got NaN or infinite entries")
        scale = np.abs(sigma).max()
        asym = np.abs(sigma - sigma.T).max()
        if asym > SYMMETRY_RTOL * scale:
            raise ValueError(
                f"Sigma must be symmetric (relative tolerance {SYMMETRY_RTOL:g}), got "
                f"max|Sigma - Sigma.T| = {asym:.3g} with max|Sigma| = {scale:.3g}"
            )
        sigma = 0.5 * (sigma + sigma.T)
        beta = np.array(self.beta, dtype=float, copy=True)
        if beta.shape != (sigma.shape[0],):
            raise ValueError(f"beta must have shape ({sigma.shape[0]},) to match Sigma, got beta.shape={beta.shape}")
        if not np.all(np.isfinite(beta)):
            raise ValueError("beta must be finite, got NaN or infinite entries")
        _check_scale(scale, sigma, beta)
        lam, vec = np.linalg.eigh(sigma)
        lam, vec = lam[::-1], vec[:, ::-1]  # descending: the principal directions first
        top = max(lam[0], 0.0)
        if top <= 0 or lam[-1] < -PSD_RTOL * top:
            raise ValueError(
                f"Sigma must be positive semidefinite with a positive eigenvalue (tolerance "
                f"{PSD_RTOL:g} relative), got eigenvalues in [{lam[-1]:.3g}, {lam[0]:.3g}]"
            )
        sigma.setflags(write=False)
        beta.setflags(write=False)
        lam = np.clip(lam, 0.0, None)
        object.__setattr__(self, "Sigma", sigma)
        object.__setattr__(self, "beta", beta)
        object.__setattr__(self, "sigma2", finite_number("sigma2", self.sigma2, nonnegative=True))
        object.__setattr__(self, "eigenvalues", lam)
        object.__setattr__(self, "eigenvectors", vec)

    def with_beta(self, beta, sigma2: float) -> CovarianceProblem:
        """The same Σ (and its eigendecomposition, not recomputed) with another ``β, σ²``."""
        beta = np.array(beta, dtype=float, copy=True)
        if beta.shape != (self.p,):
            raise ValueError(f"beta must have shape ({self.p},) to match Sigma, got beta.shape={beta.shape}")
        if not np.all(np.isfinite(beta)):
            raise ValueError("beta must be finite, got NaN or infinite entries")
        beta.setflags(write=False)
        new = object.__new__(CovarianceProblem)
        for name, value in (("Sigma", self.Sigma), ("beta", beta),
                            ("sigma2", finite_number("sigma2", sigma2, nonnegative=True)),
                            ("eigenvalues", self.eigenvalues), ("eigenvectors", self.eigenvectors)):
            object.__setattr__(new, name, value)
        return new

    @classmethod
    def from_moments(cls, Sigma, q, c0: float) -> CovarianceProblem:
        r"""The linear problem with second moments :math:`\Sigma = E[xx^\top]`, :math:`q = E[xy]`,
        :math:`c_0 = E[y^2]`: :math:`\beta = \Sigma^+ q` (the best linear predictor) and
        :math:`\sigma^2 = c_0 - \beta^\top\Sigma\beta` (docs/theory.rst §7, and §6 for a kept block)."""
        q = np.asarray(q, dtype=float)
        base = cls(Sigma, np.zeros(q.size), 0.0)
        beta = base.pinv_solve(q)
        noise = float(c0) - float(beta @ base.Sigma @ beta)
        if noise < -_NEGATIVE_NOISE_RTOL * abs(float(c0)):
            raise ValueError(f"the moments are inconsistent: c0 - betaᵀΣbeta = {noise:.3g} < 0")
        return base.with_beta(beta, max(noise, 0.0))

    def leading(self, p: int) -> CovarianceProblem:
        r"""The model that uses the first ``p`` features only, the rest acting as noise:
        :math:`\Sigma_{PP}`, :math:`\beta_P = \Sigma_{PP}^+\Sigma_{P\cdot}\beta` and
        :math:`\sigma_P^2 = \sigma^2 + \beta^\top\Sigma\beta - \beta_P^\top\Sigma_{PP}\beta_P`."""
        p = whole_number("p", p, 1)
        if p > self.p:
            raise ParameterError("p", f"must be at most {self.p} (the features of Sigma)", shown_value=f"{p}")
        if p == self.p:
            return self
        q = self.Sigma[:p] @ self.beta
        return CovarianceProblem.from_moments(self.Sigma[:p, :p], q, self.sigma2 + self.signal)

    def pinv_solve(self, q) -> np.ndarray:
        r"""Minimum-norm solution of :math:`\Sigma b = q`: :math:`U_r \Lambda_r^{-1} U_r^\top q`."""
        keep = self.eigenvalues > self.rank_tol
        vec = self.eigenvectors[:, keep]
        return vec @ ((vec.T @ np.asarray(q, dtype=float)) / self.eigenvalues[keep])

    @classmethod
    def from_diagonal(cls, problem: DiagonalProblem) -> CovarianceProblem:
        """The diagonal problem written out coordinate by coordinate (integer multiplicities)."""
        counts = np.round(problem.mult).astype(np.int64)
        if not np.allclose(counts, problem.mult):
            raise ValueError("from_diagonal needs integer multiplicities, got real ones")
        lam = np.repeat(problem.lam, counts)
        return cls(np.diag(lam), np.repeat(problem.beta, counts), problem.sigma2)

    @property
    def p(self) -> int:
        return self.beta.size

    @property
    def rank_tol(self) -> float:
        return RANK_RTOL * self.p * float(self.eigenvalues[0])

    @property
    def rank(self) -> int:
        return int(np.count_nonzero(self.eigenvalues > self.rank_tol))

    @property
    def signal(self) -> float:
        """Signal energy ``βᵀΣβ``."""
        return float(self.beta @ self.Sigma @ self.beta)

    def risk(self, b) -> np.ndarray:
        r"""Exact population risk :math:`\sigma^2 + (b-\beta)^\top\Sigma(b-\beta)`, rows of ``b``."""
        err = np.atleast_2d(np.asarray(b, dtype=float)) - self.beta
        return self.sigma2 + np.einsum("ij,ij->i", err @ self.Sigma, err)


@dataclass(frozen=True, eq=False)
class CovarianceDC:
    r"""The DC of a :class:`CovarianceProblem` (docs/theory.rst §6): β̂ ≈ ``mean + factor @ h``.

    ``h ~ N(0, I_r)``; ``factor = U_r diag(c_a sqrt(τ/(n λ_a)))`` so that ``factor @ factor.T``
    is :math:`(\tau/n)\Sigma(\Sigma+\zeta I)^{-2}`. ``gamma`` is the dense risk, ``tau`` the
    noise level (``inf`` at the interpolation peak, where ``factor`` is the τ = 1 shape, which
    the keep rules of retraining need). ``message`` says why a risk is infinite or a solve failed.
    """

    zeta: float
    gamma: float
    tau: float
    converged: bool
    residual: float
    rank: int
    mean: np.ndarray = field(repr=False)
    factor: np.ndarray = field(repr=False)
    message: str = ""

    @property
    def infinite(self) -> bool:
        return not math.isfinite(self.gamma)


def _eigen_atoms(lam, rotated_beta, tol):
    """Nonzero eigenvalues as DC atoms of multiplicity 1 (zero ones carry no feature)."""
    keep = lam > tol
    return lam[keep], rotated_beta[keep], keep


def solve_covariance_dc(problem: CovarianceProblem, n: float, *, ridge: float = 0.0,
                        finite: bool = False) -> CovarianceDC:
    """Solve ζ, γ, τ in the eigenbasis of Σ and rotate the DC Gaussian back (docs/theory.rst §6).

    ``finite=True`` uses the finite-``n`` noise level of the diagonal path in the eigenbasis
    (γ_n of docs/theory.rst §2; with ridge, §13); ``ridge`` is λ of ``(1/n)‖y − Xb‖² + λ‖b‖²``.
    """
    if not isinstance(problem, CovarianceProblem):
        raise ParameterError("problem", "must be a CovarianceProblem", shown_value=f"{problem!r}")
    n = check_sample_size(n, finite)
    ridge = finite_number("ridge", ridge, nonnegative=True)
    vec = problem.eigenvectors
    lam, beta_e, keep = _eigen_atoms(problem.eigenvalues, vec.T @ problem.beta, problem.rank_tol)
    dense = dense_risk(lam[None], beta_e[None], np.ones((1, lam.size)), problem.sigma2, n,
                       ridge=ridge, finite=finite)
    c = dense.shrink[0]
    tau = float(dense.tau[0])
    u_r = vec[:, keep]
    mean = u_r @ (c * beta_e)
    sd_unit = c / np.sqrt(n * lam)
    factor = u_r * (sd_unit * (math.sqrt(tau) if math.isfinite(tau) else 1.0))
    message = ""
    if dense.infinite[0]:
        message = peak_reason(lam.size, n, finite)
    if not dense.converged[0]:
        message = f"ζ did not converge (relative residual {dense.residual[0]:.2e})"
    return CovarianceDC(
        zeta=float(dense.zeta[0]),
        gamma=float(dense.gamma[0]),
        tau=tau,
        converged=bool(dense.converged[0]),
        residual=float(dense.residual[0]),
        rank=int(lam.size),
        mean=mean,
        factor=factor,
        message=message,
    )


def retrain_risk(problem: CovarianceProblem, supports, n: float, *, ridge: float = 0.0,
                 finite: bool = False) -> np.ndarray:
    r"""Fresh-retraining risk on each kept support (docs/theory.rst §4 with correlated features).

    ``supports`` is ``(k, m)`` integer indices (``k`` supports of ``m`` kept columns each).
    For each ``S``: :math:`\Sigma_{SS} = V\mathrm{diag}(\mu)V^\top`, the best restricted
    predictor has energy :math:`\sum_{\mu_j > 0} (v_j^\top q_S)^2/\mu_j` with
    :math:`q = \Sigma\beta`, the sub-problem noise is
    :math:`\sigma_S^2 = \sigma^2 + \beta^\top\Sigma\beta - \text{that energy}`, and the answer is
    :func:`dcprune.solver.dense_risk` of the sub-problem (eigenvalues μ, rotated coefficients
    :math:`v_j^\top q_S/\mu_j`). Returns the ``k`` risks.
    """
    n = check_sample_size(n, finite)
    supports = np.atleast_2d(np.asarray(supports))
    if supports.ndim != 2 or supports.shape[1] == 0 or not np.issubdtype(supports.dtype, np.integer):
        raise ValueError(f"supports must be a (k, m) integer array with m >= 1, got shape {supports.shape}")
    if supports.min() < 0 or supports.max() >= problem.p:
        raise ValueError(f"supports must index columns 0..{problem.p - 1}")
    q = problem.Sigma @ problem.beta
    energy = problem.signal
    m = supports.shape[1]
    out = np.empty(supports.shape[0])
    step = max(1, _SUPPORT_BATCH_ELEMENTS // (m * m))
    for start in range(0, supports.shape[0], step):
        idx = supports[start : start + step]
        sub = problem.Sigma[idx[:, :, None], idx[:, None, :]]
        mu, vec = np.linalg.eigh(sub)
        proj = np.einsum("kij,ki->kj", vec, q[idx])  # v_jᵀ q_S
        tol = RANK_RTOL * m * np.maximum(mu[:, -1:], 0.0)
        active = mu > tol
        # Zero-variance directions of Σ_SS: inert padding atoms (λ = 1, m = 0) for the solver.
        lam = np.where(active, mu, 1.0)
        beta_s = np.where(active, proj / lam, 0.0)
        kept_energy = np.sum(np.where(active, proj * beta_s, 0.0), axis=-1)
        # σ_S² >= σ² exactly; rounding in the energy difference must not push it below.
        noise = problem.sigma2 + np.maximum(energy - kept_energy, 0.0)
        out[start : start + step] = dense_risk(lam, beta_s, active.astype(float), noise, n,
                                               ridge=ridge, finite=finite).gamma
    return out


@dataclass(frozen=True)
class CovariancePrediction:
    """Risks of a correlated-feature problem (docs/theory.rst §6), estimated by sampling the DC.

    ``risk[name]`` is an :class:`~dcprune.results.Estimate` for every name of
    :data:`~dcprune.quantities.PREDICTED`: the mean over ``samples`` draws of the DC Gaussian
    and its standard error (``dense`` is exact, se 0; ``*_retrain`` average fresh retraining
    over the supports of the first
    ``retrain_samples`` draws, oracle's support being fixed; same-data retraining is NaN). ``warnings``
    explains infinite values, failed solves and what is not predicted.
    """

    n: float
    s: int
    p: int
    zeta: float
    gamma: float
    tau: float
    converged: bool
    samples: int
    retrain_samples: int
    seed: int
    risk: Risks
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {
            "n": self.n, "s": self.s, "p": self.p, "zeta": self.zeta, "gamma": json_number(self.gamma),
            "tau": json_number(self.tau), "converged": self.converged, "samples": self.samples,
            "retrain_samples": self.retrain_samples, "seed": self.seed,
            "risk": {k: v.to_dict() for k, v in self.risk.items()},
            "warnings": list(self.warnings),
        }


def _masked_risk(problem, draws, idx):
    kept = np.zeros(draws.shape, dtype=bool)
    np.put_along_axis(kept, idx, True, axis=-1)
    return problem.risk(np.where(kept, draws, 0.0))


def predict_covariance(problem: CovarianceProblem, n: float, s: int, *, ridge: float = 0.0,
                       finite: bool = False, samples: int = 4000, retrain_samples: int = 64,
                       seed: int = 0, unlabelled: float = math.inf) -> CovariancePrediction:
    r"""Dense, pruned and fresh-retrained risks of a correlated problem (docs/theory.rst §4, §6).

    ``samples`` draws of :math:`\hat\beta` from the DC Gaussian (:func:`solve_covariance_dc`)
    are pruned to ``s`` nonzeros by magnitude, Hessian (score :math:`\Sigma_{ii}\hat\beta_i^2`),
    oracle (fixed support: the top ``s`` of :math:`\Sigma_{ii}\beta_i^2`, ties to the lower
    index) and random, and evaluated exactly; each risk is reported as (mean, standard error).
    Retraining costs one ``s×s`` eigendecomposition per distinct support, so it averages over
    the supports of the first ``retrain_samples`` draws only: the retrained risk varies little
    from support to support (its standard error says how little). Distillation into the kept
    features of magnitude and oracle pruning (on ``unlabelled`` inputs ``M``, ``inf``: the
    population projection; docs/theory.rst §12) is :func:`dcprune.distill.distill_draws` of each
    draw: the oracle's over every draw (one support), magnitude's over the first
    ``retrain_samples`` (one eigendecomposition each). Reproducible: every random number comes
    from ``numpy.random.default_rng(seed)``.

    With ``s >= p`` nothing is pruned and every risk is the dense one (se 0), but for a
    student fitted on fewer than ``p + 2`` unlabelled inputs (averaged over the draws).
    """
    if not isinstance(problem, CovarianceProblem):
        raise ParameterError("problem", "must be a CovarianceProblem", shown_value=f"{problem!r}")
    s = whole_number("s", s, 1)
    samples = whole_number("samples", samples, 2)
    retrain_samples = min(whole_number("retrain_samples", retrain_samples, 2), samples)
    seed = whole_number("seed", seed, 0)
    dc = solve_covariance_dc(problem, n, ridge=ridge, finite=finite)
    n = check_sample_size(n, finite)
    warnings = [dc.message] if dc.message else []
    p = problem.p
    if s >= p:
        risk = {name: Estimate(dc.gamma) for name in PREDICTED}
        if unlabelled < p + 2 and not dc.infinite:  # a student on all p features with too few inputs
            student = distill_support(problem, dc, np.arange(p), unlabelled, samples=samples, seed=seed,
                                      finite=finite)
            risk.update({f"{name}_distill": student for name in DISTILLABLE})
        return CovariancePrediction(n, s, p, dc.zeta, dc.gamma, dc.tau, dc.converged, samples,
                                    retrain_samples, seed, Risks(risk), tuple(warnings))

    rng = np.random.default_rng(seed)
    diag = np.diag(problem.Sigma)
    oracle_idx = top_s_stable(diag * problem.beta**2, s)
    values = {name: [] for name in RULES}
    supports = {name: [] for name, rule in RULES.items() if rule.retrainable and not rule.fixed_support}
    distilled = {name: [] for name in DISTILLABLE}
    # At the peak the draws are pure noise of infinite scale: pruned risks are infinite, but
    # the keep rules have the limit of the noise shape alone (mean 0), which retraining needs.
    mean = np.zeros(p) if dc.infinite else dc.mean
    for start in range(0, samples, _CHUNK):
        k = min(_CHUNK, samples - start)
        draws = mean + rng.standard_normal((k, dc.factor.shape[1])) @ dc.factor.T
        # In RULES order: randomized rules draw from rng after the coefficients, always alike.
        idx = {name: rule.select(draws, diag, oracle_idx, rng) for name, rule in RULES.items()}
        for name in RULES:
            values[name].append(_masked_risk(problem, draws, idx[name]))
        for name in supports:
            supports[name].append(idx[name][: max(0, retrain_samples - start)])
        for name in distilled:
            use = k if RULES[name].fixed_support else max(0, min(k, retrain_samples - start))
            if use and not dc.infinite:
                distilled[name].append(distill_draws(problem, draws[:use], idx[name][:use], unlabelled,
                                                     finite=finite))

    risk = {"dense": Estimate(dc.gamma)}
    for name in RULES:
        risk[name] = Estimate(math.inf) if dc.infinite else estimate(np.concatenate(values[name]))
    for name, rule in RULES.items():
        if not rule.retrainable:
            continue
        if rule.fixed_support:
            value = retrain_risk(problem, oracle_idx[None], n, ridge=ridge, finite=finite)[0]
            risk[f"{name}_retrain"] = Estimate(float(value))
            continue
        kept = np.concatenate(supports[name])
        unique, inverse = np.unique(kept, axis=0, return_inverse=True)
        per_support = retrain_risk(problem, unique, n, ridge=ridge, finite=finite)
        risk[f"{name}_retrain"] = estimate(per_support[np.ravel(inverse)])
    for name, parts in distilled.items():
        risk[f"{name}_distill"] = Estimate(math.inf) if dc.infinite else finite_estimate(np.concatenate(parts))
    if any(not math.isfinite(risk[f"{r}_retrain"].mean) for r, rule in RULES.items() if rule.retrainable):
        warnings.append(
            f"fresh retraining on s = {s} features with n = {n:g} samples sits at the retrained "
            f"model's interpolation peak: infinite risk"
        )
    if any(not math.isfinite(risk[f"{r}_distill"].mean) for r in DISTILLABLE) and not dc.infinite:
        warnings.append(f"distillation into s = {s} features on M = {unlabelled:g} unlabelled inputs sits at "
                        f"the student's interpolation peak: infinite risk")
    if dc.infinite:
        warnings.append("pruned risks are infinite: a pruned model keeps infinite-variance coordinates")
    return CovariancePrediction(n, s, p, dc.zeta, dc.gamma, dc.tau, dc.converged, samples, retrain_samples, seed,
                                Risks({q: risk.get(q, UNPREDICTED) for q in PREDICTED}),  # same-data: NaN, §14
                                (*warnings, OUTSIDE_DIAGONAL))


def sweep_covariance(problem: CovarianceProblem, n: float, counts, s: int, *, ridge: float = 0.0,
                     finite: bool = True, samples: int = 4000, retrain_samples: int = 64,
                     seed: int = 0, unlabelled: float = math.inf) -> tuple[CovariancePrediction, ...]:
    """:func:`predict_covariance` of the models using the first ``p`` features, ``p`` in ``counts``.

    The width-``p`` model is ``CovarianceProblem.leading(p)``: the other features act
    as noise (docs/theory.rst §6). Each width samples with its own seed derived from ``(seed, p)``, so
    one width's numbers do not depend on which other widths are in the sweep.
    """
    counts = np.asarray(counts)
    if counts.ndim != 1 or counts.size == 0:
        raise ValueError(f"counts must be a non-empty 1-D array of feature counts, got shape {counts.shape}")
    out = []
    for p in counts:
        p = whole_number("p", p, 1)
        sub_seed = int(np.random.SeedSequence([whole_number("seed", seed, 0), p]).generate_state(1)[0])
        out.append(predict_covariance(problem.leading(p), n, s, ridge=ridge, finite=finite, samples=samples,
                                      retrain_samples=retrain_samples, seed=sub_seed, unlabelled=unlabelled))
    return tuple(out)
