"""The Monte Carlo on a Dask cluster (``pip install "dcprune[distributed]"``).

:func:`connect` opens a :class:`distributed.Client` (``"local:N"`` starts a
:class:`distributed.LocalCluster` of N worker processes with one thread each) and installs a
:class:`Cluster` as the executor of :func:`dcprune.montecarlo.batches.run_batches`, so every
Monte Carlo started inside the block (``simulate``, figures, validation) runs its trials as
tasks there::

    with connect("tcp://10.0.0.5:8786"):
        run = simulate(problem, points=25, trials=4000)

What runs where. The client builds each part's job as it does locally (the problem, its theory
and the sampler's arrays stay on the client) and ships only the prepared batch function: a
:class:`~dcprune.montecarlo.kernels.Job` (a :class:`~dcprune.montecarlo.sampler.Sampler`'s
arrays, the widths, ``s``, seed, ridge, oracle score), scattered once to every worker. A task is
``(job, first, count)``: trials ``first .. first + count − 1`` of one part, run on one Numba
thread, returning their ``values`` and ``flags``; results stream back with
:func:`distributed.as_completed` and are written into the preallocated arrays by trial number.
Trial ``t`` is seeded by ``(seed, t)`` inside the kernel, so the result is bitwise identical to
the local run whatever the cluster size and task split (on workers with the same CPU and
builds of NumPy/Numba as the client; elsewhere it agrees to rounding).

Faults. A worker that dies has its tasks rerun elsewhere by the scheduler (the scattered job
is replicated on every worker); the numbers do not change, since a task is a pure function of
its trials. Ctrl-C cancels the futures and raises
:class:`~dcprune.montecarlo.batches.Interrupted` with the longest *contiguous prefix* of trials
completed (trials finished beyond a gap are dropped, so the partial run is trials ``0 .. k−1``
as locally). A scheduler that cannot be reached within ``timeout`` seconds raises
:class:`ClusterError` (one line).

Per worker process, once: :func:`prepare_worker` pins BLAS to one thread (parallelism comes
from the tasks) and loads the kernels from Numba's on-disk cache, compiling them if that cache
is empty (:func:`~dcprune.montecarlo.runtime.warm_up`). :func:`connect` runs it as one task
pinned to each worker before the first run, so compiles happen up front and in parallel; every
task calls it again (a no-op after the first), so a worker that joins or restarts later gets
it too. Per task, on the worker: the memory guard
(:func:`~dcprune.montecarlo.runtime.guard_memory` for that task's trials on one thread).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..checks import check_memory
from ..quantities import MEASURED
from .batches import Interrupted, use_executor
from .runtime import guard_memory

__all__ = ["ClusterError", "Cluster", "connect", "open_client", "prepare_worker", "run_task", "kernel_fingerprint"]

#: Default seconds to reach a scheduler (and to see its first worker).
TIMEOUT = 10.0
#: Tasks per worker thread and part when the task size is automatic: enough for balance and
#: for a lost worker's share to spread, few enough that the per-task overhead (a few ms,
#: validation/benchmarks.py) stays far below a task's run time.
TASKS_PER_THREAD = 4
# Values per trial and width unless a run measures more (quantized models).
_COLUMNS = len(MEASURED)


class ClusterError(RuntimeError):
    """The cluster cannot run dcprune: Dask missing, scheduler unreachable, no workers, or
    workers with another dcprune. The message is one line, ready to print."""


def _distributed():
    try:
        import distributed
    except ImportError:
        raise ClusterError("running on a Dask cluster needs the distributed extra: "
                           "pip install \"dcprune[distributed]\"") from None
    return distributed


def kernel_fingerprint() -> str:
    """A hash of the sources that determine a trial's numbers (kernels, linear algebra,
    sampler, the quantizers and their clip rules): workers must match the client's for their
    results to be the client's."""
    here = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    quantizers = here.parent / "quantization"
    for path in (here / "kernels.py", here / "draws.py", here / "linalg.py", here / "students.py",
                 here / "quantized.py", here / "sampler.py", quantizers / "levels.py", quantizers / "apply.py"):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


_PREPARED: dict | None = None
_BLAS_PINNED = contextlib.ExitStack()  # holds BLAS on one thread for the worker's lifetime


def prepare_worker() -> dict:
    """Set a worker process up once: BLAS on one thread for good, kernels loaded or compiled.

    Returns what the client checks (dcprune version and :func:`kernel_fingerprint`) and what it
    reports (where dcprune was imported from, the warm-up seconds, the process id).
    """
    global _PREPARED
    if _PREPARED is None:
        import dcprune

        from .runtime import single_threaded_blas, warm_up

        _BLAS_PINNED.enter_context(single_threaded_blas())  # never left: the worker only runs trials
        _PREPARED = {"version": dcprune.__version__, "fingerprint": kernel_fingerprint(),
                     "file": dcprune.__file__, "pid": os.getpid(), "warm_up": warm_up()}
    return _PREPARED


