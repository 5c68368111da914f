"""Correlated features as a problem: any Σ and β, with the sampled DC (docs/theory.rst §6).

A :class:`Correlated` problem is a :class:`~dcprune.families.covariance.CovarianceProblem`
(``Sigma``, ``beta``, ``sigma2``) fitted on ``n`` samples; ``κ = d/n`` follows from Σ. The
model of width ``p/n`` uses the first ``p`` columns (the best predictor restricted to them,
the other features acting as noise), so columns should be ordered by priority. Its theory is
:func:`~dcprune.families.covariance.sweep_covariance`: pruned risks sampled from the DC, with
standard errors. :func:`load_covariance` reads a problem from a ``.npz`` file.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..checks import ParameterError, finite_number, whole_number
from ..npzfile import largest_array, read_npz
from .base import Family, Theory, check_alpha, check_n, check_unlabelled
from .covariance import CovarianceProblem, sweep_covariance

__all__ = ["Correlated", "load_covariance"]


@dataclass(frozen=True)
class Correlated(Family):
    """A correlated problem fitted on ``n`` samples, pruned to ``s = round(α d)`` weights.

    ``source`` names where Σ came from (a file path, or ``"arrays"``); ``seed`` seeds the DC
    sampling (each width derives its own stream from it); ``unlabelled`` is distillation's
    ``M`` (docs/theory.rst §12; ``inf``: the population projection).
    """

    covariance: CovarianceProblem
    alpha: float
    n: int
    ridge: float = 0.0
    seed: int = 0
    source: str = "arrays"
    unlabelled: float = math.inf

    name = "covariance"
    sampled = True

    def __post_init__(self):
        if not isinstance(self.covariance, CovarianceProblem):
            raise ParameterError("covariance", "must be a CovarianceProblem", self.covariance)
        object.__setattr__(self, "alpha", check_alpha(self.alpha))
        object.__setattr__(self, "n", check_n(self.n, required=True, family="a covariance problem"))
        object.__setattr__(self, "ridge", finite_number("ridge", self.ridge, nonnegative=True))
        object.__setattr__(self, "seed", whole_number("seed", self.seed, 0))
        object.__setattr__(self, "unlabelled", check_unlabelled(self.unlabelled, True))

    @classmethod
    def from_arrays(cls, Sigma, beta, sigma2: float, *, alpha: float, n: int, ridge: float = 0.0,
                    seed: int = 0, unlabelled: float = math.inf) -> Correlated:
        """The problem ``x ~ N(0, Σ)``, ``y = xᵀβ + σ z``."""
        return cls(CovarianceProblem(Sigma, beta, sigma2), alpha, n, ridge, seed, unlabelled=unlabelled)

    @classmethod
    def load(cls, path, *, alpha: float, n: int, sigma2: float | None = None, ridge: float = 0.0, seed: int = 0,
             kappa: float | None = None, unlabelled: float = math.inf) -> Correlated:
        """The problem of a ``.npz`` file (:func:`load_covariance`: ``sigma2=None`` takes the
        file's own); ``kappa``, if given, must be ``d/n``."""
        if sigma2 is not None:
            sigma2 = finite_number("sigma2", sigma2, nonnegative=True)
        problem = cls(load_covariance(path, sigma2), alpha, n, ridge, seed, str(path), unlabelled)
        if kappa is not None and round(finite_number("kappa", kappa, positive=True) * problem.n) != problem.d:
            raise ParameterError("kappa", f"must be d/n = {problem.d / problem.n:g}, since {path} has "
                                 f"d={problem.d} features (omit it)", kappa)
        return problem

    @property
    def sigma2(self) -> float:
        return self.covariance.sigma2

    @property
    def kappa(self) -> float:
        return self.covariance.p / self.n

    @property
    def d(self) -> int:
        return self.covariance.p

    @property
    def s(self) -> int:
        return max(1, round(self.alpha * self.covariance.p))

    def theory(self, counts) -> Theory:
        counts = np.asarray(counts).astype(int)
        preds = sweep_covariance(self.covariance, self.n, counts, self.s, ridge=self.ridge, seed=self.seed,
                                 unlabelled=self.unlabelled)
        return Theory.sampled(preds, self.n)

    def header(self) -> dict:
        return {
            **self.sizes(),
            "problem": {"name": "covariance", "file": self.source, "d": self.d, "signal": self.covariance.signal,
                        "seed": self.seed},
        }

    def title(self) -> list[str]:
        return [
            f"# covariance {self.source}: d={self.d}, n={self.n}, s={self.s}, "
            f"signal={self.covariance.signal:.4g}, sigma2={self.sigma2:g}, ridge={self.ridge:g}"
            + (f", unlabelled={self.unlabelled:g}" if math.isfinite(self.unlabelled) else ""),
            f"# DC in the eigenbasis; pruned risks sampled (seed {self.seed}); widths use the first p columns",
        ]

    def monte_carlo(self, counts, *, trials, seed, threads=None, progress=None, quantization=None):
        from ..montecarlo.covariance import covariance_trials  # Numba loads only when simulating

        self.refuse_quantization(quantization)
        return covariance_trials(self.covariance, self.n, counts, self.s, trials=trials, seed=seed,
                                 ridge=self.ridge, threads=threads, progress=progress, unlabelled=self.unlabelled)


# Float64 copies of a d×d Sigma a load and its eigendecomposition hold at once (the file's
# array, the float copy, the symmetrized copy, eigh's vectors and work space).
_SIGMA_COPIES = 5


def _check_npz_size(path: Path) -> None:
    """Refuse before loading a ``.npz`` whose arrays would not fit in memory (read from the
    ``.npy`` headers inside the archive; unreadable archives are left to the loader)."""
    from ..checks import check_memory

    elements = largest_array(path)
    if elements is None:
        return
    check_memory(8 * _SIGMA_COPIES * elements,
                 f"{path} holds an array of {elements:,} numbers (a d×d Sigma needs about "
                 f"{_SIGMA_COPIES}·8·d² bytes to load and diagonalize); use a smaller covariance")


def load_covariance(path, sigma2: float | None = None) -> CovarianceProblem:
    """Read a correlated problem from a ``.npz`` file with arrays ``Sigma`` (d×d) and ``beta`` (d).

    ``sigma2`` is the label noise; ``None`` takes the file's scalar ``sigma2`` array, and a file
    without one is refused (no default noise level fits every dataset: the test risk includes
    σ², so a guess would be a silently wrong answer). The column order is the feature order: a
    model of width ``p`` uses the first ``p`` columns (:meth:`CovarianceProblem.leading`).
    Errors name the file.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"covariance file not found: {path}")
    if path.suffix.lower() != ".npz":
        raise ValueError(f"{path}: a covariance file is a .npz with arrays Sigma and beta "
                         f"(numpy.savez(path, Sigma=..., beta=...))")
    _check_npz_size(path)  # from the headers: a small file may unpack to a huge Sigma
    arrays = read_npz(path, ("Sigma", "beta"), ("sigma2",))
    sigma, beta, stored = arrays["Sigma"], arrays["beta"], arrays.get("sigma2")
    for name, arr in (("Sigma", sigma), ("beta", beta)):
        # Integers and floats only: timedelta64 counts as a NumPy number, and is not one here.
        if arr.dtype.kind not in "iuf":
            raise ValueError(f"{path}: {name} must hold real numbers, got dtype {arr.dtype}")
    if sigma2 is None and stored is not None:
        if stored.shape != () or not np.issubdtype(stored.dtype, np.number):
            raise ValueError(f"{path}: sigma2 must be a scalar number, got shape {stored.shape} "
                             f"of dtype {stored.dtype}")
        sigma2 = float(stored)
    try:
        problem = CovarianceProblem(sigma, beta, 0.0 if sigma2 is None else sigma2)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None
    if sigma2 is None:
        raise ParameterError("sigma2", f"must be given: {path} stores no sigma2 (the label-noise variance, "
                             f"which the test risk includes)", None)
    return problem
