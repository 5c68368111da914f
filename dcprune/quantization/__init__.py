"""Reduced precision: quantizers as coordinate-wise maps of the trained coefficients
(docs/theory.rst §11)."""

from .levels import (
    QUANTIZERS,
    ROUNDINGS,
    check_bits,
    check_clip,
    check_quantizer,
    check_rounding,
    magnitude_levels,
    quantize,
)

__all__ = [
    "QUANTIZERS",
    "ROUNDINGS",
    "check_bits",
    "check_clip",
    "check_quantizer",
    "check_rounding",
    "magnitude_levels",
    "quantize",
]
