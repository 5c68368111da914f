"""The Monte Carlo on a real Dask cluster (distributed.LocalCluster, no mocks): the same numbers
bit for bit whatever the cluster size and task split, a killed worker changes nothing, an
unreachable scheduler is one line, Ctrl-C cancels and exits 130, and without --scheduler Dask
is never imported.

Clusters are small (2–3 one-thread worker processes, n ≤ 60, tens of trials): the machine is
shared; each LocalCluster costs a few seconds to start.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import dcprune
from dcprune.montecarlo import SimulationInterrupted, simulate
from dcprune.montecarlo.batches import use_executor

distributed = pytest.importorskip("distributed")

from dcprune.montecarlo.cluster import Cluster, ClusterError, connect, open_client  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}

DIAGONAL = dcprune.Diagonal(dcprune.SpikedCovariance(), kappa=2, alpha=0.3, sigma2=0.1, n=60)


def correlated():
    rng = np.random.default_rng(5)
    a = rng.standard_normal((40, 40))
    Sigma = a @ a.T / 40 + 0.1 * np.eye(40)
    return dcprune.Correlated.from_arrays(Sigma, rng.standard_normal(40) / 6, 0.2, alpha=0.25, n=30)


RANDOM_FEATURES = dcprune.RandomFeatures(kappa=1.5, alpha=0.2, n=40, input_dim=20, draws=2)


def same(a, b):
    assert a.values.shape == b.values.shape
    assert np.array_equal(a.values, b.values, equal_nan=True)  # bitwise: no tolerance
    assert np.array_equal(a.flags, b.flags)
    assert a.to_dict() == b.to_dict()


@pytest.fixture(scope="module")
def two():
    with open_client("local:2") as client:
        yield client


@pytest.fixture(scope="module")
def three():
    with open_client("local:3") as client:
        yield client


def run(client, task_trials, problem, **kw):
    with use_executor(Cluster(client, task_trials)):
        return simulate(problem, **kw)


@pytest.mark.parametrize("task_trials", [1, 7, None])
def test_diagonal_identical_on_two_workers(two, task_trials):
    kw = dict(points=4, trials=30, seed=3)
    same(simulate(DIAGONAL, **kw), run(two, task_trials, DIAGONAL, **kw))


def test_workers_import_this_dcprune(two):
    files = two.run(lambda: __import__("dcprune").__file__)
    assert set(files.values()) == {dcprune.__file__}


@pytest.mark.parametrize("task_trials", [5, None])
def test_diagonal_identical_on_three_workers(three, task_trials):
    kw = dict(points=3, trials=24, seed=11)
    same(simulate(DIAGONAL, **kw), run(three, task_trials, DIAGONAL, **kw))


def test_quantized_gaussian_run_identical_on_two_workers(two):
    """The quantized models, their data-dependent clips, stochastic rounding and a new β per
    trial travel with the job: the same numbers on the cluster."""
    problem = dcprune.Diagonal(dcprune.SpikedCovariance(), kappa=2, alpha=0.3, sigma2=0.1, n=60,
                               coefficients="gaussian")
    for spec in (dcprune.Quantization(3, clip="mse", rounding="stochastic"), dcprune.Quantization(2, clip="optimal")):
        kw = dict(points=3, trials=12, seed=7, quantization=spec)
        local, remote = simulate(problem, **kw), run(two, 5, problem, **kw)
        same(local, remote)
        assert np.array_equal(local.quantized, remote.quantized, equal_nan=True)


@pytest.mark.parametrize("clients", ["two", "three"])
def test_correlated_and_random_features_identical(request, clients):
    client = request.getfixturevalue(clients)
    problem = correlated()
    kw = dict(widths=[0.5, 1.0, 4 / 3], trials=12, seed=2)
    same(simulate(problem, **kw), run(client, 5, problem, **kw))
    kw = dict(points=3, trials=12, seed=4)  # two feature draws: two parts, tasks split inside each
    same(simulate(RANDOM_FEATURES, **kw), run(client, 4 if clients == "two" else None, RANDOM_FEATURES, **kw))


def test_validation_grid_identical(two, three):
    from dcprune.validate import grid
    from dcprune.validate import validate as run_validation

    configs = grid(quick=True)

    def rows(checks):
        return [c.to_dict() for c in checks]

    local = rows(run_validation(configs, trials=8, seed=1))
    for client in (two, three):
        with use_executor(Cluster(client)):
            ticks = []
            got = rows(run_validation(configs, trials=8, seed=1, progress=ticks.append))
        assert sum(ticks) == len(configs)
        assert len(got) == len(local)
        for a, b in zip(local, got):
            assert a.keys() == b.keys()
            for k in a:
                assert a[k] == b[k] or (a[k] != a[k] and b[k] != b[k]), (k, a[k], b[k])  # nan == nan


def test_progress_counts_every_trial(two):
    ticks = []
    with use_executor(Cluster(two, 4)):
        simulate(DIAGONAL, points=2, trials=18, seed=0, progress=ticks.append)
    assert sum(ticks) == 18 and sorted(ticks) == [2] + [4] * 4


def test_killed_worker_changes_nothing():
    kw = dict(points=3, trials=80, seed=9)
    reference = simulate(DIAGONAL, **kw)
    with open_client("local:2") as client:
        before = client.run(os.getpid)
        victim = max(before.values())
        killed = []

        def progress(k):  # after the first task: kill a worker with tasks queued and running
            if not killed:
                os.kill(victim, signal.SIGKILL)
                killed.append(victim)

        with use_executor(Cluster(client, 2)):
            got = simulate(DIAGONAL, progress=progress, **kw)
        assert killed
        client.wait_for_workers(2, timeout=60)  # the nanny restarted it
        assert victim not in client.run(os.getpid).values()
    same(reference, got)


def test_memory_guard_applies_per_task(two):
    # d = 10⁶: the job is 16 MB, each task's working memory ~16 TB. The client holds only the
    # results (tiny), so it is the worker's guard, before it allocates, that refuses.
    huge = dcprune.Diagonal(dcprune.Isotropic(), kappa=2, alpha=0.3, sigma2=0.1, n=500_000)
    with use_executor(Cluster(two, 1)), pytest.raises(ValueError, match="GiB"):
        simulate(huge, trials=2, seed=0)


def test_unreachable_scheduler_is_one_line():
    began = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-m", "dcprune", "simulate", "--kappa", "2", "--alpha", "0.3", "--n", "40", "--trials", "4",
         "--scheduler", "tcp://127.0.0.1:1"],
        env={**ENV, "DCPRUNE_SCHEDULER_TIMEOUT": "2"}, capture_output=True, text=True, timeout=120)
    assert out.returncode != 0
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("Error: cannot reach the Dask scheduler at tcp://127.0.0.1:1 within 2 s")
    assert out.stdout == ""
    assert time.monotonic() - began < 60
    with pytest.raises(ClusterError, match="cannot reach"):
        with connect("tcp://127.0.0.1:1", timeout=1):
            pass


def test_cli_scheduler_same_output_and_env_variable(tmp_path):
    args = [sys.executable, "-m", "dcprune", "simulate", "--kappa", "2", "--alpha", "0.3", "--n", "40",
            "--points", "3", "--trials", "12", "--format", "json", "--quiet"]
    local = subprocess.run(args, env=ENV, capture_output=True, text=True, timeout=300)
    remote = subprocess.run(args, env={**ENV, "DCPRUNE_SCHEDULER": "local:2"}, capture_output=True, text=True,
                            timeout=300)
    assert local.returncode == remote.returncode == 0, remote.stderr
    assert local.stdout == remote.stdout


def _session_processes(sid: int) -> list[tuple[int, float]]:
    """``(pid, CPU seconds)`` of the processes of session ``sid`` (from /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid:  # field 6 of stat: the session id; 14 and 15: user and system time
            out.append((int(stat.parent.name), (int(fields[11]) + int(fields[12])) / ticks))
    return out


def _workers_cpu(sid: int) -> float:
    return sum(cpu for pid, cpu in _session_processes(sid) if pid != sid)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="counts worker processes through /proc")
