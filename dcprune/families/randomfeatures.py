r"""Random features: the equivalent linear Gaussian problem and its predictions (docs/theory.rst §7).

Setup (the paper's Definition 2): input :math:`x \sim N(0, I_D)`, a random unit vector
:math:`\theta`, label :math:`y = (\theta^\top x)^2 + \sigma_e e` (``label_noise`` = σ_e²,
default 0), features :math:`\varphi(x) = f(Wx)` for a fixed random :math:`W \in
\mathbb{R}^{p\times D}` with unit-norm rows. The equivalent LGP has the same (un-centred)
second moments:

.. math::
    \Sigma = E[\varphi\varphi^\top],\quad q = E[\varphi y],\quad c_0 = E[y^2] = 3 + \sigma_e^2,
    \quad \beta = \Sigma^{+} q,\quad \sigma^2 = c_0 - \beta^\top\Sigma\beta,

and :mod:`dcprune.covariance` predicts its pruning and retraining (docs/theory.rst §6).

The feature moments Σ and q are computed by :mod:`dcprune.families.activations`.

Seeding. ``numpy.random.default_rng(seed)`` draws θ first and then W row by row, so the first
``p`` rows of the ``P``-feature W are the ``p``-feature W: widths nest (:func:`sweep_random_features`).
Averages over ``draws`` feature matrices use ``seed=(seed, k)`` for draw ``k``; pass the same
to :func:`equivalent_problem` to rebuild that draw's ``W`` and ``θ`` (e.g. for Monte Carlo).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..checks import ParameterError, check_memory, finite_number, shown, whole_number
from ..quantities import PREDICTED
from ..results import Estimate, Risks, estimate
from .activations import ACTIVATIONS, activation_function, draw_features, feature_moments
from .base import Family, Theory, check_alpha, check_n, check_unlabelled
from .covariance import CovariancePrediction, CovarianceProblem, predict_covariance

__all__ = [
    "RandomFeaturesProblem",
    "RandomFeaturesPrediction",
    "RandomFeaturesSweep",
    "equivalent_problem",
    "predict_random_features",
    "sweep_random_features",
    "RandomFeatures",
    "RF_PROBLEM",
]

@dataclass(frozen=True, eq=False)
class RandomFeaturesProblem:
    """A random-feature regression and its equivalent LGP (docs/theory.rst §7).

    ``W`` (p×D), ``theta`` (D,), ``activation``; the moments ``c0 = E[y²]`` and ``q = E[φy]``
    (what the Monte Carlo's exact risk :math:`c_0 - 2b^\\top q + b^\\top\\Sigma b` needs), and
    ``problem``, the equivalent :class:`~dcprune.families.covariance.CovarianceProblem` with
    :math:`\\Sigma`, :math:`\\beta = \\Sigma^+ q`, :math:`\\sigma^2 = c_0 - \\beta^\\top\\Sigma\\beta`.
    """

    input_dim: int
    activation: object
    seed: object
    label_noise: float
    W: np.ndarray = field(repr=False)
    theta: np.ndarray = field(repr=False)
    c0: float
    q: np.ndarray = field(repr=False)
    problem: CovarianceProblem = field(repr=False)

    @property
    def Sigma(self) -> np.ndarray:
        return self.problem.Sigma

    @property
    def oracle_score(self) -> np.ndarray:
        """The oracle's saliencies :math:`\\Sigma_{ii}\\beta_i^2` of the equivalent LGP."""
        return np.diag(self.problem.Sigma) * self.problem.beta**2


def _equivalent(sigma, q, c0):
    return CovarianceProblem.from_moments(sigma, q, c0)


def equivalent_problem(input_dim: int, width_count: int, activation="relu", seed=0, *,
                       label_noise: float = 0.0) -> RandomFeaturesProblem:
    r"""The equivalent LGP of ``width_count`` random features of ``input_dim`` inputs (docs/theory.rst §7).

    ``W, θ = draw_features(input_dim, width_count, seed)``; ``activation`` is a name of
    :data:`ACTIVATIONS` (ReLU uses the closed forms) or a vectorized callable that is smooth
    except possibly at 0. ``label_noise`` adds :math:`\sigma_e^2` to the label,
    :math:`c_0 = 3 + \sigma_e^2`. β solves :math:`\Sigma\beta = q` in the least-norm sense
    (numerically zero eigenvalues of Σ dropped; ReLU features' Σ is full rank generically, but
    for ``p`` far above the input dimension it is numerically singular).
    """
    if not (isinstance(label_noise, (int, float)) and math.isfinite(label_noise) and label_noise >= 0):
        raise ParameterError("label_noise", "must be finite and >= 0", shown_value=f"{shown(label_noise)}")
    activation_function(activation)
    w, theta = draw_features(input_dim, width_count, seed)
    sigma, q = feature_moments(w, theta, activation)
    c0 = 3.0 + float(label_noise)
    return RandomFeaturesProblem(int(input_dim), activation, seed, float(label_noise), w, theta, c0, q,
                                 _equivalent(sigma, q, c0))


@dataclass(frozen=True)
class RandomFeaturesPrediction:
    """Risks averaged over ``draws`` feature matrices W (the paper's theory lines).

    ``risk[name]`` is an :class:`~dcprune.results.Estimate`: the mean over draws of each draw's
    estimate, and its standard error from the spread across draws (which includes each draw's sampling error); with one
    draw, that draw's own sampling error. ``per_draw`` keeps each draw's
    :class:`~dcprune.families.covariance.CovariancePrediction`.
    """

    input_dim: int
    n: int
    p: int
    s: int
    activation: object
    draws: int
    seed: int
    zeta: float
    gamma: float
    risk: Risks
    per_draw: tuple[CovariancePrediction, ...] = field(repr=False)
    warnings: tuple[str, ...] = ()

    @property
    def converged(self) -> bool:
        """Whether every draw's DC solve converged."""
        return all(pr.converged for pr in self.per_draw)


def _average(preds: list[CovariancePrediction]) -> Risks:
    out = {}
    for name in PREDICTED:
        means = np.array([pr.risk[name].mean for pr in preds])
        if np.any(np.isnan(means)):  # not predicted (same-data retraining)
            out[name] = Estimate(math.nan, math.nan)
        elif not np.all(np.isfinite(means)):
            out[name] = Estimate(math.inf)
        elif len(preds) == 1:
            out[name] = preds[0].risk[name]
        else:  # the spread across draws includes each draw's sampling error
            out[name] = estimate(means)
    return Risks(out)


def _sample_seed(seed, draw, width):
    # An integer seed for the DC sampling of one (draw, width), independent of the W stream.
    return int(np.random.SeedSequence([seed, draw, width, 1]).generate_state(1, np.uint32)[0])


def _summarize(input_dim, n, p, s, activation, draws, seed, preds):
    warnings = tuple(dict.fromkeys(w for pr in preds for w in pr.warnings))
    gamma = np.array([pr.gamma for pr in preds])
    return RandomFeaturesPrediction(
        input_dim, n, p, s, activation, draws, seed,
        float(np.mean([pr.zeta for pr in preds])),
        float(gamma.mean()) if np.all(np.isfinite(gamma)) else math.inf,
        _average(preds), tuple(preds), warnings,
    )


# Each draw is a p × p eigendecomposition and a sampled DC (about a second at p = 1000):
# beyond this many the average is exact to far below its sampling error, and the run hours.
MAX_DRAWS = 1000


def check_draws(draws) -> int:
    draws = whole_number("draws", draws, 1)
    if draws > MAX_DRAWS:
        raise ParameterError("draws", f"must be at most {MAX_DRAWS} (each draw is a p × p eigendecomposition; "
                             f"{draws:,} would run for hours)", draws)
    return draws


def predict_random_features(input_dim: int, n: int, p: int, s: int, activation="relu", draws: int = 5,
                            seed: int = 0, *, finite: bool = True, ridge: float = 0.0,
                            label_noise: float = 0.0, samples: int = 2000,
                            retrain_samples: int = 32, unlabelled: float = math.inf) -> RandomFeaturesPrediction:
    r"""Predicted risks of ``p`` random features fitted on ``n`` samples, pruned to ``s`` (§6–7).

    Draw ``k`` of ``draws`` uses ``W, θ`` from ``seed=(seed, k)``; each is solved by
    :func:`dcprune.families.covariance.predict_covariance` (``samples`` DC draws, ``retrain_samples``
    supports for retraining) and the risks are averaged over draws. ``finite`` defaults to
    True: a random-feature problem is defined at concrete sizes, and the finite-``n`` form
    (docs/theory.rst §2) is the one to compare with Monte Carlo.

    Unit-norm rows give every feature the same :math:`\Sigma_{ii} = E f(g)^2`, so the
    predicted Hessian pruning equals magnitude pruning here (the Monte Carlo's empirical
    :math:`\hat\Sigma_{ii}` differ slightly). With the reference label :math:`(\theta^\top x)^2`,
    odd activations (tanh, erf) have :math:`q = 0`: nothing is learnable and :math:`\beta = 0`.
    """
    n = whole_number("n", n, 2)
    p = whole_number("p", p, 1)
    draws = check_draws(draws)
    seed = whole_number("seed", seed, 0)
    preds = []
    for k in range(draws):
        rf = equivalent_problem(input_dim, p, activation, seed=(seed, k), label_noise=label_noise)
        preds.append(predict_covariance(rf.problem, n, s, ridge=ridge, finite=finite, samples=samples,
                                        retrain_samples=retrain_samples, seed=_sample_seed(seed, k, p),
                                        unlabelled=unlabelled))
    return _summarize(int(input_dim), n, p, int(s), activation, draws, seed, preds)


@dataclass(frozen=True)
class RandomFeaturesSweep:
    """A width sweep of random features: one :class:`RandomFeaturesPrediction` per width."""

    widths: np.ndarray
    rows: tuple[RandomFeaturesPrediction, ...]

    def mean(self, name: str) -> np.ndarray:
        """Mean risk ``name`` across widths."""
        return np.array([row.risk[name].mean for row in self.rows])

    def se(self, name: str) -> np.ndarray:
        """Its standard error across widths."""
        return np.array([row.risk[name].se for row in self.rows])


def sweep_random_features(input_dim: int, n: int, widths, s: int, activation="relu", draws: int = 5,
                          seed: int = 0, *, finite: bool = True, ridge: float = 0.0,
                          label_noise: float = 0.0, samples: int = 2000,
                          retrain_samples: int = 32, unlabelled: float = math.inf) -> RandomFeaturesSweep:
    """:func:`predict_random_features` over ``widths``, with nested features.

    Each draw builds one ``W`` with ``max(widths)`` rows; the width-``p`` model uses its first
    ``p`` rows, so its moments are the leading blocks of one Gram matrix (computed once), as
    in a Monte Carlo sweep over nested models. Width ``p`` of draw ``k`` equals
    ``predict_random_features(..., p, ...)`` of the same seed exactly.
    """
    n = whole_number("n", n, 2)
    widths = np.asarray(widths)
    if widths.ndim != 1 or widths.size == 0:
        raise ParameterError("widths", "must be a non-empty 1-D array of counts", shown_value=f"{widths!r}")
    widths = np.array([whole_number("width", w, 1) for w in widths])
    if np.any(np.diff(widths) <= 0):
        raise ParameterError("widths", "must be strictly increasing", shown_value=f"{widths.tolist()}")
    draws = check_draws(draws)
    seed = whole_number("seed", seed, 0)
    if not (isinstance(label_noise, (int, float)) and math.isfinite(label_noise) and label_noise >= 0):
        raise ParameterError("label_noise", "must be finite and >= 0", shown_value=f"{shown(label_noise)}")
    c0 = 3.0 + float(label_noise)
    per_width = [[] for _ in widths]
    for k in range(draws):
        w, theta = draw_features(input_dim, int(widths[-1]), (seed, k))
        sigma, q = feature_moments(w, theta, activation)
        for j, p in enumerate(widths):
            problem = _equivalent(sigma[:p, :p], q[:p], c0)
            per_width[j].append(predict_covariance(problem, n, s, ridge=ridge, finite=finite, samples=samples,
                                                   retrain_samples=retrain_samples,
                                                   seed=_sample_seed(seed, k, int(p)), unlabelled=unlabelled))
    rows = tuple(_summarize(int(input_dim), n, int(p), int(s), activation, draws, seed, preds)
                 for p, preds in zip(widths, per_width))
    return RandomFeaturesSweep(widths, rows)


#: The command-line name of the random-feature family (``relu-features`` is its old alias).
RF_PROBLEM = "random-features"


@dataclass(frozen=True)
class RandomFeatures(Family):
    """Random-feature regression (docs/theory.rst §7) as a problem: features ``φ(Wx)`` of
    ``x ~ N(0, I_D)`` with unit-norm rows of ``W``, label ``(θᵀx)² + noise``.

    ``kappa`` is features over samples at full width (``d = round(κ n)`` features), ``alpha``
    the kept fraction of them (``s = round(α d)``), ``sigma2`` the label noise; the theory is
    that of the equivalent linear problem, averaged over ``draws`` feature matrices ``W``
    drawn from ``seed`` (which also seeds the DC sampling); ``unlabelled`` is distillation's
    ``M`` (docs/theory.rst §12; ``inf``: the population projection; its theory is the Gaussian
    equivalent's).
    """

    kappa: float
    alpha: float
    n: int
    input_dim: int
    activation: str = "relu"
    draws: int = 10
    sigma2: float = 0.0
    ridge: float = 0.0
    seed: int = 0
    unlabelled: float = math.inf

    name = RF_PROBLEM
    sampled = True
    linear = False

    def __post_init__(self):
        object.__setattr__(self, "kappa", finite_number("kappa", self.kappa, positive=True))
        object.__setattr__(self, "alpha", check_alpha(self.alpha))
        object.__setattr__(self, "n", check_n(self.n, required=True, family=RF_PROBLEM))
        object.__setattr__(self, "input_dim", whole_number("input_dim", self.input_dim, 1))
        object.__setattr__(self, "draws", check_draws(self.draws))
        object.__setattr__(self, "seed", whole_number("seed", self.seed, 0))
        object.__setattr__(self, "sigma2", finite_number("sigma2", self.sigma2, nonnegative=True))
        object.__setattr__(self, "ridge", finite_number("ridge", self.ridge, nonnegative=True))
        object.__setattr__(self, "unlabelled", check_unlabelled(self.unlabelled, True))
        if self.activation not in ACTIVATIONS:
            raise ParameterError("activation", f"must be one of {sorted(ACTIVATIONS)}", self.activation)

    @property
    def d(self) -> int:
        return max(1, round(self.kappa * self.n))

    @property
    def s(self) -> int:
        return max(1, round(self.alpha * self.d))

    def theory(self, counts) -> Theory:
        counts = np.asarray(counts).astype(int)
        # The feature Gram matrix and its eigenvectors (p²), the DC draws (2000 × p), W (p × D).
        p = int(np.max(counts))
        check_memory(8.0 * (4 * p * p + 2 * 2000 * p + p * self.input_dim),
                     "reduce --n or --kappa (the random-feature theory stores p × p matrices)")
        preds = sweep_random_features(self.input_dim, self.n, counts, self.s, self.activation, draws=self.draws,
                                      seed=self.seed, ridge=self.ridge, label_noise=self.sigma2,
                                      unlabelled=self.unlabelled).rows
        return Theory.sampled(preds, self.n)

    def header(self) -> dict:
        return {
            **self.sizes(),
            "problem": {"name": RF_PROBLEM, "input_dim": self.input_dim, "activation": self.activation,
                        "draws": self.draws, "seed": self.seed, "features": self.d},
        }

    def title(self) -> list[str]:
        return [
            f"# {RF_PROBLEM}: input dim {self.input_dim}, {self.activation}, n={self.n}, "
            f"features={self.d}, s={self.s}, sigma2={self.sigma2:g}, ridge={self.ridge:g}",
            f"# theory of the equivalent linear problem, averaged over {self.draws} draws of W (seed {self.seed})",
        ]

    def monte_carlo(self, counts, *, trials, seed, threads=None, progress=None, quantization=None):
        from ..montecarlo.randomfeatures import random_feature_trials  # Numba loads only when simulating

        self.refuse_quantization(quantization)
        # The feature matrices are the theory's (from the problem's seed); trials use ``seed``.
        return random_feature_trials(self.input_dim, self.n, counts, self.s, activation=self.activation,
                                     draws=self.draws, trials=trials, seed=seed, label_noise=self.sigma2,
                                     ridge=self.ridge, threads=threads, progress=progress,
                                     feature_seed=self.seed, unlabelled=self.unlabelled)
