r"""The quantized models of a Monte Carlo trial (docs/theory.rst §11).

After a trial's fits (:func:`dcprune.montecarlo.kernels.trial_models`), :func:`quantized_models`
applies the real quantizer (:func:`dcprune.quantization.levels.quantize`, the one
implementation of ``Q``) to the dense fit and to the magnitude-pruned model's kept weights,
with the clip the rule takes from that trial's coefficients
(:func:`dcprune.quantization.apply.choose_clip`), and evaluates each quantized model's exact
population risk (:func:`dcprune.montecarlo.linalg.risk`). :func:`quantization_spec` turns a
:class:`dcprune.quantization.Quantization` into the kernel's plain arrays.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..quantization.apply import choose_clip
from ..quantization.levels import magnitude_levels, quantize
from .linalg import risk

__all__ = ["QUANTIZED_COLUMNS", "quantized_risk", "quantized_models", "quantization_spec"]

#: Columns the quantized models add after :data:`dcprune.quantities.MEASURED`, per width.
QUANTIZED_COLUMNS = ("q_dense", "q_magnitude", "clip_dense", "clip_magnitude")


@njit(cache=True)
def quantized_risk(idx, values, threshold, clip, bits, kind, stochastic, uniforms, c0, q, cov_diag, cov):
    """Risk (:func:`risk`) of the coefficients ``values`` on ``idx`` quantized by
    :func:`dcprune.quantization.levels.quantize` on ``[threshold, clip]``; NaN when a
    sign-magnitude range has no room (``clip ≤ threshold``) or the clip is undefined."""
    if not clip > 0 or (kind == 1 and not clip > threshold):
        return np.nan
    levels = magnitude_levels(bits, kind, clip, threshold)
    return risk(idx, quantize(values, levels, stochastic, uniforms), c0, q, cov_diag, cov)


@njit(cache=True)
def quantized_models(B, kept, widths, s, qspec, clips, uniforms, c0, q, cov_diag, cov, out):
    """The quantized dense and magnitude-pruned models of one trial (docs/theory.rst §11):
    ``out[wi, :]`` ← ``(q_dense, q_magnitude, clip_dense, clip_magnitude)``.

    ``qspec = (bits, quantizer code, clip rule code, stochastic)`` (codes of
    :data:`dcprune.quantization.QUANTIZERS` and :data:`dcprune.quantization.apply.CLIP_CODES`);
    ``clips[wi]``: the fixed rule's clips of the two models (the optimal rule's spans). The dense model quantizes
    ``B[wi, :p]`` with ``t = 0``; the pruned one the magnitude-kept weights (``kept[wi, 0]``)
    with ``t`` their smallest magnitude (sign-magnitude levels on ``[t, c]``; kept weights in
    ``[t, ℓ_0)`` go to ``ℓ_0``), the dense model's when ``p ≤ s``. Data-dependent clips come
    from the trial's own coefficients (:func:`dcprune.quantization.apply.choose_clip`);
    ``uniforms[wi, :pmax]`` drive the dense model's stochastic rounding and
    ``uniforms[wi, pmax:]`` the pruned one's.
    """
    bits, kind, rule, stochastic = int(qspec[0]), int(qspec[1]), int(qspec[2]), qspec[3] > 0
    pmax = widths[-1]
    for wi in range(widths.shape[0]):
        p = widths[wi]
        idx = np.arange(p)
        b = B[wi, :p]
        c = choose_clip(b, 0.0, bits, kind, rule, clips[wi, 0], stochastic)
        out[wi, 0] = quantized_risk(idx, b, 0.0, c, bits, kind, stochastic, uniforms[wi, :p], c0, q, cov_diag, cov)
        out[wi, 2] = c
        if p <= s:
            out[wi, 1], out[wi, 3] = out[wi, 0], c
            continue
        idx = kept[wi, 0, :s]
        bk = b[idx]
        t = 0.0
        if kind == 1:
            t = np.inf
            for i in range(s):
                t = min(t, abs(bk[i]))
        c = choose_clip(bk, t, bits, kind, rule, clips[wi, 1], stochastic)
        out[wi, 1] = quantized_risk(idx, bk, t, c, bits, kind, stochastic, uniforms[wi, pmax:pmax + s], c0, q,
                                    cov_diag, cov)
        out[wi, 3] = c


def quantization_spec(quantization, widths: int, clips=None):
    """``(qspec, qclips)`` of :func:`quantized_models` for a :class:`dcprune.quantization.Quantization`
    at ``widths`` widths (``None``: no quantization); ``clips`` ``(widths, 2)`` are needed by the
    ``optimal`` rule (the theory's range per model, as its span above the threshold for
    sign-magnitude, :mod:`dcprune.quantization.apply`)."""
    if quantization is None:
        return np.zeros(4), np.zeros((widths, 2))
    from ..quantization.apply import CLIP_CODES
    from ..quantization.levels import QUANTIZERS, ROUNDINGS

    rule = quantization.clip_rule
    if rule == "optimal":
        if clips is None:
            raise ValueError("the optimal clip is the theory's (the expected-risk minimizer): pass clips")
        # NaN where the theory has no clip (the interpolation peak): that model's risk is NaN too.
        qclips = np.ascontiguousarray(np.asarray(clips, dtype=float).reshape(widths, 2))
    else:
        qclips = np.full((widths, 2), quantization.clip if rule == "fixed" else 0.0)
    qspec = np.array([quantization.bits, QUANTIZERS[quantization.quantizer], CLIP_CODES[rule],
                      float(ROUNDINGS[quantization.rounding])])
    return qspec, qclips
