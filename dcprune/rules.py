r"""Pruning rules: named maps from trained coefficients to the ``s`` of them that are kept.

A rule is one object with two faces, so that every problem family can apply it without
knowing which rule it is (docs/theory.rst §3):

- :meth:`Rule.keep_atoms`, the closed form for diagonal problems: given the DC's per-atom
  Gaussians :math:`\hat\beta_a \sim N(\mu_a, sd_a^2)` (a :class:`dcprune.pruning.AtomLaw`), the probability
  :math:`\pi_a` that a coordinate of atom ``a`` is kept, the loss
  :math:`E[(\hat\beta_a - \beta_a)^2 \mid \text{kept}]` of a kept one and, for Gaussian
  coefficients (docs/theory.rst §11), the kept energy :math:`E[\beta^2 1\{\text{kept}\}]`;
- :meth:`Rule.select`, on sampled coefficients (the sampled DC of correlated features and
  random features): the indices of the ``s`` coefficients each draw keeps.

The rules of the paper: magnitude (largest :math:`|\hat\beta_i|`), Hessian (largest
:math:`\Sigma_{ii}\hat\beta_i^2`), oracle (the ``s`` most salient latent coordinates, a fixed
support) and random (a uniform ``s``-subset). :data:`RULES` lists them in output order; a new
rule is a new :class:`Rule` added there, and every family, output and command picks it up.

>>> from dcprune.rules import RULES
>>> [rule.label for rule in RULES.values()]
['MP', 'HP', 'OP', 'random']
"""

from __future__ import annotations

import numpy as np

from .numerics import kept_moments
from .pruning import AtomLaw, count_threshold, fill_by_score, threshold_keep

__all__ = ["Rule", "ThresholdRule", "OracleRule", "RandomRule", "RULES", "top_s", "top_s_stable"]


# A Gaussian coefficient of variance 0 (β = 0 in the spectrum) is a point mass at 0: its sd is
# floored so the count equation stays defined (its keep probability is then 0 for any u > 0).
_TINY = np.finfo(float).tiny


def top_s(score, s):
    """Indices of the ``s`` largest entries of each row, sorted (ties: arbitrary but fixed)."""
    idx = np.argpartition(-score, s - 1, axis=-1)[:, :s]
    return np.sort(idx, axis=-1)


def top_s_stable(score, s):
    """Indices of the ``s`` largest entries of a 1-D ``score``, sorted, ties to the lower index
    (a fixed support, like the Monte Carlo's oracle)."""
    return np.sort(np.argsort(-np.asarray(score), kind="stable")[:s])


