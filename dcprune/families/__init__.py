"""Problem families: each gives the DC law of its trained coefficients and a Monte Carlo sampler.

See :mod:`dcprune.families.base` for the interface every family implements.
"""

from .base import Family, ModelRow, Reference, Theory
from .correlated import Correlated, load_covariance
from .covariance import CovarianceProblem
from .diagonal import PROBLEMS, DCSolution, Diagonal, predict_problem, solve_dc, standard_problem
from .powerlaw import PowerLaw
from .randomfeatures import RF_PROBLEM, RandomFeatures
from .rankone import RankOne
from .spectra import (
    ArraySpectrum,
    DiagonalProblem,
    Isotropic,
    Spectrum,
    SpikedCovariance,
    SpikedIdentity,
    load_spectrum,
)

__all__ = [
    "Family", "ModelRow", "Reference", "Theory",
    "Diagonal", "Correlated", "RandomFeatures", "RankOne",
    "Spectrum", "SpikedCovariance", "SpikedIdentity", "Isotropic", "PowerLaw", "ArraySpectrum",
    "DiagonalProblem", "CovarianceProblem", "PROBLEMS", "RF_PROBLEM",
    "standard_problem", "load_spectrum", "load_covariance", "solve_dc", "predict_problem", "DCSolution",
]
