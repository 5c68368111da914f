r"""Quantized dense and magnitude-pruned risks of diagonal models (docs/theory.rst §11).

The DC says each trained coefficient of atom ``a`` is ``X_a ~ N(μ_a, s_a²)``, with
``μ_a = c_a β_a`` and ``s_a = c_a sqrt(τ/(n λ_a))`` (the finite-size noise level ``τ`` of §2
when ``n`` is given). Any coordinate-wise map ``M`` of the coefficients then has the risk

.. math::
    R = \sigma_{eff}^2 + \sum_a m_a \lambda_a E[(M(X_a) - \beta_a)^2],

evaluated by the pieces' formula (:mod:`dcprune.quantization.pieces`). Two maps are
predicted: the dense model quantized (``t = 0``) and the magnitude-pruned model with its kept
weights quantized (``M = 0`` on ``(−t, t)``, ``t`` the threshold of the magnitude count equation
:func:`dcprune.pruning.count_threshold`; no pruning when ``p ≤ s``). The clip follows the
rule of :mod:`dcprune.quantization.clipping`.
"""

from __future__ import annotations

import math

import numpy as np

from ..checks import ParameterError
from ..coefficients import check_coefficients, coefficient_law
from ..pruning import count_threshold
from ..results import Estimate
from ..solver import DenseRisk
from .clipping import FINE_SEARCH_BITS, GRID, AtomTargets, absmax_risk, map_risks, quantization_error, search_clips
from .spec import Quantization, Quantized

__all__ = ["quantize_models", "fixed_targets", "gaussian_targets", "targets", "clip_and_risk", "clips_and_risks",
           "optimal_spans"]


def fixed_targets(lam, beta, mult, shrink, noise) -> AtomTargets:
    """Atoms with fixed coefficients: ``X ~ N(c_a β_a, noise_a²)``, ``E[β | X] = β_a``,
    ``Var(β | X) = 0`` (``shrink`` is ``c_a``, ``noise`` the DC's per-coordinate sd ``s_a``)."""
    return AtomTargets(*coefficient_law("fixed", beta, shrink, noise), mult, lam)


def gaussian_targets(lam, beta, mult, shrink, noise) -> AtomTargets:
    """Atoms with Gaussian coefficients ``β ~ N(0, β_a²)``: ``X ~ N(0, c_a² β_a² + s_a²)``,
    ``E[β | X] = ρ_a X``, ``Var(β | X) = w_a`` (the joint Gaussian of docs/theory.rst §11,
    :func:`dcprune.coefficients.coefficient_law`)."""
    return AtomTargets(*coefficient_law("gaussian", beta, shrink, noise), mult, lam)


def targets(coefficients: str):
    """The atoms' builder of ``coefficients`` (``"fixed"`` or ``"gaussian"``)."""
    return {"fixed": fixed_targets, "gaussian": gaussian_targets}[check_coefficients(coefficients)]


def clip_and_risk(spec: Quantization, threshold: float, atoms: AtomTargets, sigma2_eff: float,
                  finite: bool) -> tuple[float, float]:
    """``(clip, risk)`` of one quantized map under ``spec``'s clip rule (docs/theory.rst §11);
    for absmax the clip is the expected max ``E[max_i |β̂_i|]``. A fixed sign-magnitude clip
    at or below the pruning threshold has no levels: ``(clip, nan)``."""
    clips, risks = clips_and_risks(spec, np.array([threshold], dtype=float), atoms, sigma2_eff, finite)
    return float(clips[0]), float(risks[0])


