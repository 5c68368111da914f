"""dcprune benchmarks in one run: theory engine and Monte Carlo, as ratios to in-run baselines.

The machine is shared (2 cores), so absolute times move with other people's load; every
figure that matters is a ratio to a baseline measured in the same process, close in time:

1. Theory: cost per curve point (200-point curve of the default problem and of the power law)
   against one standalone prediction; one prediction for a user spectrum of 10²…10⁶ distinct
   atoms, with the log-log slope of its cost (expected ≈ 1, linear, at large sizes) and the
   cost per atom in units of one Gaussian CDF (``scipy.special.ndtr``) evaluation measured
   here; ``import dcprune`` time (fresh interpreters, best of 5) against importing its
   unavoidable dependencies (NumPy and ``scipy.special``); one quantized prediction (spiked
   covariance, n = 200, 4 bits, mse and absmax clips; docs/theory.rst §11), the bit-budget
   search of ``dcprune frontier`` over the curve's 20 widths (its wall and CPU time); one
   prediction with distillation on M = 4n and M = n/4 unlabelled inputs (docs/theory.rst §12);
   one prediction at n = 100 with ridge 1e-3 (the finite-size ridge risk of docs/theory.rst
   §13), beside the same without ridge; one prediction of the spiked problem with every rule,
   same-data retraining's heuristic included (docs/theory.rst §14: its Wishart quadrature at
   n = 200, its mean asymptotically).
2. Monte Carlo (the Figure-3 sweep: n=200, d=600, s=100, 60 widths, 13 quantities) against
   the plain NumPy ``lstsq`` loop of :mod:`dcprune.validate.naive` doing the same work, interleaved
   rounds (target ≥ 5×). The loop runs with one BLAS thread: at NumPy's default thread count
   it is slower even on a quiet machine (1.17 vs 0.76 s/trial measured) and, when other
   processes use the cores, OpenBLAS's spinning threads make it 10–150× slower, which would
   inflate the ratio. ``--numpy-default-blas`` adds that configuration (the speedup is then
   against the faster of the two).
3. Fit phase (one thread) against the one-thread matrix-multiply rate measured around it.
4. Scaling of the Monte Carlo with n (fixed κ = d/n = 3, α = s/d = 1/6), with the largest
   width d and with the number of widths (fixed n = 200), and with the number of trials:
   time ratios and fitted log-log exponents, next to the exponents of the analytic FLOP count
   of the fit phase (:func:`bench_montecarlo.fit_flops`).
5. ``dcprune data --empirical`` (:mod:`bench_data`) against its plain NumPy reference at
   n = 200, p = 60 (target ≥ 5×), one BLAS thread each.
6. The Monte Carlo on a Dask LocalCluster (:mod:`bench_cluster`, when ``distributed`` is
   installed): in-process 2 threads against 2 worker processes × 1 thread on the same work at
   n = 400 (efficiency ratio, target ≥ 0.8, results checked bitwise identical), and the
   per-task overhead of the cluster path.

The measurements themselves live in ``bench_theory.py`` and ``bench_montecarlo.py`` (both
still runnable on their own); this script composes them, fits the exponents and writes

    validation/results/benchmarks.json   (all numbers)
    validation/results/benchmarks.md     (key figures, targets, pass/fail)

Usage::

    python validation/benchmarks.py            # full run, a few minutes
    python validation/benchmarks.py --quick    # reduced run, < 60 s; writes to a temporary
                                               # directory unless --out-dir is given
"""

from __future__ import annotations

import argparse
import datetime
import math
import os
import platform
import tempfile
import time
from pathlib import Path

# The two measurement scripts beside this one: Python puts a script's directory first on
# sys.path, so they import as top-level modules when this file is run as a script.
import bench_cluster as BC
import bench_data as BD
import bench_montecarlo as BM
import bench_theory as BT
import numba
import numpy as np
import scipy
from scipy.special import ndtr

import dcprune
from dcprune.output import atomic_write, write_json

RESULTS = Path(__file__).resolve().parent / "results"
SEED = 20210201

