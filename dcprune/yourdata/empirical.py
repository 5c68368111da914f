r"""The honest check: the real procedure run on subsamples of the user's own rows.

Per trial: draw ``2n`` rows without replacement from the population (the first ``n`` train,
the other ``n`` are the disjoint fresh sample); for each width ``p`` fit min-norm least squares
on the first ``p`` columns of the training rows; prune to ``s`` by magnitude :math:`|b_i|`, by
Hessian :math:`\hat\Sigma_{ii} b_i^2` (:math:`\hat\Sigma = X_1^\top X_1/n`), by the oracle (the
population saliency :math:`\Sigma_{ii}\beta_i^2` of the width-``p`` problem) and at random;
retrain the kept columns on the fresh rows (``*_retrain``, what the theory predicts) and on the
training rows (``*_retrain_same``, measured only); distill magnitude's and the oracle's kept
columns by the population projection :math:`\Sigma_{SS}^{-1}\Sigma_{SP}b` (``*_distill``,
docs/theory.rst §12: a student on unlimited unlabelled rows); evaluate every model by its exact
population risk :math:`c_0 - 2b^\top q + b^\top\Sigma b` (:meth:`Population.risk`).
With ``s >= p`` nothing is pruned and every quantity is the dense risk (as in the theory).

Randomness: trial ``k`` uses ``numpy.random.default_rng(SeedSequence([seed, k]))`` for its rows
(``choice(N, 2n, replace=False)``) and then one uniform key per column (random pruning keeps the
``s`` largest keys among the first ``p``), so a trial's numbers depend on ``(seed, k)`` only.

Speed. The fits never touch the rows again after two batched Gram products per chunk of trials
(:math:`X_1^\top X_1`, :math:`X_1^\top y_1` and the same for the fresh rows, over all ``d``
columns): every width and every retrained support is a sub-block of these. A system is solved
by Cholesky/LU when its Cholesky pivots are all above :data:`GRAM_RTOL` times its largest
diagonal entry, and otherwise by the eigendecomposition of the Gram matrix, eigenvalues at or
below :data:`GRAM_RTOL` times the largest counted as zero: that is the min-norm solution
:math:`X^+y = (X^\top X)^+X^\top y`. It agrees with ``numpy.linalg.lstsq`` except on samples
that are collinear to within that tolerance (such as two columns constant in the sample), where
this cut is the exact-arithmetic answer and ``lstsq`` returns rounding noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..quantities import DISTILLABLE, MEASURED, RETRAINABLE
from ..rules import top_s, top_s_stable
from .population import Population

__all__ = ["EmpiricalRun", "run_empirical", "trial_rows", "min_norm", "oracle_support", "GRAM_RTOL"]

#: Relative cut for a Gram matrix: pivots or eigenvalues at or below it count as zero
#: (a singular value below 1e-5 of the largest: collinear to rounding, not to sampling).
GRAM_RTOL = 1e-10
# Float64 numbers per chunk of trials (the stacked rows): bounds memory at ~32 MB.
_CHUNK_ELEMENTS = 4_000_000


def trial_rows(seed: int, trial: int, N: int, n: int, d: int):
    """Rows (``2n`` indices, training first) and random-pruning keys (``d``) of one trial."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, trial]))
    return rng.choice(N, 2 * n, replace=False), rng.random(d)


def min_norm(G, r, rows: int) -> np.ndarray:
    """Min-norm least squares from stacked Gram matrices ``G`` (T×k×k) and ``r = Xᵀy`` (T×k)
    of ``rows`` samples each (module docstring)."""
    T, k = r.shape
    out = np.empty((T, k))
    slow = np.ones(T, dtype=bool)
    if k < rows:
        top = np.max(np.diagonal(G, axis1=-2, axis2=-1), axis=-1)
        try:
            piv = np.diagonal(np.linalg.cholesky(G), axis1=-2, axis2=-1) ** 2
            slow = piv.min(axis=-1) <= GRAM_RTOL * top
        except np.linalg.LinAlgError:  # one matrix of the stack is singular: decompose them all
            pass
        fast = ~slow
        if fast.any():
            out[fast] = np.linalg.solve(G[fast], r[fast][..., None])[..., 0]
    if slow.any():
        mu, V = np.linalg.eigh(G[slow])
        inv = np.zeros_like(mu)
        np.divide(1.0, mu, out=inv, where=mu > GRAM_RTOL * mu[:, -1:])
        out[slow] = np.einsum("tij,tj->ti", V, inv * np.einsum("tji,tj->ti", V, r[slow]))
    return out


def oracle_support(pop: Population, p: int, s: int) -> np.ndarray:
    r"""The oracle's ``s`` columns of the width-``p`` model: the top :math:`\Sigma_{ii}\beta_{P,i}^2` of
    the best predictor on the first ``p`` columns, ties to the lower index (as in the theory)."""
    sub = pop.problem.leading(p)
    return top_s_stable(np.diag(sub.Sigma) * sub.beta**2, s)


