"""Monte Carlo of the real regressions (THEORY.md §1), Numba-accelerated.

Modules, one job each: ``kernels`` (the jitted sampling, fit, prune, retrain and risk kernels,
the parallel trial driver and the validating :func:`~dcprune.montecarlo.kernels.run`),
``linalg`` (the dense linear algebra the fits use), ``sampler`` (the validated description of
what a trial samples), ``runtime`` (threads, BLAS threads, memory), ``batches`` (the loop that
runs trials in interruptible batches), and the runners ``simulate`` (diagonal problems, and the
result objects), ``covariance`` and ``randomfeatures``. Importing this package compiles nothing
until a kernel is first called.
"""

from ..checks import available_memory
from .covariance import CovarianceSimulation, simulate_covariance
from .randomfeatures import MC_ACTIVATIONS, RandomFeaturesSimulation, simulate_random_features
from .sampler import Sampler
from .simulate import QUANTITIES, Simulation, SimulationRow, simulate, simulate_problem

__all__ = ["CovarianceSimulation", "simulate_covariance", "MC_ACTIVATIONS", "QUANTITIES", "RandomFeaturesSimulation",
           "Sampler", "Simulation", "SimulationRow", "available_memory", "simulate", "simulate_problem",
           "simulate_random_features"]