# Targets: the speeds the theory engine and the Monte Carlo are held to. A "range" target is a
# two-sided band.
TARGETS = {
    "curve_default_s": ("<", 0.1),
    "curve_power_law_s": ("<", 0.1),
    "predict_1e6_atoms_s": ("<", 2.0),
    "file_1e6_atoms_csv_s": ("<", 2.0),
    "file_1e6_atoms_npy_s": ("<", 2.0),
    "atoms_slope_large": ("range", (0.9, 1.15)),
    "import_s": ("<", 0.5),
    "best_spiked_s": ("<", 0.05),
    "ridge_sweep_s": ("<", 0.05),
    "predict_ridge_n100_s": ("<", 0.005),
    "mc_speedup": (">=", 5.0),
    "trials_exponent": ("range", (0.85, 1.15)),
    "cluster_efficiency": (">=", 0.8),
    "data_check_speedup": (">=", 5.0),
    "quantized_mse_s": ("<", 0.01),
    "quantized_absmax_s": ("<", 0.05),
    "frontier_spiked_s": ("<", 2.0),
    "distilled_s": ("<", 0.005),
    "predict_all_rules_s": ("<", 0.005),
}

FULL = {
    "curve_repeat": 5, "atoms": BT.ATOMS, "big_repeat": 2, "import_repeat": 5,
    "mc_trials": 50, "mc_rounds": 3, "numpy_default_blas": False, "fit_trials": 50, "fit_repeat": 2,
    "gemm_repeat": 5,
    "scale_trials": 20, "scale_repeat": 3,
    "n_values": (100, 200, 400), "d_values": (300, 600, 1200), "width_counts": (15, 30, 60, 120),
    "trial_counts": (10, 20, 40),
    "cluster_trials": 32, "cluster_rounds": 5, "cluster_tasks": 400, "frontier_repeat": 3,
}
QUICK = {
    "curve_repeat": 3, "atoms": BT.ATOMS, "big_repeat": 1, "import_repeat": 3,
    "mc_trials": 10, "mc_rounds": 2, "numpy_default_blas": False, "fit_trials": 10, "fit_repeat": 1,
    "gemm_repeat": 3,
    "scale_trials": 10, "scale_repeat": 3,
    "n_values": (100, 200), "d_values": (300, 600), "width_counts": (30, 60),
    "trial_counts": (10, 20),
    "cluster_trials": 16, "cluster_rounds": 3, "cluster_tasks": 200, "frontier_repeat": 1,
}


def loglog_slope(x, y):
    """Least-squares slope of log y against log x."""
    return float(np.polyfit(np.log(np.asarray(x, float)), np.log(np.asarray(y, float)), 1)[0])


def load():
    return round(os.getloadavg()[0], 2)


# ----------------------------------------------------------------------------------------------
# 1. Theory engine
# ----------------------------------------------------------------------------------------------


