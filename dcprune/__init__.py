"""dcprune: exact test-risk predictions for compressed least squares, and their Monte Carlo check.

The distributional characterization (DC) of min-norm and ridge least squares
(docs/theory.rst §2) predicts the risk of magnitude, Hessian, oracle and random pruning, with
and without fresh retraining. One core serves every problem family: a problem
(:class:`Diagonal`, :class:`Correlated`, :class:`RandomFeatures`, :class:`RankOne`) gives the
DC law of its trained coefficients, the rules of :data:`RULES` map it to risks, and
:func:`predict`, :func:`sweep` and :func:`dcprune.montecarlo.simulate` return results in one
vocabulary (:class:`Estimate` ``(mean, se)``, ``to_dict()``, ``to_frame()``).

>>> import dcprune
>>> problem = dcprune.Diagonal(dcprune.SpikedCovariance(), kappa=2, alpha=0.3, sigma2=0.1)
>>> round(dcprune.predict(problem).risk.hessian.mean, 4)
0.617
>>> curve = dcprune.sweep(problem, points=200)   # the sparse double-descent curve

The submodules ``dcprune.exact`` (sympy), ``dcprune.montecarlo`` (Numba), ``dcprune.plotting``
(matplotlib), ``dcprune.figures`` and ``dcprune.validate`` load on first attribute access, so
importing this package loads none of sympy, Numba or matplotlib.
"""

from . import signals as _signals

if _signals.cli_process():  # before the heavy imports: Ctrl-C during them is one line too
    _signals.install()

import importlib  # noqa: E402
from importlib.metadata import PackageNotFoundError, version  # noqa: E402

from .families import (
    PROBLEMS,
    ArraySpectrum,
    Correlated,
    CovarianceProblem,
    Diagonal,
    DiagonalProblem,
    Family,
    Isotropic,
    PowerLaw,
    RandomFeatures,
    RankOne,
    Reference,
    SpikedCovariance,
    SpikedIdentity,
    load_covariance,
    load_spectrum,
    predict_problem,
    solve_dc,
    standard_problem,
)
from .predict import Prediction, Sweep, predict, sweep
from .quantities import MEASURED, PREDICTED, QUANTITIES
from .quantization.spec import Quantization, Quantized
from .results import Estimate, Risks
from .rules import RULES

try:
    __version__ = version("dcprune")
except PackageNotFoundError:  # pragma: no cover - running from a source tree that is not installed
    __version__ = "unknown"

_LAZY_SUBMODULES = ("exact", "montecarlo", "plotting", "figures", "validate")


def __getattr__(name: str):
    # Heavy optional submodules: `dcprune.exact.isotropic(...)` works after `import dcprune`.
    if name in _LAZY_SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'dcprune' has no attribute {name!r}")


__all__ = [
    # problems
    "Family",
    "Diagonal",
    "Correlated",
    "RandomFeatures",
    "RankOne",
    "SpikedCovariance",
    "SpikedIdentity",
    "Isotropic",
    "PowerLaw",
    "ArraySpectrum",
    "PROBLEMS",
    "standard_problem",
    "load_spectrum",
    "load_covariance",
    "DiagonalProblem",
    "CovarianceProblem",
    # predictions and results
    "predict",
    "sweep",
    "Prediction",
    "Sweep",
    "Reference",
    "Estimate",
    "Risks",
    "Quantization",
    "Quantized",
    "solve_dc",
    "predict_problem",
    # registries
    "QUANTITIES",
    "PREDICTED",
    "MEASURED",
    "RULES",
]
