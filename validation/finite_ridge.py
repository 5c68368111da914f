"""The finite-size ridge risk (docs/theory.rst §13) against Monte Carlo at n = 100.

    PYTHONPATH=. python validation/finite_ridge.py                 # writes validation/results/finite_ridge.{md,json}
    PYTHONPATH=. python validation/finite_ridge.py --trials 200 --draws 200 --scan-draws 200 --out-dir /tmp/x

Two references, both of the real ridge fit (d = 2n latent coordinates, the model on the first
``p``; label noise σ² = 0.1):

1. ``dcprune simulate`` (:func:`dcprune.montecarlo.simulate`): ``--trials`` experiments of the
   whole procedure (fit, prune, retrain), every risk exact given the fitted model. Near the peak
   the label noise alone makes one trial's dense risk vary by ~45%, so 2,000 trials resolve the
   mean to ~1%.
2. Noise-integrated Monte Carlo of the dense risk: per draw of ``X`` the expectation over the
   label noise is exact, :math:`\\sigma_{eff}^2 + \\eta^2 u^\\top\\Sigma u
   + \\frac{\\sigma_{eff}^2}{n}\\operatorname{tr}[(S+\\eta)^{-1}S(S+\\eta)^{-1}\\Sigma]`
   with :math:`u = (S+\\eta)^{-1}\\beta` (the Woodbury form for ``p > n``); ``--draws`` draws of
   ``X`` resolve the mean to ~0.15% near the peak.

The tables give the corrected prediction (``dcprune risk --n 100 --ridge R``), the asymptotic
value the same command gave before the correction (``--n`` left out), both references with
their standard errors, the relative gaps and z-scores. A third table scans the ridge at the
widths next to the peak (Σ = I, noise-integrated), showing the first-order, resummed and blended
forms of §13 and why the blend is needed below ridge ≈ 1e-4.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np

import dcprune
from dcprune.finiteridge import blend_weight, first_order, lower_edge
from dcprune.montecarlo import simulate
from dcprune.montecarlo.runtime import single_threaded_blas
from dcprune.output import atomic_write, write_json
from dcprune.quantities import PREDICTED
from dcprune.solver import dense_risk, solve_zeta

RESULTS = Path(__file__).resolve().parent / "results"
N, KAPPA, ALPHA, SIGMA2 = 100, 2.0, 0.3, 0.1
WIDTHS = (0.5, 0.9, 1.05, 1.2, 2.0)
RIDGES = (1e-3, 1e-2)
PROBLEMS = {"spiked-covariance": dcprune.SpikedCovariance(), "isotropic": dcprune.Isotropic()}
SCAN_WIDTHS = (0.9, 0.95, 1.05)
SCAN_RIDGES = (1e-6, 1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 1e-2)


def noise_integrated(lam, beta, p, ridges, draws, seed):
    """Mean and SE of the dense risk of the ridge fit on the first ``p`` of the coordinates
    ``(lam, beta)``, the label noise integrated exactly per draw of ``X`` (module docstring)."""
    rng = np.random.default_rng(seed)
    lam_p, beta_p = lam[:p], beta[:p]
    noise = SIGMA2 + float(np.sum(lam[p:] * beta[p:] ** 2))
    out = np.empty((draws, len(ridges)))
    with single_threaded_blas():  # small matrices: threads only contend
        _integrate(out, rng, lam_p, beta_p, noise, ridges)
    return out.mean(axis=0), out.std(axis=0, ddof=1) / math.sqrt(draws)


def _integrate(out, rng, lam_p, beta_p, noise, ridges):
    p = lam_p.size
    for t in range(out.shape[0]):
        X = rng.standard_normal((N, p)) * np.sqrt(lam_p)
        for j, eta in enumerate(ridges):
            if p <= N:
                inv = np.linalg.inv(X.T @ X / N + eta * np.eye(p))
                u = inv @ beta_p
                bias = eta**2 * u @ (lam_p * u)
                resolved = inv @ X.T  # (S + η)⁻¹ Xᵀ
            else:
                k = np.linalg.inv(X @ X.T / N + eta * np.eye(N))
                shrunk = beta_p - X.T @ (k @ (X @ beta_p)) / N  # η (S + η)⁻¹ β
                bias = shrunk @ (lam_p * shrunk)
                resolved = X.T @ k  # (S + η)⁻¹ Xᵀ = Xᵀ (XXᵀ/n + η)⁻¹
            variance = noise * np.sum(lam_p[:, None] * resolved**2) / N**2
            out[t, j] = noise + bias + variance


def _setup(name, ridge, n=N):
    return dcprune.Diagonal(PROBLEMS[name], kappa=KAPPA, alpha=ALPHA, sigma2=SIGMA2, n=n, ridge=ridge)


def grid(trials, draws, seed):
    rows = []
    for name in PROBLEMS:
        lam, beta = PROBLEMS[name].coordinates(int(KAPPA * N))
        integrated = {w: noise_integrated(lam, beta, int(round(w * N)), RIDGES, draws, seed + int(w * N))
                      for w in WIDTHS}
        for j, ridge in enumerate(RIDGES):
            setup = _setup(name, ridge)
            start = time.perf_counter()
            sim = simulate(setup, widths=list(WIDTHS), trials=trials, seed=seed)
            print(f"{name} ridge {ridge:g}: {trials} trials in {time.perf_counter() - start:.0f} s", flush=True)
            for row in sim.rows:
                corrected = dcprune.predict(setup, width=row.width).risk
                asymptotic = dcprune.predict(_setup(name, ridge, n=None), width=row.width).risk
                mean, se = integrated[row.width]
                rows.append({
                    "problem": name, "ridge": ridge, "width": row.width, "p": row.p,
                    "theory": {q: corrected[q].mean for q in PREDICTED},
                    "asymptotic": {q: asymptotic[q].mean for q in PREDICTED},
                    "mc": {q: [row.risk[q].mean, row.risk[q].se] for q in PREDICTED},
                    "integrated": [float(mean[j]), float(se[j])],
                })
    return rows


def scan(draws, seed):
    """Σ = I by the peak: the forms of §13 against the noise-integrated mean, over the ridge."""
    lam, beta = PROBLEMS["isotropic"].coordinates(int(KAPPA * N))
    out = []
    for w in SCAN_WIDTHS:
        p = int(round(w * N))
        mean, se = noise_integrated(lam, beta, p, SCAN_RIDGES, draws, seed + p)
        noise = SIGMA2 + float(np.sum(lam[p:] * beta[p:] ** 2))
        atoms = (np.ones((1, 1)), np.full((1, 1), beta[0]), np.full((1, 1), float(p)))
        for j, ridge in enumerate(SCAN_RIDGES):
            zeta, _, _ = solve_zeta(atoms[0], atoms[2], N, ridge)
            terms = first_order(*atoms, N, zeta)
            first = noise + sum(terms.first(noise))[0]
            resummed = noise + sum(terms.resummed(noise))[0]
            blended = float(dense_risk(*atoms, noise, N, ridge=ridge, finite=True).gamma[0])
            asymptotic = float(dense_risk(*atoms, noise, N, ridge=ridge).gamma[0])
            weight = float(blend_weight(ridge, lower_edge(atoms[0], atoms[2], N))[0])
            out.append({"width": w, "p": p, "ridge": ridge, "mean": float(mean[j]), "se": float(se[j]),
                        "first": float(first), "resummed": float(resummed), "blended": blended,
                        "asymptotic": asymptotic, "weight": weight})
    return out


def _pct(value, ref):
    return 100.0 * (value / ref - 1.0)


def report(rows, scanned, args, seconds) -> str:
    lines = [
        "# Finite-size ridge (docs/theory.rst §13) against Monte Carlo",
        "",
        f"Produced by `python validation/finite_ridge.py --trials {args.trials} --draws {args.draws} "
        f"--scan-draws {args.scan_draws} --seed {args.seed}` in {seconds:.0f} s. Problems: `--kappa {KAPPA:g} "
        f"--alpha {ALPHA:g} --sigma2 {SIGMA2:g} --n {N}` (d = {int(KAPPA * N)}), the model of width p/n on the first p "
        "coordinates. *corrected*: `dcprune risk --n 100 --ridge R` (§13); *asymptotic*: the value without "
        "the correction (what `--n` with `--ridge` returned before). *MC*: `dcprune simulate`, "
        f"{args.trials} trials; *integrated*: the label noise integrated exactly per draw of X, "
        f"{args.draws} draws. Gaps are theory/reference − 1.",
        "",
        "## Dense risk",
        "",
        "| problem | ridge | p/n | corrected | asymptotic | MC ± SE | corrected − MC | z | asymptotic − MC "
        "| integrated ± SE | corrected − integrated | asymptotic − integrated |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        t, a = r["theory"]["dense"], r["asymptotic"]["dense"]
        m, s = r["mc"]["dense"]
        im, ise = r["integrated"]
        lines.append(f"| {r['problem']} | {r['ridge']:g} | {r['width']:g} | {t:.4f} | {a:.4f} | {m:.4f} ± {s:.4f} "
                     f"| {_pct(t, m):+.2f}% | {(m - t) / s:+.2f} | {_pct(a, m):+.2f}% | {im:.4f} ± {ise:.4f} "
                     f"| {_pct(t, im):+.2f}% | {_pct(a, im):+.2f}% |")
    worst = max(rows, key=lambda r: abs(_pct(r["theory"]["dense"], r["integrated"][0])))
    worst_a = max(rows, key=lambda r: abs(_pct(r["asymptotic"]["dense"], r["integrated"][0])))
    zs = [(r["mc"]["dense"][0] - r["theory"]["dense"]) / r["mc"]["dense"][1] for r in rows]
    lines += [
        "",
        f"Worst corrected gap to the integrated mean: {_pct(worst['theory']['dense'], worst['integrated'][0]):+.2f}% "
        f"({worst['problem']}, ridge {worst['ridge']:g}, p/n {worst['width']:g}); asymptotic: "
        f"{_pct(worst_a['asymptotic']['dense'], worst_a['integrated'][0]):+.2f}% ({worst_a['problem']}, ridge "
        f"{worst_a['ridge']:g}, p/n {worst_a['width']:g}). Against `simulate`: largest |z| {max(map(abs, zs)):.2f}, "
        f"rms z {math.sqrt(np.mean(np.square(zs))):.2f} over {len(zs)} points; largest |corrected − MC| "
        f"{max(abs(_pct(r['theory']['dense'], r['mc']['dense'][0])) for r in rows):.2f}%.",
        "",
        "## Pruned and fresh-retrained models (the corrected noise level τ of §13)",
        "",
        "z-scores of `simulate` against the corrected prediction (and, after the slash, against the asymptotic "
        "one); *gap* is the largest |corrected − MC| in % of the prediction.",
        "",
        "| problem | ridge | " + " | ".join(q for q in PREDICTED if q != "dense") + " |",
        "| --- | --- | " + " | ".join("---" for q in PREDICTED if q != "dense") + " |",
    ]
    for name in PROBLEMS:
        for ridge in RIDGES:
            sel = [r for r in rows if r["problem"] == name and r["ridge"] == ridge]
            cells = []
            for q in PREDICTED:
                if q == "dense":
                    continue
                z = [(r["mc"][q][0] - r["theory"][q]) / r["mc"][q][1] for r in sel]
                za = [(r["mc"][q][0] - r["asymptotic"][q]) / r["mc"][q][1] for r in sel]
                gap = max(abs(_pct(r["theory"][q], r["mc"][q][0])) for r in sel)
                cells.append(f"max\\|z\\| {max(map(abs, z)):.1f} / {max(map(abs, za)):.1f}, gap {gap:.1f}%")
            lines.append(f"| {name} | {ridge:g} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "## The blend by the peak (Σ = I, noise-integrated)",
        "",
        f"Gaps of each form of §13 to the noise-integrated mean ({args.scan_draws} draws); *w* is the weight of the "
        "resummed form, `1/(1 + (ridge/(0.07 a))²)` with `a` the lower edge of the spectrum of XᵀX/n. At ridge "
        "1e-6 the fit is ridgeless in effect, where γ_n is exact for Σ = I: the gap there is the reference's own "
        "error (the risk next to the peak is heavy tailed, and a sample mean of it tends to fall short).",
        "",
        "| p/n | ridge | integrated ± SE | w | blended | first-order | resummed | asymptotic |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in scanned:
        m = r["mean"]
        lines.append(f"| {r['width']:g} | {r['ridge']:g} | {m:.4f} ± {r['se']:.4f} ({100 * r['se'] / m:.2f}%) "
                     f"| {r['weight']:.2f} | {_pct(r['blended'], m):+.2f}% | {_pct(r['first'], m):+.2f}% "
                     f"| {_pct(r['resummed'], m):+.2f}% | {_pct(r['asymptotic'], m):+.2f}% |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=2000)
    parser.add_argument("--draws", type=int, default=2000)
    parser.add_argument("--scan-draws", type=int, default=10000,
                        help="draws of X per width of the ridge scan (heavy-tailed by the peak)")
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--out-dir", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    rows = grid(args.trials, args.draws, args.seed)
    scanned = scan(args.scan_draws, args.seed)
    seconds = time.perf_counter() - start
    args.out_dir.mkdir(parents=True, exist_ok=True)
    write_json(args.out_dir / "finite_ridge.json", {"trials": args.trials, "draws": args.draws,
                                                    "scan_draws": args.scan_draws, "seed": args.seed,
                                                    "grid": rows, "scan": scanned})
    text = report(rows, scanned, args, seconds)
    atomic_write(args.out_dir / "finite_ridge.md", lambda tmp: Path(tmp).write_text(text))
    print(text)


if __name__ == "__main__":
    main()
