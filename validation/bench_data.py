"""Speed of ``dcprune data --empirical`` against the plain NumPy reference (validation/data_reference.py).

The problem of the acceptance target: n = 200 training rows (and 200 fresh), one width p = 60,
s = 20, on N = 4000 rows of a correlated Gaussian table (d = 60). Both run with one BLAS thread
(the shared machine; the batched Gram products would gain more from threads than the loop), in
interleaved rounds, best round each; the two are also checked to give the same means.

    python validation/bench_data.py            # prints the ratio (target >= 5)
"""

from __future__ import annotations

import time

import data_reference as REF
import numpy as np

from dcprune.montecarlo.runtime import single_threaded_blas
from dcprune.quantities import MEASURED
from dcprune.yourdata.dataset import from_arrays
from dcprune.yourdata.empirical import run_empirical
from dcprune.yourdata.population import population

N, D, n, P, S = 4000, 60, 200, 60, 20


def problem(seed=0, N=N):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((D, D)) / np.sqrt(D) + np.eye(D)
    X = rng.standard_normal((N, D)) @ A
    y = X @ (rng.standard_normal(D) / np.sqrt(D)) + rng.standard_normal(N)
    return population(from_arrays(X, y))


def compare(*, trials=200, reference_trials=40, rounds=3, seed=0, rows=N):
    """Seconds per trial of both, the ratio, and the largest relative difference of the means."""
    pop = problem(N=rows)
    best = {"batched": np.inf, "reference": np.inf}
    with single_threaded_blas():
        run_empirical(pop, n, S, (P,), trials=2, seed=seed)  # first-call costs out of the timing
        for r in range(rounds):
            t = time.perf_counter()
            REF.reference_run(pop, n, S, (P,), trials=reference_trials, seed=seed + r)
            best["reference"] = min(best["reference"], (time.perf_counter() - t) / reference_trials)
            t = time.perf_counter()
            run_empirical(pop, n, S, (P,), trials=trials, seed=seed + r)
            best["batched"] = min(best["batched"], (time.perf_counter() - t) / trials)
        fast = run_empirical(pop, n, S, (P,), trials=reference_trials, seed=seed)
        slow = REF.reference_run(pop, n, S, (P,), trials=reference_trials, seed=seed)
    diff = max(abs(fast.values[P][k].mean() / slow[P][k].mean() - 1) for k in MEASURED)
    return {"problem": {"N": rows, "d": D, "n": n, "p": P, "s": S}, "trials": trials,
            "reference_trials": reference_trials, "rounds": rounds, "seconds_per_trial": best,
            "speedup": best["reference"] / best["batched"], "max_relative_difference_of_means": float(diff)}


if __name__ == "__main__":
    # N = 2n = 400 too: there the reference's risk (a mean over all rows) is cheap, and the
    # ratio is that of the fits alone.
    for rows in (N, 2 * n):
        res = compare(rows=rows)
        per = res["seconds_per_trial"]
        print(f"N = {rows}: ", end="")
        print(f"batched {per['batched'] * 1e3:.2f} ms/trial, reference {per['reference'] * 1e3:.2f} ms/trial: "
              f"{res['speedup']:.1f}x (target >= 5); means agree to {res['max_relative_difference_of_means']:.1e}")
