"""dcprune: exact test-risk predictions for pruned least squares, and their Monte Carlo check.

The distributional characterization (DC) of min-norm and ridge least squares (THEORY.md §2)
predicts the risk of magnitude, Hessian, oracle and random pruning, with and without fresh
retraining, for diagonal linear Gaussian problems (§3–5). Quick start::

    import dcprune
    setup = dcprune.Setup(dcprune.SpikedCovariance(), kappa=2, alpha=0.3, sigma2=0.1)
    print(dcprune.predict(setup).risk)        # one model, full width
    curve = dcprune.curve(setup, points=200)  # the sparse double-descent curve

Importing this package loads neither matplotlib nor Numba kernels.
"""

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

__version__ = "0.1.0"

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
]