def run_task(batch: Callable, first: int, count: int, n: int, d: int, n_widths: int):
    """One task on a worker: trials ``first .. first + count − 1`` of ``batch`` on one Numba
    thread, after the worker's set-up and this task's memory guard; ``(first, values, flags)``."""
    import numba

    prepare_worker()
    guard_memory(n, d, n_widths, count, 1)
    numba.set_num_threads(1)  # per thread: a worker with several threads runs tasks side by side
    values, flags = batch(first, count)
    return first, values, flags


def run_call(function: Callable, args: tuple):
    """A whole function call as a task (validation configurations), on one Numba thread."""
    import numba

    prepare_worker()
    numba.set_num_threads(1)
    return function(*args)


class Cluster:
    """The executor of :func:`~dcprune.montecarlo.batches.run_batches` on a Dask ``client``.

    ``task_trials``: trials per task (``None``: each part split into about
    :data:`TASKS_PER_THREAD` tasks per worker thread). ``workers``: what
    :func:`prepare_worker` returned on each worker at connection.
    """

    def __init__(self, client, task_trials: int | None = None, workers: dict | None = None):
        if task_trials is not None and (isinstance(task_trials, bool) or not isinstance(task_trials, int)
                                        or task_trials < 1):
            raise ValueError(f"task_trials must be a whole number >= 1, got task_trials={task_trials!r}")
        self.client, self.task_trials, self.workers = client, task_trials, workers or {}

    def threads(self) -> int:
        """Worker threads on the cluster now (at least 1)."""
        return max(1, sum(w.get("nthreads", 1) for w in _workers(self.client).values()))

    def split(self, start: int, stop: int):
        """``(first, count)`` of the tasks covering trials ``start .. stop − 1``."""
        size = self.task_trials or max(1, math.ceil((stop - start) / (TASKS_PER_THREAD * self.threads())))
        for first in range(start, stop, size):
            yield first, min(size, stop - first)

    def run_batches(self, parts, *, trials, n_widths, n, d, threads=None, progress=None, columns=_COLUMNS):
        """:func:`~dcprune.montecarlo.batches.run_batches` on the cluster (``threads`` is not
        used: each task runs on one Numba thread of a worker)."""
        distributed = _distributed()
        # Only the results are held here; the trials' working memory is guarded per task.
        check_memory(trials * n_widths * (8 * columns + 1),
                     "reduce --trials or --points (stored results grow like trials × widths)")
        values = np.empty((trials, n_widths, columns))
        flags = np.zeros((trials, n_widths), np.int8)
        done = np.zeros(trials, bool)
        futures = []
        finished = False
        try:
            for start, stop, batch in parts:  # a part's set-up runs here, with the client's BLAS
                [job] = self.client.scatter([batch], broadcast=True, hash=False)
                futures += [self.client.submit(run_task, job, first, count, n, d, n_widths, pure=False)
                            for first, count in self.split(start, stop)]
            for _, (first, vals, flg) in _completed(distributed, self.client, futures):
                count = len(vals)
                values[first:first + count], flags[first:first + count] = vals, flg
                done[first:first + count] = True
                if progress is not None:
                    progress(count)
            finished = True
        except KeyboardInterrupt:
            prefix = int(np.argmin(done)) if not done.all() else trials
            raise Interrupted(values[:prefix], flags[:prefix], trials) from None
        finally:
            if not finished:
                self.client.cancel(futures)
        return values, flags

    def map(self, function: Callable, arguments, progress=None) -> list:
        """``[function(*a) for a in arguments]``, one task each, streamed back; ``progress(1)`` per
        completion. Ctrl-C cancels the rest and raises ``KeyboardInterrupt``."""
        distributed = _distributed()
        arguments = list(arguments)
        futures = [self.client.submit(run_call, function, tuple(a), pure=False) for a in arguments]
        index = {f.key: i for i, f in enumerate(futures)}
        out = [None] * len(futures)
        finished = False
        try:
            for future, result in _completed(distributed, self.client, futures):
                out[index[future.key]] = result
                if progress is not None:
                    progress(1)
            finished = True
        finally:
            if not finished:
                self.client.cancel(futures)
        return out


