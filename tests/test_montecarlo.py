"""Theory against Monte Carlo of the real regressions, with tolerances from the simulation.

Each check asserts |theory − MC mean| <= Z_MAX·SE + BIAS·|theory|. BIAS is the finite-size
allowance: the finite-n DC of docs/theory.rst §2 is exact for the dense risk where it is known, but
pruning thresholds and the Hessian's empirical diagonal carry effects of order 1/n that the
theory does not model (docs/theory.rst §2 reports one of 1.2% right next to the peak). We allow 1/n
relative (0.5% at n = 200), far below the differences between strategies the tool reports.
Same-data retraining is not a prediction of the theory and is only reported.
"""

import csv
import io
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import dcprune
from dcprune.families.spectra import DiagonalProblem
from dcprune.montecarlo import simulate, simulate_problem

Z_MAX = 4.0
CLAIMED = ("dense", "magnitude", "hessian", "oracle", "random", "magnitude_retrain", "hessian_retrain",
           "oracle_retrain")


def assert_agrees(theory, row, n, names=CLAIMED):
    bias = 1.0 / n
    report = []
    for name in names:
        t = theory[name].mean
        est = row.risk[name]
        z = (est.mean - t) / est.se
        report.append(f"{name}: theory {t:.4f} MC {est.mean:.4f} ± {est.se:.4f} (z={z:+.2f})")
        assert abs(est.mean - t) <= Z_MAX * est.se + bias * abs(t), "\n".join(report)
    return report


def worked_example():
    lam = np.r_[np.full(40, 5.0), np.ones(360)]
    beta = np.r_[np.full(40, 3.0), np.ones(360)] / np.sqrt(400)
    return DiagonalProblem.from_arrays(lam, beta, 0.1)


def test_worked_example_against_monte_carlo():
    problem = worked_example()
    theory = dcprune.predict_problem(problem, 200, 120, finite=True)
    row = simulate_problem(problem, 200, 120, trials=200, seed=1)
    assert_agrees(theory, row, 200)
    # Same-data retraining is not the fresh prediction (docs/theory.rst §10: 1.620 vs 2.06).
    assert row.risk["magnitude_retrain_same"].mean < theory.magnitude_retrain.mean - 10 * row.risk[
        "magnitude_retrain_same"].se


CONFIGS = [
    # (problem, kappa, alpha, sigma2, n, ridge)
    (dcprune.SpikedCovariance(), 0.6, 0.5, 0.1, 200, 0.0),  # underparameterized
    (dcprune.SpikedIdentity(), 2.0, 0.3, 0.1, 200, 0.0),  # overparameterized
    (dcprune.SpikedCovariance(), 3.0, 0.2, 0.0, 150, 0.0),  # noiseless
    (dcprune.SpikedIdentity(), 1.5, 0.1, 0.5, 200, 0.0),
    (dcprune.SpikedCovariance(), 2.0, 0.3, 0.2, 200, 0.05),  # ridge
]


@pytest.mark.parametrize("spec,kappa,alpha,sigma2,n,ridge", CONFIGS)
def test_full_width_against_monte_carlo(spec, kappa, alpha, sigma2, n, ridge):
    setup = dcprune.Diagonal(spec, kappa=kappa, alpha=alpha, sigma2=sigma2, n=n, ridge=ridge)
    theory = dcprune.predict(setup)
    sim = simulate(setup, trials=200, seed=3)
    assert_agrees(theory.risk, sim.rows[0], n)


@pytest.mark.slow
@pytest.mark.parametrize("spec", [dcprune.SpikedCovariance(), dcprune.SpikedIdentity()])
def test_figure3_sweep_against_monte_carlo(spec):
    """A Figure 3-style sweep away from the peak, every width within tolerance."""
    setup = dcprune.Diagonal(spec, kappa=3, alpha=1 / 6, sigma2=0.05, n=200)
    curve = dcprune.sweep(setup, points=30)
    sim = simulate(setup, points=30, trials=100, seed=5)
    for row, theory in zip(sim.rows, curve.rows):
        if abs(row.width - 1) < 0.1:
            continue
        assert_agrees(theory.risk, row, 200)


def test_same_seed_same_numbers():
    setup = dcprune.Diagonal(dcprune.SpikedCovariance(), kappa=2, alpha=0.3, n=60)
    a = simulate(setup, points=5, trials=8, seed=11)
    b = simulate(setup, points=5, trials=8, seed=11, progress=lambda k: None)
    c = simulate(setup, points=5, trials=8, seed=12)
    assert np.array_equal(a.values, b.values)
    assert not np.array_equal(a.values, c.values)


def test_thread_count_does_not_change_results():
    code = (
        "import dcprune, json; from dcprune.montecarlo import simulate;"
        "s = dcprune.Diagonal(dcprune.SpikedIdentity(), kappa=2, alpha=0.3, n=50);"
        "print(json.dumps(simulate(s, points=4, trials=6, seed=2).values.tolist()))"
    )
    outs = []
    for threads in ("1", "2"):
        env = {**os.environ, "NUMBA_NUM_THREADS": threads}
        outs.append(json.loads(subprocess.check_output([sys.executable, "-c", code], env=env)))
    assert outs[0] == outs[1]