def theory(cfg):
    res = {"load_average_at_start": load()}
    setups = {
        "default": dcprune.Diagonal(dcprune.SpikedCovariance(), kappa=2, alpha=0.3),
        "power_law": dcprune.Diagonal(dcprune.PowerLaw(), kappa=2, alpha=0.3),
    }
    points = 200
    curves = {}
    for name, setup in setups.items():
        dcprune.predict(setup)  # first-call costs (quadrature tables, caches) off the clock
        curve_s = BT.curve_seconds(setup, points, cfg["curve_repeat"])
        predict_s = BT.best_of(lambda setup=setup: dcprune.predict(setup), cfg["curve_repeat"])
        curves[name] = {
            "spectrum": repr(setup.spectrum),
            "points": points,
            "curve_seconds": curve_s,
            "seconds_per_point": curve_s / points,
            "one_prediction_seconds": predict_s,
            "point_over_one_prediction": curve_s / points / predict_s,
        }
    res["curve"] = curves

    # `dcprune best`: every rule's best width of the spiked problem (asymptotic and n = 200).
    from dcprune.workflows.best import best

    spiked = setups["default"]
    best(spiked)
    res["best"] = {
        "asymptotic_seconds": BT.best_of(lambda: best(spiked), cfg["curve_repeat"]),
        "n200_seconds": BT.best_of(lambda: best(dcprune.Diagonal(dcprune.SpikedCovariance(), kappa=2, alpha=0.3,
                                                                  n=200)), cfg["curve_repeat"]),
        "one_prediction_seconds": curves["default"]["one_prediction_seconds"],
    }
    # `curve --over ridge --points 200` (one batched solve) against 200 separate predictions.
    from dcprune.workflows.axes import along

    ridges = np.geomspace(1e-4, 10, 200)
    batched = BT.best_of(lambda: along(spiked, "ridge", start=1e-4, stop=10, points=200), cfg["curve_repeat"])
    one_at_a_time = BT.best_of(lambda: [dcprune.predict(dcprune.Diagonal(spiked.spectrum, kappa=2, alpha=0.3,
                                                                         ridge=r)) for r in ridges], 1)
    res["ridge_sweep"] = {"points": 200, "batched_seconds": batched, "one_at_a_time_seconds": one_at_a_time,
                          "speedup": one_at_a_time / batched}
    # One prediction at finite n with ridge (the corrected risk of docs/theory.rst §13 in every dense
    # solve, the reference line's 256-width scan included), alone and with distillation on M = 4n
    # unlabelled inputs (§12: every new rule at work in one prediction), beside the same problem
    # without ridge. Milliseconds each: many repeats, so that the best escapes the machine's load.
    at_n = {label: dcprune.Diagonal(dcprune.SpikedCovariance(), kappa=2, alpha=0.3, n=100, ridge=r, unlabelled=m)
            for label, r, m in (("ridge", 1e-3, math.inf), ("ridge_distilled", 1e-3, 400),
                                ("ridgeless", 0.0, math.inf))}
    for setup in at_n.values():
        dcprune.predict(setup)
    res["ridge_finite"] = {f"{label}_seconds": BT.best_of(lambda setup=setup: dcprune.predict(setup),
                                                          20 * cfg["curve_repeat"])
                           for label, setup in at_n.items()}

    # Unit of cost: one Gaussian CDF evaluation, at array throughput (10^6 elements).
    z = np.random.default_rng(1).normal(size=10**6)
    ndtr_s = BT.best_of(lambda: ndtr(z), 5) / z.size
    rng = np.random.default_rng(0)
    rows = []
    for atoms in cfg["atoms"]:
        lam, beta = BT.atom_arrays(atoms, rng)
        t = BT.predict_atoms_seconds(lam, beta,
                                     repeat=cfg["big_repeat"] if atoms >= 10**6 else 3)
        rows.append({"atoms": atoms, "seconds": t, "seconds_per_atom": t / atoms,
                     "per_atom_in_ndtr_evaluations": t / atoms / ndtr_s})
    # The CLI case: `dcprune risk --spectrum FILE` reads, groups and predicts 10^6 atoms.
    if 10**6 in cfg["atoms"]:
        lam, beta = BT.atom_arrays(10**6, rng)
        res["file_1e6_atoms"] = {suffix: BT.predict_file_seconds(lam, beta, suffix, cfg["big_repeat"])
                                 for suffix in (".csv", ".npy")}
    sizes = [r["atoms"] for r in rows]
    times = [r["seconds"] for r in rows]
    large = [i for i, a in enumerate(sizes) if a >= 10**4]
    res["atoms"] = {
        "ndtr_seconds_per_element": ndtr_s,
        "rows": rows,
        "slope_all": loglog_slope(sizes, times),
        "slope_large": loglog_slope([sizes[i] for i in large], [times[i] for i in large]),
        "large_sizes": [sizes[i] for i in large],
        "local_slopes": [
            {"from": sizes[i], "to": sizes[i + 1],
             "slope": loglog_slope(sizes[i:i + 2], times[i:i + 2])}
            for i in range(len(sizes) - 1)
        ],
    }

    rep = cfg["import_repeat"]
    imp = {
        "dcprune_s": BT.import_seconds("dcprune", rep),
        "numpy_scipy_special_s": BT.import_seconds("numpy, scipy.special", rep),
        "numpy_scipy_special_optimize_s":
            BT.import_seconds("numpy, scipy.special, scipy.optimize", rep),
        "repeat": rep,
    }
    imp["over_dependencies"] = imp["dcprune_s"] / imp["numpy_scipy_special_s"]
    res["import"] = imp
    res["quantized"] = quantized(cfg)
    res["distilled"] = distilled(cfg)
    res["all_rules"] = all_rules(cfg)
    res["load_average_at_end"] = load()
    return res


def all_rules(cfg):
    """One prediction with every rule of the spiked problem (κ = 2, α = 0.3), asymptotic and at
    n = 200, where same-data retraining's heuristic (docs/theory.rst §14) averages its Wishart by
    quadrature and distillation learns from M = 4n unlabelled inputs (§12's exact second stage,
    so that every new rule does its work), and the heuristic's share of the call (the same call
    with it replaced by NaN)."""
    import dcprune.families.diagonal as diagonal

    out = {}
    for label, n, m in (("asymptotic", None, math.inf), ("n200", 200, 800)):
        setup = dcprune.Diagonal(dcprune.SpikedCovariance(), kappa=2, alpha=0.3, n=n, unlabelled=m)
        dcprune.predict(setup)  # quadrature nodes and caches off the clock
        out[f"{label}_seconds"] = BT.best_of(lambda setup=setup: dcprune.predict(setup), cfg["curve_repeat"] * 3)
        real = diagonal.retrain_same
        diagonal.retrain_same = lambda lam, *args, **kwargs: np.full(lam.shape[0], np.nan)
        try:
            out[f"{label}_without_same_data_seconds"] = BT.best_of(lambda setup=setup: dcprune.predict(setup),
                                                                   cfg["curve_repeat"] * 3)
        finally:
            diagonal.retrain_same = real
    return out


