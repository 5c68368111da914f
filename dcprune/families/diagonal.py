"""Diagonal problems: closed-form DC risks of latent spectra (docs/theory.rst §2–5).

A :class:`Diagonal` problem is a latent spectrum (:mod:`dcprune.families.spectra`) with the
sizes of an experiment: ``kappa = d/n``, ``alpha = s/d``, the noise ``sigma2``, the sample size
``n`` (``None``: the ``n → ∞`` limit at these ratios) and the ridge. Its theory composes
:mod:`dcprune.solver` (ζ, γ) with every rule of :mod:`dcprune.rules` through the closed forms
of :mod:`dcprune.pruning`, batched over the models of a sweep. Sizes: with ``n`` given, the
latent dimension is ``d = round(κ n)``, the target ``s = round(α d)`` and a width ``W`` means
``p = round(W n)`` coordinates; without ``n`` the same ratios are used at the scale ``n = 1``,
where counts are real numbers.

Explicit atoms (a :class:`~dcprune.families.spectra.DiagonalProblem`) are served by
:func:`solve_dc` (the DC itself) and :func:`predict_problem` (its risks).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields

import numpy as np

from ..checks import ParameterError, check_memory, finite_number
from ..coefficients import check_coefficients
from ..distill import distill
from ..pruning import prune, retrain
from ..quantities import DISTILLABLE, PREDICTED, SAME_DATA_PREDICTED
from ..results import Estimate, Risks, json_number
from ..rules import RULES
from ..samedata import retrain_same
from ..solver import DenseRisk, check_sample_size, dense_risk, peak_reason
from .base import Family, ModelRow, Reference, Theory, check_alpha, check_n, check_unlabelled
from .caveats import caveats
from .powerlaw import PowerLaw
from .spectra import (
    MAX_SCALE,
    DiagonalProblem,
    Isotropic,
    Layout,
    Spectrum,
    SpikedCovariance,
    SpikedIdentity,
    check_layout_size,
    overlap,
)

__all__ = ["Diagonal", "DCSolution", "solve_dc", "predict_problem", "PROBLEMS", "standard_problem"]

# Atom evaluations per vectorized chunk of a sweep: large enough to amortize NumPy's call
# overhead, small enough (16 MB per array) to stay in cache-friendly memory.
_CHUNK_ELEMENTS = 2_000_000
# Work and memory of a prediction, measured: ~2.5 µs and ~40 float64 arrays per atom
# evaluation (a finite power law with d = 10⁷ took 54 s and 4.2 GB for one width). Beyond
# 10⁷ evaluations (~25 s) a prediction is refused before it starts.
MAX_ATOM_EVALUATIONS = 1e7
_SECONDS_PER_EVALUATION = 2.5e-6
_BYTES_PER_ELEMENT = 40 * 8

# Limits of what double precision resolves: latent ratio and coordinate counts (noise and
# ridge share the spectra's bound, MAX_SCALE).
_MAX_KAPPA = 1e12
# κ = 1e-9 already moves magnitude pruning by 3e-4 relative, κ = 1e-12 by 30%.
_MIN_KAPPA = 1e-6
_MAX_COUNT = 1e15


@dataclass(frozen=True)
class Diagonal(Family):
    """A diagonal problem: a latent spectrum and the sizes of an experiment on it (docs/theory.rst §5).

    ``kappa = d/n`` (latent dimension over samples), ``alpha = s/d`` (kept nonzeros over the
    latent dimension), ``sigma2`` the label noise, ``n`` the sample size (``None`` for the
    asymptotic limit), ``ridge`` the ridge penalty λ of ``(1/n)‖y − Xb‖² + λ‖b‖²`` and
    ``unlabelled`` the inputs ``M`` of distillation (docs/theory.rst §12; ``inf``: the population
    projection; without ``n`` the ratio ``M/n``). ``coefficients``: ``"fixed"`` (the spectrum's β)
    or ``"gaussian"`` (each coordinate draws ``β_j ~ N(0, β_j²)``, the same expected energy;
    predictions average over β and the Monte Carlo draws a new β per trial, docs/theory.rst §11).
    """

    spectrum: Spectrum
    kappa: float
    alpha: float
    sigma2: float = 0.1
    n: int | None = None
    ridge: float = 0.0
    unlabelled: float = math.inf
    coefficients: str = "fixed"

    def __post_init__(self):
        if not isinstance(self.spectrum, Spectrum):
            raise ParameterError("spectrum", "must be a dcprune Spectrum", self.spectrum)
        check_coefficients(self.coefficients)
        object.__setattr__(self, "kappa", finite_number("kappa", self.kappa, positive=True))
        object.__setattr__(self, "alpha", check_alpha(self.alpha))
        if self.kappa < _MIN_KAPPA:
            raise ParameterError("kappa", f"must be at least {_MIN_KAPPA:g} (below it the pruning thresholds of a "
                                 f"d/n that small are not resolved in double precision)", self.kappa)
        if self.kappa > _MAX_KAPPA:
            raise ParameterError("kappa", f"must be at most {_MAX_KAPPA:g} (d/n beyond it is not resolved in "
                                 f"double precision)", self.kappa)
        object.__setattr__(self, "sigma2", finite_number("sigma2", self.sigma2, nonnegative=True))
        object.__setattr__(self, "ridge", finite_number("ridge", self.ridge, nonnegative=True))
        for name in ("sigma2", "ridge"):
            if getattr(self, name) > MAX_SCALE:
                raise ParameterError(name, f"must be at most {MAX_SCALE:g} (the risk's squares overflow double "
                                     f"precision beyond it; rescale the labels)", getattr(self, name))
        object.__setattr__(self, "n", check_n(self.n, required=False, family=self.name))
        object.__setattr__(self, "unlabelled", check_unlabelled(self.unlabelled, self.n is not None))
        if self.n is not None:
            if self.kappa * self.n > _MAX_COUNT:
                raise ParameterError("kappa*n", f"must be at most {_MAX_COUNT:g} coordinates (counts beyond it are "
                                     f"not exact in double precision)", shown_value=f"{self.kappa * self.n:g}")
            if self.d < 1:
                raise ParameterError("kappa*n", "must be at least 1 coordinate",
                                     shown_value=f"{self.kappa * self.n:g}")
            self.spectrum.check_finite_size(self.d)

    @property
    def d(self) -> float:
        return int(round(self.kappa * self.n)) if self.finite else self.kappa

    @property
    def s(self) -> float:
        return max(1, int(round(self.alpha * self.d))) if self.finite else self.alpha * self.kappa

    @property
    def name(self) -> str:
        return self.spectrum.name

    def header(self) -> dict:
        return {**self.sizes(), "problem": self.spectrum.describe(), "d": self.d, "coefficients": self.coefficients}

    def title(self) -> list[str]:
        problem = self.spectrum.describe()
        params = ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in problem.items()
                           if k != "name")
        size = f"n={self.n}, d={self.d}, s={self.s:g}" if self.finite else f"asymptotic, s/n={self.s:g}"
        if self.coefficients != "fixed":
            params += f", {self.coefficients} coefficients"
        if math.isfinite(self.unlabelled):
            size += f", unlabelled={self.unlabelled:g}" if self.finite else f", unlabelled/n={self.unlabelled:g}"
        return [f"# {problem['name']} ({params})",
                f"# kappa={self.kappa:g}, alpha={self.alpha:g}, sigma2={self.sigma2:g}, ridge={self.ridge:g}, {size}"]

    def theory(self, counts) -> Theory:
        """Closed-form risks of the models of sizes ``counts`` (docs/theory.rst §2–5)."""
        counts = np.asarray(counts, dtype=float)
        self.check_work(counts.size)
        values = _sweep(self, counts)
        ref = _reference(self)
        # Plain Python numbers column by column: indexing NumPy arrays element-wise is slow.
        width, zeta, gamma = (counts / self.scale).tolist(), values["zeta"].tolist(), values["dense"].tolist()
        converged, residual = values["converged"].tolist(), values["residual"].tolist()
        risks = [values[name].tolist() for name in PREDICTED]
        rows = tuple(
            ModelRow(width=width[i], p=p, zeta=zeta[i], gamma=gamma[i], converged=converged[i],
                     residual=residual[i], risk=Risks(dict(zip(PREDICTED, (Estimate(r[i]) for r in risks)))))
            for i, p in enumerate(counts.tolist())
        )
        return Theory(rows, ref, tuple(caveats(self, values, counts, ref)))

    def check_work(self, widths: int) -> None:
        """Refuse, before any array is built, a prediction of ``widths`` models whose atom
        evaluations (atoms × models, the reference line's included) would take minutes or
        not fit in memory; the message gives the estimate."""
        atoms = self.spectrum.atom_count(self.d, self.finite)
        models = widths + (2 if self.ridge == 0 else 258)  # the reference: oracle (+ a 257-width scan)
        work = float(atoms) * models
        if work > MAX_ATOM_EVALUATIONS:
            raise ValueError(
                f"the prediction needs about {work:.3g} atom evaluations ({atoms:,} atoms × {models} models, "
                f"~{work * _SECONDS_PER_EVALUATION:.0f} s), over the limit {MAX_ATOM_EVALUATIONS:.0e}; use a "
                f"smaller --n, fewer --points, or no --n (the asymptotic law)")
        check_memory(_BYTES_PER_ELEMENT * max(_CHUNK_ELEMENTS, atoms),
                     f"the prediction holds arrays of {atoms:,} atoms at once; use a smaller --n")

    def ridge_theory(self, count: float, ridges) -> Theory:
        """Closed-form risks of the model of size ``count`` at every penalty of ``ridges``, in
        one batched solve (docs/theory.rst §2); rows as :meth:`theory`'s, one per ridge."""
        ridges = np.asarray(ridges, dtype=float)
        lay = self.spectrum.layout(self.d, np.array([float(count)]), self.s, self.finite)
        k = ridges.size
        lay = Layout(*(np.repeat(a, k, axis=0) for a in (lay.lam, lay.beta, lay.mult, lay.oracle_mult, lay.tail)),
                     lay.tail_s)
        values = _evaluate(lay, self.sigma2, self.s, self.scale, ridges, self.finite, self.unlabelled,
                           self.coefficients)
        rows = tuple(ModelRow(width=float(count / self.scale), p=float(count), zeta=float(values["zeta"][i]),
                              gamma=float(values["dense"][i]), converged=bool(values["converged"][i]),
                              residual=float(values["residual"][i]), risk=_risks(values, i)) for i in range(k))
        return Theory(rows, None, ())

    def quantized(self, counts, quantization) -> tuple:
        """Quantized dense and magnitude-pruned risks of the models of sizes ``counts`` in closed
        form (docs/theory.rst §11, :func:`dcprune.quantization.risk.quantize_models`)."""
        from ..quantization import risk

        counts = np.asarray(counts, dtype=float)
        self.check_work(counts.size)
        out = []
        for lay in _chunks(self, counts):
            sigma2_eff = self.sigma2 + lay.tail
            dense = dense_risk(lay.lam, lay.beta, lay.mult, sigma2_eff, self.scale, ridge=self.ridge,
                               finite=self.finite)
            out += risk.quantize_models(quantization, lay.lam, lay.beta, lay.mult, sigma2_eff, self.s, self.scale,
                                        dense, self.finite, targets=risk.targets(self.coefficients))
        return tuple(out)

    def monte_carlo(self, counts, *, trials, seed, threads=None, progress=None, quantization=None):
        from ..montecarlo.simulate import diagonal_trials  # Numba loads only when simulating

        lam, beta = self.spectrum.coordinates(self.d)
        clips = None
        if quantization is not None and quantization.clip_rule == "optimal":  # the theory's range
            from ..quantization.risk import optimal_spans

            clips = optimal_spans(self.quantized(counts, quantization))
        return diagonal_trials(self.n, counts, int(self.s), trials, seed, self.ridge, self.sigma2, lam, beta,
                               threads, progress, unlabelled=self.unlabelled, coefficients=self.coefficients,
                               quantization=quantization, clips=clips)


@dataclass(frozen=True)
class DCSolution:
    """The DC of one diagonal problem (docs/theory.rst §2): ζ, γ and the per-atom Gaussians.

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
            "gamma": json_number(self.gamma),
            "tau": json_number(self.tau),
            "converged": self.converged,
            "residual": self.residual,
            "message": self.message,
        }


def _evaluate(layout: Layout, sigma2: float, s: float, n: float, ridge: float, finite: bool,
              unlabelled: float = math.inf, coefficients: str = "fixed") -> dict:
    """Every risk of :data:`~dcprune.quantities.PREDICTED` for a batch of models; arrays of shape
    ``(batch,)``; ``unlabelled`` is distillation's ``M`` (docs/theory.rst §12), ``coefficients``
    fixed or Gaussian (§11)."""
    lam, beta, mult = layout.lam, layout.beta, layout.mult
    sigma2_eff = sigma2 + layout.tail
    dense = dense_risk(lam, beta, mult, sigma2_eff, n, ridge=ridge, finite=finite)
    out = {"dense": dense.gamma, "zeta": dense.zeta}
    converged = dense.converged.copy()
    residual = dense.residual.copy()
    retrainable = {}
    for rule in RULES.values():
        pruned = prune(rule, lam, beta, mult, layout.oracle_mult, sigma2_eff, s, n, dense, coefficients)
        out[rule.name] = pruned.risk
        converged &= pruned.converged
        if rule.retrainable:
            retrainable[rule.name] = pruned
        if rule.name in DISTILLABLE:
            student = distill(rule, pruned, unlabelled, finite=finite)
            out[f"{rule.name}_distill"] = student.risk
            converged &= student.converged
            residual = np.maximum(residual, student.residual)
    for name, fresh in _retrain_together(retrainable, lam, beta, mult, sigma2_eff, n, ridge, finite):
        out[f"{name}_retrain"] = fresh.gamma
        converged &= fresh.converged
        residual = np.maximum(residual, fresh.residual)
        if name in SAME_DATA_PREDICTED:  # the heuristic of docs/theory.rst §14
            out[f"{name}_retrain_same"] = retrain_same(lam, beta, mult, retrainable[name], fresh.gamma,
                                                       sigma2_eff, s, n, dense, ridge=ridge, finite=finite)
    out["converged"] = converged
    out["residual"] = residual
    return out


def _retrain_together(pruned: dict, lam, beta, mult, sigma2_eff, n: float, ridge, finite: bool):
    """Fresh retraining (:func:`~dcprune.pruning.retrain`) of several rules' pruned models of one
    batch (``pruned``: rule name → :class:`~dcprune.pruning.Pruned`), stacked into one batched
    solve: the DC's Newton solves cost per call far more than per model (with a ridge at finite
    size each call solves three equations). Yields ``(name, DenseRisk)``; rules with and without
    a kept energy are solved apart, so each keeps its own arithmetic."""
    rows = lam.shape[0]
    ridge = np.broadcast_to(np.asarray(ridge, dtype=float), (rows,))
    groups = {}
    for name, p in pruned.items():
        groups.setdefault(p.kept_energy is None, []).append((name, p))
    for group in groups.values():
        k = len(group)
        energy = None if group[0][1].kept_energy is None else np.concatenate([p.kept_energy for _, p in group])
        fresh = retrain(np.tile(lam, (k, 1)), np.tile(beta, (k, 1)), np.tile(mult, (k, 1)),
                        np.concatenate([p.keep for _, p in group]), np.tile(sigma2_eff, k), n,
                        ridge=np.tile(ridge, k), finite=finite, kept_energy=energy)
        for i, (name, _) in enumerate(group):
            part = slice(i * rows, (i + 1) * rows)
            yield name, DenseRisk(*(getattr(fresh, f.name)[part] for f in fields(DenseRisk)))


def _chunks(setup: Diagonal, counts: np.ndarray):
    """Layouts of the models of sizes ``counts``, in memory-bounded chunks."""
    first = setup.spectrum.layout(setup.d, counts[:1], setup.s, setup.finite)
    step = max(1, _CHUNK_ELEMENTS // max(first.lam.shape[-1], 1))
    if len(counts) <= step:  # one chunk: one batched solve (each costs far more per call than per model)
        yield first if len(counts) == 1 else setup.spectrum.layout(setup.d, counts, setup.s, setup.finite)
        return
    yield first
    for start in range(1, len(counts), step):
        yield setup.spectrum.layout(setup.d, counts[start : start + step], setup.s, setup.finite)


def _sweep(setup: Diagonal, counts: np.ndarray) -> dict:
    """:func:`_evaluate` over model sizes ``counts``."""
    parts = [
        _evaluate(layout, setup.sigma2, setup.s, setup.scale, setup.ridge, setup.finite, setup.unlabelled,
                  setup.coefficients)
        for layout in _chunks(setup, counts)
    ]
    return {k: np.concatenate([part[k] for part in parts]) for k in parts[0]}


def _dense(setup: Diagonal, counts: np.ndarray) -> np.ndarray:
    """Dense risks only, for the reference line."""
    return np.concatenate([
        dense_risk(lay.lam, lay.beta, lay.mult, setup.sigma2 + lay.tail, setup.scale,
                   ridge=setup.ridge, finite=setup.finite).gamma
        for lay in _chunks(setup, counts)
    ])


def _reference(setup: Diagonal) -> Reference:
    """Best dense model with at most ``n`` weights, and oracle + retraining (docs/theory.rst §4).

    The dense models searched are the widths ``0 <= p <= n``; ``p = 0`` is the null model
    ``b = 0``, whose risk is exactly ``σ² + βᵀΣβ`` (when the signal is weak or ``n`` small,
    no fitted model beats predicting nothing).

    With fixed coefficients oracle + retraining is the dense model of the first ``s`` features;
    with Gaussian ones the oracle keeps the ``s`` most salient coordinates of the drawn β, so the
    line is the full model's oracle + retraining (docs/theory.rst §11). The dense models'
    expected risks do not depend on which.
    """
    n, d, spec = setup.scale, setup.d, setup.spectrum
    if setup.coefficients == "gaussian":
        oracle = _sweep(setup, np.array([float(d)]))["oracle_retrain"][0]
    elif setup.ridge == 0:
        oracle = _dense(setup, np.array([setup.s], dtype=float))[0]
    else:
        oracle = None  # the model of the first s features joins the width scan's batched solve
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
            candidates = np.r_[0.0, candidates]  # the null model: its formula gives σ² + βᵀΣβ
        else:
            # Smooth spectra are searched on a grid, then refined.
            grid = np.linspace(0.0, top, 2049)[1:]
            edges = spec.breakpoints(d, False)
            candidates = grid if edges is None else np.union1d(grid, edges[(edges > 0) & (edges <= top)])
            candidates = np.r_[0.0, candidates[candidates < n]]  # with the null model
    else:
        candidates = np.unique(np.linspace(0.0, top, 257)[1:])
        if setup.finite:
            candidates = np.unique(np.clip(np.round(candidates), 1, top))

        def risk(p):
            # The null model (p = 0) has no layout: its risk σ² + βᵀΣβ is the omitted energy.
            p = np.asarray(p, dtype=float)
            null = p == 0
            out = np.empty(p.shape)
            out[null] = setup.sigma2 + spec.tail(d, np.zeros(1), setup.finite)[0]
            out[~null] = _dense(setup, p[~null]) if (~null).any() else 0.0
            return out

        candidates = np.r_[0.0, candidates]
    if oracle is None:
        values = risk(np.r_[candidates, setup.s])
        values, oracle = values[:-1], values[-1]
    else:
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


def _risks(values: dict, i: int) -> Risks:
    return Risks({name: Estimate(float(values[name][i])) for name in PREDICTED})


def _problem_layout(problem: DiagonalProblem, s: float) -> Layout:
    stop = np.cumsum(problem.mult)
    start = stop - problem.mult
    oracle = overlap(start, stop, 0.0, s)
    return Layout(problem.lam[None], problem.beta[None], problem.mult[None], oracle[None], np.zeros(1), 0.0)


def solve_dc(problem: DiagonalProblem, n: float, *, ridge: float = 0.0, finite: bool = False) -> DCSolution:
    """The DC of a diagonal problem fitted on ``n`` samples (docs/theory.rst §2).

    ``finite=True`` applies the finite-``n`` noise level: γ_n of §2 without ridge, the corrected
    ridge risk of §13 with one. Real multiplicities and ``n`` describe the asymptotic law at
    that scale (``finite=False``).
    """
    n = check_sample_size(n, finite)
    ridge = finite_number("ridge", ridge, nonnegative=True)
    check_layout_size(problem.lam.size)
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
                    finite: bool = False) -> Risks:
    """Every risk of :data:`~dcprune.quantities.PREDICTED` for a model using all coordinates of ``problem``.

    ``s`` is the number of nonzeros kept; the oracle keeps the ``s`` most salient
    coordinates (the atoms are sorted by saliency).
    """
    n = check_sample_size(n, finite)
    s = finite_number("s", s, positive=True)
    ridge = finite_number("ridge", ridge, nonnegative=True)
    check_layout_size(problem.lam.size)
    values = _evaluate(_problem_layout(problem, s), problem.sigma2, s, n, ridge, finite)
    return _risks(values, 0)


#: The standard latent spectra by their command-line names.
PROBLEMS = {
    "spiked-covariance": SpikedCovariance,
    "spiked-identity": SpikedIdentity,
    "isotropic": Isotropic,
    "power-law": PowerLaw,
}


def standard_problem(name: str, **params) -> Spectrum:
    """Build a standard latent spectrum by name, ignoring ``None`` and parameters it does not take."""
    if name not in PROBLEMS:
        raise ParameterError("problem", f"must be one of {sorted(PROBLEMS)}", name)
    cls = PROBLEMS[name]
    accepted = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in params.items() if k in accepted and v is not None})
