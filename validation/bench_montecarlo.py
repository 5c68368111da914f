"""Benchmark the Monte Carlo kernels against a plain NumPy loop on the Figure-3-style sweep.

Problem (THEORY.md §9): spiked identity, n = 200, d = 600, s = 100, σ² = 0.05, spike
fraction 0.1 with saliency 10, 60 widths (linspace(1, 600, 60) rounded, unique); every width
gets all 11 quantities (dense, 4 prunings, 3 fresh and 3 same-data refits).

Measured in one run:

1. the machine's GEMM rate (``a @ b``, 2000×2000, through the BLAS the kernels use), with one
   BLAS thread and with all;
2. the Numba driver (:func:`dcprune.montecarlo.kernels.run`), all trials, with all threads and
   with one (best of ``--repeat``);
3. the fit phase alone: every trial replayed serially on one thread through the same stage
   kernels :func:`~dcprune.montecarlo.kernels.trial_kernel` composes, timing Gram formation,
   dense fits and refits; its FLOPs are counted analytically (see :func:`fit_flops`) and its
   rate is reported as a fraction of the one-thread GEMM rate;
4. the plain NumPy loop (``tests/naive.py``: NumPy sampling, ``numpy.linalg.lstsq`` for
   every width, strategy and sample, ``argsort`` pruning), on fewer trials (``--numpy-trials``)
   and scaled per trial;
5. agreement of the kernels with the NumPy loop on the kernels' own samples of trial 0.

Usage: ``python validation/bench_montecarlo.py [--out PATH] [--trials 50] [--numpy-trials 3]``.
"""

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numba
import numpy as np

from dcprune.montecarlo import kernels as K

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from naive import naive_features, naive_trial  # noqa: E402  (the plain loop lives with the tests)

N, D, S, SIGMA2, SPIKE_FRACTION, SPIKE = 200, 600, 100, 0.05, 0.1, 10.0
DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "bench_montecarlo.json"


def problem():
    """Spiked identity: Σ = I, β ∝ sqrt(c) with c = SPIKE on the first 10%, βᵀΣβ = 1."""
    c = np.ones(D)
    c[: int(SPIKE_FRACTION * D)] = SPIKE
    beta = np.sqrt(c) / np.sqrt(c.sum())
    lam = np.ones(D)
    sigma = np.sqrt(SIGMA2)
    widths = np.unique(np.round(np.linspace(1, D, 60)).astype(np.int64))
    return dict(lam=lam, beta=beta, sigma=sigma, widths=widths, c0=SIGMA2 + beta @ beta,
                q=lam * beta, oracle=lam * beta**2)


@numba.njit
def _gemm(a, b):
    return np.dot(a, b)


def gemm_rate(size=2000, repeat=5):
    """Best FLOP/s of ``a @ b`` through Numba's (SciPy's) BLAS."""
    a, b = np.random.default_rng(0).normal(size=(2, size, size))
    _gemm(a, b)
    best = np.inf
    for _ in range(repeat):
        t = time.perf_counter()
        _gemm(a, b)
        best = min(best, time.perf_counter() - t)
    return 2.0 * size**3 / best


def _fit_cost(n, k):
    """FLOPs of one fit on k columns: Gram block + Cholesky + right side + two solves, or dual."""
    if k <= n:
        return k**3 / 3 + 2 * n * k + 2 * k**2
    return 2 * n * n * k + n**3 / 3 + 2 * n * n + 2 * n * k


def fit_flops(n, widths, s, fits):
    """Analytic FLOPs of one trial's fit phase, ``(useful, condition_estimates)``.

    Useful: the two Gram matrices ``G = XᵀX`` (2·n·pmax² each, full GEMM); the one Cholesky
    of the largest width ``m ≤ n`` (m³/3) and per width ``p ≤ n`` the right side and two
    triangular solves (2np + 2p²); per width ``p > n`` either rank-one updates (3n² per added
    column) or Gram growth plus refactorization (2n²·added + n³/3), following
    ``kernels._UPDATE_RATIO``, then a solve and ``b = Xᵀw`` (2n² + 2np); per refit on k
    columns :func:`_fit_cost`. ``fits`` is :func:`trial_kernel`'s count per width (dense + refits).
    Not counted: iterative refinement (only near p = n) and risk evaluation. Condition
    estimates (4·_COND_ITERS·m² per fit) are returned separately.
    """
    pmax = widths[-1]
    useful = 2 * (2.0 * n * pmax**2) if (widths[0] <= n or s <= n) else 0.0
    tall = widths[widths <= n]
    if tall.size:
        useful += tall[-1] ** 3 / 3
    cond = 0.0
    in_k = in_u = 0  # columns in the dual Gram and in its factor (as in kernels.fit_widths)
    for p in widths:
        if p <= n:
            useful += 2 * n * p + 2 * p**2
            cond += 4 * K._COND_ITERS * p**2
            continue
        if in_u > 0 and K._UPDATE_RATIO * (p - in_u) < n:
            useful += 3 * n**2 * (p - in_u)
        else:
            useful += 2 * n**2 * (p - in_k) + n**3 / 3
            in_k = p
        in_u = p
        useful += 2 * n**2 + 2 * n * p
        cond += 4 * K._COND_ITERS * n**2
    for p, f in zip(widths, fits):
        k = min(p, s)
        useful += (f - 1) * _fit_cost(n, k)
        cond += (f - 1) * 4 * K._COND_ITERS * min(k, n) ** 2
    return useful, cond


