"""The one loop that runs a Monte Carlo in batches of trials.

A Numba kernel cannot be interrupted and reports nothing while it runs, so every runner
(diagonal, covariance, random features) calls its kernels on successive batches of trials:
:func:`run_batches` checks the thread count and the memory once, then runs a runner's
``batch(first, count)`` over :func:`trial_batches` with Ctrl-C deferred to the end of each batch
(:func:`deferred_interrupts`) and a progress callback after it. Trials are seeded by their own
number, so the batching changes nothing in the results.

Where the trials run is decided here and only here: :func:`run_batches` hands the whole run to
the executor installed by :func:`use_executor` when there is one (a Dask cluster,
:mod:`dcprune.montecarlo.cluster`), else runs the loop below in this process.
"""

from __future__ import annotations

import contextvars
import signal
import threading
import time
from collections.abc import Callable, Iterable
from contextlib import contextmanager

import numpy as np

from ..quantities import MEASURED
from .runtime import check_threads, guard_memory, trial_threads

__all__ = ["Interrupted", "run_batches", "trial_batches", "deferred_interrupts", "use_executor",
           "current_executor"]

# Values per trial and width unless a run measures more (quantized models).
_COLUMNS = len(MEASURED)
#: The executor that runs trials instead of this process (``None``: run them here).
_EXECUTOR = contextvars.ContextVar("dcprune_executor", default=None)


@contextmanager
def use_executor(executor):
    """Run every Monte Carlo started in the block on ``executor`` (``None``: in this process).

    An executor has ``run_batches(parts, *, trials, n_widths, n, d, threads, progress, columns)`` with
    the contract of :func:`run_batches`, and ``map(function, arguments, progress)``, the results of
    ``function(*a)`` for each ``a``, in order (validation runs configurations through it).
    """
    token = _EXECUTOR.set(executor)
    try:
        yield executor
    finally:
        _EXECUTOR.reset(token)


def current_executor():
    """The executor installed by :func:`use_executor`, or ``None`` (trials run in this process)."""
    return _EXECUTOR.get()


class Interrupted(KeyboardInterrupt):
    """Ctrl-C between batches: a ``KeyboardInterrupt`` that keeps the trials already run
    (``values``, ``flags``: the first ``done`` trials, in trial order) and the ``total`` asked."""

    def __init__(self, values, flags, total: int, cause: KeyboardInterrupt | None = None):
        self.values, self.flags, self.total = values, flags, total
        self.cause = cause if cause is not None else KeyboardInterrupt()
        # SIGTERM arrives as a KeyboardInterrupt subclass with its signal number: keep it
        self.signum = getattr(self.cause, "signum", signal.SIGINT)
        super().__init__(f"after {self.done} of {total} trials")

    @property
    def done(self) -> int:
        return len(self.values)


def run_batches(parts: Iterable[tuple[int, int, Callable]], *, trials: int, n_widths: int, n: int,
                d: int, threads: int | None = None, progress: Callable[[int], None] | None = None,
                columns: int = _COLUMNS):
    """Per-trial ``(values, flags)`` of trials ``0 .. trials − 1``, run in batches.

    ``parts`` yields ``(start, stop, batch)``, consecutive ranges covering the trials (one
    range for most runs; one per feature draw for random features); it is read lazily, after
    the checks, so a part may build its inputs when it is reached. ``batch(first, count)``
    returns ``values`` ``(count, n_widths, columns)`` (columns in the order of
    :data:`dcprune.quantities.MEASURED`, then those of the quantized models when a run measures
    them, :data:`dcprune.montecarlo.kernels.QUANTIZED_COLUMNS`) and ``flags`` ``(count, n_widths)`` for trials
    ``first .. first + count − 1``, filled in trial order. Ctrl-C raises :class:`Interrupted`
    with the trials completed so far. Before any part: ``threads``
    (default: all of Numba's) is validated and the memory estimate of ``n`` samples, ``d``
    features (or latent inputs, the larger) and ``n_widths`` widths is checked
    (:func:`~dcprune.montecarlo.runtime.guard_memory`). Batches (:func:`trial_batches`) run with
    BLAS on one thread and Ctrl-C deferred; ``progress(count)`` is called after each. A part's
    own set-up (reading the next item of ``parts``) runs outside that, with the caller's BLAS,
    so the NumPy work of building a problem gives the same numbers as elsewhere in dcprune.
    Under :func:`use_executor` the executor runs the parts instead, with the same results.
    """
    executor = _EXECUTOR.get()
    if executor is not None:
        return executor.run_batches(parts, trials=trials, n_widths=n_widths, n=n, d=d, threads=threads,
                                    progress=progress, columns=columns)
    threads = check_threads(threads)
    guard_memory(n, d, n_widths, trials, threads)
    values = np.empty((trials, n_widths, columns))
    flags = np.zeros((trials, n_widths), np.int8)
    done = 0
    try:
        for start, stop, batch in parts:  # a part's set-up runs with the caller's BLAS threads
            with trial_threads(threads):
                for first, count in trial_batches(start, stop, threads):
                    values[first:first + count], flags[first:first + count] = batch(first, count)
                    done = first + count
                    if progress is not None:
                        progress(count)
    except KeyboardInterrupt as exc:
        raise Interrupted(values[:done], flags[:done], trials, exc) from None
    return values, flags


def trial_batches(start: int, stop: int, threads: int, seconds: float = 3.0):
    """``(first, count)`` of successive kernel calls covering trials ``start .. stop − 1``.

    A Numba kernel cannot be interrupted, so Ctrl-C takes effect (and a progress bar moves)
    between batches: the loop body, the batch's kernel calls, runs under
    :func:`deferred_interrupts`, and each batch is sized, from the time per trial of the one
    before, to take about ``seconds``. Counts are multiples of ``threads`` so that ``prange``
    stays balanced (5 trials on 2 threads cost as much as 6), and grow at most 4× per batch,
    since the first one's time includes compiling or loading the kernels. Per-trial seeds
    make the numbers independent of the batching.
    """
    first, count = start, threads
    while first < stop:
        count = min(count, stop - first)
        began = time.perf_counter()
        with deferred_interrupts():
            yield first, count
        per_trial = max((time.perf_counter() - began) / count, 1e-9)
        first += count
        count = max(threads, min(int(seconds / per_trial) // threads * threads, 4 * count))


@contextmanager
def deferred_interrupts():
    """Hold Ctrl-C while a Numba kernel runs and act on it once the kernel has returned.

    The kernel cannot stop for a signal anyway, and a ``KeyboardInterrupt`` raised while
    Numba boxes the kernel's result tuple leaves a corrupt tuple behind (SIGSEGV when it is
    unpacked; seen here). So the handler only records the signal; the previous handler (for
    the CLI, "Error: interrupted") runs after the kernel, between batches.
    """
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread receives Python-level signals
        return
    caught = []
    # SIGTERM too, where Python handles it (the CLI raises it like Ctrl-C: dcprune.signals).
    held = [signal.SIGINT] + [s for s in (signal.SIGTERM,) if callable(signal.getsignal(s))]
    previous = {s: signal.signal(s, lambda signum, frame: caught.append(signum)) for s in held}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        if caught:
            first = caught[0]
            handler = previous[first]
            if callable(handler):
                handler(first, None)
            elif handler == signal.SIG_DFL:
                signal.raise_signal(first)
