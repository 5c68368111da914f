r"""The least predicted risk at a bit budget (docs/theory.rst §11, "A bit budget").

A compressed model stores ``s`` weights of ``b`` bits each, and optionally its sparsity pattern
(``log2 C(p, s)`` bits). For a budget ``B`` the search runs over the widths ``p`` of the curve's
grid, the kept counts ``s ≤ p`` and the bit widths ``b = 1..16`` of both quantizers, keeping the
configurations with ``s·b (+ log2 C(p, s)) ≤ B``; each is predicted in closed form
(:mod:`dcprune.quantization.risk`: magnitude pruning to ``s``, then the quantizer on the kept
weights; ``s = p`` is the dense model quantized).

**How s is searched.** For one width, quantizer and bit width the feasible counts form a set
``F`` (an interval without ``--index-bits``). The risk is not monotone in ``s`` (fewer, larger
weights can be coded better with few bits) and can have several local minima, so: when ``F``
has at most :data:`EXHAUSTIVE` counts every one is evaluated; otherwise :data:`S_GRID` counts
evenly spaced over ``F`` (its largest included) are evaluated, and then every count of ``F``
between the best one's two grid neighbours. Tests compare it with an exhaustive search over
every ``s`` on small problems.

From :data:`~dcprune.quantization.clipping.FINE_SEARCH_BITS` bits on, the risks compared are
those of the fine-regime map (relative error of order ``(Δ/s)²``, below 1e-5 there).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import gammaln

from ..checks import ParameterError, finite_number
from ..pruning import count_threshold
from ..solver import dense_risk
from . import risk
from .maps import threshold_pieces
from .pieces import piece_loss
from .risk import clips_and_risks
from .spec import Quantization

__all__ = ["Choice", "FrontierRow", "Frontier", "frontier", "storage_bits", "model_atoms", "Thresholds", "EXHAUSTIVE",
           "S_GRID", "CLIP_GRID"]

#: Feasible kept counts up to which every one is evaluated.
EXHAUSTIVE = 24
#: Kept counts of the coarse pass over larger feasible sets.
S_GRID = 12
#: Clips of the clip search's first grid in the bit-budget search (a single prediction uses
#: :data:`~dcprune.quantization.clipping.GRID`; the zoomed rounds are the same).
CLIP_GRID = 16
#: Bits of an unquantized weight (the prune-only comparison).
FULL_PRECISION = 32


def storage_bits(p, s, bits, index_bits: bool):
    """Bits to store ``s`` of ``p`` weights at ``bits`` each, plus ``log2 C(p, s)`` for the
    sparsity pattern with ``index_bits`` (none when ``s = p``)."""
    s = np.asarray(s, dtype=float)
    pattern = (gammaln(p + 1) - gammaln(s + 1) - gammaln(p - s + 1)) / math.log(2) if index_bits else 0.0
    return s * bits + np.maximum(pattern, 0.0)


@dataclass(frozen=True)
class Choice:
    """One stored model: width ``p/n``, ``p``, ``s`` kept weights of ``bits`` bits, the quantizer,
    its clip (``None`` unquantized) and the predicted risk."""

    width: float
    p: int
    s: int
    bits: int
    quantizer: str | None
    clip: float | None
    risk: float

    def to_dict(self) -> dict:
        num = lambda x: None if x is None or not math.isfinite(x) else float(x)  # noqa: E731
        return {"width": self.width, "p": self.p, "s": self.s, "bits": self.bits, "quantizer": self.quantizer,
                "clip": num(self.clip), "risk": num(self.risk)}


@dataclass(frozen=True)
class FrontierRow:
    """The best stored model of one width, the best 32-bit pruned one and the best dense
    quantized one within the budget (``None`` where nothing fits)."""

    width: float
    p: int
    best: Choice | None
    prune_only: Choice | None
    dense_quantized: Choice | None

    def to_dict(self) -> dict:
        part = lambda c: None if c is None else c.to_dict()  # noqa: E731
        return {"width": self.width, "p": self.p, "best": part(self.best), "prune_only": part(self.prune_only),
                "dense_quantized": part(self.dense_quantized)}


@dataclass(frozen=True)
class Frontier:
    """The bit-budget search: the overall ``best``, one row per width, the references
    (the full-width dense model at full precision, the best dense model with ``p ≤ n``)."""

    budget: float
    index_bits: bool
    best: Choice | None
    rows: tuple[FrontierRow, ...]
    reference: dict
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        """The JSON contract of ``dcprune frontier``."""
        return {"budget": self.budget, "index_bits": self.index_bits,
                "best": None if self.best is None else self.best.to_dict(),
                "rows": [r.to_dict() for r in self.rows], "reference": self.reference,
                "warnings": list(self.warnings)}


def model_atoms(problem, p):
    """The DC of the model of width ``p`` (docs/theory.rst §2): its atoms, ``σ_eff²`` and dense
    risk."""
    lay = problem.spectrum.layout(problem.d, np.array([float(p)]), problem.s, True)
    sigma2_eff = problem.sigma2 + lay.tail
    dense = dense_risk(lay.lam, lay.beta, lay.mult, sigma2_eff, problem.scale, finite=True)
    keep = lay.mult[0] > 0
    c = dense.shrink[0][keep]
    lam, beta, mult = lay.lam[0][keep], lay.beta[0][keep], lay.mult[0][keep]
    atoms = risk.targets(problem.coefficients)(lam, beta, mult, c, c * np.sqrt(dense.tau[0] / (problem.n * lam)))
    return atoms, float(sigma2_eff[0]), float(dense.gamma[0])




class Thresholds:
    """Magnitude-pruning thresholds of one model, solved once per kept count."""

    def __init__(self, atoms, p):
        self.atoms, self.p, self.cache = atoms, p, {}

    def __call__(self, counts) -> np.ndarray:
        out = []
        a = self.atoms
        for s in counts:
            s = int(s)
            if s not in self.cache:
                self.cache[s] = 0.0 if s >= self.p else float(count_threshold(
                    a.mu[None], a.sd[None], np.ones((1, a.mu.size)), a.mult[None], float(s))[0][0])
            out.append(self.cache[s])
        return np.array(out)


def _best_count(spec, feasible, thresholds, atoms, sigma2_eff):
    """``(s, clip, risk)`` of the best kept count of ``feasible`` (see the module docstring)."""
    def evaluate(counts):
        clips, risks = clips_and_risks(spec, thresholds(counts), atoms, sigma2_eff, True, fine_risk=True,
                                       grid=CLIP_GRID)
        risks = np.where(np.isfinite(risks), risks, np.inf)
        i = int(np.argmin(risks))
        return i, clips, risks

    if feasible.size <= EXHAUSTIVE:
        i, clips, risks = evaluate(feasible)
        return int(feasible[i]), float(clips[i]), float(risks[i])
    idx = np.unique(np.round(np.linspace(0, feasible.size - 1, S_GRID)).astype(int))
    i, clips, risks = evaluate(feasible[idx])
    best = (int(feasible[idx[i]]), float(clips[i]), float(risks[i]))
    lo, hi = idx[max(i - 1, 0)], idx[min(i + 1, idx.size - 1)]
    between = np.setdiff1d(feasible[lo:hi + 1], feasible[idx])
    if between.size:
        j, clips, risks = evaluate(between)
        if risks[j] < best[2]:
            best = (int(between[j]), float(clips[j]), float(risks[j]))
    return best


def _pruned_risk(atoms, sigma2_eff, t):
    """The unquantized magnitude-pruned risk at threshold ``t`` (docs/theory.rst §3)."""
    loss = piece_loss(threshold_pieces(np.array([t])), atoms.mu[None], atoms.sd[None], atoms.b0[None],
                      atoms.b1[None], atoms.w[None])
    return float(sigma2_eff + (atoms.mult * atoms.lam * loss).sum())


def frontier(problem, budget, *, index_bits: bool = False, points: int = 20, clip="mse", rounding="nearest",
             quantizers=("sign-magnitude", "mid-tread"), max_bits: int = 16) -> Frontier:
    """The least predicted risk of a model stored in ``budget`` bits (see the module docstring).

    ``problem`` is a :class:`~dcprune.Diagonal` problem with a finite ``n``; the widths are
    those of ``dcprune.sweep(problem, points)``; ``clip`` and ``rounding`` are those of
    :class:`~dcprune.Quantization`.
    """
    from ..families.diagonal import Diagonal

    if not isinstance(problem, Diagonal):
        raise ParameterError("problem", "must be a Diagonal problem (the bit-budget search is closed-form)", problem)
    if not problem.finite:
        raise ParameterError("n", "is required for the bit-budget search (kept counts are whole weights)", None)
    budget = finite_number("budget", budget, positive=True)
    if budget < 1:
        raise ParameterError("budget", "must be at least one weight's bits (1)", budget)
    specs = [Quantization(b, q, clip, rounding) for q in quantizers for b in range(1 if q == "sign-magnitude" else 2,
                                                                                     max_bits + 1)]
    rows, warnings = [], []
    for p in problem.grid(points).astype(int):
        rows.append(_width_row(problem, int(p), budget, index_bits, specs))
    feasible = [r.best for r in rows if r.best is not None]
    if not feasible:
        raise ParameterError("budget", "fits no model of these widths (one weight of 1 bit, plus its index with "
                             "--index-bits)", budget)
    best = min(feasible, key=lambda c: c.risk)
    ref = problem.theory(np.array([float(problem.d)]))
    reference = {"dense_full_precision": ref.rows[0].gamma if math.isfinite(ref.rows[0].gamma) else None,
                 "best_small_dense": ref.reference.best_small_dense}
    if problem.coefficients == "fixed":
        warnings.append("fixed coefficients: within an atom every |β_i| is equal, so a quantizer's levels can "
                        "line up with β (docs/theory.rst §11); random coefficients are the honest benchmark")
    return Frontier(budget, bool(index_bits), best, tuple(rows), reference, tuple(warnings))


def _width_row(problem, p, budget, index_bits, specs) -> FrontierRow:
    width = p / problem.n
    atoms, sigma2_eff, gamma = model_atoms(problem, p)
    if not math.isfinite(gamma):
        return FrontierRow(width, p, None, None, None)
    thresholds = Thresholds(atoms, p)
    counts = np.arange(1, p + 1)
    best = None
    for spec in specs:
        feasible = counts[storage_bits(p, counts, spec.bits, index_bits) <= budget]
        if feasible.size == 0:
            continue
        s, c, r = _best_count(spec, feasible, thresholds, atoms, sigma2_eff)
        if math.isfinite(r) and (best is None or r < best.risk):
            best = Choice(width, p, s, spec.bits, spec.quantizer, c, r)
    fits = counts[storage_bits(p, counts, FULL_PRECISION, index_bits) <= budget]
    prune_only = None
    if fits.size:
        s32 = int(fits.max())
        risk = gamma if s32 >= p else _pruned_risk(atoms, sigma2_eff, float(thresholds([s32])[0]))
        prune_only = Choice(width, p, s32, FULL_PRECISION, None, None, risk)
    dense_q = None
    top = min(int(budget // p), max(s.bits for s in specs))
    for spec in specs:
        if spec.bits != top:
            continue
        clips, risks = clips_and_risks(spec, np.zeros(1), atoms, sigma2_eff, True, fine_risk=True,
                                       grid=CLIP_GRID)
        if math.isfinite(risks[0]) and (dense_q is None or risks[0] < dense_q.risk):
            dense_q = Choice(width, p, p, spec.bits, spec.quantizer, float(clips[0]), float(risks[0]))
    return FrontierRow(width, p, best, prune_only, dense_q)