def numba_run(prob, trials, seed, threads, repeat):
    best = np.inf
    for _ in range(repeat):
        t = time.perf_counter()
        values, flags = K.run(n=N, widths=prob["widths"], s=S, trials=trials, seed=seed,
                              lam=prob["lam"], beta=prob["beta"], sigma=prob["sigma"],
                              threads=threads)
        best = min(best, time.perf_counter() - t)
    return best, values, flags


def sample_args(prob):
    return (K.KIND_DIAGONAL, N, np.sqrt(prob["lam"]), np.empty((0, 0)), prob["beta"],
            prob["sigma"], prob["widths"], S)


def fit_phase(prob, trials, seed):
    """Serial replay of every trial's fit phase on one thread: (seconds, useful, cond FLOPs)."""
    widths, E2 = prob["widths"], np.empty((0, 0))
    nw, pmax = len(widths), widths[-1]
    seconds = useful = cond = 0.0
    with K.single_threaded_blas():
        for t in range(trials):
            X, y, X2, y2, _ = K.sample_trial(seed, t, *sample_args(prob))
            hdiag = (X[:, :pmax] ** 2).sum(axis=0) / N
            flags, fits = np.zeros(nw, np.int8), np.ones(nw, np.int64)
            B = np.zeros((nw, pmax))
            start = time.perf_counter()
            Xt, G = K.transpose_gram(X, pmax, True)
            Xt2, G2 = K.transpose_gram(X2, pmax, True)
            K.fit_widths(Xt, y, widths, 0.0, G, B, flags)
            seconds += time.perf_counter() - start
            kept = K.prune_sets(B, widths, S, hdiag, prob["oracle"])
            start = time.perf_counter()
            for Xs, ys, Gs, sizes in ((Xt2, y2, G2, np.minimum(widths, S)),
                                      (Xt, y, G, np.where(widths > S, S, 0))):
                K.retrain(Xs, ys, Gs, 0.0, kept, sizes, prob["c0"], prob["q"], prob["lam"], E2,
                          flags, fits)
            seconds += time.perf_counter() - start
            u, c = fit_flops(N, widths, S, fits)
            useful += u
            cond += c
    return seconds, useful, cond


def numpy_loop(prob, trials, seed):
    """The plain loop: NumPy sampling, then ``naive_trial`` (lstsq per fit). Seconds per trial."""
    rng = np.random.default_rng(seed)
    widths = prob["widths"]
    scale, E2 = np.sqrt(prob["lam"]), np.empty((0, 0))
    start = time.perf_counter()
    for _ in range(trials):
        X, y = naive_features(K.KIND_DIAGONAL, rng.normal(size=(N, D)), rng.normal(size=N),
                              scale, E2, prob["beta"], prob["sigma"])
        X2, y2 = naive_features(K.KIND_DIAGONAL, rng.normal(size=(N, D)), rng.normal(size=N),
                                scale, E2, prob["beta"], prob["sigma"])
        keep = np.full((len(widths), S), -1)
        for wi, p in enumerate(widths):
            if p > S:
                keep[wi] = np.sort(rng.choice(p, S, replace=False))
        naive_trial(X, y, X2, y2, keep, widths, S, 0.0, prob["oracle"], prob["c0"], prob["q"],
                    np.diag(prob["lam"]))
    return (time.perf_counter() - start) / trials


def agreement(prob, seed):
    """Max relative difference kernel vs NumPy loop on the kernel's samples of trial 0."""
    widths = prob["widths"]
    X, y, X2, y2, keep = K.sample_trial(seed, 0, *sample_args(prob))
    out, flags = np.empty((len(widths), 11)), np.zeros(len(widths), np.int8)
    with K.single_threaded_blas():
        K.trial_kernel(X, y, X2, y2, keep, widths, S, 0.0, prob["oracle"], prob["c0"],
                       prob["q"], prob["lam"], np.empty((0, 0)), out, flags)
    ref = naive_trial(X, y, X2, y2, keep, widths, S, 0.0, prob["oracle"], prob["c0"],
                      prob["q"], np.diag(prob["lam"]))
    return float(np.max(np.abs(out - ref) / np.abs(ref))), int(flags.sum())