class Rule:
    """A pruning rule: ``name`` (the quantity's key), ``label`` (tables), ``retrainable``."""

    name: str
    label: str
    retrainable: bool = True
    #: Whether the kept support is fixed in advance (the same for every fit, like the oracle's).
    fixed_support: bool = False

    def keep_atoms(self, law: AtomLaw, threshold=None):
        """``(keep, kept_loss, kept_energy, converged)``: per-atom keep fraction, loss of a kept
        coordinate given that it is kept (``None``: the unconditional ``E[(β̂−β)²]``), the kept
        energy ``E[β² 1{kept}]`` per coordinate (``None``: ``keep · β²``, true when the
        coefficient is fixed or the rule does not look at it), per-model flag.
        ``threshold`` is :meth:`threshold`'s answer when the caller already has it."""
        raise NotImplementedError

    def threshold(self, law: AtomLaw):
        """``(t, converged)`` per model for a rule that keeps ``|β̂_a| > t w_a`` of a fixed
        coefficient, else ``None``."""
        return None

    def select(self, draws, diag, oracle_idx, rng):
        """Kept indices ``(k, s)`` of ``k`` coefficient draws ``(k, p)``; ``diag`` is
        :math:`\\Sigma_{ii}`, ``oracle_idx`` the oracle's fixed support, ``rng`` a NumPy
        generator (used by randomized rules only, in :data:`RULES` order)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<rule {self.name}>"


class ThresholdRule(Rule):
    r"""Keep the ``s`` largest scores :math:`|\hat\beta_i| / w_i`: magnitude (``w = 1``) or
    Hessian (:math:`w = 1/\sqrt{\lambda_i}`, i.e. score :math:`\lambda_i\hat\beta_i^2`).

    Closed form: the threshold ``t`` solves :math:`\sum_a m_a P(|\hat\beta_a| > t w_a) = s`
    (:func:`dcprune.pruning.threshold_keep`); a noiseless fit (τ = 0) keeps atoms by score
    with a fractional boundary atom.
    """

    def __init__(self, name: str, label: str, hessian: bool):
        self.name, self.label, self.hessian = name, label, hessian

    def weight(self, lam):
        return 1.0 / np.sqrt(lam) if self.hessian else np.ones_like(lam)

    def _noisy(self, law: AtomLaw):
        """The models pruned with noise, and their Gaussians (at the peak, the limit shape)."""
        noisy = law.prunes & (law.tau > 0)
        mu = np.where(law.peak[:, None], 0.0, law.mu)[noisy]
        sd = np.where(law.peak[:, None], law.sd_unit, law.sd)[noisy]
        return noisy, mu, sd

    def threshold(self, law: AtomLaw):
        """``(t, converged)``: the threshold of the models pruned with noise (in units of the
        limit shape's sd at the peak), NaN for the others (:func:`dcprune.pruning.count_threshold`);
        ``None`` for Gaussian coefficients, whose threshold :meth:`keep_atoms` solves with their targets."""
        if law.gaussian:
            return None
        t = np.full(law.mult.shape[:-1], np.nan)
        converged = np.ones(t.shape, dtype=bool)
        noisy, mu, sd = self._noisy(law)
        if noisy.any():
            w = np.broadcast_to(self.weight(law.lam), law.mult.shape)[noisy]
            t[noisy], converged[noisy] = count_threshold(mu, sd, w, law.mult[noisy], law.s)
        return t, converged

    def keep_atoms(self, law: AtomLaw, threshold=None):
        w = np.broadcast_to(self.weight(law.lam), law.mult.shape)
        keep = np.ones_like(law.mult)
        kept_loss = law.error.copy()
        converged = np.ones(law.mult.shape[:-1], dtype=bool)
        if law.gaussian:
            # β̂ is random even without noise (β is): every pruned row has a threshold.
            energy = law.beta**2 * np.ones_like(law.mult)
            rows = law.prunes
            if rows.any():
                sd = np.where(law.peak[:, None], law.sd_unit, law.sd)[rows]
                targets = (law.b0[rows], law.b1[rows], law.w[rows])
                keep[rows], kept_loss[rows], converged[rows], energy[rows] = threshold_keep(
                    law.mu[rows], np.maximum(sd, _TINY), None, w[rows], law.mult[rows], law.s, targets)
            return keep, kept_loss, energy, converged
        noisy, mu, sd = self._noisy(law)
        if noisy.any():
            t, ok = self.threshold(law) if threshold is None else threshold
            keep[noisy], kept_loss[noisy], converged[noisy] = threshold_keep(
                mu, sd, law.beta[noisy], w[noisy], law.mult[noisy], law.s, threshold=(t[noisy], ok[noisy]))
        exact = law.prunes & (law.tau == 0)
        if exact.any():
            keep[exact] = fill_by_score(np.abs(law.mu[exact]) / w[exact], law.mult[exact], law.s)
        return keep, kept_loss, None, converged

    def select(self, draws, diag, oracle_idx, rng):
        s = oracle_idx.size
        return top_s(diag * draws**2 if self.hessian else np.abs(draws), s)


class OracleRule(Rule):
    """Keep the ``s`` most salient latent coordinates (:math:`\\Sigma_{ii}\\beta_i^2`), whatever the data.

    With fixed coefficients that is a fixed support (the first ``s`` coordinates by saliency).
    With Gaussian coefficients (docs/theory.rst §11) the oracle keeps the ``s`` most salient
    coordinates of the drawn β: a threshold :math:`\\lambda_a\\beta^2 > u^2` on
    :math:`\\beta \\sim N(0, v_a)` with :math:`\\sum_a m_a P(|\\beta| > u/\\sqrt{\\lambda_a}) = s`,
    the same count equation as magnitude pruning's, on β instead of β̂. Given β a kept
    coordinate's loss is :math:`(c_a - 1)^2\\beta^2 + s_a^2` (towards a target ``target · β``:
    :math:`(c_a - \\text{target})^2\\beta^2 + s_a^2`).
    """

    name, label, fixed_support = "oracle", "OP", True

    def keep_atoms(self, law: AtomLaw, threshold=None):
        converged = np.ones(law.mult.shape[:-1], dtype=bool)
        if law.gaussian:
            keep = np.ones_like(law.mult)
            energy = law.beta**2 * np.ones_like(law.mult)
            kept_loss = law.error.copy()
            rows = law.prunes
            if rows.any():
                prior = np.maximum(np.abs(law.beta[rows]) * np.ones_like(law.mult[rows]), _TINY)
                zero = np.zeros_like(prior)
                w = np.broadcast_to(1.0 / np.sqrt(law.lam), law.mult.shape)[rows]
                u, converged[rows] = count_threshold(zero, prior, w, law.mult[rows], law.s)
                prob, kept = kept_moments(zero, prior, zero, u[:, None] * w)
                gap = (law.shrink[rows] - law.target) ** 2
                with np.errstate(invalid="ignore", divide="ignore"):
                    kept_loss[rows] = np.where(prob > 0, gap * kept / np.where(prob > 0, prob, 1.0), 0.0) \
                        + law.noise[rows] ** 2
                keep[rows], energy[rows] = prob, kept
            return keep, kept_loss, energy, converged
        with np.errstate(invalid="ignore", divide="ignore"):
            keep = np.where(law.mult > 0, law.oracle_mult / np.where(law.mult > 0, law.mult, 1.0), 1.0)
        return keep, None, None, converged

    def select(self, draws, diag, oracle_idx, rng):
        return np.broadcast_to(oracle_idx, (draws.shape[0], oracle_idx.size))


class RandomRule(Rule):
    """Keep a uniformly random ``s``-subset (each coordinate with probability ``s/p``)."""

    name, label, retrainable = "random", "random", False

    def keep_atoms(self, law: AtomLaw, threshold=None):
        keep = np.ones_like(law.mult) * np.where(law.prunes, law.s / np.maximum(law.p, 1e-300), 1.0)[:, None]
        return keep, None, None, np.ones(law.mult.shape[:-1], dtype=bool)

    def select(self, draws, diag, oracle_idx, rng):
        return top_s(rng.random(draws.shape), oracle_idx.size)


#: The pruning rules in output order.
RULES: dict[str, Rule] = {
    rule.name: rule
    for rule in (ThresholdRule("magnitude", "MP", hessian=False), ThresholdRule("hessian", "HP", hessian=True),
                 OracleRule(), RandomRule())
}
