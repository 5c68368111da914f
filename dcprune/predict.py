"""Predictions: dense, pruned and retrained risks of one model, a width sweep, or a problem.

This module composes :mod:`dcprune.solver` and :mod:`dcprune.pruning` over the layouts of
:mod:`dcprune.problems` (THEORY.md §3–5) and wraps the answers in small frozen dataclasses.
Sizes: with ``n`` given (finite size), the latent dimension is ``d = round(κ n)``, the target
``s = round(α d)`` and a width ``W`` means ``p = round(W n)`` coordinates. Without ``n``
(asymptotic) the same ratios are used at the scale ``n = 1``, where counts are real numbers.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

from .checks import finite_number, shown
from .problems import _RANGE as _MAX_SCALE, DiagonalProblem, Layout, Spectrum, _check_layout_size, _overlap
from .pruning import RULES, prune, retrain
from .solver import dense_risk, peak_reason

__all__ = [
    "Setup",
    "Risk",
    "Reference",
    "Prediction",
    "CurveRow",
    "Curve",
    "DCSolution",
    "RISK_NAMES",
    "predict",
    "curve",
    "solve_dc",
    "predict_problem",
]

RISK_NAMES = (
    "dense",
    "magnitude",
    "hessian",
    "oracle",
    "random",
    "magnitude_retrain",
    "hessian_retrain",
    "oracle_retrain",
)

#: Same-data retraining: measured by Monte Carlo beside :data:`RISK_NAMES`, not predicted.
SAME_DATA_NAMES = ("magnitude_retrain_same", "hessian_retrain_same", "oracle_retrain_same")
_RETRAINED = ("magnitude", "hessian", "oracle")
# Atom evaluations per vectorized chunk of a sweep: large enough to amortize NumPy's call
# overhead, small enough (16 MB per array) to stay in cache-friendly memory.
_CHUNK_ELEMENTS = 2_000_000


# Limits of what double precision resolves: latent ratio and coordinate counts (noise and
# ridge share the spectra's bound, _MAX_SCALE).
_MAX_KAPPA = 1e12
_MAX_COUNT = 1e15


def _count(x: float, finite: bool):
    """Feature counts are integers at finite size (JSON readers should not see 400.0)."""
    return int(round(x)) if finite else x


def _json_number(x: float):
    return float(x) if math.isfinite(x) else None


@dataclass(frozen=True)
class Risk:
    """Expected test risks ``E (y − xᵀb)²`` of the dense, pruned and retrained models."""

    dense: float
    magnitude: float
    hessian: float
    oracle: float
    random: float
    magnitude_retrain: float
    hessian_retrain: float
    oracle_retrain: float

    def to_dict(self) -> dict:
        """JSON-ready: infinite values become ``None``."""
        return {k: _json_number(v) for k, v in asdict(self).items()}


@dataclass(frozen=True)
class Reference:
    """The paper's horizontal reference line (THEORY.md §4).

    ``best_small_dense``: the best dense model over widths ``p <= n``, at width
    ``best_width`` (in units of ``n``); ``oracle_retrain``: least squares on the ``s`` most
    salient features (oracle pruning + fresh retraining).
    """

    best_small_dense: float
    best_width: float
    oracle_retrain: float

    @property
    def line(self) -> float:
        return min(self.best_small_dense, self.oracle_retrain)

    def to_dict(self) -> dict:
        return {
            "best_small_dense": _json_number(self.best_small_dense),
            "best_width": _json_number(self.best_width),
            "oracle_retrain": _json_number(self.oracle_retrain),
        }


@dataclass(frozen=True)
class Setup:
    """A latent problem and the sizes of an experiment on it (THEORY.md §5).

    ``kappa = d/n`` (latent dimension over samples), ``alpha = s/d`` (kept nonzeros over the
    latent dimension), ``sigma2`` the label noise, ``n`` the sample size (``None`` for the
    asymptotic limit) and ``ridge`` the ridge penalty λ of ``(1/n)‖y − Xb‖² + λ‖b‖²``.
    """

    spectrum: Spectrum
    kappa: float
    alpha: float
    sigma2: float = 0.1
    n: int | None = None
    ridge: float = 0.0

    def __post_init__(self):
        if not isinstance(self.spectrum, Spectrum):
            raise ValueError(f"spectrum must be a dcprune Spectrum, got spectrum={self.spectrum!r}")
        object.__setattr__(self, "kappa", finite_number("kappa", self.kappa, positive=True))
        alpha = finite_number("alpha", self.alpha)
        if not 0 < alpha <= 1:
            raise ValueError(f"alpha must be in (0, 1], got alpha={shown(self.alpha)}")
        object.__setattr__(self, "alpha", alpha)
        if self.kappa > _MAX_KAPPA:
            raise ValueError(f"kappa must be at most {_MAX_KAPPA:g} (d/n beyond it is not resolved in double "
                             f"precision), got kappa={shown(self.kappa)}")
        object.__setattr__(self, "sigma2", finite_number("sigma2", self.sigma2, nonnegative=True))
        object.__setattr__(self, "ridge", finite_number("ridge", self.ridge, nonnegative=True))
        for name in ("sigma2", "ridge"):
            if getattr(self, name) > _MAX_SCALE:
                raise ValueError(f"{name} must be at most {_MAX_SCALE:g} (the risk's squares overflow double "
                                 f"precision beyond it; rescale the labels), got {name}={shown(getattr(self, name))}")
        if self.n is not None:
            if isinstance(self.n, bool) or not float(self.n).is_integer() or self.n < 2:
                raise ValueError(f"n must be an integer >= 2, got n={shown(self.n)}")
            object.__setattr__(self, "n", int(self.n))
            if self.kappa * self.n > _MAX_COUNT:
                raise ValueError(f"kappa*n must be at most {_MAX_COUNT:g} coordinates (counts beyond it are not "
                                 f"exact in double precision), got kappa*n={self.kappa * self.n:g}")
            if self.d < 1:
                raise ValueError(f"kappa*n must be at least 1 coordinate, got kappa*n={self.kappa * self.n:g}")
            self.spectrum.check_finite_size(self.d)

    @property
    def finite(self) -> bool:
        return self.n is not None

    @property
    def scale(self) -> float:
        """The sample size in the units the atoms use (1 in the asymptotic limit)."""
        return float(self.n) if self.finite else 1.0

    @property
    def d(self) -> float:
        return int(round(self.kappa * self.n)) if self.finite else self.kappa

    @property
    def s(self) -> float:
        return max(1, int(round(self.alpha * self.d))) if self.finite else self.alpha * self.kappa

    def count(self, width) -> np.ndarray:
        """Model sizes ``p`` for widths ``W = p/n`` (rounded at finite size)."""
        width = np.atleast_1d(np.asarray(width, dtype=float))
        if np.any(~np.isfinite(width)):
            raise ValueError(f"width must be finite, got width={shown(width[~np.isfinite(width)][0])}")
        if np.any(width <= 0):
            raise ValueError(f"width must be > 0, got width={shown(width[width <= 0][0])}")
        if np.any(width > self.kappa * (1 + 1e-12)):
            raise ValueError(
                f"width must be at most kappa={self.kappa:g} (the latent dimension), "
                f"got width={width.max():g}"
            )
        if self.finite:
            return np.clip(np.round(width * self.n), 1, self.d)
        return np.minimum(width, self.kappa)

    def header(self) -> dict:
        return {
            "kappa": self.kappa,
            "alpha": self.alpha,
            "n": self.n,
            "sigma2": self.sigma2,
            "ridge": self.ridge,
            "problem": self.spectrum.describe(),
        }


@dataclass(frozen=True)
class CurveRow:
    """One width of a sweep: ``width = p/n``, the DC parameters and the risks."""

    width: float
    p: float
    zeta: float
    gamma: float
    converged: bool
    residual: float
    risk: Risk

    def to_dict(self, finite: bool = False) -> dict:
        """``p`` is a count (an ``int``) at finite size and ``p/n`` asymptotically."""
        return {
            "width": self.width,
            "p": _count(self.p, finite),
            "zeta": self.zeta,
            "gamma": _json_number(self.gamma),
            "converged": self.converged,
            "risk": self.risk.to_dict(),
        }


@dataclass(frozen=True)
class Prediction:
    """Predictions for one model of width ``width`` (``p = width·n`` coordinates)."""

    setup: Setup
    width: float
    p: float
    s: float
    zeta: float
    gamma: float
    converged: bool
    residual: float
    risk: Risk
    reference: Reference
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        """The JSON contract of ``dcprune risk``."""
        head = self.setup.header()
        return {
            "kappa": head["kappa"],
            "alpha": head["alpha"],
            "width": self.width,
            "n": head["n"],
            "sigma2": head["sigma2"],
            "ridge": head["ridge"],
            "problem": head["problem"],
            "d": self.setup.d,
            "p": _count(self.p, self.setup.finite),
            "s": _count(self.s, self.setup.finite),
            "zeta": self.zeta,
            "gamma": _json_number(self.gamma),
            "converged": self.converged,
            "risk": self.risk.to_dict(),
            "reference": self.reference.to_dict(),
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class Curve:
    """The sparse double-descent curve: risks over a sweep of widths (THEORY.md §5)."""

    setup: Setup
    s: float
    rows: tuple[CurveRow, ...]
    reference: Reference
    warnings: tuple[str, ...] = ()

    @property
    def widths(self) -> np.ndarray:
        return np.array([r.width for r in self.rows])

    def column(self, name: str) -> np.ndarray:
        """Risk ``name`` (one of :data:`RISK_NAMES`) across the widths."""
        return np.array([getattr(r.risk, name) for r in self.rows])

    def to_dict(self) -> dict:
        """The JSON contract of ``dcprune curve``."""
        head = self.setup.header()
        return {
            **{k: head[k] for k in ("kappa", "alpha")},
            "width": None,
            **{k: head[k] for k in ("n", "sigma2", "ridge", "problem")},
            "d": self.setup.d,
            "s": _count(self.s, self.setup.finite),
            "converged": all(r.converged for r in self.rows),
            "reference": self.reference.to_dict(),
            "warnings": list(self.warnings),
            "rows": [r.to_dict(self.setup.finite) for r in self.rows],
        }


@dataclass(frozen=True)
class DCSolution:
    """The DC of one diagonal problem (THEORY.md §2): ζ, γ and the per-atom Gaussians.

    ``mean[a]`` and ``sd[a]`` describe ``β̂_i ~ N(mean, sd²)`` for the coordinates of atom
    ``a``; ``gamma`` is the dense risk (γ, or γ_n at finite size) and ``tau`` the noise level
    behind ``sd``. ``message`` says why a risk is infinite or a solve failed.
    """

    zeta: float
    gamma: float
    tau: float
    converged: bool
    residual: float
    mean: np.ndarray = field(repr=False)
    sd: np.ndarray = field(repr=False)
    message: str = ""

    def to_dict(self) -> dict:
        return {
            "zeta": self.zeta,
            "gamma": _json_number(self.gamma),
            "tau": _json_number(self.tau),
            "converged": self.converged,
            "residual": self.residual,
            "message": self.message,
        }


def _evaluate(layout: Layout, sigma2: float, s: float, n: float, ridge: float, finite: bool) -> dict:
    """Every risk of :data:`RISK_NAMES` for a batch of models; arrays of shape ``(batch,)``."""
    lam, beta, mult = layout.lam, layout.beta, layout.mult
    sigma2_eff = sigma2 + layout.tail
    dense = dense_risk(lam, beta, mult, sigma2_eff, n, ridge=ridge, finite=finite)
    out = {"dense": dense.gamma, "zeta": dense.zeta}
    converged = dense.converged.copy()
    residual = dense.residual.copy()
    for rule in RULES:
        pruned = prune(rule, lam, beta, mult, layout.oracle_mult, sigma2_eff, s, n, dense)
        out[rule] = pruned.risk
        converged &= pruned.converged
        if rule in _RETRAINED:
            fresh = retrain(lam, beta, mult, pruned.keep, sigma2_eff, n, ridge=ridge, finite=finite)
            out[f"{rule}_retrain"] = fresh.gamma
            converged &= fresh.converged
            residual = np.maximum(residual, fresh.residual)
    out["converged"] = converged
    out["residual"] = residual
    return out


def _chunks(setup: Setup, counts: np.ndarray):
    """Layouts of the models of sizes ``counts``, in memory-bounded chunks."""
    first = setup.spectrum.layout(setup.d, counts[:1], setup.s, setup.finite)
    yield first
    step = max(1, _CHUNK_ELEMENTS // max(first.lam.shape[-1], 1))
    for start in range(1, len(counts), step):
        yield setup.spectrum.layout(setup.d, counts[start : start + step], setup.s, setup.finite)


def _sweep(setup: Setup, counts: np.ndarray) -> dict:
    """:func:`_evaluate` over model sizes ``counts``."""
    parts = [
        _evaluate(layout, setup.sigma2, setup.s, setup.scale, setup.ridge, setup.finite)
        for layout in _chunks(setup, counts)
    ]
    return {k: np.concatenate([part[k] for part in parts]) for k in parts[0]}


def _dense(setup: Setup, counts: np.ndarray) -> np.ndarray:
    """Dense risks only, for the reference line."""
    return np.concatenate([
        dense_risk(lay.lam, lay.beta, lay.mult, setup.sigma2 + lay.tail, setup.scale,
                   ridge=setup.ridge, finite=setup.finite).gamma
        for lay in _chunks(setup, counts)
    ])


def _reference(setup: Setup) -> Reference:
    """Best dense model over widths ``p <= n``, and oracle + retraining (THEORY.md §4)."""
    n, d, spec = setup.scale, setup.d, setup.spectrum
    oracle = _dense(setup, np.array([setup.s], dtype=float))[0]
    top = min(d, n)
    if setup.ridge == 0:
        # p < n: ζ = 0 and the dense risk is σ_eff²(p)·(n−1)/(n−p−1), or σ_eff²(p)/(1 − p/n).
        def risk(p):
            factor = (n - 1) / (n - p - 1) if setup.finite else 1.0 / (1.0 - p / n)
            return (setup.sigma2 + spec.tail(d, p, setup.finite)) * factor

        # Within an atom σ_eff²(p) = a − b·p is linear, and d/dp (a − b·p)/(m − p) has the
        # constant sign of a − b·m, so the risk is monotone there and its minimum sits on an
        # atom edge: only edges need evaluating, however large n is.
        if setup.finite:
            last = min(d, n - 2)
            edges = spec.breakpoints(d, True)
            inner = edges[(edges > 1) & (edges < last)]
            candidates = np.union1d(inner, [1.0, last]) if last >= 1 else np.empty(0)
        else:
            # Smooth spectra are searched on a grid, then refined.
            grid = np.linspace(0.0, top, 2049)[1:]
            edges = spec.breakpoints(d, False)
            candidates = grid if edges is None else np.union1d(grid, edges[(edges > 0) & (edges <= top)])
            candidates = candidates[candidates < n]
    else:
        candidates = np.unique(np.linspace(0.0, top, 257)[1:])
        if setup.finite:
            candidates = np.unique(np.clip(np.round(candidates), 1, top))

        def risk(p):
            return _dense(setup, np.asarray(p, dtype=float))

    if candidates.size == 0:  # n so small that no model with p < n − 1 exists
        return Reference(math.inf, math.nan, float(oracle))
    values = risk(candidates)
    best = int(np.nanargmin(values))
    p_best, r_best = float(candidates[best]), float(values[best])
    if setup.ridge == 0 and not setup.finite and spec.breakpoints(d, False) is None:
        from scipy.optimize import minimize_scalar  # only smooth spectra need it; keeps import fast

        lo = candidates[max(best - 1, 0)]
        hi = candidates[min(best + 1, candidates.size - 1)]
        res = minimize_scalar(lambda p: float(risk(np.array([p]))[0]), bounds=(lo, hi), method="bounded",
                              options={"xatol": 1e-12 * top})
        if res.fun < r_best:
            p_best, r_best = float(res.x), float(res.fun)
    return Reference(r_best, p_best / n, float(oracle))


def _risk(values: dict, i: int) -> Risk:
    return Risk(**{name: float(values[name][i]) for name in RISK_NAMES})


def _warnings(setup: Setup, values: dict, counts: np.ndarray, ref: Reference) -> list[str]:
    """One line per kind of infinite value or failed solve, naming the widths."""
    n = setup.scale
    out = list(setup.spectrum.warnings(setup.finite))
    if setup.finite and round(setup.alpha * setup.d) < 1:
        out.append(f"alpha*d = {setup.alpha * setup.d:.3g} rounds to no coordinate; s = 1 is used (the "
                   f"smallest pruned model)")
    if setup.finite and setup.ridge > 0:
        out.append("with ridge, finite-n predictions are the asymptotic DC at these integer sizes: the exact "
                   "finite-n factor (THEORY.md §2) exists for ridge-less least squares only")

    def where(mask):
        ws = counts[mask] / n
        shown = ", ".join(f"{w:g}" for w in ws[:5])
        return f"width {shown}" + (f" and {ws.size - 5} more" if ws.size > 5 else "")

    dense_inf = ~np.isfinite(values["dense"])
    if dense_inf.any():
        p = counts[dense_inf][0]
        out.append(f"risk.dense is infinite at {where(dense_inf)}: {peak_reason(p, n, setup.finite)}")
        pruned = [r for r in RULES if (~np.isfinite(values[r]) & dense_inf).any()]
        if pruned:
            out.append(
                f"risk.{'/'.join(pruned)} infinite at {where(dense_inf)}: a pruned model keeps "
                f"the infinite-variance coordinates of the dense model at the peak"
            )
    sizes = (f"s = {setup.s:g} features with n = {n:g} samples" if setup.finite
             else f"s/n = {setup.s:g} (as many kept features as samples)")
    for rule in _RETRAINED:
        bad = ~np.isfinite(values[f"{rule}_retrain"])
        if bad.any():
            out.append(
                f"risk.{rule}_retrain is infinite at {where(bad)}: retraining on {sizes} "
                f"sits at the retrained model's interpolation peak"
            )
    if not math.isfinite(ref.best_small_dense):
        out.append(
            f"reference.best_small_dense is infinite: at n = {n:g} no width has finite risk "
            f"(finite-n least squares needs 1 <= p <= n - 2)"
            if setup.finite else "reference.best_small_dense is infinite: no width p < n has finite risk"
        )
    if not math.isfinite(ref.oracle_retrain) and np.all(np.isfinite(values["oracle_retrain"])):
        out.append(f"reference.oracle_retrain is infinite: retraining on {sizes} sits at the retrained "
                   f"model's interpolation peak")
    failed = ~values["converged"]
    if failed.any():
        out.append(
            f"a root solve did not converge at {where(failed)} "
            f"(largest relative residual {np.nanmax(values['residual'][failed]):.2e}); treat those "
            f"values with care"
        )
    return out


def predict(setup: Setup, width: float | None = None) -> Prediction:
    """Every prediction for the model of width ``width = p/n`` (default: the full ``κ``).

    >>> import dcprune
    >>> setup = dcprune.Setup(dcprune.SpikedCovariance(), kappa=2, alpha=0.3)
    >>> round(dcprune.predict(setup).risk.magnitude, 4)
    1.0612
    """
    width = setup.kappa if width is None else width
    counts = setup.count(width)
    values = _sweep(setup, counts)
    warnings = _warnings(setup, values, counts, ref := _reference(setup))
    if setup.finite and round(float(width) * setup.n) < 1:
        warnings.append(f"width*n = {float(width) * setup.n:.3g} rounds to no feature; p = 1 is used")
    return Prediction(
        setup=setup,
        width=float(counts[0] / setup.scale),
        p=float(counts[0]),
        s=float(setup.s),
        zeta=float(values["zeta"][0]),
        gamma=float(values["dense"][0]),
        converged=bool(values["converged"][0]),
        residual=float(values["residual"][0]),
        risk=_risk(values, 0),
        reference=ref,
        warnings=tuple(warnings),
    )


def curve(setup: Setup, points: int = 200, width_min: float | None = None) -> Curve:
    """The sparse double-descent curve: widths from ``width_min`` to ``κ`` (THEORY.md §5).

    ``points`` widths evenly spaced in ``[width_min, κ]``, ``width_min`` defaulting to
    ``κ/points``; at finite size widths are rounded to whole coordinates and deduplicated.
    """
    counts = _curve_counts(setup, points, width_min)
    values = _sweep(setup, counts)
    rows = tuple(
        CurveRow(
            width=float(counts[i] / setup.scale),
            p=float(counts[i]),
            zeta=float(values["zeta"][i]),
            gamma=float(values["dense"][i]),
            converged=bool(values["converged"][i]),
            residual=float(values["residual"][i]),
            risk=_risk(values, i),
        )
        for i in range(counts.size)
    )
    ref = _reference(setup)
    return Curve(setup, float(setup.s), rows, ref, tuple(_warnings(setup, values, counts, ref)))


def _curve_counts(setup: Setup, points: int, width_min: float | None) -> np.ndarray:
    """Model sizes of the width grid shared by :func:`curve` and Monte Carlo sweeps."""
    if isinstance(points, bool) or int(points) != points or points < 2:
        raise ValueError(f"points must be an integer >= 2, got points={shown(points)}")
    width_min = setup.kappa / points if width_min is None else width_min
    width_min = finite_number("width_min", width_min, positive=True)
    if width_min >= setup.kappa:
        raise ValueError(f"width_min must be below kappa={setup.kappa:g}, got width_min={width_min:g}")
    widths = np.linspace(width_min, setup.kappa, int(points))
    if not setup.finite:  # 1.2, not linspace's 1.2000000000000002, in tables and JSON
        widths = np.array([float(f"{w:.12g}") for w in widths])
    return np.unique(setup.count(widths))


def _problem_layout(problem: DiagonalProblem, s: float) -> Layout:
    stop = np.cumsum(problem.mult)
    start = stop - problem.mult
    oracle = _overlap(start, stop, 0.0, s)
    return Layout(problem.lam[None], problem.beta[None], problem.mult[None], oracle[None], np.zeros(1), 0.0)


def _check_n(n, finite):
    n = finite_number("n", n, positive=True)
    if finite and (not n.is_integer() or n < 2):
        raise ValueError(f"n must be an integer >= 2 at finite size, got n={shown(n)}")
    return n


def solve_dc(problem: DiagonalProblem, n: float, *, ridge: float = 0.0, finite: bool = False) -> DCSolution:
    """The DC of a diagonal problem fitted on ``n`` samples (THEORY.md §2).

    ``finite=True`` applies the finite-``n`` noise level of §2 (ridge-less fits only).
    Real multiplicities and ``n`` describe the asymptotic law at that scale.
    """
    n = _check_n(n, finite)
    ridge = finite_number("ridge", ridge, nonnegative=True)
    _check_layout_size(problem.lam.size)
    dense = dense_risk(problem.lam[None], problem.beta[None], problem.mult[None], problem.sigma2, n,
                       ridge=ridge, finite=finite)
    tau = float(dense.tau[0])
    c = dense.shrink[0]
    message = peak_reason(problem.p, n, finite) if dense.infinite[0] else ""
    if not dense.converged[0]:
        message = f"ζ did not converge (relative residual {dense.residual[0]:.2e})"
    with np.errstate(invalid="ignore"):
        sd = c * np.sqrt(tau / (n * problem.lam))
    return DCSolution(
        zeta=float(dense.zeta[0]),
        gamma=float(dense.gamma[0]),
        tau=tau,
        converged=bool(dense.converged[0]),
        residual=float(dense.residual[0]),
        mean=c * problem.beta,
        sd=sd,
        message=message,
    )


def predict_problem(problem: DiagonalProblem, n: float, s: float, *, ridge: float = 0.0,
                    finite: bool = False) -> Risk:
    """Every risk of :data:`RISK_NAMES` for a model using all coordinates of ``problem``.

    ``s`` is the number of nonzeros kept; the oracle keeps the ``s`` most salient
    coordinates (the atoms are sorted by saliency).
    """
    n = _check_n(n, finite)
    s = finite_number("s", s, positive=True)
    ridge = finite_number("ridge", ridge, nonnegative=True)
    _check_layout_size(problem.lam.size)
    values = _evaluate(_problem_layout(problem, s), problem.sigma2, s, n, ridge, finite)
    return _risk(values, 0)
