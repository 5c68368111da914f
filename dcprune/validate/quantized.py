"""The quantized part of the validation grid (docs/theory.rst §11).

Each configuration quantizes the dense model and the magnitude-pruned model's kept weights
(prune-then-quantize) with one quantizer, bit width, clip rule and rounding, on fixed or
Gaussian coefficients; its two checks, ``q_dense`` and ``q_magnitude``, compare the closed
form with the Monte Carlo of the real quantizer on each trial's fit
(:mod:`dcprune.montecarlo.quantized`). Whether a check is claimed or reported only, and why,
is :func:`dcprune.validate.claims.quantized_reason`, the rule ``dcprune check`` applies too.
"""

from __future__ import annotations

import itertools
import math
import random
from dataclasses import replace

import numpy as np

from ..checks import ParameterError, whole_number
from ..predict import predict
from .claims import MODELS, quantized_allowance, quantized_reason

__all__ = ["QUANTIZED", "quantized_grid", "compare_quantized", "fixed_clip", "one_atom"]

#: The quantities of a quantized configuration, in report order.
QUANTIZED = tuple(MODELS.values())

# (quantizer, bits): both quantizers at 1, 2, 4 and 8 bits (mid-tread needs two).
_CODES = (("sign-magnitude", 1), ("sign-magnitude", 2), ("sign-magnitude", 4), ("sign-magnitude", 8),
          ("mid-tread", 2), ("mid-tread", 4), ("mid-tread", 8))
_CLIPS = ("mse", "optimal", "absmax", "fixed")
# A fixed clip is this multiple of the larger predicted mse clip of the two models, so that it
# clips some weights and clears the pruning threshold of sign-magnitude levels on [t, c].
_FIXED_SCALE = 1.25


def _config(problem, kappa, width, alpha, n, coefficients, quantizer, bits, clip, rounding):
    from .zscores import Config

    return Config(problem, kappa, width, alpha, 0.1, 0.0, n, coefficients, bits, quantizer, clip, rounding)


def fixed_clip(config):
    """``config`` with a ``"fixed"`` clip replaced by its number (:data:`_FIXED_SCALE` times the
    larger predicted mse clip of the dense and pruned models); other configurations as given."""
    if config.clip != "fixed":
        return config
    mse = predict(replace(config, clip="mse").setup(), config.width,
                  quantization=replace(config, clip="mse").quantization()).quantized
    clip = _FIXED_SCALE * max(mse.clip["dense"], mse.clip["magnitude"])
    return replace(config, clip=float(f"{clip:.4g}"))