def write_json(path, data):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=2)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(DEFAULT_OUT))
    ap.add_argument("--trials", type=int, default=50)
    ap.add_argument("--numpy-trials", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=20210201)
    args = ap.parse_args(argv)
    prob = problem()
    threads = numba.config.NUMBA_NUM_THREADS
    load = os.getloadavg()[0]

    start = time.perf_counter()
    K.run(n=N, widths=prob["widths"], s=S, trials=1, seed=0, lam=prob["lam"],
          beta=prob["beta"], sigma=prob["sigma"])
    warmup = time.perf_counter() - start

    with K.single_threaded_blas():
        gemm_1 = gemm_rate()
    gemm_all = gemm_rate()
    t_all, values, flags = numba_run(prob, args.trials, args.seed, threads, args.repeat)
    t_one, values1, _ = numba_run(prob, args.trials, args.seed, 1, args.repeat)
    assert np.array_equal(values, values1), "results must not depend on the thread count"
    fit_phase(prob, 1, args.seed)  # compiles the stage signatures the replay uses
    fit_seconds, fit_useful, fit_cond = fit_phase(prob, args.trials, args.seed)
    np_per_trial = numpy_loop(prob, args.numpy_trials, args.seed)
    max_rel, flags0 = agreement(prob, args.seed)

    per_trial_all, per_trial_one = t_all / args.trials, t_one / args.trials
    fit_rate = fit_useful / fit_seconds
    result = {
        "problem": dict(n=N, d=D, s=S, sigma2=SIGMA2, spike_fraction=SPIKE_FRACTION,
                        spike=SPIKE, widths=len(prob["widths"]), quantities=len(K.QUANTITIES),
                        trials=args.trials),
        "machine": dict(cpu=platform.processor() or platform.machine(), cores=os.cpu_count(),
                        numba_threads=threads, load_average_at_start=load,
                        numba=numba.__version__, numpy=np.__version__),
        "jit_warmup_seconds": warmup,
        "gemm_flops_per_second": {"one_thread": gemm_1, "all_threads": gemm_all},
        "numba": {
            "seconds_all_threads": t_all, "seconds_one_thread": t_one,
            "seconds_per_trial_all_threads": per_trial_all,
            "seconds_per_trial_one_thread": per_trial_one,
            "ill_conditioned_width_flags": int(flags.sum()),
        },
        "fit_phase_one_thread": {
            "seconds": fit_seconds,
            "share_of_one_thread_run": fit_seconds / t_one,
            "useful_flops": fit_useful,
            "condition_estimate_flops": fit_cond,
            "useful_flops_per_second": fit_rate,
            "fraction_of_gemm_rate": fit_rate / gemm_1,
            "fraction_of_gemm_rate_with_condition_estimates":
                (fit_useful + fit_cond) / fit_seconds / gemm_1,
        },
        "numpy_loop": {
            "trials_run": args.numpy_trials,
            "seconds_per_trial": np_per_trial,
            "note": "plain loop timed on trials_run trials (fewer than numba) and reported "
                    "per trial; "
                    "NumPy's BLAS at its default thread count",
        },
        "speedup_per_trial": {"numba_all_threads_vs_numpy": np_per_trial / per_trial_all,
                              "numba_one_thread_vs_numpy": np_per_trial / per_trial_one},
        "agreement_trial0": {"max_relative_difference": max_rel, "flags": flags0},
    }
    write_json(args.out, result)

    print(f"Figure-3 sweep: n={N} d={D} s={S}, {len(prob['widths'])} widths x 11 quantities, "
          f"{args.trials} trials ({threads} threads, load average {load:.2f} at start)")
    print(f"  GEMM rate            : {gemm_1 / 1e9:7.1f} GFLOP/s one thread, "
          f"{gemm_all / 1e9:7.1f} all threads")
    print(f"  Numba                : {per_trial_all * 1e3:7.1f} ms/trial ({threads} threads), "
          f"{per_trial_one * 1e3:7.1f} ms/trial (1 thread); JIT warm-up {warmup:.1f} s")
    print(f"  NumPy loop           : {np_per_trial * 1e3:7.1f} ms/trial "
          f"({args.numpy_trials} trials, scaled per trial)")
    print(f"  speedup              : {np_per_trial / per_trial_all:7.1f}x ({threads} threads), "
          f"{np_per_trial / per_trial_one:7.1f}x (1 thread)")
    print(f"  fit phase (1 thread) : {fit_seconds / args.trials * 1e3:7.1f} ms/trial = "
          f"{fit_seconds / t_one:.0%} of the run, {fit_rate / 1e9:.1f} GFLOP/s useful = "
          f"{fit_rate / gemm_1:.0%} of GEMM "
          f"({(fit_useful + fit_cond) / fit_seconds / gemm_1:.0%} with condition estimates)")
    print(f"  agreement, trial 0   : max relative difference {max_rel:.1e} "
          f"(flags {flags0}); flagged widths in the run: {int(flags.sum())}")
    print(f"  written              : {args.out}")
    return result


if __name__ == "__main__":
    main()
