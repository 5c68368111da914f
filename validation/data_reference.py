"""A plain NumPy reference of ``dcprune data --empirical``: one Python loop per trial, ``lstsq``
per fit, every model evaluated as the mean over all N rows of (y − xᵀb)².

It repeats the procedure of :mod:`dcprune.yourdata.empirical` from its description only (the
same rows, the same keys and the same oracle support per trial), so that tests and
``validation/bench_data.py`` can hold the fast check to it: equal means, and a speed ratio.
"""

from __future__ import annotations

import numpy as np

from dcprune.quantities import DISTILLABLE, MEASURED, RETRAINABLE
from dcprune.yourdata.empirical import oracle_support, trial_rows


def _risk(Z, t, cols, b):
    """Mean over all rows of the squared error of the model b on columns cols."""
    return float(np.mean((t - Z[:, cols] @ b) ** 2))


def _top(score, s):
    return np.sort(np.argsort(-score, kind="stable")[:s])


def reference_run(pop, n, s, widths, *, trials, seed=0):
    """``{p: {name: (trials,) array}}``, trial by trial."""
    Z, t = pop.Z, pop.t
    out = {p: {name: np.empty(trials) for name in MEASURED} for p in widths}
    oracles = {p: oracle_support(pop, p, s) for p in widths if s < p}
    for k in range(trials):
        rows, keys = trial_rows(seed, k, pop.N, n, pop.d)
        tr, fr = rows[:n], rows[n:]
        for p in widths:
            X1 = Z[tr, :p]
            b = np.linalg.lstsq(X1, t[tr], rcond=None)[0]
            res = {"dense": _risk(Z, t, np.arange(p), b)}
            if s >= p:
                res.update({name: res["dense"] for name in MEASURED})
            else:
                kept = {"magnitude": _top(np.abs(b), s),
                        "hessian": _top(np.mean(X1**2, axis=0) * b**2, s),
                        "oracle": oracles[p],
                        "random": _top(keys[:p], s)}
                for name, idx in kept.items():
                    res[name] = _risk(Z, t, idx, b[idx])
                for name in RETRAINABLE:
                    idx = kept[name]
                    fresh = np.linalg.lstsq(Z[np.ix_(fr, idx)], t[fr], rcond=None)[0]
                    same = np.linalg.lstsq(Z[np.ix_(tr, idx)], t[tr], rcond=None)[0]
                    res[f"{name}_retrain"] = _risk(Z, t, idx, fresh)
                    res[f"{name}_retrain_same"] = _risk(Z, t, idx, same)
                for name in DISTILLABLE:  # the student on every row: the population projection
                    idx = kept[name]
                    student = np.linalg.lstsq(Z[:, idx], Z[:, :p] @ b, rcond=None)[0]
                    res[f"{name}_distill"] = _risk(Z, t, idx, student)
            for name in MEASURED:
                out[p][name][k] = res[name]
    return out
