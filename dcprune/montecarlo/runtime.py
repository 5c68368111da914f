"""Where the Monte Carlo runs: Numba threads, BLAS threads and memory.

The kernels parallelize over trials (``prange``); this module decides how many threads that
uses (:func:`num_threads`, :func:`check_threads`), keeps BLAS from adding threads of its own
while they run (:func:`single_threaded_blas`, both inside :func:`trial_threads`), and refuses a
run that would not fit in memory before it starts (:func:`estimate_bytes`,
:func:`guard_memory`). Nothing here changes a number: a trial's results depend only on its seed.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import re

import numba
import numpy as np

from ..checks import check_memory
from ..quantities import MEASURED

__all__ = ["kernels_compiled", "warm_up", "num_threads", "check_threads", "trial_threads", "single_threaded_blas",
           "estimate_bytes", "guard_memory", "memory_rows"]


def num_threads() -> int:
    """The Numba threads a run uses by default (the current setting, at most the pool's size)."""
    return numba.get_num_threads()


def check_threads(threads) -> int:
    """``threads`` validated against Numba's pool, or :func:`num_threads` when ``None``.

    Numba sizes its pool once, at start-up: from ``NUMBA_NUM_THREADS`` when that is set, else
    from the cores. The error says which, since the fix differs (unset or raise the variable).
    """
    if threads is None:
        return num_threads()
    cap = numba.config.NUMBA_NUM_THREADS
    if (isinstance(threads, bool) or not isinstance(threads, (int, np.integer))
            or not 1 <= threads <= cap):
        env = os.environ.get("NUMBA_NUM_THREADS")
        origin = (f"the cap set by NUMBA_NUM_THREADS={env}" if env is not None
                  else "the cores Numba started with")
        raise ValueError(f"threads must be an integer from 1 to {cap} ({origin}), "
                         f"got threads={threads}")
    return int(threads)


@contextlib.contextmanager
def trial_threads(threads: int | None = None):
    """Run the block with ``threads`` Numba threads (``None``: unchanged) and one BLAS thread.

    Both settings are restored afterwards. ``threads`` must already be valid
    (:func:`check_threads`).
    """
    old = numba.get_num_threads()
    if threads is not None:
        numba.set_num_threads(int(threads))
    try:
        with single_threaded_blas():
            yield
    finally:
        numba.set_num_threads(old)


@functools.cache
def _openblas_thread_controls():
    """``(set_num_threads, get_num_threads)`` of every OpenBLAS loaded in this process (Linux).

    Numba's ``np.dot`` and Cholesky call SciPy's OpenBLAS. Left multi-threaded, its threads
    compete with the prange threads, and its threaded small Cholesky is several times slower
    than the serial one even without prange (measured: 0.44 ms vs 0.12 ms at 200×200).
    """
    try:
        with open("/proc/self/maps") as f:
            paths = sorted(set(re.findall(r"(/\S*openblas\S*\.so\S*)", f.read())))
    except OSError:
        return ()
    controls = []
    for path in paths:
        lib = ctypes.CDLL(path)
        for prefix, suffix in (("scipy_", ""), ("scipy_", "64_"), ("", ""), ("", "64_")):
            setter = getattr(lib, f"{prefix}openblas_set_num_threads{suffix}", None)
            getter = getattr(lib, f"{prefix}openblas_get_num_threads{suffix}", None)
            if setter is not None and getter is not None:
                controls.append((setter, getter))
                break
    return tuple(controls)


@contextlib.contextmanager
def single_threaded_blas():
    """Run the block with BLAS limited to one thread (parallelism comes from the trials).

    Uses ``threadpoolctl`` when installed, else OpenBLAS's own setter (found through
    ``/proc/self/maps``); elsewhere it does nothing (then set ``OPENBLAS_NUM_THREADS=1``).
    The limit is process-wide while the block runs, and restored afterwards.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        controls = _openblas_thread_controls()
        saved = [get() for _, get in controls]
        for setter, _ in controls:
            setter(1)
        try:
            yield
        finally:
            for (setter, _), k in zip(controls, saved):
                setter(k)
    else:
        with threadpool_limits(1, user_api="blas"):
            yield


def estimate_bytes(n: int, d: int, n_widths: int, trials: int, threads: int) -> int:
    """Upper estimate of the peak memory (bytes) of a run beyond its inputs.

    ``d`` bounds both the feature count and the latent dimension (ReLU features draw ``D``
    inputs per sample; pass ``max(p, D)``). Per running trial (one per thread), in float64
    words: two samples with their latent normals and transposes (``2·n·d + 4·n·d``), two Gram
    matrices (``2·d²``), dense coefficients and kept sets (``4·n_widths·d``), the dual Gram and
    factor (``2·n²``), one refit's gathered design, Gram and SVD work (``4·n·d + 2·n²``); plus a
    ``Σ = LLᵀ`` built from a factor (``d²``) and the outputs ``trials·n_widths·(11·8 + 1)``
    bytes. Measured peaks stay below this (tests).
    """
    per_trial = 10 * n * d + 2 * d * d + 4 * n_widths * d + 4 * n * n + 16 * d
    return int(8 * (threads * per_trial + d * d) + trials * n_widths * (8 * len(MEASURED) + 1))


def memory_rows(n: int, unlabelled: int) -> int:
    """The sample size :func:`estimate_bytes` is given for a trial of ``n`` samples and
    ``unlabelled`` inputs of distillation: the latter's sample, transpose and Gram (``4·M·d``
    words, ``M²`` for a dual fit) are within half a training-and-fresh row's share each."""
    return int(n) + (int(unlabelled) + 1) // 2


def guard_memory(n: int, d: int, n_widths: int, trials: int, threads: int) -> None:
    """Refuse (``ValueError``, :func:`dcprune.checks.check_memory`) a run whose
    :func:`estimate_bytes` exceeds the available memory, saying what to reduce."""
    check_memory(estimate_bytes(n, d, n_widths, trials, threads),
                 "reduce --n (memory grows like n·d and d²), or --trials / --points "
                 "(stored results grow like trials × widths)")


def kernels_compiled() -> bool:
    """Whether the trial driver is compiled: in this process, or in Numba's on-disk cache for
    today's source (then a run loads it in a second instead of compiling for 1–3 minutes).

    Reads the cache index through Numba's cache object; if its layout is not the one known
    here, answers ``True`` (say nothing rather than announce a compile that will not happen).
    """
    from . import kernels

    driver = kernels.simulate_trials
    if driver.signatures:
        return True
    try:
        return bool(driver._cache._cache_file._load_index())
    except Exception:  # another Numba's cache layout
        return True


def warm_up() -> float:
    """Compile (or load) the Monte Carlo kernels with a two-trial run; returns the seconds taken.

    One run covers every family: the sampler kind is a run-time argument of the same kernels.
    """
    import time

    import numpy as np

    from . import kernels
    from .sampler import Sampler

    start = time.perf_counter()
    job = kernels.prepare(Sampler.diagonal(np.ones(4), np.full(4, 0.5), 0.1), n=6, widths=[2, 4], s=1, seed=0)
    job.trials(0, 2)
    return time.perf_counter() - start
