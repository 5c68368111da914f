"""What every problem family provides: widths, the DC law's risks, and a Monte Carlo sampler.

A *problem* is a data distribution, a sample size ``n``, a target number ``s`` of kept
weights and a fit (min-norm or ridge ``λ``). Its *models* are nested: the model of width
``W = p/n`` uses the first ``p`` features, the others acting as noise (docs/theory.rst §5).
A family (:class:`Family`) answers three questions about a problem, and :func:`dcprune.predict`,
:func:`dcprune.sweep` and :func:`dcprune.montecarlo.simulate` ask them of every family alike:

- :meth:`Family.count` / :meth:`Family.grid`: model sizes ``p`` of widths;
- :meth:`Family.theory`: for a batch of sizes, the DC law of the trained coefficients mapped
  through every rule of :mod:`dcprune.rules` to risks (:class:`ModelRow` per size), the
  reference line where the family has one, and warnings;
- :meth:`Family.monte_carlo`: the Monte Carlo of the real procedure.

Families: :class:`~dcprune.families.diagonal.Diagonal` (diagonal Σ, closed forms),
:class:`~dcprune.families.correlated.Correlated` (any Σ, sampled DC),
:class:`~dcprune.families.randomfeatures.RandomFeatures` (an equivalent correlated problem) and
:class:`~dcprune.families.rankone.RankOne` (perfectly correlated features, exact).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..checks import ParameterError, finite_number
from ..results import Risks, json_number

__all__ = ["Family", "ModelRow", "Reference", "Theory", "MAX_POINTS", "check_alpha", "check_n", "check_unlabelled"]

# More widths than this make no readable curve, only a long wait and a huge table.
MAX_POINTS = 100_000


@dataclass(frozen=True)
class Reference:
    """The paper's horizontal reference line (docs/theory.rst §4).

    ``best_small_dense``: the best dense model with at most ``n`` weights (widths ``p <= n``),
    at width ``best_width`` (in units of ``n``); ``oracle_retrain``: least squares on the ``s``
    most salient features (oracle pruning + fresh retraining).
    """

    best_small_dense: float
    best_width: float
    oracle_retrain: float

    @property
    def line(self) -> float:
        """The lower of the two: what pruning a large model has to beat."""
        return min(self.best_small_dense, self.oracle_retrain)

    def to_dict(self) -> dict:
        return {
            "best_small_dense": json_number(self.best_small_dense),
            "best_width": json_number(self.best_width),
            "oracle_retrain": json_number(self.oracle_retrain),
        }


@dataclass(frozen=True)
class ModelRow:
    """The theory of one model: its width ``p/n``, size ``p``, the DC parameters ζ and γ
    (γ is the dense risk), whether every root solve converged, and the risks.

    ``detail`` keeps the family's own record of the computation (e.g. a sampled DC's
    per-draw predictions); it is not part of the JSON.
    """

    width: float
    p: float
    zeta: float
    gamma: float
    converged: bool
    residual: float
    risk: Risks
    detail: object = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class Theory:
    """What :meth:`Family.theory` returns: one row per size, the reference line, warnings."""

    rows: tuple[ModelRow, ...]
    reference: Reference | None
    warnings: tuple[str, ...]

    @classmethod
    def sampled(cls, predictions, n: int) -> Theory:
        """The theory of sampled-DC predictions (one per size, with ``p``, ``zeta``, ``gamma``,
        ``converged``, ``risk`` and ``warnings``), each kept as its row's ``detail``."""
        rows = tuple(ModelRow(width=pr.p / n, p=pr.p, zeta=pr.zeta, gamma=pr.gamma, converged=pr.converged,
                              residual=0.0, risk=pr.risk, detail=pr) for pr in predictions)
        return cls(rows, None, tuple(dict.fromkeys(w for pr in predictions for w in pr.warnings)))


