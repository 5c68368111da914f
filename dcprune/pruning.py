"""The risk of pruned and retrained diagonal models in closed form (docs/theory.rst §3–4).

Each rule (:mod:`dcprune.rules`) turns the DC's per-atom Gaussians ``β̂_a ~ N(μ_a, sd_a²)`` into a per-atom keep
probability ``π_a`` and a per-atom loss ``L_a = E[(M β̂_a − β_a)²]``; the pruned risk is
``σ_eff² + Σ_a m_a λ_a L_a``. Retraining (fresh data) solves the DC again on the kept
sub-problem ``(λ_a, β_a, m_a π_a)`` with the dropped energy added to the noise. All functions
are batched over a leading axis, like :mod:`dcprune.solver`.

With Gaussian coefficients (:mod:`dcprune.coefficients`, docs/theory.rst §11) the target of a
coordinate is itself random given ``β̂``, and a rule that keeps by ``β̂`` keeps more energy than
``π_a v_a``: each rule then reports the kept energy ``E[β² 1{kept}]``, and retraining uses it
(the kept sub-problem has ``β_a² = E[β² | kept]``; the dropped energy is ``v_a − E[β² 1{kept}]``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from scipy.special import ndtr

from .coefficients import coefficient_law
from .numerics import kept_moments, normal_pdf, solve_monotone
from .solver import DenseRisk, dense_risk

__all__ = ["AtomLaw", "Pruned", "prune", "retrain", "kept_problem", "fill_by_score", "threshold_keep",
           "count_threshold"]


@dataclass(frozen=True)
class AtomLaw:
    """The DC law of a batch of diagonal models, as pruning rules see it (arrays ``(models, atoms)``).

    ``mu``/``sd``: mean and sd of :math:`\\hat\\beta` per atom (at the interpolation peak,
    ``peak``, the limit shape: mean 0 and the sd per unit τ); ``tau``: the DC noise level per
    model; ``prunes``: the models with more than ``s`` coordinates (the others keep everything).
    The target given :math:`\\hat\\beta = x` has mean ``b0 + b1 x`` and variance ``w``
    (:func:`dcprune.coefficients.coefficient_law`); ``shrink`` and ``noise`` are the DC's
    :math:`c_a` and :math:`s_a` (:math:`\\hat\\beta = c_a\\beta + s_a h`), ``coefficients``
    ``"fixed"`` or ``"gaussian"``.
    """

    lam: np.ndarray
    beta: np.ndarray
    mult: np.ndarray
    oracle_mult: np.ndarray
    mu: np.ndarray
    sd: np.ndarray
    sd_unit: np.ndarray
    tau: np.ndarray
    peak: np.ndarray
    prunes: np.ndarray
    s: float
    b0: np.ndarray | None = None
    b1: np.ndarray | None = None
    w: np.ndarray | None = None
    shrink: np.ndarray | None = None
    noise: np.ndarray | None = None
    coefficients: str = "fixed"
    #: The loss's target is ``target · β`` (1; 0 for the kept second moment of β̂, :meth:`towards_zero`).
    target: float = 1.0

    @property
    def gaussian(self) -> bool:
        return self.coefficients == "gaussian"

    @property
    def error(self) -> np.ndarray:
        """``E[(β̂ − target·β)²]`` of a coordinate kept independently of β̂: ``(μ − β)² + sd²``
        for a fixed β, ``(c − target)² v + s²`` for a Gaussian one."""
        if self.gaussian:
            return (self.shrink - self.target) ** 2 * self.beta**2 + self.noise**2
        return (self.mu - self.beta) ** 2 + self.sd**2

    def towards_zero(self) -> AtomLaw:
        """The same law and the same selection with the loss's target 0: a rule's kept loss is then
        ``E[β̂² | kept]`` (distillation needs it, docs/theory.rst §12)."""
        if not self.gaussian:
            return replace(self, beta=np.zeros_like(self.beta))
        zero = np.zeros_like(self.b1)
        return replace(self, b0=zero, b1=zero, w=zero, target=0.0)

    @property
    def p(self) -> np.ndarray:
        return self.mult.sum(axis=-1)


@dataclass(frozen=True)
class Pruned:
    r"""A pruned model, batched: per-atom keep probabilities ``keep`` and the ``risk``.

    ``kept_loss`` is :math:`E[(\hat\beta_a - \beta_a)^2 \mid \text{kept}]` per atom and ``law``
    the :class:`AtomLaw` the rule saw (distillation, docs/theory.rst §12, needs both);
    ``kept_energy`` the kept energy :math:`E[\beta^2 1\{\text{kept}\}]` per coordinate
    (``None``: ``keep · β²``, the coefficient is fixed or the rule keeps independently of it);
    ``threshold`` is the rule's ``(t, converged)`` per model where it keeps ``|β̂_a| > t w_a`` of
    a fixed coefficient (:meth:`dcprune.rules.Rule.threshold`; same-data retraining,
    docs/theory.rst §14, needs it).
    """

    keep: np.ndarray
    risk: np.ndarray
    converged: np.ndarray
    kept_loss: np.ndarray | None = field(default=None, repr=False)
    law: AtomLaw | None = field(default=None, repr=False)
    kept_energy: np.ndarray | None = None
    threshold: tuple | None = field(default=None, repr=False)


def prune(rule, lam, beta, mult, oracle_mult, sigma2_eff, s: float, n: float,
          dense: DenseRisk, coefficients: str = "fixed") -> Pruned:
    r"""Risk of pruning the dense model to ``s`` nonzeros with ``rule`` (docs/theory.rst §3).

    ``rule`` is a :class:`dcprune.rules.Rule`; it maps the DC's per-atom Gaussians to keep
    probabilities :math:`\pi_a` and the loss of a kept coordinate, and the pruned risk is
    :math:`\sigma_{eff}^2 + \sum_a m_a\lambda_a[\pi_a L_a + (1-\pi_a)\beta_a^2]`. When
    ``p <= s`` nothing is pruned. With ``coefficients="gaussian"`` (docs/theory.rst §11)
    :math:`\beta_a^2` is the variance :math:`v_a` of the coordinate's coefficient and the
    dropped part is :math:`v_a - E[\beta^2 1\{\text{kept}\}]`.

    At the interpolation peak (τ = ∞) the pruned risk is infinite, but the keep rule has a
    limit (the noise swamps the means, so ``π`` is computed with ``μ = 0``), which retraining
    needs.
    """
    tau = dense.tau
    peak = ~np.isfinite(tau)
    sd_unit = dense.shrink / np.sqrt(n * lam)  # the per-coordinate sd when τ = 1
    noise = sd_unit * np.sqrt(np.where(peak, 1.0, tau))[:, None]
    if coefficients == "fixed":
        mu, sd, b0, b1, w = dense.shrink * beta, noise, beta, None, None
    else:
        mu, sd, b0, b1, w = coefficient_law(coefficients, beta, dense.shrink,
                                            np.where(peak[:, None], np.inf, noise))
    p = mult.sum(axis=-1)
    law = AtomLaw(lam, beta, mult, oracle_mult, mu, sd, sd_unit, tau, peak, prunes=p > s * (1.0 + 1e-12), s=s,
                  b0=b0, b1=b1, w=w, shrink=dense.shrink, noise=noise, coefficients=coefficients)
    threshold = rule.threshold(law)
    keep, kept_loss, kept_energy, converged = rule.keep_atoms(law, threshold)
    if kept_loss is None:
        kept_loss = law.error  # E[(β̂ − β)²]: the rule keeps independently of β̂
    dropped = (1.0 - keep) * beta**2 if kept_energy is None else beta**2 - kept_energy
    loss = keep * kept_loss + dropped
    risk = sigma2_eff + (mult * lam * loss).sum(axis=-1)
    return Pruned(keep, np.where(peak, np.inf, risk), converged, kept_loss, law, kept_energy, threshold)


def threshold_keep(mu, sd, beta, w, mult, s, targets=None, threshold=None):
    r"""Keep probabilities of the rule ``|β̂_a| > t w_a`` whose count is ``s`` (rows with noise).

    The threshold solves :math:`\sum_a m_a P(|\hat\beta_a| > t w_a) = s` (:func:`count_threshold`,
    unless ``threshold`` gives its ``(t, converged)``); returns ``(prob, cond_loss, converged)``
    with ``cond_loss`` the loss :math:`E[(\hat\beta-\beta)^2 \mid \text{kept}]` of a kept
    coordinate. With ``targets`` ``(b0, b1, var)`` (a random coefficient,
    :mod:`dcprune.coefficients`; ``beta`` is then unused) the loss is against :math:`\beta` with
    :math:`E[\beta \mid x] = b_0 + b_1 x` and :math:`\operatorname{Var}(\beta \mid x) = var`,
    and a fourth value is returned: the kept energy :math:`E[\beta^2 1\{\text{kept}\}]`.
    """
    t, conv = _count_threshold(mu, sd, w, mult, s) if threshold is None else threshold
    cut = t[:, None] * w
    if targets is not None:
        b0, b1, var = targets
        # (X − β)² given X has mean ((1 − b1) X − b0)² + var; β² has mean (b1 X + b0)² + var.
        prob, loss = kept_moments(mu, sd, b0, cut, 1.0 - b1)
        _, energy = kept_moments(mu, sd, -b0, cut, b1)
        loss, energy = loss + var * prob, energy + var * prob
        with np.errstate(invalid="ignore", divide="ignore"):
            cond_loss = np.where(prob > 0, loss / prob, 0.0)
        residual = np.abs((mult * prob).sum(axis=-1) - s)
        return prob, cond_loss, conv & (residual <= 1e-6 * max(s, 1.0)), energy
    prob, loss = kept_moments(mu, sd, beta, cut)
    # E[(β̂−β)² 1{keep}] / π: the loss of a kept coordinate given that it is kept.
    with np.errstate(invalid="ignore", divide="ignore"):
        cond_loss = np.where(prob > 0, loss / prob, 0.0)
    return _split_ties(prob, cond_loss, mu, sd, beta, t, w, mult, s, conv)


def count_threshold(mu, sd, w, mult, s):
    r"""The threshold ``t`` of the rule ``|β̂_a| > t w_a`` whose count is ``s``, and whether
    it converged: the root of :math:`\sum_a m_a P(|\hat\beta_a| > t w_a) = s` (rows with
    noise), the one threshold :func:`threshold_keep` keeps by (prune-then-quantize needs the
    threshold itself, docs/theory.rst §11). ``s`` is one count or one per row: the bit-budget
    search solves every kept count of a model in one batched solve."""
    return _count_threshold(mu, sd, w, mult, s)


def _split_ties(prob, cond_loss, mu, sd, beta, t, w, mult, s, converged):
    """Share the count ``s`` inside atoms too narrow for the threshold to resolve.

    When an atom's sd is below the rounding of its mean (``n λ β²/τ`` beyond ~10³²; e.g. a
    spectrum spanning 30 decades), ``P(|β̂_a| > t)`` jumps from 0 to 1 between neighbouring
    floating-point ``t`` and the count equation has no root. The threshold then sits inside
    such atoms, so they are kept in the fraction that fills ``s`` (the deterministic limit,
    as in :func:`fill_by_score`) with a kept coordinate's loss ``(μ−β)² + sd²``. A count that
    still misses ``s`` marks the row as not converged rather than returning a wrong risk.
    """
    residual = np.abs((mult * prob).sum(axis=-1) - s)
    floor = 1e-9 * max(s, 1.0)
    if np.all(residual <= floor):  # the usual case: no need for the slope below
        return prob, cond_loss, converged
    cut = t[:, None] * w
    narrow = sd <= _NARROW * np.abs(mu)
    # The count of the resolvable atoms moves by slope·δt when t moves by its last digits
    # (the root finder's xtol); a miss within that is rounding, not a tie.
    with np.errstate(invalid="ignore", divide="ignore"):
        density = (normal_pdf((cut - mu) / sd) + normal_pdf((-cut - mu) / sd)) * w / sd
    slope = np.where(narrow, 0.0, mult * density).sum(axis=-1)
    tol = floor + slope * _XTOL * np.maximum(1.0, t) * 4.0
    miss = residual > tol
    if not miss.any():
        return prob, cond_loss, converged
    prob, cond_loss, converged = prob.copy(), cond_loss.copy(), converged.copy()
    resolution = 64.0 * np.finfo(float).eps * np.maximum(np.abs(mu), cut)
    tied = miss[:, None] & (mult > 0) & narrow & (np.abs(np.abs(mu) - cut) <= 40.0 * sd + resolution)
    others = np.where(tied, 0.0, mult * prob).sum(axis=-1)
    room = np.where(tied, mult, 0.0).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.clip((s - others) / room, 0.0, 1.0)
    prob = np.where(tied, share[:, None], prob)
    cond_loss = np.where(tied, (mu - beta) ** 2 + sd**2, cond_loss)
    converged &= ~miss | (np.abs((mult * prob).sum(axis=-1) - s) <= tol)
    return prob, cond_loss, converged


# An atom whose sd is below this fraction of its mean is, for the threshold, a point mass.
_NARROW = 1e-6
# The threshold solve's step tolerance (relative to max(1, t)).
_XTOL = 1e-15


def fill_by_score(score, mult, s):
    """Keep fractions that keep whole atoms by decreasing ``score`` until ``s`` are kept.

    The boundary atom is kept in the fraction that fills ``s`` exactly, independently of the
    data (docs/theory.rst §3, the oracle rule); batched over rows.
    """
    order = np.argsort(-score, axis=-1, kind="stable")
    m_sorted = np.take_along_axis(mult, order, axis=-1)
    before = np.cumsum(m_sorted, axis=-1) - m_sorted
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):  # clipped to [0, 1] next
        frac = np.clip((np.asarray(s, dtype=float)[..., None] - before) / m_sorted, 0.0, 1.0)
    frac = np.where(m_sorted > 0, frac, 0.0)
    keep = np.empty_like(frac)
    np.put_along_axis(keep, order, frac, axis=-1)
    return keep


def _count_threshold(mu, sd, w, mult, s):
    r"""Threshold ``t`` with :math:`\sum_a m_a P(|X_a| > t w_a) = s`, batched.

    The count decreases from ``p`` at ``t = 0`` to 0, so ``[0, t_max]`` with ``t_max`` beyond
    every atom's 40-sd range brackets the root; ``d/dt`` is the sum of the two tail densities.
    Many atoms: the root on an evenly strided subsample (with scaled multiplicities) is a
    starting point from which the full solve needs a few Newton steps, not a few dozen.
    """
    t_max = np.max(np.where(mult > 0, (np.abs(mu) + 40.0 * sd) / w, 0.0), axis=-1)
    # The count depends on (t w − μ)/sd only, and the root finder's step tolerance is
    # absolute below 1, so a tiny signal (t ~ 1e-15) would stop at once: a t_max below 1 is
    # solved in units of t_max (at or above 1 the tolerance is already relative to t_max).
    unit = np.where((t_max > 0) & (t_max < 1), t_max, 1.0)
    mu, sd, t_max = mu / unit[:, None], sd / unit[:, None], t_max / unit
    t, converged = _count_threshold_unit(mu, sd, w, mult, s, t_max)
    return t * unit, converged


def _count_threshold_unit(mu, sd, w, mult, s, t_max):
    stride = mult.shape[-1] // _SUBSAMPLE_ATOMS
    if stride > 1:
        sub = np.s_[..., ::stride]
        sub_mult = mult[sub] * (mult.sum(axis=-1) / mult[sub].sum(axis=-1))[:, None]
        x0 = _count_root(mu[sub], sd[sub], w[sub], sub_mult, s, t_max,
                         _noiseless_threshold(mu[sub], w[sub], sub_mult, s)).x
    else:
        x0 = _noiseless_threshold(mu, w, mult, s)
    root = _count_root(mu, sd, w, mult, s, t_max, x0)
    return root.x, root.converged


def _noiseless_threshold(mu, w, mult, s):
    """The threshold that keeps ``s`` if every ``β̂_a`` sat at its mean: a starting point.

    Wide spectra (Hessian weights ``1/√λ`` over a power law) make ``[0, t_max]`` span many
    decades, where bisection from the midpoint takes ~30 steps; from here Newton takes ~6.
    """
    score = np.abs(mu) / w
    keep = fill_by_score(score, mult, s)
    return np.min(np.where(keep > 0, score, np.inf), axis=-1)


# Atoms in the subsample that seeds the threshold solve for large spectra.
_SUBSAMPLE_ATOMS = 20_000


def _count_root(mu, sd, w, mult, s, t_max, x0):
    def count(t):
        z_hi = (t[:, None] * w - mu) / sd
        z_lo = (-t[:, None] * w - mu) / sd
        prob = ndtr(-z_hi) + ndtr(z_lo)
        dens = (normal_pdf(z_hi) + normal_pdf(z_lo)) * w / sd
        return (mult * prob).sum(axis=-1) - s, -(mult * dens).sum(axis=-1)

    return solve_monotone(count, np.zeros_like(t_max), t_max, x0=x0, increasing=False, scale=np.maximum(s, 1.0),
                          ftol=1e-12, xtol=_XTOL)


def kept_problem(lam, beta, mult, keep, kept_energy=None):
    r"""The kept sub-problem of a pruned model: ``(beta_kept, dropped)`` with ``beta_kept`` the
    coefficients of the kept coordinates (``beta``, or :math:`\sqrt{E[\beta^2 \mid
    \text{kept}]}` when the rule reports a kept energy, :class:`Pruned`) and ``dropped`` the
    energy :math:`\sum_a m_a \lambda_a (\beta_a^2 - E[\beta^2 1\{\text{kept}\}])` of the
    dropped ones, per model (docs/theory.rst §4 and §11)."""
    if kept_energy is None:
        return beta, (mult * (1.0 - keep) * lam * beta**2).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        kept = np.where(keep > 0, np.sqrt(np.maximum(kept_energy, 0.0) / np.where(keep > 0, keep, 1.0)), beta)
    return kept, (mult * lam * np.maximum(beta**2 - kept_energy, 0.0)).sum(axis=-1)


def retrain(lam, beta, mult, keep, sigma2_eff, n: float, *, ridge: float = 0.0,
            finite: bool = False, kept_energy=None) -> DenseRisk:
    r"""Fresh retraining on the kept support (docs/theory.rst §4, the paper's Definition 5).

    The retrained model is the dense model of the sub-problem with multiplicities
    :math:`m_a\pi_a` and noise :math:`\sigma_S^2 = \sigma_{eff}^2 + \sum_a m_a(1-\pi_a)\lambda_a\beta_a^2`
    (the dropped features act as noise); min-norm again when :math:`s > n`, and with the same
    ridge as the dense fit. With a ``kept_energy`` (Gaussian coefficients kept by a rule that
    sees them, :func:`kept_problem`) the kept coordinates carry :math:`E[\beta^2 \mid
    \text{kept}]`: the retrained risk is quadratic in β, so its average over β needs only that.
    """
    kept, dropped = kept_problem(lam, beta, mult, keep, kept_energy)
    return dense_risk(lam, kept, mult * keep, sigma2_eff + dropped, n, ridge=ridge, finite=finite)
