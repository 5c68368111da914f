"""Bounded 1-D minimization of many risks at once, for :mod:`dcprune.workflows.best`.

Every risk of a problem is a function of one parameter ``x`` (the width, the sparsity or the
ridge) on a bounded interval ``[lo, hi]``, and one evaluation gives *all* of them (one batched
call of the closed forms, docs/theory.rst §2–5). :func:`zoom` minimizes each of them:

1. evaluate a starting grid (which includes the points where the risks may have kinks: atom
   edges, ``p = s``, the interpolation peak) and take each quantity's grid argmin;
2. the minimum of a function that is smooth between grid points lies in the bracket of the
   argmin's two neighbours; evaluate ``points`` interior points of every open bracket in one
   batched call and shrink each bracket to the neighbours of its new argmin;
3. stop a quantity when its bracket is narrower than ``xtol`` (or, for an integer parameter,
   when every integer in it has been evaluated: then the minimum is exact).

A bracket shrinks by ``(points + 1)/2`` per round, so the minimizer is found to ``xtol`` in
``log((hi − lo)/xtol) / log((points + 1)/2)`` rounds, each one call for every quantity. The
risk at a smooth minimum errs by the square of the width error; at a kink (an atom edge) by
its slope times it. ``converged`` is False for a quantity whose bracket did not close in
``max_rounds`` or whose evaluation at the minimizer did not converge.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Minimum", "zoom"]


@dataclass(frozen=True)
class Minimum:
    """The minimizer ``x`` of one quantity, its value ``value`` and whether the search closed."""

    x: float
    value: float
    converged: bool


# Values this close (relatively) count as equal: rounding, not a better model.
_TIE = 1e-13


class _Cache:
    """Evaluations at sorted points (one row per quantity), shared by every bracket."""

    def __init__(self, evaluate, names):
        self.evaluate, self.names = evaluate, tuple(names)
        self.x = np.empty(0)
        self.v = np.empty((len(self.names), 0))
        self.ok = np.empty(0, dtype=bool)

    def fill(self, xs) -> None:
        xs = np.unique(np.asarray(xs, dtype=float))
        new = xs[~np.isin(xs, self.x)]
        if new.size == 0:
            return
        values, ok = self.evaluate(new)
        v = np.array([np.asarray(values[k], dtype=float) for k in self.names])
        v[~np.isfinite(v)] = np.inf  # NaN and the peak's inf lose every comparison
        x = np.r_[self.x, new]
        order = np.argsort(x, kind="stable")
        self.x, self.v, self.ok = x[order], np.c_[self.v, v][:, order], np.r_[self.ok, ok][order]

    def bracket(self, row: int, a: float, b: float):
        """The argmin of quantity ``row`` over the evaluated points of ``[a, b]`` and its neighbours."""
        lo, hi = np.searchsorted(self.x, [a, b], side="left")
        hi = min(hi + 1, self.x.size)
        vals = self.v[row, lo:hi]
        best = vals.min()
        # Ties (a flat risk, e.g. oracle + retraining past p = s) go to the smallest x.
        i = int(np.flatnonzero(vals <= best + _TIE * abs(best))[0]) if np.isfinite(best) else 0
        j = lo + i
        return self.x[max(j - 1, lo)], self.x[j], self.x[min(j + 1, hi - 1)]

    def at(self, row: int, x: float) -> tuple[float, bool]:
        j = int(np.searchsorted(self.x, x))
        return float(self.v[row, j]), bool(self.ok[j])


def zoom(evaluate, names, grid, lo: float, hi: float, *, integer: bool = False, points: int = 8,
         xtol: float = 0.0, max_rounds: int = 80) -> dict[str, Minimum]:
    """Minimize every quantity of ``names`` over ``[lo, hi]`` (see the module docstring).

    Parameters
    ----------
    evaluate : callable
        ``evaluate(xs) -> (values, ok)``: for a sorted 1-D array of points, a mapping name →
        array of values and a boolean array (the evaluation converged).
    names : sequence of str
        The quantities to minimize.
    grid : array_like
        Starting points in ``[lo, hi]`` (``lo`` and ``hi`` are added).
    integer : bool
        Minimize over the integers of ``[lo, hi]`` (exact: the last bracket is exhausted).
    points : int
        Interior points per bracket and round.
    xtol : float
        Bracket width at which a continuous search stops.

    Returns
    -------
    dict
        name → :class:`Minimum`.
    """
    grid = np.asarray(grid, dtype=float)
    grid = np.unique(np.clip(np.r_[lo, grid, hi], lo, hi))
    if integer:
        grid = np.unique(np.round(grid))
    cache = _Cache(evaluate, names)
    cache.fill(grid)
    state = [cache.bracket(i, lo, hi) for i in range(len(names))]
    done = [False] * len(names)
    for _ in range(max_rounds):
        wanted = {}
        for i, (a, mid, b) in enumerate(state):
            if done[i]:
                continue
            if integer:
                inner = np.unique(np.round(np.linspace(a, b, points + 2)))
            else:
                inner = np.linspace(a, b, points + 2)[1:-1]
            inner = inner[(inner > a) & (inner < b) & ~np.isin(inner, cache.x)]
            centre = cache.at(i, mid)[0]
            flat = max(cache.at(i, a)[0], cache.at(i, b)[0]) - centre <= _TIE * abs(centre)
            if (integer and inner.size == 0) or (not integer and (b - a <= xtol or flat)):
                done[i] = True
                continue
            wanted[i] = inner
        if not wanted:
            break
        cache.fill(np.concatenate(list(wanted.values())))
        for i in wanted:
            a, _, b = state[i]
            state[i] = cache.bracket(i, a, b)
    out = {}
    for i, name in enumerate(names):
        value, ok = cache.at(i, state[i][1])
        out[name] = Minimum(float(state[i][1]), value, done[i] and ok)
    return out