def test_bad_input():
    setup = dcprune.Diagonal(dcprune.SpikedCovariance(), kappa=2, alpha=0.3, n=50)
    with pytest.raises(ValueError, match="trials"):
        simulate(setup, trials=0)
    with pytest.raises(ValueError, match="seed"):
        simulate(setup, seed=-1)
    with pytest.raises(ValueError, match="n is required"):
        simulate(dcprune.Diagonal(dcprune.SpikedCovariance(), kappa=2, alpha=0.3))
    with pytest.raises(ValueError, match="GiB"):
        simulate(dcprune.Diagonal(dcprune.Isotropic(), kappa=2, alpha=0.3, n=10**6))
    with pytest.raises(ValueError, match="threads must be an integer from 1 to"):
        simulate(setup, trials=2, threads=10**4)


def test_peak_widths_are_flagged_in_warnings():
    # Without ridge the expected risk is infinite for |p − n| <= 1 (and for retraining when
    # |s − n| <= 1): a sample mean there estimates nothing, so the run must say so.
    at_peak = dcprune.Diagonal(dcprune.SpikedCovariance(), kappa=2, alpha=0.5, n=40)  # d = 80, s = 40
    warnings = simulate(at_peak, width=41 / 40, trials=3, seed=0).warnings
    assert any("width 1.025 (p=41) is at the interpolation peak" in w for w in warnings)
    assert any("s=40 is at the interpolation peak of retraining" in w for w in warnings)
    away = dcprune.Diagonal(dcprune.SpikedCovariance(), kappa=2, alpha=0.25, n=40)  # s = 20
    assert not simulate(away, width=1.5, trials=3, seed=0).warnings
    ridge = dcprune.Diagonal(dcprune.SpikedCovariance(), kappa=2, alpha=0.5, n=40, ridge=0.1)
    assert not simulate(ridge, width=1.0, trials=3, seed=0).warnings


def test_interrupt_waits_for_the_kernel_then_raises():
    """A SIGINT during a kernel is held (raising inside Numba's result boxing crashed the
    process) and raised as KeyboardInterrupt once the kernel has returned."""
    import signal

    from dcprune.montecarlo.batches import deferred_interrupts

    reached = []
    with pytest.raises(KeyboardInterrupt):
        with deferred_interrupts():
            signal.raise_signal(signal.SIGINT)
            reached.append("after the signal")  # the kernel's stand-in finishes its work
    assert reached == ["after the signal"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_ctrl_c_stops_simulate_and_keeps_what_finished(fmt):
    """Ctrl-C mid-run: exit 130 within a batch with one stderr line, no crash, no traceback,
    and stdout holds a complete, valid result of the trials done so far, marked interrupted."""
    import signal
    import time

    simulate(dcprune.Diagonal(dcprune.Isotropic(), kappa=2, alpha=0.5, n=10), trials=2)  # kernels cached
    trials = 40000
    args = [sys.executable, "-m", "dcprune", "simulate", "--kappa", "2", "--alpha", "0.3", "--n", "100",
            "--trials", str(trials), "--points", "3", "--format", fmt]  # ~1 min of work in batches of ~3 s
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(8)  # past imports, Numba's cache load and the first batches
    proc.send_signal(signal.SIGINT)
    start = time.monotonic()
    out, err = proc.communicate(timeout=120)
    assert time.monotonic() - start < 30  # one batch, not the rest of the run
    assert proc.returncode == 130, err
    (line,) = err.strip().splitlines()
    done = int(line.removeprefix("Error: interrupted after ").split()[0])
    assert line == f"Error: interrupted after {done} of {trials} trials" and 2 <= done < trials
    if fmt == "json":
        result = json.loads(out)
        assert result["interrupted"] is True and result["trials"] == done and len(result["rows"]) == 3
        assert all(0 < r["risk"]["dense"]["mean"] < 10 and r["risk"]["dense"]["se"] > 0 for r in result["rows"])
    else:
        rows = list(csv.DictReader(io.StringIO(out)))
        assert len(rows) == 3 and all(float(r["dense_se"]) > 0 for r in rows)


def test_noiseless_full_fit_is_exact_and_not_flagged():
    """σ² = 0 and p = d = n: least squares interpolates β exactly, so the risk is 0 (the
    theory says so too) and no interpolation-peak warning applies."""
    setup = dcprune.Diagonal(dcprune.SpikedCovariance(), kappa=1, alpha=0.5, n=50, sigma2=0.0)
    sim = simulate(setup, width=1, trials=8, seed=0)
    dense = sim.rows[0].risk["dense"]
    assert 0.0 <= dense.mean < 1e-12
    assert not any("interpolation peak (|p - n|" in w for w in sim.warnings)
    assert dcprune.predict(setup).risk.dense.mean == 0.0


def test_compile_is_announced_only_when_the_cache_is_cold(tmp_path):
    """An empty Numba cache means the next run compiles: the CLI says so in one stderr line
    (a subprocess, so that this process's compiled kernels do not count)."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    code = "from dcprune.montecarlo.runtime import kernels_compiled; print(kernels_compiled())"
    cold = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert cold.stdout.strip() == "False", cold.stderr
    simulate(dcprune.Diagonal(dcprune.Isotropic(), kappa=2, alpha=0.5, n=10), trials=2)  # compiled here
    warm = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert warm.stdout.strip() == "True", warm.stderr