class Family:
    """A problem of one family; subclasses are frozen dataclasses with at least ``kappa``
    (the full model's width ``d/n``, a field or a property), ``alpha``, ``n``, ``sigma2``,
    ``ridge``, ``d`` (features of the full model, a ratio to ``n`` in the asymptotic limit)
    and ``s`` (weights kept by pruning, likewise).

    ``sampled`` says whether the theory samples the DC (risks with standard errors) or is a
    closed form (every ``se`` is 0).
    """

    name: str = "problem"
    sampled: bool = False
    #: Whether the label is linear in the features plus independent noise (then a noiseless
    #: full-width fit is exact, and its risk 0 is no interpolation-peak artefact).
    linear: bool = True
    alpha: float
    n: int | None
    sigma2: float
    ridge: float
    #: Unlabelled inputs ``M`` the distilled students are fitted on (docs/theory.rst §12; a
    #: ratio to ``n`` in the asymptotic limit); ``inf``, the default, is the population projection.
    unlabelled: float = math.inf

    # --- sizes ---------------------------------------------------------------------------

    @property
    def finite(self) -> bool:
        """Whether sizes are finite (``n`` given) or the ``n → ∞`` limit at fixed ratios."""
        return self.n is not None

    @property
    def scale(self) -> float:
        """The sample size in the units counts use (1 in the asymptotic limit)."""
        return float(self.n) if self.finite else 1.0

    def as_count(self, x: float):
        """A size for output: an ``int`` at finite size, else a ratio to ``n``."""
        return int(round(x)) if self.finite else x

    def count(self, width) -> np.ndarray:
        """Model sizes ``p`` of widths ``W = p/n`` in ``(0, κ]`` (whole features at finite size)."""
        width = np.atleast_1d(np.asarray(width, dtype=float))
        if np.any(~np.isfinite(width)):
            raise ParameterError("width", "must be finite", width[~np.isfinite(width)][0])
        if np.any(width <= 0):
            raise ParameterError("width", "must be > 0", width[width <= 0][0])
        # At finite size the full model has d = round(κ n) features, so its width d/n may
        # exceed κ by up to 1/(2n): a width dcprune reports must be accepted back.
        full = max(self.kappa, self.d / self.n) if self.finite else self.kappa
        if np.any(width > full * (1 + 1e-12)):
            raise ParameterError("width", f"must be at most the full width d/n = {full:g}",
                                 shown_value=f"{width.max():g}")
        if self.finite:
            return np.clip(np.round(width * self.n), 1, self.d)
        return np.minimum(width, self.kappa)

    def grid(self, points: int = 200, width_min: float | None = None) -> np.ndarray:
        """The distinct sizes of ``points`` widths evenly spaced in ``[width_min, κ]``.

        ``width_min`` defaults to ``κ/points``. Asymptotic widths are rounded to 12
        significant digits (1.2, not 1.2000000000000002), never past κ.
        """
        if isinstance(points, bool) or not float(points).is_integer() or not 2 <= points <= MAX_POINTS:
            raise ParameterError("points", f"must be an integer from 2 to {MAX_POINTS:,} (a readable curve)",
                                 points)
        width_min = self.kappa / points if width_min is None else width_min
        width_min = finite_number("width_min", width_min, positive=True)
        if width_min >= self.kappa:
            raise ParameterError("width_min", f"must be below the full width d/n = {self.kappa:g}",
                                 shown_value=f"{width_min:g}")
        widths = np.linspace(width_min, self.kappa, int(points))
        if not self.finite:
            widths = np.minimum([float(f"{w:.12g}") for w in widths], self.kappa)
        return np.unique(self.count(widths))

    # --- what subclasses provide ---------------------------------------------------------

    def theory(self, counts: np.ndarray) -> Theory:
        """The DC's risks of the models of sizes ``counts`` (see the module docstring)."""
        raise NotImplementedError

    def sizes(self) -> dict:
        """The sizes every JSON head starts with: ``kappa``, ``alpha``, ``n``, ``sigma2``, ``ridge`` and
        ``unlabelled`` (``None``: infinite, the population projection)."""
        return {"kappa": self.kappa, "alpha": self.alpha, "n": self.n, "sigma2": self.sigma2, "ridge": self.ridge,
                "unlabelled": json_number(self.unlabelled)}

    def header(self) -> dict:
        """The JSON head of every output: ``kappa``, ``alpha``, ``n``, ``sigma2``, ``ridge``,
        ``problem`` (the family's parameters), and ``d`` where the problem has a latent dimension."""
        raise NotImplementedError

    def title(self) -> list[str]:
        """Comment lines (``# ...``) that head a table of this problem's numbers."""
        raise NotImplementedError

    def quantized(self, counts: np.ndarray, quantization) -> tuple:
        """The quantized dense and magnitude-pruned models of sizes ``counts``: one
        :class:`dcprune.quantization.Quantized` per size (docs/theory.rst §11)."""
        raise ParameterError("quantization", f"is not predicted for {self.name} problems yet (diagonal problems "
                             f"only)", quantization)

    def monte_carlo(self, counts: np.ndarray, *, trials: int, seed: int, threads=None, progress=None,
                    quantization=None):
        """The Monte Carlo of the real procedure on the models of sizes ``counts``: a
        :class:`dcprune.montecarlo.Trials` of per-trial values (run it through
        :func:`dcprune.montecarlo.simulate`, which checks the arguments and summarizes);
        ``quantization`` measures the quantized models too (diagonal problems)."""
        raise NotImplementedError(f"{self.name} has no Monte Carlo sampler")

    def refuse_quantization(self, quantization) -> None:
        """Refuse a quantized Monte Carlo of a family whose sampler has no quantizer."""
        if quantization is not None:
            raise ParameterError("quantization", f"is not simulated for {self.name} problems yet (diagonal "
                                 f"problems only)", quantization)


def check_alpha(alpha) -> float:
    """``alpha`` as a float in ``(0, 1]``."""
    alpha = finite_number("alpha", alpha)
    if not 0 < alpha <= 1:
        raise ParameterError("alpha", "must be in (0, 1]", alpha)
    return alpha


def check_n(n, *, required: bool, family: str) -> int | None:
    """``n`` as an int ``>= 2``; ``None`` is refused when the family needs finite sizes."""
    if n is None:
        if required:
            raise ParameterError("n", f"is required for {family} (a finite problem)", None)
        return None
    if isinstance(n, bool) or not float(n).is_integer() or n < 2:
        raise ParameterError("n", "must be an integer >= 2", n)
    return int(n)



def check_unlabelled(unlabelled, finite: bool) -> float:
    """``unlabelled`` (``M``, docs/theory.rst §12) as a float: ``None`` or ``inf`` is the
    population projection; otherwise ``> 0``, and a whole number ``>= 1`` at finite size."""
    if unlabelled is None:
        return math.inf
    try:
        m = float(unlabelled)
    except (TypeError, ValueError):
        raise ParameterError("unlabelled", "must be a number (or inf: the population projection)",
                             unlabelled) from None
    if isinstance(unlabelled, bool) or not m > 0:  # NaN too
        raise ParameterError("unlabelled", "must be > 0 (or inf: the population projection)", unlabelled)
    if finite and math.isfinite(m) and not m.is_integer():
        raise ParameterError("unlabelled", "must be a whole number of inputs at finite size (or inf)", unlabelled)
    return m