def quantized_grid(quick: bool = False, size: int = 96, seed: int = 0) -> list:
    """The quantized configurations of ``dcprune validate``.

    Full: a seeded random sample of ``size`` from the product of the standard problems,
    n ∈ {200, 400}, κ ∈ {1.5, 3}, widths 0.5 (``p < n``), 1.5 and κ, α ∈ {0.02, 0.1, 0.3,
    0.6}, fixed and Gaussian coefficients, both quantizers at 1, 2, 4 and 8 bits, the four clip
    rules and both roundings (σ² = 0.1, no ridge), followed by six configurations of the
    departures §11 measured (reported only: ``p < n`` with 1–2-bit absmax at n = 200 and 400,
    a tiny kept count with tuned clips). Quick: a fixed six covering each factor and each reason.
    A ``"fixed"`` clip is given its number when the configuration runs (:func:`fixed_clip`).
    """
    if quick:
        rows = [
            ("spiked-covariance", 1.5, 1.5, 0.5, 200, "gaussian", "sign-magnitude", 2, "mse", "nearest"),
            ("spiked-identity", 2.0, 2.0, 0.3, 100, "fixed", "mid-tread", 4, "absmax", "stochastic"),
            ("power-law", 2.0, 0.5, 0.3, 100, "fixed", "sign-magnitude", 1, "absmax", "nearest"),
            ("isotropic", 3.0, 3.0, 0.2, 100, "gaussian", "mid-tread", 8, "optimal", "nearest"),
            ("spiked-covariance", 2.0, 1.25, 0.3, 100, "fixed", "sign-magnitude", 2, "fixed", "stochastic"),
            ("spiked-covariance", 2.0, 0.8, 0.025, 100, "fixed", "sign-magnitude", 4, "mse", "nearest"),
        ]
        return [_config(*r) for r in rows]
    size = whole_number("size", size, 1)
    problems = ("spiked-covariance", "spiked-identity", "isotropic", "power-law")
    space = list(dict.fromkeys(
        (problem, kappa, kappa if width is None else width, alpha, n, coefficients, quantizer, bits, clip, rounding)
        for problem, n, kappa, width, alpha, coefficients, (quantizer, bits), clip, rounding in itertools.product(
            problems, (200, 400), (1.5, 3.0), (0.5, 1.5, None), (0.02, 0.1, 0.3, 0.6), ("fixed", "gaussian"),
            _CODES, _CLIPS, ("nearest", "stochastic"))))
    if size > len(space):
        raise ParameterError("size", f"must be at most {len(space):,} (the quantized grid's distinct configurations)",
                             size)
    rows = random.Random(seed).sample(space, size)
    rows += [  # the departures of §11, reported only
        ("spiked-covariance", 1.5, 0.5, 0.25, 200, "fixed", "sign-magnitude", 1, "absmax", "nearest"),
        ("spiked-covariance", 1.5, 0.5, 0.25, 200, "gaussian", "sign-magnitude", 2, "absmax", "nearest"),
        ("spiked-covariance", 1.5, 0.5, 0.25, 400, "fixed", "sign-magnitude", 1, "absmax", "nearest"),
        ("spiked-covariance", 1.5, 1.5, 1 / 60, 200, "fixed", "sign-magnitude", 2, "mse", "nearest"),
        ("spiked-covariance", 1.5, 1.5, 1 / 60, 200, "fixed", "sign-magnitude", 4, "optimal", "nearest"),
        ("spiked-covariance", 1.5, 1.5, 1 / 60, 200, "gaussian", "mid-tread", 2, "mse", "stochastic"),
    ]
    return list(dict.fromkeys(_config(*r) for r in rows))


def one_atom(problem, p: int) -> bool:
    """Whether the first ``p`` coordinates of a diagonal ``problem`` share one ``(λ_j, |β_j|)``."""
    spectrum = getattr(problem, "spectrum", None)
    if spectrum is None:
        return False
    lam, beta = (np.abs(np.asarray(x)[:p]) for x in spectrum.coordinates(problem.d))
    return bool(beta.size) and bool(np.all(beta == beta[0]) and np.all(lam == lam[0]))


def compare_quantized(config, theory, row) -> list:
    """One :class:`~dcprune.validate.zscores.Check` per quantized model: ``theory`` a
    :class:`~dcprune.Prediction` with ``quantized``, ``row`` the Monte Carlo row of the same
    model and quantization; ``se = sqrt(se_MC² + se_theory²)`` as in
    :func:`~dcprune.validate.zscores.compare`, claimed or reported only by
    :func:`~dcprune.validate.claims.quantized_reason`, with the allowance of
    :func:`~dcprune.validate.claims.quantized_allowance`."""
    from .zscores import Check

    problem = theory.problem
    spec = theory.quantized.spec
    checks = []
    for model, name in MODELS.items():
        t, est = theory.quantized.risk[model], row.quantized.risk[model]
        p, s = int(round(theory.p)), int(round(theory.s))
        reason = quantized_reason(model, n=int(problem.n), p=p, s=s,
                                  coefficients=getattr(problem, "coefficients", "fixed"), quantization=spec,
                                  one_atom=one_atom(problem, p))
        checks.append(Check(config, name, reason is None, float(t.mean), float(est.mean),
                            math.hypot(est.se, t.se), row.flagged, theory.converged, reason or "",
                            quantized_allowance(model, p=p, s=s, quantization=spec)))
    return checks
