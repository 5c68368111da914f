r"""Perfectly correlated features (the paper's Lemma 1, docs/theory.rst §8): exact finite-n risks.

Model. Every feature is a copy of one Gaussian factor: :math:`x_i = \sqrt{c_i}\,g`,
:math:`g \sim N(0,1)`, so :math:`\Sigma = \sqrt c\sqrt c^\top` has rank one; the label is
:math:`y = x^\top\beta + \sigma z = a g + \sigma z` with :math:`a = \sum_i \sqrt{c_i}\beta_i`.
Only ``a`` is identifiable. Let :math:`C = \sum_i c_i`. For a model ``b`` the risk is

.. math:: R(b) = E(y - x^\top b)^2 = \sigma^2 + (a - \sqrt c^\top b)^2 .

Derivation (checked by :func:`simulate_rank_one`, a Monte Carlo of the real min-norm regression).

1. *Dense.* :math:`X = g\sqrt c^\top` (``g`` now the n-vector of factors) has
   :math:`X^+ = \sqrt c\,g^\top / (\|g\|^2 C)`, so :math:`\hat\beta = X^+y = \sqrt c\,\hat a/C`
   with the one-dimensional least-squares coefficient
   :math:`\hat a = g^\top y/\|g\|^2 = a + \sigma g^\top z/\|g\|^2`. Then
   :math:`\sqrt c^\top\hat\beta = \hat a`. Given ``g``, :math:`\hat a - a \sim N(0,
   \sigma^2/\|g\|^2)`, and :math:`\|g\|^2 \sim \chi^2_n` with :math:`E[1/\chi^2_n] = 1/(n-2)`:

   .. math:: v_n := E(\hat a - a)^2 = \sigma^2/(n-2) \quad (n \ge 3;\ \infty \text{ for } n \le 2,\ \sigma > 0),

   so the dense excess risk is :math:`v_n`, for every ``p`` (over- or underparameterized).
2. *Magnitude and Hessian pruning keep the same set.* :math:`|\hat\beta_i| \propto \sqrt{c_i}`
   and the empirical Hessian score :math:`\hat\Sigma_{ii}\hat\beta_i^2 = (\|g\|^2 c_i/n)\,
   c_i\hat a^2/C^2 \propto c_i^2`: both keep the ``s`` largest :math:`c_i` (almost surely,
   whatever the data). With :math:`\rho_S = \sum_{i\in S}c_i/C`, the pruned model has
   :math:`\sqrt c^\top(\hat\beta\odot 1_S) = \rho_S\hat a`, and since
   :math:`E[\hat a - a] = 0`,

   .. math:: E\,R - \sigma^2 = E\big((1-\rho_S)a - \rho_S(\hat a - a)\big)^2
        = (1-\rho_S)^2a^2 + \rho_S^2 v_n .

   Oracle pruning (top ``s`` of :math:`c_i\beta_i^2`) has the same form with its own fixed
   :math:`\rho_{S_o}`. Random pruning: with a uniform ``s``-subset,
   :math:`E\rho = s/p` and :math:`\mathrm{Var}(\sum_S c_i) = \frac{s(p-s)}{p(p-1)}\sum_i(c_i-\bar c)^2`
   (sampling without replacement), and the risk is :math:`E(1-\rho)^2a^2 + E\rho^2\,v_n`.
3. *Retraining.* On a support with :math:`\rho_S > 0`, :math:`X_S = g\sqrt{c_S}^\top` is again
   rank one and min-norm least squares gives :math:`\sqrt{c_S}^\top b_S = \hat a` computed from
   the data used. Same data: the retrained prediction *equals* the dense one in every
   realization. Fresh data: an independent copy. Both have excess :math:`v_n`. (On a support
   with :math:`\rho_S = 0` the kept features carry nothing: excess :math:`a^2`.)
4. *Distillation* (docs/theory.rst §12). The dense model's labels :math:`\hat a\, g` are
   noiseless and rank one, so the student on a support with :math:`\rho_S > 0` reproduces them
   exactly, on any number of unlabelled inputs and in the population projection alike:
   excess :math:`v_n`, as retraining (:math:`a^2` on a support with :math:`\rho_S = 0`).

So docs/theory.rst §8 is right as stated: dense and retraining (same or fresh data)
:math:`\sigma^2/(n-2)`; pruning without retraining :math:`(1-\rho_S)^2a^2 + \rho_S^2\sigma^2/(n-2)`.

Numerics of the Monte Carlo: ``X`` is rank one only up to rounding, so the min-norm fit must cut
singular values at the usual numerical-rank level (``numpy.linalg.lstsq``'s default,
:math:`\varepsilon\max(n,p)\,s_{max}`); without the cut, rounding noise would be amplified by
:math:`10^{16}`. Gradient descent from zero makes the same choice.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..checks import ParameterError, finite_number, whole_number
from ..quantities import DISTILLABLE, MEASURED
from ..results import Estimate, Risks, estimate
from ..rules import top_s, top_s_stable
from .base import Family, ModelRow, Theory, check_unlabelled

__all__ = ["RankOne", "rank_one_risk", "simulate_rank_one", "rank_one_trials", "min_norm"]


@dataclass(frozen=True, eq=False)
class RankOne(Family):
    r"""Features :math:`x_i = \sqrt{c_i} g` and label :math:`y = x^\top\beta + \sigma z`
    (docs/theory.rst §8), fitted by min-norm least squares on ``n`` samples and pruned to ``s``.

    ``c`` (p,) finite, ``>= 0``, not all 0; ``beta`` (p,) finite; ``sigma2 >= 0``. The theory is
    exact (every ``se`` is 0) and covers same-data retraining too; it is the full model's
    (width ``p/n``): a rank-one model has no nested sub-models to sweep. ``unlabelled`` is
    distillation's ``M`` (``inf``: the population projection; the exact risk does not depend on it).
    """

    c: np.ndarray
    beta: np.ndarray
    sigma2: float
    n: int
    s: int
    unlabelled: float = math.inf

    name = "rank-one"
    ridge = 0.0

    def __post_init__(self):
        object.__setattr__(self, "n", whole_number("n", self.n, 1))
        object.__setattr__(self, "s", whole_number("s", self.s, 1))
        object.__setattr__(self, "unlabelled", check_unlabelled(self.unlabelled, True))
        c = np.array(self.c, dtype=float, copy=True).ravel()
        beta = np.array(self.beta, dtype=float, copy=True).ravel()
        if c.size == 0 or not np.all(np.isfinite(c)) or np.any(c < 0) or not np.any(c > 0):
            raise ParameterError("c", "must be a non-empty finite array, >= 0 and not all 0", shown_value=f"{self.c!r}")
        if beta.shape != c.shape or not np.all(np.isfinite(beta)):
            raise ValueError(f"beta must be finite with the shape of c {c.shape}, got beta.shape={beta.shape}")
        object.__setattr__(self, "c", c)
        object.__setattr__(self, "beta", beta)
        object.__setattr__(self, "sigma2", finite_number("sigma2", self.sigma2, nonnegative=True))

    @property
    def p(self) -> int:
        return self.c.size

    @property
    def d(self) -> int:
        return self.c.size

    @property
    def kappa(self) -> float:
        return self.c.size / self.n

    @property
    def alpha(self) -> float:
        return min(self.s, self.p) / self.p

    @property
    def rho(self) -> float:
        r"""The kept share :math:`\rho_S` of magnitude and Hessian pruning."""
        return self.share(self.magnitude_set(min(self.s, self.p)))

    @property
    def rho_oracle(self) -> float:
        """The kept share of oracle pruning."""
        return self.share(self.oracle_set(min(self.s, self.p)))

    def theory(self, counts) -> Theory:
        if np.any(np.asarray(counts) != self.p):
            raise ParameterError("width", f"must be the full width p/n = {self.kappa:g} for a rank-one problem "
                                 f"(it has no nested sub-models)", shown_value=f"{np.max(counts) / self.n:g}")
        risk = rank_one_risk(self)
        gamma = risk.dense.mean
        row = ModelRow(width=self.kappa, p=self.p, zeta=0.0, gamma=gamma, converged=True, residual=0.0, risk=risk)
        return Theory((row,), None, ())

    def monte_carlo(self, counts, *, trials, seed, threads=None, progress=None, quantization=None):
        """:func:`rank_one_trials` (NumPy: the rank-one fits need SVD's rank cut, not the kernels)."""
        from ..montecarlo.simulate import Trials

        self.refuse_quantization(quantization)
        self.theory(counts)  # the same width check
        out = rank_one_trials(self, trials=trials, seed=seed)
        if progress is not None:
            progress(trials)
        values = np.stack([out[name] for name in MEASURED], axis=-1)[:, None, :]
        return Trials(values, np.zeros((trials, 1), np.int8))

    def header(self) -> dict:
        return {**self.sizes(), "problem": {"name": self.name, "features": self.p, "a": self.a}}

    def title(self) -> list[str]:
        return [f"# rank-one: p={self.p}, n={self.n}, s={self.s}, a={self.a:.4g}, sigma2={self.sigma2:g}",
                "# exact finite-n risks (docs/theory.rst §8)"]

    @property
    def a(self) -> float:
        """The label's coefficient on the factor, :math:`a = \\sum_i\\sqrt{c_i}\\beta_i`."""
        return float(np.sqrt(self.c) @ self.beta)

    @property
    def Sigma(self) -> np.ndarray:
        root = np.sqrt(self.c)
        return np.outer(root, root)

    def magnitude_set(self, s: int) -> np.ndarray:
        """The set MP and HP keep: the ``s`` largest ``c_i`` (ties to the lower index)."""
        return top_s_stable(self.c, s)

    def oracle_set(self, s: int) -> np.ndarray:
        """The oracle's set: the ``s`` largest ``c_i β_i²`` (ties to the lower index)."""
        return top_s_stable(self.c * self.beta**2, s)

    def share(self, support) -> float:
        """:math:`\\rho_S = \\sum_{i\\in S} c_i / \\sum_i c_i`, the kept share of the prediction."""
        return float(self.c[np.asarray(support, dtype=int)].sum() / self.c.sum())


def _variance(sigma2: float, n: int) -> float:
    """:math:`E(\\hat a - a)^2 = \\sigma^2 E[1/\\chi^2_n] = \\sigma^2/(n-2)`; infinite for n <= 2."""
    if sigma2 == 0:
        return 0.0
    return sigma2 / (n - 2) if n > 2 else math.inf


def rank_one_risk(problem: RankOne) -> Risks:
    r"""Exact finite-``n`` expected risks of dense, pruned and retrained models (docs/theory.rst §8).

    With :math:`v_n = \sigma^2/(n-2)`: dense and every retrained or distilled model (same or
    fresh data) :math:`\sigma^2 + v_n`; pruning to the set ``S`` without retraining
    :math:`\sigma^2 + (1-\rho_S)^2a^2 + \rho_S^2 v_n` (derivation in the module docstring).

    >>> r = rank_one_risk(RankOne(c=[4.0, 1.0], beta=[0.5, 0.5], sigma2=0.1, n=12, s=1))
    >>> round(r.dense.mean, 6), round(r.magnitude.mean, 6)
    (0.11, 0.1964)
    """
    if not isinstance(problem, RankOne):
        raise ParameterError("problem", "must be a RankOne problem", problem)
    n, s = problem.n, problem.s
    sigma2, a, p = problem.sigma2, problem.a, problem.p
    v = _variance(sigma2, n)
    s = min(s, p)

    def pruned(rho):
        # (1−ρ)²a² + ρ²v, with ρ²·∞ = ∞ only when something noisy is kept.
        return sigma2 + (1 - rho) ** 2 * a * a + (rho * rho * v if rho > 0 else 0.0)

    def retrained(rho):
        return sigma2 + (v if rho > 0 else a * a)

    rho = problem.share(problem.magnitude_set(s))
    rho_o = problem.share(problem.oracle_set(s))
    c = problem.c
    mean_rho = s / p
    if p > 1:
        var_sum = s * (p - s) / (p * (p - 1)) * float(np.sum((c - c.mean()) ** 2))
    else:
        var_sum = 0.0
    second = mean_rho**2 + var_sum / c.sum() ** 2  # E ρ² of a uniform s-subset
    random = sigma2 + (1 - 2 * mean_rho + second) * a * a + (second * v if second > 0 else 0.0)
    dense = sigma2 + v
    values = dict(
        dense=dense,
        magnitude=pruned(rho),
        hessian=pruned(rho),
        oracle=pruned(rho_o),
        random=float(random),
        magnitude_retrain=retrained(rho),
        hessian_retrain=retrained(rho),
        oracle_retrain=retrained(rho_o),
        magnitude_retrain_same=retrained(rho),
        hessian_retrain_same=retrained(rho),
        oracle_retrain_same=retrained(rho_o),
        magnitude_distill=retrained(rho),
        oracle_distill=retrained(rho_o),
    )
    return Risks({name: Estimate(float(values[name])) for name in MEASURED})


def min_norm(X, y):
    """Batched min-norm least squares ``X⁺ y`` with ``lstsq``'s rank cut (ε·max(n, p)·s_max)."""
    rcond = np.finfo(float).eps * max(X.shape[-2:])
    return np.einsum("tpn,tn->tp", np.linalg.pinv(X, rcond=rcond), y)


def simulate_rank_one(problem: RankOne, *, trials: int = 20000, seed: int = 0) -> Risks:
    """The mean and standard error of every quantity over :func:`rank_one_trials`."""
    return Risks({name: estimate(v) for name, v in rank_one_trials(problem, trials=trials, seed=seed).items()})


def rank_one_trials(problem: RankOne, *, trials: int = 20000, seed: int = 0) -> dict:
    r"""Monte Carlo of the real min-norm regressions of docs/theory.rst §8: per-trial risks of
    every quantity of :data:`~dcprune.quantities.MEASURED` (arrays of length ``trials``).

    Each trial draws training and fresh samples :math:`(g, z)`, :math:`(g', z')`, fits
    :math:`\hat\beta = X^+y` (SVD with ``lstsq``'s rank cut), prunes it to ``s`` nonzeros by
    magnitude, empirical Hessian :math:`(X^\top X)_{ii}\hat\beta_i^2/n`, oracle
    (:math:`c_i\beta_i^2`) and a uniform random subset, retrains MP/HP/oracle by min-norm on the
    kept columns with fresh and with the same data, distills MP/oracle into their kept columns
    (min-norm on the dense model's labels at ``problem.unlabelled`` further inputs, or the
    population projection :math:`\Sigma_{SS}^+\Sigma_{S\cdot}\hat\beta`), and evaluates every
    model exactly, :math:`R(b) = \sigma^2 + (a - \sqrt c^\top b)^2`. Seeded by
    ``numpy.random.default_rng(seed)``; the unlabelled inputs from a stream of their own
    (``SeedSequence([seed, 1])``), so that ``unlabelled`` changes no other number.
    """
    n, s = problem.n, min(problem.s, problem.p)
    trials = whole_number("trials", trials, 2)
    seed = whole_number("seed", seed, 0)
    rng = np.random.default_rng(seed)
    rng_unlabelled = np.random.default_rng(np.random.SeedSequence([seed, 1]))
    root = np.sqrt(problem.c)
    a, sigma = problem.a, math.sqrt(problem.sigma2)
    out = {name: np.empty(trials) for name in MEASURED}
    step = 4096
    for start in range(0, trials, step):
        t = min(step, trials - start)
        sl = slice(start, start + t)
        g, z, g2, z2 = (rng.standard_normal((t, n)) for _ in range(4))
        X, X2 = g[:, :, None] * root, g2[:, :, None] * root
        y, y2 = a * g + sigma * z, a * g2 + sigma * z2

        def risk(b):
            return problem.sigma2 + (a - b @ root) ** 2

        beta_hat = min_norm(X, y)
        out["dense"][sl] = risk(beta_hat)
        hdiag = np.einsum("tnp,tnp->tp", X, X) / n
        sets = {
            "magnitude": top_s(np.abs(beta_hat), s),
            "hessian": top_s(hdiag * beta_hat**2, s),
            "oracle": np.broadcast_to(problem.oracle_set(s), (t, s)),
            "random": top_s(rng.random((t, problem.p)), s),
        }
        for rule, idx in sets.items():
            kept = np.zeros_like(beta_hat)
            np.put_along_axis(kept, idx, np.take_along_axis(beta_hat, idx, axis=1), axis=1)
            out[rule][sl] = risk(kept)
            if rule == "random":
                continue
            for suffix, (XX, yy) in (("", (X2, y2)), ("_same", (X, y))):
                cols = np.take_along_axis(XX, np.broadcast_to(idx[:, None, :], (t, n, s)), axis=2)
                b_s = min_norm(cols, yy)
                b = np.zeros_like(beta_hat)
                np.put_along_axis(b, idx, b_s, axis=1)
                out[f"{rule}_retrain{suffix}"][sl] = risk(b)
        X3 = None if math.isinf(problem.unlabelled) else \
            rng_unlabelled.standard_normal((t, int(problem.unlabelled)))[:, :, None] * root
        for rule in DISTILLABLE:
            idx = sets[rule]
            if X3 is None:  # the population projection Σ_SS⁺ Σ_S· β̂ (rank cut as in min_norm)
                sub = problem.Sigma[idx[:, :, None], idx[:, None, :]]
                rhs = np.einsum("tij,tj->ti", problem.Sigma[idx], beta_hat)
                b_s = np.einsum("tij,tj->ti", np.linalg.pinv(sub, rcond=np.finfo(float).eps * s), rhs)
            else:
                m = X3.shape[1]
                cols = np.take_along_axis(X3, np.broadcast_to(idx[:, None, :], (t, m, s)), axis=2)
                b_s = min_norm(cols, np.einsum("tmp,tp->tm", X3, beta_hat))
            b = np.zeros_like(beta_hat)
            np.put_along_axis(b, idx, b_s, axis=1)
            out[f"{rule}_distill"][sl] = risk(b)
    return out
