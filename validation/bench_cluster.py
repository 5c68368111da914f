"""The Monte Carlo on a Dask LocalCluster against the in-process run on the same cores.

1. Efficiency: the same work (n = 400, κ = 2, d = 800, one width, ``trials`` trials) in process
   on 2 Numba threads and on a LocalCluster of 2 worker processes × 1 thread, in interleaved
   rounds: ``efficiency`` is the median over rounds of ``in-process seconds / cluster seconds``
   (paired rounds, so that the other sessions' load drifting between rounds cancels; target ≥ 0.8;
   cluster start-up and the workers' kernel loading are off the clock, scheduling, shipping
   and result streaming on it). The results are checked to be bitwise identical.
2. Per-task overhead: ``tasks`` one-trial tasks of a batch that does no work, through the same
   path (scatter, submit, ``as_completed``, writes by trial index): worker-seconds per task
   (``wall × workers / tasks``) and the client's throughput in tasks per second.

Run on its own (``python validation/bench_cluster.py``) or as part of ``benchmarks.py``.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np

import dcprune
from dcprune.montecarlo import simulate
from dcprune.montecarlo.batches import use_executor
from dcprune.quantities import MEASURED


def _idle_batch(first, count):
    return np.zeros((count, 1, len(MEASURED))), np.zeros((count, 1), np.int8)


def cluster(trials: int = 16, rounds: int = 2, tasks: int = 400, workers: int = 2) -> dict:
    from dcprune.montecarlo.cluster import Cluster, open_client, prepare_worker

    problem = dcprune.Diagonal(dcprune.SpikedCovariance(), kappa=2, alpha=0.3, sigma2=0.1, n=400)
    kw = dict(trials=trials, seed=1)
    simulate(problem, trials=2, seed=0, threads=workers)  # kernels loaded off the clock
    local_s, cluster_s, same = [], [], True
    with open_client(f"local:{workers}") as client:
        client.run(prepare_worker)  # each worker loads its kernels off the clock
        executor = Cluster(client)
        for _ in range(rounds):
            t = time.perf_counter()
            ref = simulate(problem, threads=workers, **kw)
            local_s.append(time.perf_counter() - t)
            t = time.perf_counter()
            with use_executor(executor):
                got = simulate(problem, **kw)
            cluster_s.append(time.perf_counter() - t)
            same &= bool(np.array_equal(ref.values, got.values) and np.array_equal(ref.flags, got.flags))
        idle = Cluster(client, task_trials=1)
        idle.run_batches([(0, tasks // 10, _idle_batch)], trials=tasks // 10, n_widths=1, n=2, d=2)  # warm
        t = time.perf_counter()
        idle.run_batches([(0, tasks, _idle_batch)], trials=tasks, n_widths=1, n=2, d=2)
        idle_s = time.perf_counter() - t
    best_local, best_cluster = min(local_s), min(cluster_s)
    return {
        "problem": {"n": 400, "d": 800, "kappa": 2, "alpha": 0.3, "widths": 1, "trials": trials},
        "workers": workers, "threads_in_process": workers,
        "in_process_seconds": local_s, "cluster_seconds": cluster_s,
        "efficiency": float(np.median(np.array(local_s) / np.array(cluster_s))),
        "efficiency_best_of_each": best_local / best_cluster,
        "seconds_per_trial_in_process": best_local / trials,
        "core_seconds_per_trial": best_local * workers / trials,
        "bitwise_identical": same,
        "idle_tasks": tasks, "idle_wall_seconds": idle_s,
        "overhead_worker_seconds_per_task": idle_s * workers / tasks,
        "tasks_per_second": tasks / idle_s,
    }


if __name__ == "__main__":
    print(json.dumps(cluster(*map(int, sys.argv[1:])), indent=2))
