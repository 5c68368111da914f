r"""What a Monte Carlo trial samples, and the exact risk of its models: :class:`Sampler`.

A sampler is the validated description of one problem, built once per run and handed to
:func:`dcprune.montecarlo.kernels.run` (or :func:`~dcprune.montecarlo.kernels.prepare`) for
every batch: how features and labels are drawn (``kind``, ``scale``, ``mixing``,
``label_vec``, ``sigma``) and the second moments :math:`c_0 = E y^2`, :math:`q = E[xy]`,
:math:`\Sigma = E[xx^\top]` that give every model's population risk
:math:`R(b) = c_0 - 2 b^\top q + b^\top\Sigma b` exactly. One constructor per family:

- :meth:`Sampler.diagonal`: :math:`x_j = \sqrt{\lambda_j} z_j`, :math:`y = x^\top\beta +
  \sigma e`, :math:`\Sigma = \mathrm{diag}(\lambda)`;
- :meth:`Sampler.factor`: :math:`x = L z`, :math:`\Sigma = LL^\top`, :math:`y = x^\top\beta +
  \sigma e`;
- :meth:`Sampler.relu`: :math:`x = \max(Wg, 0)`, :math:`y = (\theta^\top g)^2 + \sigma e`, with
  the moments of the equivalent problem supplied by the caller (docs/theory.rst §7).

For the linear problems :math:`c_0 = \sigma^2 + \beta^\top\Sigma\beta` and
:math:`q = \Sigma\beta` are computed here, and :attr:`Sampler.oracle` is the default oracle
score :math:`\Sigma_{ii}\beta_i^2`; ReLU features have no default oracle.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Sampler", "real_array", "KIND_DIAGONAL", "KIND_FACTOR", "KIND_RELU"]

#: ``Sampler.kind``: how :func:`dcprune.montecarlo.kernels.features` draws features and labels.
KIND_DIAGONAL, KIND_FACTOR, KIND_RELU = 0, 1, 2

_E1, _E2 = np.empty(0), np.empty((0, 0))


def real_array(name, a, ndim, length=None) -> np.ndarray:
    """``a`` as a finite, C-contiguous float64 array of ``ndim`` dimensions (and leading
    ``length``); ``ValueError`` naming ``name`` otherwise."""
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


def _noise(sigma) -> float:
    sigma = float(sigma)
    if not (np.isfinite(sigma) and sigma >= 0):
        raise ValueError(f"sigma must be finite and >= 0, got {sigma=}")
    return sigma


@dataclass(frozen=True, eq=False)
class Sampler:
    """A validated sampler (build it with :meth:`diagonal`, :meth:`factor` or :meth:`relu`).

    ``scale`` (d,) for ``KIND_DIAGONAL``, ``mixing`` (d×latent) otherwise; ``label_vec`` is β
    (d,) or θ (latent,); ``cov_diag`` (d,) for a diagonal Σ, else ``cov`` (d×d); unused arrays
    are empty. ``oracle``: the default oracle score, ``None`` when there is none.
    """

    kind: int
    scale: np.ndarray
    mixing: np.ndarray
    label_vec: np.ndarray
    sigma: float
    c0: float
    q: np.ndarray
    cov_diag: np.ndarray
    cov: np.ndarray
    oracle: np.ndarray | None = None

    @property
    def d(self) -> int:
        """The number of features."""
        return self.scale.shape[0] if self.kind == KIND_DIAGONAL else self.mixing.shape[0]

    @classmethod
    def diagonal(cls, lam, beta, sigma=0.0) -> Sampler:
        """Independent features of variances ``lam`` (d,), coefficients ``beta`` (d,)."""
        sigma = _noise(sigma)
        label_vec = real_array("beta", beta, 1)
        cov_diag = real_array("lam", lam, 1, label_vec.shape[0])
        if np.any(cov_diag < 0):
            raise ValueError("lam must be >= 0")
        q = cov_diag * label_vec
        c0 = _finite_c0(sigma**2 + float(label_vec @ q))
        return cls(KIND_DIAGONAL, np.sqrt(cov_diag), _E2, label_vec, sigma, c0, q, cov_diag, _E2,
                   real_array("oracle", cov_diag * label_vec**2, 1))

    @classmethod
    def factor(cls, L, beta, sigma=0.0, Sigma=None) -> Sampler:
        """Features ``x = L z`` (``L`` d×d), coefficients ``beta``; ``Sigma`` may be passed to
        avoid recomputing :math:`LL^\\top` (it must equal it)."""
        sigma = _noise(sigma)
        label_vec = real_array("beta", beta, 1)
        d = label_vec.shape[0]
        mixing = real_array("L", L, 2, d)
        full = mixing @ mixing.T
        if Sigma is None:
            cov = full
        else:
            cov = real_array("Sigma", Sigma, 2, d)
            if cov.shape != full.shape or not np.allclose(cov, full, rtol=1e-10,
                                                          atol=1e-12 * np.abs(full).max()):
                raise ValueError("Sigma must equal L @ L.T")
        if cov.shape != (d, d):
            raise ValueError(f"Sigma must be {d}x{d}, got {cov.shape=}")
        q = cov @ label_vec
        c0 = _finite_c0(sigma**2 + float(label_vec @ q))
        return cls(KIND_FACTOR, _E1, mixing, label_vec, sigma, c0, q, _E1, cov,
                   real_array("oracle", np.diag(cov) * label_vec**2, 1))

    @classmethod
    def relu(cls, W, theta, *, c0, q, Sigma, sigma=0.0) -> Sampler:
        """ReLU random features ``x = max(W g, 0)`` (``W`` d×D), labels ``(θᵀg)² + σe``, with
        the moments ``c0 = E y²`` (σ² included), ``q = E[xy]``, ``Sigma = E[xxᵀ]``.

        ``q`` and ``Sigma`` may be those of more features than ``W`` has rows (a wider draw
        whose first ``d`` rows ``W`` is): risks use only their leading ``d`` entries and block,
        so the nested widths of one draw share its moments without copying them.
        """
        sigma = _noise(sigma)
        mixing = real_array("W", W, 2)
        d = mixing.shape[0]
        label_vec = real_array("theta", theta, 1, mixing.shape[1])
        q = real_array("q", q, 1)
        cov = real_array("Sigma", Sigma, 2)
        if q.shape[0] < d or cov.shape != (q.shape[0], q.shape[0]):
            raise ValueError(f"q must have length m >= {d} and Sigma be m x m, got {q.shape=}, {cov.shape=}")
        return cls(KIND_RELU, _E1, mixing, label_vec, sigma, _finite_c0(float(c0)), q, _E1, cov)


def _finite_c0(c0: float) -> float:
    if not np.isfinite(c0):
        raise ValueError(f"c0 must be finite, got {c0=}")
    return c0