def quantized(cfg):
    """One quantized prediction (docs/theory.rst §11) of the spiked problem at n = 200: the whole
    ``predict`` call with 4-bit sign-magnitude quantization, mse and absmax clips, beside the same
    prediction without quantization."""
    setup = dcprune.Diagonal(dcprune.SpikedCovariance(), kappa=2, alpha=0.3, n=200)
    out = {"problem": "spiked-covariance, kappa=2, alpha=0.3, n=200, 4 bits, sign-magnitude, nearest"}
    plain = BT.best_of(lambda: dcprune.predict(setup), cfg["curve_repeat"] * 3)
    for clip in ("mse", "absmax"):
        spec = dcprune.Quantization(4, clip=clip)
        dcprune.predict(setup, quantization=spec)  # compiled levels and caches off the clock
        out[f"{clip}_seconds"] = BT.best_of(lambda spec=spec: dcprune.predict(setup, quantization=spec),
                                            cfg["curve_repeat"] * 3)
    out["unquantized_seconds"] = plain
    out["frontier"] = frontier_search(cfg, out["mse_seconds"])
    return out


def frontier_search(cfg, one_prediction):
    """The bit-budget search of ``dcprune frontier`` (docs/theory.rst §11) on the problem of its
    table (spiked covariance, d = 3n = 600, n = 200, σ² = 0.1): the curve's 20 widths, kept
    counts, bits 1–16 of both quantizers, mse clip, at budgets of 600, 1200 and 2400 bits. Wall
    time (best of the repeats) and the process's CPU time (less sensitive to other processes on
    a shared machine); the figure held to its target is the slowest budget's wall time."""
    from dcprune.quantization.frontier import frontier

    setup = dcprune.Diagonal(dcprune.SpikedCovariance(), kappa=3, alpha=1 / 6, sigma2=0.1, n=200)
    frontier(setup, 600, points=3)  # compiled pieces and caches off the clock
    out = {"problem": "spiked-covariance, kappa=3, n=200, sigma2=0.1, 20 widths, bits 1-16, both quantizers, mse",
           "budgets": {}}
    for budget in (600, 1200, 2400):
        walls, cpus = [], []
        for _ in range(cfg["frontier_repeat"]):
            cpu, wall = time.process_time(), time.perf_counter()
            result = frontier(setup, budget)
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
        best = result.best
        out["budgets"][str(budget)] = {"seconds": min(walls), "cpu_seconds": min(cpus), "best": best.to_dict()}
    out["seconds"] = max(b["seconds"] for b in out["budgets"].values())
    out["cpu_seconds"] = max(b["cpu_seconds"] for b in out["budgets"].values())
    out["over_one_prediction"] = out["seconds"] / one_prediction
    return out


def distilled(cfg):
    """One prediction of the spiked problem at n = 200 with a finite number of unlabelled inputs
    (docs/theory.rst §12), so that every new rule does its work (``magnitude_distill``'s second
    kept-moment solve, both students' DC): M = 4n (``s < M − 1``, the exact term) and M = n/4
    (``s > M + 1``, the second-stage DC), beside the prediction with M = ∞ (distillation is
    pruning there: no extra work)."""
    out = {"problem": "spiked-covariance, kappa=2, alpha=0.3, n=200 (s=120)"}
    for label, m in (("population", math.inf), ("m_800", 800), ("m_50", 50)):
        setup = dcprune.Diagonal(dcprune.SpikedCovariance(), kappa=2, alpha=0.3, n=200, unlabelled=m)
        dcprune.predict(setup)
        # Milliseconds each: many repeats, so that the best of them escapes the shared machine's load.
        out[f"{label}_seconds"] = BT.best_of(lambda setup=setup: dcprune.predict(setup), cfg["curve_repeat"] * 20)
    out["seconds"] = max(out["m_800_seconds"], out["m_50_seconds"])
    return out


