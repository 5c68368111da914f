"""Reduced precision: quantizers as coordinate-wise maps of the trained coefficients
(docs/theory.rst §11).

:class:`Quantization` (what to quantize and how) and :class:`Quantized` (what the theory
predicts) load without Numba; the compiled levels and rounding map of :mod:`.levels` load on
first use, so ``import dcprune`` stays light.
"""

import importlib

from .spec import CLIP_RULES, Quantization, Quantized

_LEVELS = ("QUANTIZERS", "ROUNDINGS", "check_bits", "check_clip", "check_quantizer", "check_rounding",
           "magnitude_levels", "quantize")


def __getattr__(name):
    if name in _LEVELS:
        return getattr(importlib.import_module(".levels", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CLIP_RULES",
    "Quantization",
    "Quantized",
    "QUANTIZERS",
    "ROUNDINGS",
    "check_bits",
    "check_clip",
    "check_quantizer",
    "check_rounding",
    "magnitude_levels",
    "quantize",
]
