"""Monte Carlo of the real regressions (docs/theory.rst §1), Numba-accelerated.

:func:`simulate` runs any problem family's sampler and returns a :class:`Simulation`.
Modules, one job each: ``kernels`` (the jitted sampling, fit, prune, retrain and risk kernels,
the parallel trial driver and the validating :func:`~dcprune.montecarlo.kernels.run`),
``linalg`` (the dense linear algebra the fits use), ``students`` (the distilled students'
fits), ``sampler`` (the validated description of
what a trial samples), ``runtime`` (threads, BLAS threads, memory), ``batches`` (the loop that
runs trials in interruptible batches), ``simulate`` (the one entry point and its result) and
the families' samplers ``covariance`` and ``randomfeatures`` (the diagonal one lives in
``simulate``). Importing this package compiles nothing until a kernel is first called.
"""

from ..checks import available_memory
from .sampler import Sampler
from .simulate import QUANTITIES, Simulation, SimulationInterrupted, SimulationRow, Trials, simulate, simulate_problem

__all__ = ["QUANTITIES", "Sampler", "Simulation", "SimulationInterrupted", "SimulationRow", "Trials",
           "available_memory", "simulate", "simulate_problem"]