def _completed(distributed, client, futures):
    """``(future, result)`` pairs of ``futures`` as they finish, tracked on ``client``'s own event
    loop. ``as_completed`` otherwise uses the process's *default* client (the newest one): with
    two clients in one process the older client's futures were awaited on the other's loop and
    never woke (the scheduler held every result in memory, all workers idle: the hang of the
    cluster tests, which keep a 2- and a 3-worker cluster open together)."""
    return distributed.as_completed(futures, loop=client.loop, with_results=True)


def _workers(client) -> dict:
    """Address → info of every worker (recent ``scheduler_info`` lists 5 unless asked for all)."""
    import inspect

    if "n_workers" in inspect.signature(client.scheduler_info).parameters:
        return client.scheduler_info(n_workers=-1)["workers"]
    return client.scheduler_info()["workers"]


@contextlib.contextmanager
def _sigint_ignored():
    """Start local worker processes with Ctrl-C ignored: the terminal sends it to the whole
    process group, and only the client should act on it (cancel, report, exit 130)."""
    try:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread: nothing to arrange
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _local_workers(address: str) -> int:
    text = address.removeprefix("local:")
    if not text.isdigit() or int(text) < 1:
        raise ClusterError(f"--scheduler local:N needs a number of workers N >= 1, got {address!r}")
    return int(text)


@contextlib.contextmanager
def open_client(address: str, *, timeout: float = TIMEOUT):
    """A :class:`distributed.Client` of the scheduler at ``address`` with at least one worker
    (``local:N``: a :class:`distributed.LocalCluster` of N one-thread worker processes, stopped
    at the end); :class:`ClusterError` when it cannot be had within ``timeout`` seconds."""
    distributed = _distributed()
    local = None
    began = time.monotonic()
    if address.startswith("local:"):
        import dask

        workers = _local_workers(address)
        with _sigint_ignored():
            # No dashboard, and the scheduler's HTTP endpoints on a free local port, not 8787; no
            # statistical profiler in the workers (it samples every 10 ms; a few % of a run here).
            with dask.config.set({"distributed.worker.profile.enabled": False}):
                local = distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                                 host="127.0.0.1", dashboard_address=None,
                                                 scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                                                 silence_logs=logging.ERROR)
        client = distributed.Client(local)
    else:
        try:
            client = distributed.Client(address, timeout=timeout)
        except Exception as exc:  # OSError / TimeoutError / ValueError for a malformed address
            detail = " ".join(str(exc).split())[:200] or type(exc).__name__
            raise ClusterError(f"cannot reach the Dask scheduler at {address} within {timeout:g} s "
                               f"({detail})") from None
    try:
        try:
            client.wait_for_workers(1, timeout=max(timeout - (time.monotonic() - began), 1.0))
        except Exception:
            raise ClusterError(f"the Dask scheduler at {address} has no worker after {timeout:g} s; "
                               f"start some with `dask worker {client.scheduler.address}`") from None
        yield client
    finally:
        # A local scheduler lives in this process and logs CRITICAL lines to stderr when it still
        # reports a result to a client that has just closed (after Ctrl-C, say): not errors of
        # the run, and they would bury the CLI's own last line.
        logging.disable(logging.CRITICAL)
        try:
            client.close()
            if local is not None:
                local.close()
        finally:
            logging.disable(logging.NOTSET)


@contextlib.contextmanager
def connect(address: str, *, timeout: float = TIMEOUT, task_trials: int | None = None):
    """Run every Monte Carlo in the block on the Dask scheduler at ``address``; yields the
    :class:`Cluster`.

    ``address``: a scheduler address (``tcp://host:8786``, or anything ``distributed.Client``
    accepts), or ``local:N`` for a :class:`distributed.LocalCluster` of N worker processes
    with one thread each, started here and stopped at the end (:func:`open_client`). Raises
    :class:`ClusterError` when Dask is missing, the scheduler cannot be reached or shows no
    worker within ``timeout`` seconds, or a worker runs other kernel sources than this client.
    """
    with open_client(address, timeout=timeout) as client:
        cluster = Cluster(client, task_trials, _prepare_all(client))
        with use_executor(cluster):
            yield cluster


def _prepare_all(client) -> dict:
    """:func:`prepare_worker` on every worker (one pinned task each), checked against this client."""
    names = list(_workers(client))
    futures = [client.submit(prepare_worker, workers=[w], allow_other_workers=False, pure=False) for w in names]
    info = dict(zip(names, client.gather(futures)))
    import dcprune

    mine = (dcprune.__version__, kernel_fingerprint())
    for worker, got in info.items():
        if (got["version"], got["fingerprint"]) != mine:
            raise ClusterError(f"worker {worker} runs dcprune {got['version']} (kernels {got['fingerprint']}, "
                               f"from {got['file']}), this client {mine[0]} (kernels {mine[1]}): install the "
                               "same dcprune on every worker")
    return info
