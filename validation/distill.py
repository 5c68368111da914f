"""Distillation (docs/theory.rst §12): theory against Monte Carlo of the real procedure.

For diagonal (spiked covariance) and equicorrelated Σ at n = 100, three widths and sparsities

- p < n, s < n (κ = 0.6, α = 0.5: p = 60, s = 30),
- p > n, s < n (κ = 2, α = 0.3: p = 200, s = 60),
- p > n, s > n (κ = 3, α = 0.5: p = 300, s = 150; the student on M = n inputs is
  overparameterized, so its risk is the second-stage DC rather than the exact s < M − 1 term),

and M ∈ {n, 4n, ∞} unlabelled inputs (the acceptance grid), plus M = n/4, where every student
is overparameterized (s > M + 1: the second-stage DC, whose finite-size bias this measures),
each configuration is predicted (``dcprune.predict``)
and simulated (``dcprune.montecarlo.simulate``: teacher fit, kept set by magnitude or by the
oracle, student least squares on the teacher's labels at M fresh inputs, exact population
risk), and the two are compared by ``z = (MC − theory) / sqrt(se_MC² + se_theory²)``.

Usage::

    python validation/distill.py [--trials 400] [--n 100] [--out validation/results]

writes ``distill.csv`` (every comparison) and ``distill.md`` (the table and its summary).
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np

import dcprune
from dcprune.montecarlo import simulate
from dcprune.output import atomic_write, write_csv

RESULTS = Path(__file__).resolve().parent / "results"
SHAPES = ((0.6, 0.5), (2.0, 0.3), (3.0, 0.5))
QUANTITIES = ("magnitude_distill", "oracle_distill")
RHO = 0.5  # equicorrelation
SIGMA2 = 0.1


def equicorrelated(n: int, kappa: float, alpha: float, unlabelled: float) -> dcprune.Correlated:
    """Σ = (1 − ρ)I + ρ11ᵀ, β ∝ the spike profile's square root, signal βᵀΣβ = 1."""
    d = int(round(kappa * n))
    sigma = (1 - RHO) * np.eye(d) + RHO * np.ones((d, d))
    beta = np.sqrt(np.where(np.arange(d) < d // 10, 10.0, 1.0))
    beta /= np.sqrt(beta @ sigma @ beta)
    return dcprune.Correlated.from_arrays(sigma, beta, SIGMA2, alpha=alpha, n=n, unlabelled=unlabelled)


def problems(n: int):
    for kappa, alpha in SHAPES:
        for m in (n, 4 * n, math.inf, n // 4):
            yield "diagonal", dcprune.Diagonal(dcprune.SpikedCovariance(), kappa=kappa, alpha=alpha, sigma2=SIGMA2,
                                               n=n, unlabelled=m)
            yield "equicorrelated", equicorrelated(n, kappa, alpha, m)


def compare(n: int, trials: int, seed: int = 0):
    rows = []
    for kind, problem in problems(n):
        start = time.perf_counter()
        theory = dcprune.predict(problem)
        mc = simulate(problem, trials=trials, seed=seed).rows[0]
        for name in QUANTITIES:
            t, e = theory.risk[name], mc.risk[name]
            se = math.hypot(t.se, e.se)
            rows.append({"sigma": kind, "n": n, "p": int(problem.d), "s": int(problem.s),
                         "M": "inf" if math.isinf(problem.unlabelled) else int(problem.unlabelled),
                         "quantity": name, "theory": t.mean, "theory_se": t.se, "mc": e.mean, "mc_se": e.se,
                         "z": (e.mean - t.mean) / se, "gap_percent": 100 * (t.mean / e.mean - 1),
                         "student_overparameterized": int(min(problem.s, problem.d)) > problem.unlabelled + 1})
        print(f"{kind:>15} p={int(problem.d)} s={int(problem.s)} M={rows[-1]['M']}: "
              + ", ".join(f"{r['quantity']} z {r['z']:+.2f} ({r['gap_percent']:+.2f}%)" for r in rows[-2:])
              + f"  [{time.perf_counter() - start:.0f} s]", flush=True)
    return rows


def markdown(rows, trials: int) -> str:
    exact = [r for r in rows if not r["student_overparameterized"]]
    over = [r for r in rows if r["student_overparameterized"]]
    zs = np.array([r["z"] for r in rows])
    lines = [
        "# Distillation: theory vs Monte Carlo (docs/theory.rst §12)",
        "",
        f"Produced by `python validation/distill.py --trials {trials}`; spiked covariance (diagonal) and "
        f"equicorrelated Σ (ρ = {RHO}), σ² = {SIGMA2}, signal 1. z = (MC − theory)/√(se_MC² + se_theory²); "
        f"gap = theory/MC − 1.",
        "",
        f"- {len(rows)} comparisons: rms z {np.sqrt(np.mean(zs ** 2)):.2f}, largest |z| {np.max(np.abs(zs)):.2f}.",
    ]
    for label, part in (("student with s < M − 1 or M = ∞ (exact second stage)", exact),
                        ("student with s > M + 1 (second-stage DC)", over)):
        if part:
            z = np.array([r["z"] for r in part])
            g = np.array([r["gap_percent"] for r in part])
            lines.append(f"- {label}: {len(part)} comparisons, largest |z| {np.max(np.abs(z)):.2f}, "
                         f"gaps {g.min():+.2f}% … {g.max():+.2f}%.")
    lines += ["", "| Σ | p | s | M | quantity | theory | Monte Carlo | z | gap % |",
              "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        theory = f"{r['theory']:.4f}" + (f" ± {r['theory_se']:.4f}" if r["theory_se"] else "")
        lines.append(f"| {r['sigma']} | {r['p']} | {r['s']} | {r['M']} | {r['quantity']} | {theory} | "
                     f"{r['mc']:.4f} ± {r['mc_se']:.4f} | {r['z']:+.2f} | {r['gap_percent']:+.2f} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=400)
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    rows = compare(args.n, args.trials, args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    write_csv(args.out / "distill.csv", list(rows[0]), [list(r.values()) for r in rows])
    text = markdown(rows, args.trials)
    atomic_write(args.out / "distill.md", lambda tmp: tmp.write_text(text))
    print(f"wrote {args.out / 'distill.md'}")


if __name__ == "__main__":
    main()
