"""Theory-engine speed: curve cost, cost growth with atoms, and import time, in one run.

Usage: python validation/bench_theory.py [--out validation/results/bench_theory.json]
Writes JSON atomically and prints a summary. Targets: 200-point curve < 0.1 s;
one prediction for 10^6 distinct atoms < 2 s; `import dcprune` < 0.5 s.

The measurements are functions (:func:`curve_seconds`, :func:`predict_atoms_seconds`,
:func:`import_seconds`) so that ``validation/benchmarks.py`` reuses them.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import dcprune
from dcprune.output import write_json

PROBLEM_NAMES = ("spiked-covariance", "spiked-identity", "isotropic", "power-law")
ATOMS = (10**2, 10**3, 10**4, 10**5, 10**6)
DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "bench_theory.json"


def best_of(fn, repeat=5):
    """Smallest wall time (s) of ``repeat`` calls of ``fn()``."""
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def standard_setup(name, n=None):
    """The problem ``name`` at κ = 2, α = 0.3 (asymptotic when ``n`` is None)."""
    return dcprune.Diagonal(dcprune.standard_problem(name), kappa=2, alpha=0.3, n=n)


def curve_seconds(setup, points=200, repeat=5):
    """Best time of ``dcprune.sweep(setup, points=points)``."""
    return best_of(lambda: dcprune.sweep(setup, points=points), repeat)


def atom_arrays(atoms, rng):
    """A user spectrum of ``atoms`` distinct (λ, β) rows: λ ~ U(0.5, 5), β ~ N(0, 1/atoms)."""
    return rng.uniform(0.5, 5.0, atoms), rng.normal(size=atoms) / np.sqrt(atoms)


def predict_atoms_seconds(lam, beta, repeat=3):
    """Best time of one full-width prediction for the spectrum (λ, β), its grouping included."""

    def one():
        spec = dcprune.ArraySpectrum(lam=lam, beta=beta)
        return dcprune.predict(dcprune.Diagonal(spec, kappa=2, alpha=0.3))

    return best_of(one, repeat)


def predict_file_seconds(lam, beta, suffix, repeat=2):
    """Best time of reading a ``.csv`` or ``.npy`` spectrum file and one prediction from it."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"spectrum{suffix}"
        if suffix == ".npy":
            np.save(path, np.column_stack([lam, beta]))
        else:
            with path.open("w") as fh:
                fh.write("lambda,beta\n")
                np.savetxt(fh, np.column_stack([lam, beta]), delimiter=",", fmt="%.17g")

        def one():
            return dcprune.predict(dcprune.Diagonal(dcprune.load_spectrum(path), kappa=2, alpha=0.3))

        return best_of(one, repeat)


def import_seconds(module="dcprune", repeat=5):
    """Best in-process time of ``import module`` in fresh interpreters (startup excluded).

    ``module`` may be a comma-separated list, imported in one statement.
    """
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    return min(float(subprocess.check_output([sys.executable, "-c", code])) for _ in range(repeat))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(DEFAULT_OUT))
    args = parser.parse_args(argv)
    res = {}
    for name in PROBLEM_NAMES:
        for n in (None, 200):
            res[f"curve200[{name},n={n}]_s"] = curve_seconds(standard_setup(name, n))
    rng = np.random.default_rng(0)
    per_atom = {}
    for atoms in ATOMS:
        t = predict_atoms_seconds(*atom_arrays(atoms, rng), repeat=3 if atoms < 10**6 else 2)
        res[f"predict[atoms={atoms}]_s"] = t
        per_atom[atoms] = t / atoms
    res["per_atom_cost_ratio_1e6_over_1e4"] = per_atom[10**6] / per_atom[10**4]
    res["import_s"] = import_seconds()
    for k, v in res.items():
        print(f"{k:45s} {v:.4g}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_json(out, res)


if __name__ == "__main__":
    main()