# ----------------------------------------------------------------------------------------------
# 2-4. Monte Carlo
# ----------------------------------------------------------------------------------------------


def scaling(points, *, seed, repeat, per_trial=True, model=True):
    """Time the Numba driver at each ``(x, prob, trials)``; rounds interleave the points.

    Returns rows (seconds, ratio to the first point, model FLOPs of one trial's fit phase) and
    the fitted log-log exponents of the time and of the FLOP model in ``x``.
    """
    threads = numba.config.NUMBA_NUM_THREADS
    best = [np.inf] * len(points)
    for _ in range(repeat):
        for i, (_, prob, trials) in enumerate(points):
            t, _, _ = BM.numba_run(prob, trials, seed, threads, 1)
            best[i] = min(best[i], t / trials if per_trial else t)
    rows = []
    for (x, prob, trials), t in zip(points, best):
        row = {"x": x, "n": prob["n"], "d": prob["d"], "s": prob["s"],
               "widths": len(prob["widths"]), "trials": trials,
               ("seconds_per_trial" if per_trial else "seconds"): t, "ratio": t / best[0]}
        if model:
            row["model_fit_flops_per_trial"] = BM.fit_phase(prob, 1, seed)[1]
        rows.append(row)
    xs = [p[0] for p in points]
    out = {"rows": rows, "exponent": loglog_slope(xs, best), "repeat": repeat}
    out["model_exponent"] = (loglog_slope(xs, [r["model_fit_flops_per_trial"] for r in rows])
                             if model else 1.0)
    return out


