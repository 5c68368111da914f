"""dcprune: exact test-risk predictions for pruned least squares, and their Monte Carlo check.

The distributional characterization (DC) of min-norm and ridge least squares (THEORY.md §2)
predicts the risk of magnitude, Hessian, oracle and random pruning, with and without fresh
retraining, for diagonal linear Gaussian problems (§3–5). Quick start::

    import dcprune
    setup = dcprune.Setup(dcprune.SpikedCovariance(), kappa=2, alpha=0.3, sigma2=0.1)
    print(dcprune.predict(setup).risk)        # one model, full width
    curve = dcprune.curve(setup, points=200)  # the sparse double-descent curve

Correlated features (§6), random features (§7) and perfectly correlated features (§8) are
exported too. The submodules ``dcprune.exact`` (sympy), ``dcprune.montecarlo`` (Numba) and
``dcprune.plotting`` (matplotlib) load on first attribute access, so importing this package
loads none of sympy, Numba or matplotlib.
"""

import importlib

from .covariance import (
    CovariancePrediction,
    CovarianceProblem,
    load_covariance,
    predict_covariance,
    solve_covariance_dc,
    sweep_covariance,
)
from .lemma1 import LEMMA1_NAMES, Lemma1Problem, Lemma1Risk, lemma1_risk, simulate_lemma1

from .predict import (
    RISK_NAMES,
    Curve,
    CurveRow,
    DCSolution,
    Prediction,
    Reference,
    Risk,
    Setup,
    curve,
    predict,
    predict_problem,
    solve_dc,
)
from .problems import (
    PROBLEMS,
    ArraySpectrum,
    DiagonalProblem,
    Isotropic,
    PowerLaw,
    Spectrum,
    SpikedCovariance,
    SpikedIdentity,
    load_spectrum,
    standard_problem,
)

from .randomfeatures import (
    ACTIVATIONS,
    RandomFeaturesPrediction,
    RandomFeaturesProblem,
    RandomFeaturesSweep,
    equivalent_problem,
    predict_random_features,
    sweep_random_features,
)

__version__ = "0.1.0"

_LAZY_SUBMODULES = ("exact", "montecarlo", "plotting")


def __getattr__(name: str):
    # Heavy optional submodules: `dcprune.exact.isotropic(...)` works after `import dcprune`.
    if name in _LAZY_SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'dcprune' has no attribute {name!r}")

__all__ = [
    "RISK_NAMES",
    "PROBLEMS",
    "Setup",
    "Risk",
    "Reference",
    "Prediction",
    "CurveRow",
    "Curve",
    "DCSolution",
    "predict",
    "curve",
    "solve_dc",
    "predict_problem",
    "Spectrum",
    "DiagonalProblem",
    "SpikedCovariance",
    "SpikedIdentity",
    "Isotropic",
    "PowerLaw",
    "ArraySpectrum",
    "load_spectrum",
    "standard_problem",
    "CovarianceProblem",
    "CovariancePrediction",
    "solve_covariance_dc",
    "predict_covariance",
    "sweep_covariance",
    "load_covariance",
    "ACTIVATIONS",
    "RandomFeaturesProblem",
    "RandomFeaturesPrediction",
    "RandomFeaturesSweep",
    "equivalent_problem",
    "predict_random_features",
    "sweep_random_features",
    "LEMMA1_NAMES",
    "Lemma1Problem",
    "Lemma1Risk",
    "lemma1_risk",
    "simulate_lemma1",
]
