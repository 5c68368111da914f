"""Monte Carlo of the real regressions (THEORY.md §1), Numba-accelerated.

``kernels`` holds the jitted kernels on plain arrays; ``simulate`` validates, seeds and wraps
them. Importing this package compiles nothing until a kernel is first called.
"""

from .covariance import CovarianceSimulation, simulate_covariance
from .randomfeatures import MC_ACTIVATIONS, RandomFeaturesSimulation, simulate_random_features
from .simulate import QUANTITIES, Estimate, Simulation, SimulationRow, available_memory, simulate, simulate_problem

__all__ = ["CovarianceSimulation", "simulate_covariance", "MC_ACTIVATIONS", "QUANTITIES", "Estimate", "RandomFeaturesSimulation", "Simulation",
           "SimulationRow", "available_memory", "simulate", "simulate_problem",
           "simulate_random_features"]