def clips_and_risks(spec: Quantization, thresholds, atoms: AtomTargets, sigma2_eff: float, finite: bool,
                    fine_risk: bool = False, grid: int = GRID):
    """:func:`clip_and_risk` at many pruning thresholds of one model's atoms at once (arrays
    ``(M,)``). ``fine_risk`` also reports the risk of the fine-regime map from
    :data:`~dcprune.quantization.clipping.FINE_SEARCH_BITS` bits on (relative error of order
    ``(Δ/s)²``: a search over many models can afford no bin sums over ``2^16`` levels); ``grid``
    is the clip search's first grid (:func:`~dcprune.quantization.clipping.search_clips`)."""
    thresholds = np.asarray(thresholds, dtype=float)
    low = thresholds if spec.quantizer == "sign-magnitude" else np.zeros_like(thresholds)
    rule = spec.clip_rule
    if rule == "fixed":
        clips = np.full(thresholds.shape, float(spec.clip))
        risks = map_risks(spec, clips, thresholds, atoms, sigma2_eff)
        return clips, np.where(clips > low, risks, np.nan)
    if rule == "absmax":
        if not finite:
            raise ParameterError("clip", "absmax needs a finite sample size n (the max of p coefficients)", "absmax")
        pairs = [absmax_risk(spec, float(t), atoms, sigma2_eff) for t in thresholds]
        return np.array([c for _, c in pairs]), np.array([r for r, _ in pairs])
    high = np.maximum(atoms.span, low * (1.0 + 1e-9) + 1e-300)
    # Many bits: the clip is located on the fine-regime map, the risk is the exact one at it.
    fine = spec.bits >= FINE_SEARCH_BITS

    def objective(clips):
        ts = np.repeat(thresholds, clips.shape[1])
        if rule == "mse":
            values = quantization_error(spec, clips.ravel(), ts, atoms, fine)
        else:
            values = map_risks(spec, clips.ravel(), ts, atoms, sigma2_eff, fine)
        return values.reshape(clips.shape)

    clips, _ = search_clips(objective, low, high, grid)
    return clips, map_risks(spec, clips, thresholds, atoms, sigma2_eff, fine and fine_risk)


def quantize_models(spec: Quantization, lam, beta, mult, sigma2_eff, s: float, n: float,
                    dense: DenseRisk, finite: bool, targets=fixed_targets) -> list[Quantized]:
    """The quantized dense and magnitude-pruned models of a batch (arrays ``(models, atoms)``).

    ``dense`` is the DC of the batch (:func:`dcprune.solver.dense_risk`); ``targets`` builds a
    model's :class:`~dcprune.quantization.clipping.AtomTargets` from ``(lam, beta, mult, shrink,
    noise)`` of its atoms (fixed coefficients by default; random coefficients plug in here).
    """
    sigma2_eff = np.broadcast_to(np.asarray(sigma2_eff, dtype=float), mult.shape[:-1])
    out = []
    for i in range(mult.shape[0]):
        if dense.infinite[i]:
            out.append(Quantized(spec, {"dense": math.nan, "magnitude": math.nan},
                                 {"dense": Estimate(math.inf), "magnitude": Estimate(math.inf)}))
            continue
        c = dense.shrink[i]
        atoms = targets(lam[i], beta[i], mult[i], c, c * np.sqrt(dense.tau[i] / (n * lam[i])))
        converged = bool(dense.converged[i])
        thresholds = {"dense": 0.0, "magnitude": 0.0}
        if mult[i].sum() > s * (1.0 + 1e-12):
            if dense.tau[i] > 0:
                t, ok = count_threshold(atoms.mu[None], atoms.sd[None], np.ones((1, atoms.mu.size)), mult[i][None], s)
                thresholds["magnitude"], converged = float(t[0]), converged and bool(ok[0])
            else:  # a noiseless fit keeps whole atoms by score, not by a threshold on X
                thresholds["magnitude"], converged = math.nan, False
        clips, risks = {}, {}
        for key, t in thresholds.items():
            if math.isnan(t):
                clips[key], risks[key] = math.nan, Estimate(math.nan)
                continue
            clip, risk = clip_and_risk(spec, t, atoms, float(sigma2_eff[i]), finite)
            clips[key], risks[key] = clip, Estimate(risk)
        out.append(Quantized(spec, clips, risks, converged, thresholds))
    return out


def optimal_spans(quantized) -> list:
    """Per model ``[dense, magnitude]`` the range the Monte Carlo applies for the ``optimal``
    clip: the theory's, which minimizes the expected risk, as its span ``c − t`` above the
    threshold for sign-magnitude pruned weights (levels on ``[t, c]``; the trial adds its own
    ``t``, :mod:`dcprune.quantization.apply`). ``quantized``: one :class:`Quantized` per model."""
    out = []
    for q in quantized:
        above = (q.threshold or {}).get("magnitude", math.nan) if q.spec.quantizer == "sign-magnitude" else 0.0
        out.append([q.clip["dense"], q.clip["magnitude"] - above])
    return out