def test_ctrl_c_cancels_and_exits_130():
    import json

    args = [sys.executable, "-m", "dcprune", "simulate", "--kappa", "2", "--alpha", "0.3", "--n", "60",
            "--points", "3", "--trials", "20000", "--format", "json", "--quiet", "--scheduler", "local:2"]
    # Its own process group, as a terminal's job: Ctrl-C reaches the client and its workers.
    proc = subprocess.Popen(args, env={**ENV, "DCPRUNE_TASK_TRIALS": "200"}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        # Interrupt once the workers have spent 10 CPU seconds: set-up (loading the cached
        # kernels) takes a few, so tasks of 200 trials (< 1 s each) are running and some have
        # finished, however loaded the machine (a fixed sleep was not enough at load 10).
        deadline = time.monotonic() + 240
        while _workers_cpu(proc.pid) < 10 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.5)
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the whole group gets it
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1].startswith("Error: interrupted after "), err
    assert "Traceback" not in err and "Warning" not in err, err
    partial = json.loads(out)  # the finished prefix: printed, marked
    assert partial["interrupted"] is True and 0 < partial["trials"] < 20000 and partial["trials"] % 200 == 0


def test_no_dask_without_scheduler():
    code = textwrap.dedent("""
        import sys
        import dcprune, dcprune.montecarlo
        from dcprune.montecarlo import simulate
        from dcprune.cli import main
        simulate(dcprune.Diagonal(dcprune.Isotropic(), kappa=2, alpha=0.3, sigma2=0.1, n=20), trials=4)
        main(["simulate", "--kappa", "2", "--alpha", "0.3", "--n", "20", "--trials", "4", "--quiet"],
             standalone_mode=False)
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("dask", "distributed"))
        assert not loaded, loaded
        print("ok")
    """)
    out = subprocess.run([sys.executable, "-c", code], env={k: v for k, v in ENV.items() if k != "DCPRUNE_SCHEDULER"},
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and out.stdout.strip().endswith("ok"), out.stderr


def test_interrupted_on_cluster_keeps_a_prefix(two):
    calls = []

    def progress(k):  # Ctrl-C arrives in the client's wait, after two completions
        calls.append(k)
        if len(calls) == 2:
            raise KeyboardInterrupt

    reference = simulate(DIAGONAL, points=2, trials=30, seed=5)
    with use_executor(Cluster(two, 3)), pytest.raises(KeyboardInterrupt) as info:
        simulate(DIAGONAL, points=2, trials=30, seed=5, progress=progress)
    if isinstance(info.value, SimulationInterrupted):  # a prefix of trials finished: kept, in order
        partial = info.value.partial
        assert 0 < partial.trials < 30 and partial.trials % 3 == 0
        assert np.array_equal(partial.values, reference.values[:partial.trials])
    assert two.run(lambda: 1)  # the cluster is usable afterwards
    with use_executor(Cluster(two, 3)):
        same(reference, simulate(DIAGONAL, points=2, trials=30, seed=5))
