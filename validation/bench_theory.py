"""Theory-engine speed: curve cost, cost growth with atoms, and import time, in one run.

Usage: python validation/bench_theory.py [--out validation/results/bench_theory.json]
Writes JSON atomically and prints a summary. Targets (issue 2): 200-point curve < 0.1 s;
one prediction for 10^6 distinct atoms < 2 s; `import dcprune` < 0.5 s.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import dcprune


def best_of(fn, repeat=5):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="validation/results/bench_theory.json")
    args = parser.parse_args(argv)
    res = {}
    for name in ("spiked-covariance", "spiked-identity", "isotropic", "power-law"):
        for n in (None, 200):
            setup = dcprune.Setup(dcprune.standard_problem(name), kappa=2, alpha=0.3, n=n)
            res[f"curve200[{name},n={n}]_s"] = best_of(lambda: dcprune.curve(setup, points=200))
    rng = np.random.default_rng(0)
    per_atom = {}
    for atoms in (10**2, 10**3, 10**4, 10**5, 10**6):
        lam = rng.uniform(0.5, 5.0, atoms)
        beta = rng.normal(size=atoms) / np.sqrt(atoms)

        def one():
            spec = dcprune.ArraySpectrum(lam=lam, beta=beta)
            return dcprune.predict(dcprune.Setup(spec, kappa=2, alpha=0.3))

        t = best_of(one, repeat=3 if atoms < 10**6 else 2)
        res[f"predict[atoms={atoms}]_s"] = t
        per_atom[atoms] = t / atoms
    res["per_atom_cost_ratio_1e6_over_1e4"] = per_atom[10**6] / per_atom[10**4]
    code = "import time; t = time.perf_counter(); import dcprune; print(time.perf_counter() - t)"
    imports = [float(subprocess.check_output([sys.executable, "-c", code])) for _ in range(5)]
    res["import_s"] = min(imports)
    for k, v in res.items():
        print(f"{k:45s} {v:.4g}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=out.parent, delete=False, suffix=".tmp") as fh:
        json.dump(res, fh, indent=2)
    os.replace(fh.name, out)


if __name__ == "__main__":
    main()
