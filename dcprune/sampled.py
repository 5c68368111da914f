"""Command-line problems whose theory samples the DC: random features and a covariance file.

Both are finite problems with a fixed feature order (THEORY.md §6–7): a model of width ``W``
uses the first ``round(W·n)`` features, the rest acting as noise; pruned risks come with the
standard error of the DC sampling. :class:`RandomFeaturesSetup` and :class:`CovarianceSetup`
share one interface, so the CLI prints both the same way:

- ``count(width)``: feature counts of widths ``p/n``; ``s``: kept nonzeros; ``n``;
- ``theory(counts, seed)``: predictions with ``p, n, zeta, gamma, risk[name] = (mean, se)``,
  ``warnings``;
- ``simulate(counts, trials, seed, threads, progress)``: a Monte Carlo run (``rows``,
  ``warnings``, ``to_dict(single)``);
- ``header(seed)`` (the JSON head) and ``title(seed)`` (comment lines of tables).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .checks import check_memory, finite_number, shown, whole_number
from .covariance import CovarianceProblem, load_covariance, sweep_covariance

__all__ = ["RF_PROBLEM", "RandomFeaturesSetup", "CovarianceSetup"]

RF_PROBLEM = "relu-features"


class _Counts:
    """Width → feature count, for a problem of ``p_max`` features fitted on ``n`` samples."""

    kappa: float
    n: int
    p_max: int

    def count(self, width) -> np.ndarray:
        width = np.atleast_1d(np.asarray(width, dtype=float))
        if np.any(~np.isfinite(width)):
            raise ValueError(f"width must be finite, got width={shown(width[~np.isfinite(width)][0])}")
        if np.any(width <= 0) or np.any(width > self.kappa * (1 + 1e-12)):
            bad = width[~np.isfinite(width) | (width <= 0) | (width > self.kappa * (1 + 1e-12))][0]
            raise ValueError(f"width must be in (0, kappa={self.kappa:g}], got width={bad:g}")
        return np.unique(np.clip(np.round(width * self.n), 1, self.p_max)).astype(int)


@dataclass(frozen=True)
class RandomFeaturesSetup(_Counts):
    """ReLU random features (THEORY.md §7): ``p_max = round(κ n)`` features at full width,
    ``s = round(α p_max)`` kept; the theory averages ``draws`` feature matrices W."""

    kappa: float
    alpha: float
    n: int
    input_dim: int
    activation: str
    draws: int
    sigma2: float
    ridge: float

    def __post_init__(self):
        whole_number("input_dim", self.input_dim, 1)
        whole_number("draws", self.draws, 1)

    @property
    def p_max(self) -> int:
        return max(1, round(self.kappa * self.n))

    @property
    def s(self) -> int:
        return max(1, round(self.alpha * self.p_max))

    def theory(self, counts, seed: int):
        from .randomfeatures import sweep_random_features

        # The feature Gram matrix and its eigenvectors (p²), the DC draws (2000 × p), W (p × D).
        p = int(np.max(counts))
        check_memory(8.0 * (4 * p * p + 2 * 2000 * p + p * self.input_dim),
                     "reduce --n or --kappa (the random-feature theory stores p × p matrices)")

        return sweep_random_features(self.input_dim, self.n, counts, self.s, self.activation, draws=self.draws,
                                     seed=seed, ridge=self.ridge, label_noise=self.sigma2).rows

    def simulate(self, counts, trials: int, seed: int, threads=None, progress=None):
        from .montecarlo.randomfeatures import simulate_random_features

        return simulate_random_features(self.input_dim, self.n, counts, self.s, activation=self.activation,
                                        draws=self.draws, trials=trials, seed=seed, label_noise=self.sigma2,
                                        ridge=self.ridge, threads=threads, progress=progress)

    def header(self, seed: int) -> dict:
        return {
            "kappa": self.kappa, "alpha": self.alpha, "n": self.n, "sigma2": self.sigma2, "ridge": self.ridge,
            "problem": {"name": RF_PROBLEM, "input_dim": self.input_dim, "activation": self.activation,
                        "draws": self.draws, "seed": seed, "features": self.p_max},
        }

    def title(self, seed: int) -> list[str]:
        return [
            f"# relu-features: input dim {self.input_dim}, {self.activation}, n={self.n}, "
            f"features={self.p_max}, s={self.s}, sigma2={self.sigma2:g}, ridge={self.ridge:g}",
            f"# theory of the equivalent linear problem, averaged over {self.draws} draws of W (seed {seed})",
        ]


@dataclass(frozen=True)
class CovarianceSetup(_Counts):
    """A correlated problem read from a ``.npz`` (THEORY.md §6): ``d`` features in file order,
    ``n`` samples (``κ = d/n``), ``s = round(α d)`` kept."""

    problem: CovarianceProblem
    path: str
    alpha: float
    n: int
    sigma2: float
    ridge: float

    @classmethod
    def load(cls, path, *, kappa, alpha, n, sigma2, ridge) -> "CovarianceSetup":
        if n is None:
            raise ValueError("--covariance needs --n (the covariance theory is at finite size)")
        n = whole_number("n", n, 2)
        alpha = finite_number("alpha", alpha)
        if not 0 < alpha <= 1:
            raise ValueError(f"alpha must be in (0, 1], got alpha={alpha!r}")
        sigma2 = finite_number("sigma2", sigma2, nonnegative=True)
        ridge = finite_number("ridge", ridge, nonnegative=True)
        problem = load_covariance(path, sigma2)
        if kappa is not None and round(finite_number("kappa", kappa, positive=True) * n) != problem.p:
            raise ValueError(f"{path} has d={problem.p} features, so kappa*n must be {problem.p}; got "
                             f"kappa={kappa:g}, n={n} (omit --kappa: it is d/n = {problem.p / n:g})")
        return cls(problem, str(path), alpha, n, sigma2, ridge)

    @property
    def kappa(self) -> float:
        return self.problem.p / self.n

    @property
    def p_max(self) -> int:
        return self.problem.p

    @property
    def s(self) -> int:
        return max(1, round(self.alpha * self.problem.p))

    def theory(self, counts, seed: int):
        return sweep_covariance(self.problem, self.n, counts, self.s, ridge=self.ridge, seed=seed)

    def simulate(self, counts, trials: int, seed: int, threads=None, progress=None):
        from .montecarlo.covariance import simulate_covariance

        return simulate_covariance(self.problem, self.n, counts, self.s, trials=trials, seed=seed,
                                   ridge=self.ridge, threads=threads, progress=progress)

    def header(self, seed: int) -> dict:
        return {
            "kappa": self.kappa, "alpha": self.alpha, "n": self.n, "sigma2": self.sigma2, "ridge": self.ridge,
            "problem": {"name": "covariance", "file": self.path, "d": self.problem.p,
                        "signal": self.problem.signal, "seed": seed},
        }

    def title(self, seed: int) -> list[str]:
        return [
            f"# covariance {self.path}: d={self.problem.p}, n={self.n}, s={self.s}, signal={self.problem.signal:.4g}, "
            f"sigma2={self.sigma2:g}, ridge={self.ridge:g}",
            f"# DC in the eigenbasis; pruned risks sampled (seed {seed}); widths use the first p columns",
        ]