def _sub(G, r, idx):
    t = np.arange(idx.shape[0])[:, None]
    return G[t[:, :, None], idx[:, :, None], idx[:, None, :]], r[t, idx]


def _support_risk(pop: Population, idx, b) -> np.ndarray:
    """Population risk of coefficients ``b`` (T×s) on columns ``idx`` (T×s)."""
    sig = pop.Sigma[idx[:, :, None], idx[:, None, :]]
    quad = np.einsum("ti,tij,tj->t", b, sig, b)
    return pop.c0 - 2.0 * np.einsum("ti,ti->t", b, pop.q[idx]) + quad


@dataclass(frozen=True)
class EmpiricalRun:
    """Per-trial population risks: ``values[p][name]`` is a ``(trials,)`` array for every name
    of :data:`~dcprune.quantities.MEASURED`."""

    n: int
    s: int
    widths: tuple[int, ...]
    trials: int
    seed: int
    values: dict


def _chunk(pop, n, s, widths, oracles, seed, trials_range, out):
    draws = [trial_rows(seed, k, pop.N, n, pop.d) for k in trials_range]
    rows = np.stack([r for r, _ in draws])
    keys = np.stack([u for _, u in draws])
    A, y = pop.Z[rows], pop.t[rows]
    X1, y1, X2, y2 = A[:, :n], y[:, :n], A[:, n:], y[:, n:]
    X1t, X2t = X1.transpose(0, 2, 1), X2.transpose(0, 2, 1)
    G1, r1 = X1t @ X1, np.einsum("tij,tj->ti", X1t, y1)
    G2, r2 = X2t @ X2, np.einsum("tij,tj->ti", X2t, y2)
    T = rows.shape[0]
    for p in widths:
        g1, v1 = G1[:, :p, :p], r1[:, :p]
        b = min_norm(g1, v1, n)
        res = {"dense": pop.risk(b)}
        if s >= p:
            res.update({name: res["dense"] for name in MEASURED})
        else:
            kept = {
                "magnitude": top_s(np.abs(b), s),
                "hessian": top_s(np.diagonal(g1, axis1=-2, axis2=-1) / n * b**2, s),
                "oracle": np.broadcast_to(oracles[p], (T, s)),
                "random": top_s(keys[:, :p], s),
            }
            t = np.arange(T)[:, None]
            for name, idx in kept.items():
                res[name] = _support_risk(pop, idx, b[t, idx])
            for name in RETRAINABLE:
                idx = np.ascontiguousarray(kept[name])
                res[f"{name}_retrain"] = _support_risk(pop, idx, min_norm(*_sub(G2, r2, idx), n))
                res[f"{name}_retrain_same"] = _support_risk(pop, idx, min_norm(*_sub(G1, r1, idx), n))
            for name in DISTILLABLE:
                idx = np.ascontiguousarray(kept[name])
                sig = pop.Sigma[idx[:, :, None], idx[:, None, :]]
                rhs = np.einsum("tij,tj->ti", pop.Sigma[idx, :p], b)
                # The population Gram of the kept columns: min_norm's solve, full rank but for collinear columns.
                res[f"{name}_distill"] = _support_risk(pop, idx, min_norm(sig, rhs, idx.shape[1] + 1))
        for name in MEASURED:
            out[p][name].append(res[name])


def run_empirical(pop: Population, n: int, s: int, widths, *, trials: int, seed: int = 0,
                  progress=None) -> EmpiricalRun:
    """Run the real procedure (module docstring) ``trials`` times; refuses ``2n > N``."""
    widths = tuple(int(p) for p in widths)
    if 2 * n > pop.N:
        raise ValueError(f"the check draws 2n = {2 * n} distinct rows (n to train, n fresh) but the data has "
                         f"N = {pop.N}: use n <= {pop.N // 2}")
    if trials < 2:
        raise ValueError(f"trials must be at least 2 (a standard error needs two), got {trials}")
    if not widths or min(widths) < 1 or max(widths) > pop.d:
        raise ValueError(f"widths must be from 1 to d = {pop.d}, got {widths}")
    out = {p: {name: [] for name in MEASURED} for p in widths}
    oracles = {p: oracle_support(pop, p, s) for p in widths if s < p}
    step = max(1, _CHUNK_ELEMENTS // (2 * n * pop.d + pop.d * pop.d))
    for start in range(0, trials, step):
        chunk = range(start, min(trials, start + step))
        _chunk(pop, n, s, widths, oracles, seed, chunk, out)
        if progress is not None:
            progress(len(chunk))
    values = {p: {name: np.concatenate(v) for name, v in q.items()} for p, q in out.items()}
    return EmpiricalRun(n, s, widths, trials, seed, values)
