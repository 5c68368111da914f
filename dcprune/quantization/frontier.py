r"""The least predicted risk at a bit budget (docs/theory.rst §11, "A bit budget").

A compressed model stores ``s`` weights of ``b`` bits each, and optionally its sparsity pattern
(``log2 C(p, s)`` bits). For a budget ``B`` the search runs over the widths ``p`` of the curve's
grid, the kept counts ``s ≤ p`` and the bit widths ``b = 1..16`` of both quantizers, keeping the
configurations with ``s·b (+ log2 C(p, s)) ≤ B``; each is predicted in closed form
(:mod:`dcprune.quantization.risk`: magnitude pruning to ``s``, then the quantizer on the kept
weights; ``s = p`` is the dense model quantized).

**How s is searched.** For one width, quantizer and bit width the feasible counts form a set
``F`` (an interval without ``--index-bits``). The risk is not monotone in ``s`` (fewer, larger
weights can be coded better with few bits), so the search is coarse to fine: when ``F`` has at
most :data:`EXHAUSTIVE` counts every one is evaluated; otherwise :data:`S_GRID` counts evenly
spaced over ``F`` (both ends included), then, round after round, the counts strictly between
the best one's two evaluated neighbours — all of them once at most :data:`EXHAUSTIVE`, else
:data:`S_GRID` evenly spaced — until those neighbours are adjacent in ``F``. It assumes the best
count lies between the neighbours of the best one evaluated at each resolution; tests compare it
with an exhaustive search over every ``s`` on small problems.

**What is skipped.** The quantizers and bit widths are searched in turn, every width at once
(one batched prediction per round). A count whose risk is provably no better than the best
found for its width is not refined: the lower bound of :mod:`dcprune.quantization.bounds`
(Minkowski's inequality with the quantizers' error envelope) over the clips the clip search can
still reach — from the envelope alone before its first grid (``mse``, 5–7 bits), then from the
bracket its first grid leaves. It skips only counts that cannot be the width's best; the path
of the count search can change only where a skipped count would have led the next round (the
rows were those of the search without skipping in every case measured, 1,920 rows of 32
searches, and a test checks it). A lower bound is needed:
the "quantized risk ≥ unquantized pruned risk" shortcut is false (clipping shrinks the largest
coefficients and lowers the risk of the min-norm fit, even at 16 bits).

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
from .bounds import risk_floor
from .clipping import AtomTargets
from .maps import threshold_pieces
from .pieces import piece_loss
from .risk import clips_and_risks
from .spec import Quantization

__all__ = ["Choice", "FrontierRow", "Frontier", "frontier", "storage_bits", "model_atoms", "Thresholds",
           "solve_thresholds", "EXHAUSTIVE",
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
    """Magnitude-pruning thresholds of one model by kept count (``0`` for ``s ≥ p``): the counts
    not seen before are solved in one batched root solve (:func:`dcprune.pruning.count_threshold`
    with one count per row; :func:`solve_thresholds` batches several models), then cached."""

    def __init__(self, atoms, p):
        self.atoms, self.p, self.cache = atoms, p, {}

    def missing(self, counts) -> list[int]:
        return sorted({int(s) for s in np.asarray(counts, dtype=int) if s < self.p and int(s) not in self.cache})

    def __call__(self, counts) -> np.ndarray:
        solve_thresholds([(self, counts)])
        return self.known(counts)

    def known(self, counts) -> np.ndarray:
        """The thresholds of counts already solved."""
        return np.array([0.0 if s >= self.p else self.cache[int(s)] for s in np.asarray(counts, dtype=int)],
                        dtype=float)


def solve_thresholds(requests) -> None:
    """Solve the uncached counts of every ``(Thresholds, counts)`` of ``requests`` in batched
    root solves over all their models (atoms padded with ``mult = 0``, which count nothing; each
    row's Newton iteration is its own, so the roots are those of separate solves)."""
    wanted = [(th, th.missing(counts)) for th, counts in requests]
    wanted = [(th, new) for th, new in wanted if new]
    if not wanted:
        return
    width = max(th.atoms.mu.size for th, _ in wanted)

    def padded(th, name, fill):
        v = np.asarray(getattr(th.atoms, name), dtype=float)
        return np.pad(v, (0, width - v.size), constant_values=fill)

    table = {name: np.stack([padded(th, name, fill) for th, _ in wanted])
             for name, fill in (("mu", 0.0), ("sd", 1.0), ("mult", 0.0))}
    owner = np.concatenate([np.full(len(new), k) for k, (_, new) in enumerate(wanted)])
    counts = np.concatenate([np.asarray(new, dtype=float) for _, new in wanted])
    step = max(1, _SOLVE_ELEMENTS // width)
    for i in range(0, owner.size, step):
        rows = owner[i:i + step]
        mu, sd, mult = (table[name][rows] for name in ("mu", "sd", "mult"))
        t, _ = count_threshold(mu, sd, np.ones_like(mu), mult, counts[i:i + step])
        for k, s, value in zip(rows.tolist(), counts[i:i + step].tolist(), t.tolist()):
            wanted[k][0].cache[int(s)] = value


# Rows × atoms of one batched threshold solve.
_SOLVE_ELEMENTS = 200_000


@dataclass
class _Model:
    """One width of the search: its DC, thresholds and a padded row of the stacked atoms."""

    p: int
    width: float
    atoms: object
    sigma2_eff: float
    gamma: float
    thresholds: Thresholds


def _stack(models):
    """The models' atoms as stacked :class:`~dcprune.quantization.clipping.AtomTargets`, one row
    per model, padded to the most atoms with ``mult = 0`` (and ``sd = 1``: no point masses)."""
    width = max(m.atoms.mu.size for m in models)
    pad = {"sd": 1.0}

    def column(name):
        return np.stack([np.pad(np.asarray(getattr(m.atoms, name), dtype=float), (0, width - m.atoms.mu.size),
                                constant_values=pad.get(name, 0.0)) for m in models])

    return AtomTargets(*(column(f) for f in ("mu", "sd", "b0", "b1", "w", "mult", "lam")))


def _first_counts(size):
    """Positions in a feasible set of ``size`` counts evaluated first (see the module docstring)."""
    if size <= EXHAUSTIVE:
        return np.arange(size)
    return np.unique(np.round(np.linspace(0, size - 1, S_GRID)).astype(int))


def _next_counts(risks):
    """Positions to evaluate next, given the risks so far (``nan`` where not evaluated): the
    counts strictly between the best one's evaluated neighbours, all of them when at most
    :data:`EXHAUSTIVE`, else :data:`S_GRID` evenly spaced (none: the search is done)."""
    seen = ~np.isnan(risks)
    best = int(np.argmin(np.where(seen, risks, np.inf)))  # ties: the smallest count
    pos = np.flatnonzero(seen)
    below, above = pos[pos < best], pos[pos > best]
    lo = below[-1] if below.size else best
    hi = above[0] if above.size else best
    gap = np.arange(lo + 1, hi)
    gap = gap[~seen[gap]]  # the best one itself is the only evaluated count between them
    if gap.size <= EXHAUSTIVE:
        return gap
    grid = np.unique(np.round(np.linspace(lo, hi, S_GRID + 2)[1:-1]).astype(int))
    return grid[~seen[grid]]


def _search_counts(spec, feasible, models, stacked, incumbent, exempt):
    """The kept-count search of one quantizer and bit width over every model at once: for each
    model ``(clips, risks)`` over its ``feasible`` counts (``nan`` where not evaluated; ``inf``
    where unusable or skipped). Each round predicts the new counts of every model in one call;
    a count whose :func:`~dcprune.quantization.bounds.risk_floor` over its clip bracket exceeds
    the best risk of its model so far (``incumbent``, or this search's) is not refined (risk
    ``inf``), except at the position ``exempt[k]`` of a model's feasible counts (``−1``: none)."""
    clips = [np.full(f.size, np.nan) for f in feasible]
    risks = [np.full(f.size, np.nan) for f in feasible]
    todo = [_first_counts(f.size) for f in feasible]
    noise = np.array([m.sigma2_eff for m in models])
    while any(t.size for t in todo):
        which = np.concatenate([np.full(t.size, k) for k, t in enumerate(todo)])
        solve_thresholds([(models[k].thresholds, feasible[k][t]) for k, t in enumerate(todo)])
        thresholds = np.concatenate([models[k].thresholds.known(feasible[k][t]) for k, t in enumerate(todo)])
        keep = np.concatenate([t == exempt[k] for k, t in enumerate(todo)])
        bar = np.array([min(incumbent[k], np.nanmin(r, initial=np.inf)) for k, r in enumerate(risks)])[which]
        atoms = stacked.rows(which)

        def screen(rows, lo, hi, thresholds=thresholds, atoms=atoms, which=which, keep=keep, bar=bar):
            floor = risk_floor(spec, thresholds[rows], lo, hi, atoms.rows(rows), noise[which[rows]])
            return keep[rows] | (floor <= bar[rows] * (1.0 + _FLOOR_SLACK))

        c, r = clips_and_risks(spec, thresholds, atoms, noise[which], True, fine_risk=True, grid=CLIP_GRID,
                               screen=screen)
        r = np.where(np.isfinite(r), r, np.inf)
        start = 0
        for k, t in enumerate(todo):
            clips[k][t], risks[k][t] = c[start:start + t.size], r[start:start + t.size]
            start += t.size
        todo = [_next_counts(risks[k]) if t.size else t for k, t in enumerate(todo)]
    return clips, risks


# Rounding allowance of the bound's comparison (relative): a floor this close to the best risk
# is refined anyway.
_FLOOR_SLACK = 1e-9


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
    widths = problem.grid(points).astype(int)
    models = {}
    for p in widths:
        atoms, sigma2_eff, gamma = model_atoms(problem, int(p))
        if math.isfinite(gamma):
            models[int(p)] = _Model(int(p), p / problem.n, atoms, sigma2_eff, gamma, Thresholds(atoms, int(p)))
    best, dense_q = _search(specs, list(models.values()), budget, index_bits)
    rows = []
    for p in widths:
        p = int(p)
        width = p / problem.n
        if p not in models:
            rows.append(FrontierRow(width, p, None, None, None))
            continue
        rows.append(FrontierRow(width, p, best.get(p), _prune_only(models[p], budget, index_bits), dense_q.get(p)))
    feasible = [r.best for r in rows if r.best is not None]
    if not feasible:
        raise ParameterError("budget", "fits no model of these widths (one weight of 1 bit, plus its index with "
                             "--index-bits)", budget)
    overall = min(feasible, key=lambda c: c.risk)
    ref = problem.theory(np.array([float(problem.d)]))
    reference = {"dense_full_precision": ref.rows[0].gamma if math.isfinite(ref.rows[0].gamma) else None,
                 "best_small_dense": ref.reference.best_small_dense}
    warnings = []
    if problem.coefficients == "fixed":
        warnings.append("fixed coefficients: within an atom every |β_i| is equal, so a quantizer's levels can "
                        "line up with β (docs/theory.rst §11); random coefficients are the honest benchmark")
    return Frontier(budget, bool(index_bits), overall, tuple(rows), reference, tuple(warnings))


def _search(specs, models, budget, index_bits):
    """The best configuration of each model (``{p: Choice}``) and its best dense quantized one
    at the most bits that fit (``{p: Choice}``)."""
    best, dense_q = {}, {}
    if not models:
        return best, dense_q
    stacked = _stack(models)
    top_bits = max(s.bits for s in specs)
    for spec in specs:
        feasible = []
        for m in models:
            counts = np.arange(1, m.p + 1)
            feasible.append(counts[storage_bits(m.p, counts, spec.bits, index_bits) <= budget])
        live = [k for k, f in enumerate(feasible) if f.size]
        if not live:
            continue
        top = [min(int(budget // models[k].p), top_bits) for k in live]
        exempt = [feasible[k].size - 1 if spec.bits == b and feasible[k][-1] == models[k].p else -1
                  for k, b in zip(live, top)]
        incumbent = [best[models[k].p].risk if models[k].p in best else np.inf for k in live]
        clips, risks = _search_counts(spec, [feasible[k] for k in live], [models[k] for k in live],
                                      stacked.rows(np.array(live)), incumbent, exempt)
        for k, c, r in zip(live, clips, risks):
            m, f = models[k], feasible[k]
            i = int(np.argmin(np.where(np.isnan(r), np.inf, r)))
            if math.isfinite(r[i]) and (m.p not in best or r[i] < best[m.p].risk):
                best[m.p] = Choice(m.width, m.p, int(f[i]), spec.bits, spec.quantizer, float(c[i]), float(r[i]))
            # The dense model quantized at the most bits that fit is the search's s = p (always evaluated).
            if spec.bits == min(int(budget // m.p), top_bits) and f[-1] == m.p and math.isfinite(r[-1]) and (
                    m.p not in dense_q or r[-1] < dense_q[m.p].risk):
                dense_q[m.p] = Choice(m.width, m.p, m.p, spec.bits, spec.quantizer, float(c[-1]), float(r[-1]))
    return best, dense_q


def _prune_only(m, budget, index_bits) -> Choice | None:
    """32-bit magnitude pruning of ``m`` in the budget: as many unquantized weights as fit."""
    counts = np.arange(1, m.p + 1)
    fits = counts[storage_bits(m.p, counts, FULL_PRECISION, index_bits) <= budget]
    if not fits.size:
        return None
    s32 = int(fits.max())
    risk = m.gamma if s32 >= m.p else _pruned_risk(m.atoms, m.sigma2_eff, float(m.thresholds([s32])[0]))
    return Choice(m.width, m.p, s32, FULL_PRECISION, None, None, risk)
