r"""The rows as the population: centered features, exact moments, and the column order.

All N rows of a :class:`~dcprune.yourdata.dataset.Dataset` are the population. Features are
centered by their population mean (and, with ``standardize``, divided by their population
standard deviation); the target is centered. The population moments

.. math:: \Sigma = X^\top X/N,\quad q = X^\top y/N,\quad c_0 = y^\top y/N,\quad
          \beta = \Sigma^{+} q,\quad \sigma^2 = c_0 - \beta^\top\Sigma\beta

make the population risk of any model ``b`` on the first ``p`` columns exact, the mean over
all rows of :math:`(y - x^\top b)^2`:

.. math:: R(b) = c_0 - 2 b^\top q_P + b^\top \Sigma_{PP} b .

σ² comes from the rows, never from a default. The columns are ordered by population saliency
:math:`\Sigma_{jj}\beta_j^2` (largest first, ties in file order) or kept in the file's order;
the width-``p`` model uses the first ``p`` (docs/theory.rst §5, §6). The problem handed to the
correlated-covariance theory is :meth:`dcprune.families.covariance.CovarianceProblem.from_moments`
of these moments.

A singular Σ is refused, naming columns whose removal makes it regular (constant columns first,
then the columns a pivoted QR finds dependent on the others).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg

from ..families.covariance import CovarianceProblem
from .dataset import Dataset

__all__ = ["Population", "population", "ORDERS"]

#: Column orders: by population saliency, or the file's.
ORDERS = ("saliency", "file")


@dataclass(frozen=True, eq=False)
class Population:
    """The centered rows ``Z`` (N×d, columns in ``columns`` order) and target ``t``, with
    their moments and the :class:`CovarianceProblem` of the theory."""

    Z: np.ndarray
    t: np.ndarray
    columns: tuple[str, ...]
    order: str
    standardized: bool
    problem: CovarianceProblem

    @property
    def N(self) -> int:
        return self.Z.shape[0]

    @property
    def d(self) -> int:
        return self.Z.shape[1]

    @property
    def Sigma(self) -> np.ndarray:
        return self.problem.Sigma

    @property
    def beta(self) -> np.ndarray:
        return self.problem.beta

    @property
    def sigma2(self) -> float:
        return self.problem.sigma2

    @property
    def q(self) -> np.ndarray:
        return self.Sigma @ self.beta

    @property
    def c0(self) -> float:
        return float(self.t @ self.t) / self.N

    def saliency(self) -> np.ndarray:
        r""":math:`\Sigma_{jj}\beta_j^2` of every column (the oracle's score)."""
        return np.diag(self.Sigma) * self.beta**2

    def risk(self, b) -> np.ndarray:
        """Exact population risk of models ``b`` (``(..., p)``: on the first ``p`` columns)."""
        b = np.asarray(b, dtype=float)
        p = b.shape[-1]
        quad = np.einsum("...i,...i->...", b @ self.Sigma[:p, :p], b)
        return self.c0 - 2.0 * (b @ self.q[:p]) + quad


def _singular_columns(Z, columns, rank) -> list[str]:
    constant = [columns[j] for j in np.flatnonzero(np.ptp(Z, axis=0) == 0)]
    if constant:
        return constant
    _, r, piv = scipy.linalg.qr(Z, mode="economic", pivoting=True)
    return [columns[j] for j in piv[rank:]]


def population(data: Dataset, *, order: str = "saliency", standardize: bool = False) -> Population:
    """The population of ``data`` (module docstring): centered, optionally standardized, ordered.

    >>> from dcprune.yourdata.dataset import from_arrays
    >>> pop = population(from_arrays([[0., 1.], [1., 0.], [2., 2.], [3., 1.]], [0., 1., 2., 4.]))
    >>> pop.columns, round(pop.sigma2, 4)
    (('x0', 'x1'), 0.0625)
    """
    if order not in ORDERS:
        raise ValueError(f"order must be one of {', '.join(ORDERS)}, got {order!r}")
    Z = data.X - data.X.mean(axis=0)
    t = data.y - data.y.mean()
    N = Z.shape[0]
    sd = np.sqrt(np.mean(Z**2, axis=0))
    if standardize:
        zero = sd == 0
        if zero.any():
            names = [data.columns[j] for j in np.flatnonzero(zero)]
            raise ValueError(f"{data.source}: constant columns cannot be standardized: drop {', '.join(names)}")
        Z = Z / sd
    Sigma = Z.T @ Z / N
    base = CovarianceProblem(Sigma, np.zeros(data.d), 0.0)
    if base.rank < data.d:
        drop = _singular_columns(Z, data.columns, base.rank)
        raise ValueError(f"{data.source}: the feature covariance is singular (rank {base.rank} of {data.d} "
                         f"columns): drop {', '.join(drop)} (constant, or a linear combination of the others)")
    problem = CovarianceProblem.from_moments(Sigma, Z.T @ t / N, float(t @ t) / N)
    perm = np.arange(data.d)
    if order == "saliency":
        perm = np.argsort(-(np.diag(problem.Sigma) * problem.beta**2), kind="stable")
        Z = Z[:, perm]
        problem = CovarianceProblem(problem.Sigma[np.ix_(perm, perm)], problem.beta[perm], problem.sigma2)
    columns = tuple(data.columns[j] for j in perm)
    return Population(np.ascontiguousarray(Z), t, columns, order, standardize, problem)