def montecarlo(cfg):
    res = {"load_average_at_start": load()}
    prob = BM.problem()
    res["problem"] = {"n": BM.N, "d": BM.D, "s": BM.S, "sigma2": BM.SIGMA2,
                      "widths": len(prob["widths"]), "quantities": 11}
    res["jit_warmup_seconds"] = BM.warm_up(prob)
    res["numba_vs_numpy"] = BM.compare_with_numpy(
        prob, trials=cfg["mc_trials"], numpy_trials=1, seed=SEED, rounds=cfg["mc_rounds"],
        numpy_default_blas=cfg["numpy_default_blas"])
    max_rel, flags0 = BM.agreement(prob, SEED)
    res["agreement_trial0"] = {"max_relative_difference": max_rel, "flags": flags0}
    res["fit_phase"] = BM.fit_efficiency(prob, cfg["fit_trials"], SEED, cfg["gemm_repeat"],
                                         cfg["fit_repeat"])
    res["fit_phase"]["share_of_one_thread_run"] = (
        res["fit_phase"]["seconds_per_trial"]
        / res["numba_vs_numpy"]["seconds_per_trial"]["numba_one_thread"])

    kw = {"seed": SEED, "repeat": cfg["scale_repeat"]}
    tr = cfg["scale_trials"]
    res["scaling"] = {
        "n": {"note": "d = 3n, s = n/2, 60 widths",
              **scaling([(n, BM.problem(n=n, d=3 * n, s=n // 2), tr) for n in cfg["n_values"]],
                        **kw)},
        "d": {"note": "largest width p = d; n = 200, s = 100, 60 widths",
              **scaling([(d, BM.problem(d=d), tr) for d in cfg["d_values"]], **kw)},
        "widths": {"note": "number of widths; n = 200, d = 600, s = 100",
                   **scaling([(w, BM.problem(n_widths=w), tr) for w in cfg["width_counts"]],
                             **kw)},
        "trials": {"note": "Figure-3 sweep, total seconds",
                   **scaling([(t, prob, t) for t in cfg["trial_counts"]], per_trial=False,
                             model=False, **kw)},
    }
    res["load_average_at_end"] = load()
    return res


# ----------------------------------------------------------------------------------------------
# Report
# ----------------------------------------------------------------------------------------------


def verdict(key, value):
    if value is None:
        return "not run"
    op, bound = TARGETS[key]
    ok = {"<": lambda: value < bound, ">=": lambda: value >= bound,
          "range": lambda: bound[0] <= value <= bound[1]}[op]()
    return "pass" if ok else "FAIL"


def target_text(key):
    op, bound = TARGETS[key]
    return f"{bound[0]:g} – {bound[1]:g}" if op == "range" else f"{op} {bound:g}"


def key_figures(result):
    """Rows ``(figure, value text, target text, status, raw value or None)``."""
    th, mc = result["theory"], result["montecarlo"]
    cur, atoms, imp = th["curve"], th["atoms"], th["import"]
    by_size = {r["atoms"]: r for r in atoms["rows"]}
    big = by_size.get(10**6)
    cmp, fit, sc = mc["numba_vs_numpy"], mc["fit_phase"], mc["scaling"]
    per = cmp["seconds_per_trial"]
    rows = []

    def add(figure, text, key=None, value=None, target=None):
        if key is not None:
            rows.append((figure, text, target_text(key), verdict(key, value), value))
        else:
            rows.append((figure, text, target or "—", "info", value))

    for name, label, key in (("default", "spiked covariance", "curve_default_s"),
                             ("power_law", "power law", "curve_power_law_s")):
        c = cur[name]
        add(f"200-point curve, {label} (s)",
            f"{c['curve_seconds']:.4f} ({c['seconds_per_point'] * 1e3:.3f} ms/point = "
            f"{c['point_over_one_prediction']:.2f} × one prediction)", key, c["curve_seconds"])
    add("one prediction, 10⁶ atoms (s)",
        "not run" if big is None else
        f"{big['seconds']:.2f} ({big['seconds_per_atom'] * 1e9:.0f} ns/atom = "
        f"{big['per_atom_in_ndtr_evaluations']:.0f} ndtr)",
        "predict_1e6_atoms_s", None if big is None else big["seconds"])
    for suffix, key in ((".csv", "file_1e6_atoms_csv_s"), (".npy", "file_1e6_atoms_npy_s")):
        t = th.get("file_1e6_atoms", {}).get(suffix)
        add(f"one prediction, 10⁶ atoms read from {suffix}, loading included (s)",
            "not run" if t is None else f"{t:.2f}", key, t)
    sizes = atoms["large_sizes"]
    b = th["best"]
    slowest = max(b["asymptotic_seconds"], b["n200_seconds"])
    add("`best`: every rule's best width, spiked covariance (s)",
        f"{slowest:.4f} (asymptotic {b['asymptotic_seconds'] * 1e3:.1f} ms, n=200 {b['n200_seconds'] * 1e3:.1f} ms "
        f"= {slowest / b['one_prediction_seconds']:.1f} × one prediction)", "best_spiked_s", slowest)
    rs = th["ridge_sweep"]
    add("200-point ridge sweep, spiked covariance (s)",
        f"{rs['batched_seconds']:.4f} ({rs['speedup']:.0f}× faster than one prediction per ridge, "
        f"{rs['one_at_a_time_seconds']:.2f} s)", "ridge_sweep_s", rs["batched_seconds"])
    rf = th.get("ridge_finite")
    worst = None if rf is None else max(rf["ridge_seconds"], rf.get("ridge_distilled_seconds", 0.0))
    add("one prediction, spiked covariance, n = 100, ridge 1e-3 (finite-size ridge, §13; with "
        "distillation on M = 400, §12) (s)",
        "not run" if rf is None
        else f"{worst:.4f} (ridge alone {rf['ridge_seconds'] * 1e3:.1f} ms, with distillation "
             f"{rf.get('ridge_distilled_seconds', math.nan) * 1e3:.1f} ms, without ridge "
             f"{rf['ridgeless_seconds'] * 1e3:.1f} ms)",
        "predict_ridge_n100_s", worst)
    add(f"log-log slope of prediction cost, 10^{int(np.log10(sizes[0]))}–"
        f"10^{int(np.log10(sizes[-1]))} atoms",
        f"{atoms['slope_large']:.3f} (all sizes {atoms['slope_all']:.3f})",
        "atoms_slope_large", atoms["slope_large"])
    add("`import dcprune` (s)",
        f"{imp['dcprune_s']:.3f} ({imp['over_dependencies']:.2f} × numpy+scipy.special "
        f"{imp['numpy_scipy_special_s']:.3f})", "import_s", imp["dcprune_s"])
    q = th.get("quantized")
    if q is not None:
        for clip, key in (("mse", "quantized_mse_s"), ("absmax", "quantized_absmax_s")):
            add(f"one quantized prediction, {clip} clip, spiked covariance n=200, 4 bits (s)",
                f"{q[f'{clip}_seconds']:.4f} (without quantization {q['unquantized_seconds']:.4f})", key,
                q[f"{clip}_seconds"])
        fr = q.get("frontier")
        if fr is not None:
            timing = ", ".join(f"{k} bits {v['seconds']:.2f}" for k, v in fr["budgets"].items())
            add("`dcprune frontier`: 20 widths × counts × bits 1–16 × 2 quantizers, spiked covariance n=200 (s)",
                f"{fr['seconds']:.2f} slowest budget ({timing}; CPU {fr['cpu_seconds']:.2f} s; "
                f"{fr['over_one_prediction']:.0f} × one quantized prediction)", "frontier_spiked_s", fr["seconds"])
    k = th.get("distilled")
    if k is not None:
        add("one prediction with distillation on M unlabelled inputs, spiked covariance n=200 (s)",
            f"{k['seconds']:.4f} (M = 800: {k['m_800_seconds']:.4f}, M = 50: {k['m_50_seconds']:.4f}; "
            f"M = ∞, where distillation is pruning: {k['population_seconds']:.4f})", "distilled_s", k["seconds"])
    a = th.get("all_rules")
    if a is not None:
        slowest = max(a["asymptotic_seconds"], a["n200_seconds"])
        add("one prediction with every rule (same-data retraining included; at n = 200 distillation "
            "on M = 4n), spiked covariance (s)",
            f"{slowest:.4f} (asymptotic {a['asymptotic_seconds'] * 1e3:.2f} ms, "
            f"n=200 {a['n200_seconds'] * 1e3:.2f} ms; "
            f"without same-data retraining {a['asymptotic_without_same_data_seconds'] * 1e3:.2f} and "
            f"{a['n200_without_same_data_seconds'] * 1e3:.2f} ms)", "predict_all_rules_s", slowest)
    np_text = f"NumPy {per['numpy_one_thread'] * 1e3:.0f} ms/trial (BLAS 1 thread)"
    if "numpy_default_threads" in per:
        np_text += f", {per['numpy_default_threads'] * 1e3:.0f} (default threads)"
    add("Monte Carlo speedup vs NumPy lstsq loop, Figure-3 sweep",
        f"{cmp['speedup']['numba_all_threads_vs_numpy_best']:.1f}× "
        f"(Numba {per['numba_all_threads'] * 1e3:.1f} ms/trial, {cmp['numba_threads']} threads; "
        f"{np_text}); 1 thread vs 1 thread "
        f"{cmp['speedup']['numba_one_thread_vs_numpy_one_thread']:.1f}×",
        "mc_speedup", cmp["speedup"]["numba_all_threads_vs_numpy_best"])
    add("fit phase, fraction of one-thread GEMM rate",
        f"{fit['fraction_of_gemm_rate']:.1%} ({fit['useful_flops_per_second'] / 1e9:.1f} of "
        f"{fit['gemm_one_thread_flops_per_second'] / 1e9:.1f} GFLOP/s; "
        f"{fit['share_of_one_thread_run']:.0%} of a one-thread run)",
        value=fit["fraction_of_gemm_rate"])
    for key, label in (("n", "n (κ, α fixed)"), ("d", "largest width d (n fixed)"),
                       ("widths", "number of widths"), ("trials", "trials")):
        s = sc[key]
        xs = [r["x"] for r in s["rows"]]
        ratios = ", ".join(f"{r['ratio']:.2f}" for r in s["rows"])
        text = f"exponent {s['exponent']:.2f}; time ratios {ratios} at {xs}"
        if key == "trials":
            add(f"Monte Carlo scaling with {label}", text, "trials_exponent", s["exponent"])
        else:
            add(f"Monte Carlo scaling with {label}", text,
                target=f"FLOP model {s['model_exponent']:.2f} (info)", value=s["exponent"])
    dc = result.get("data_check")
    if dc is not None:
        per = dc["seconds_per_trial"]
        add("`dcprune data --empirical` vs plain NumPy reference, n = 200, p = 60 (1 BLAS thread)",
            f"{dc['speedup']:.1f}× ({per['batched'] * 1e3:.2f} vs {per['reference'] * 1e3:.2f} ms/trial, "
            f"N = {dc['problem']['N']}; means agree to {dc['max_relative_difference_of_means']:.0e})",
            "data_check_speedup", dc["speedup"])
    cl = result.get("cluster")
    if cl is None:
        add("Dask LocalCluster, 2 workers × 1 thread vs 2 threads in process, n = 400", "not run "
            "(distributed not installed)", "cluster_efficiency", None)
    else:
        add("Dask LocalCluster, 2 workers × 1 thread vs 2 threads in process, n = 400",
            f"efficiency {cl['efficiency']:.2f}, median of {len(cl['cluster_seconds'])} paired rounds "
            f"(best {min(cl['in_process_seconds']):.2f} s vs "
            f"{min(cl['cluster_seconds']):.2f} s for {cl['problem']['trials']} trials, "
            f"{cl['core_seconds_per_trial']:.3f} core-s/trial; bitwise identical: {cl['bitwise_identical']})",
            "cluster_efficiency", cl["efficiency"])
        add("Dask per-task overhead (no-op one-trial tasks, 2 workers)",
            f"{cl['overhead_worker_seconds_per_task'] * 1e3:.1f} ms of worker time per task "
            f"({cl['tasks_per_second']:.0f} tasks/s)", value=cl["overhead_worker_seconds_per_task"])
    return rows


def markdown(result, rows):
    m = result["machine"]
    lines = [
        f"# dcprune benchmarks ({result['mode']} run)",
        "",
        (f"{result['date']}; {m['cpu']}, {m['cores']} cores, {m['numba_threads']} Numba threads; "
         f"load average {m['load_average_at_start']} at start, {m['load_average_at_end']} at "
        f"end; whole run {result['wall_seconds']:.0f} s. Produced by "
        f"`python validation/benchmarks.py{' --quick' if result['mode'] == 'quick' else ''}`; "
        f"all numbers in `benchmarks.json`."),
        "",
        ("The machine is shared, so absolute times move with its load; ratios to baselines "
        "measured in the same run (one prediction, an `ndtr` evaluation, the dependencies' "
        "import, the NumPy loop, the GEMM rate, the smallest size) are the robust figures."),
        "",
        "| figure | measured | target | status |",
        "| --- | --- | --- | --- |",
    ]
    lines += [f"| {f} | {t} | {tg} | {st} |" for f, t, tg, st, _ in rows]
    failed = [f for f, _, _, st, _ in rows if st == "FAIL"]
    lines += ["", f"Failed: {', '.join(failed)}." if failed else "All targets met."]
    return "\n".join(lines) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="reduced run (< 60 s)")
    ap.add_argument("--numpy-default-blas", action="store_true",
                    help="also time the NumPy loop at NumPy's default BLAS thread count (slower "
                         "than one thread here; minutes per trial when the machine is loaded)")
    ap.add_argument("--out-dir", default=None,
                    help="directory for benchmarks.json and benchmarks.md (default: "
                         "validation/results, or a temporary directory with --quick)")
    args = ap.parse_args(argv)
    cfg = dict(QUICK if args.quick else FULL)
    cfg["numpy_default_blas"] = args.numpy_default_blas
    out_dir = Path(args.out_dir) if args.out_dir else (
        Path(tempfile.gettempdir()) / "dcprune-benchmarks-quick" if args.quick else RESULTS)
    out_dir.mkdir(parents=True, exist_ok=True)

    start = time.perf_counter()
    result = {
        "mode": "quick" if args.quick else "full",
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
                        "numba_threads": numba.config.NUMBA_NUM_THREADS,
                        "load_average_at_start": load(), "python": platform.python_version(),
                        "numpy": np.__version__, "scipy": scipy.__version__,
                        "numba": numba.__version__, "dcprune": dcprune.__version__},
        "config": {k: list(v) if isinstance(v, tuple) else v for k, v in cfg.items()},
    }
    print("theory engine ...", flush=True)
    result["theory"] = theory(cfg)
    print(f"  done at {time.perf_counter() - start:.0f} s; Monte Carlo ...", flush=True)
    result["montecarlo"] = montecarlo(cfg)
    print(f"  done at {time.perf_counter() - start:.0f} s; dcprune data --empirical ...", flush=True)
    result["data_check"] = BD.compare(rounds=2 if args.quick else 3)
    try:
        import distributed  # noqa: F401
    except ImportError:
        pass
    else:
        print(f"  done at {time.perf_counter() - start:.0f} s; Dask LocalCluster ...", flush=True)
        result["cluster"] = BC.cluster(cfg["cluster_trials"], cfg["cluster_rounds"], cfg["cluster_tasks"])
    result["machine"]["load_average_at_end"] = load()
    result["wall_seconds"] = time.perf_counter() - start
    rows = key_figures(result)
    result["key_figures"] = [
        {"figure": f, "measured": t, "target": tg, "status": st, "value": v}
        for f, t, tg, st, v in rows
    ]
    json_path = write_json(out_dir / "benchmarks.json", result)
    text = markdown(result, rows)
    md_path = atomic_write(out_dir / "benchmarks.md",
                           lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    print(text)
    print(f"written: {json_path}, {md_path} ({result['wall_seconds']:.0f} s)")
    return result


if __name__ == "__main__":
    main()
