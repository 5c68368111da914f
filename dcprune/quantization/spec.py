"""What to quantize and how (:class:`Quantization`), and what the theory predicts of it
(:class:`Quantized`) — docs/theory.rst §11.

>>> from dcprune.quantization.spec import Quantization
>>> Quantization(4)
Quantization(bits=4, quantizer='sign-magnitude', clip='mse', rounding='nearest')
>>> Quantization(1, quantizer="mid-tread")
Traceback (most recent call last):
...
dcprune.checks.ParameterError: bits must be between 2 and 16 for the mid-tread quantizer, got bits=1
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..checks import ParameterError
from ..results import Estimate, json_number

__all__ = ["Quantization", "Quantized", "CLIP_RULES"]

#: The data-dependent clipping rules (a positive number is a fixed clip).
CLIP_RULES = ("mse", "absmax", "optimal")


@dataclass(frozen=True)
class Quantization:
    """A quantizer applied to the dense model and to the magnitude-pruned model's kept weights.

    ``bits``: bits per weight, 1..16 (2..16 for mid-tread); ``quantizer``: ``"mid-tread"``
    (``2^b − 1`` levels with a zero) or ``"sign-magnitude"`` (``2^b`` levels on ``[t, c]``, ``t``
    the pruning threshold, 0 for the dense model); ``clip``: ``"mse"`` (per model, the ``c``
    minimizing the quantization error), ``"absmax"`` (``c = max_i |β̂_i|``), ``"optimal"`` (the
    risk-minimizing ``c``, an oracle) or a positive number (a fixed ``c``); ``rounding``:
    ``"nearest"`` or ``"stochastic"`` (unbiased). Bad values raise ``ValueError`` naming the
    argument.
    """

    bits: int
    quantizer: str = "sign-magnitude"
    clip: str | float = "mse"
    rounding: str = "nearest"

    def __post_init__(self):
        # The levels module compiles with Numba: loaded only once a quantizer is asked for.
        from .levels import MAX_BITS, QUANTIZERS, ROUNDINGS, check_clip

        if self.quantizer not in QUANTIZERS:
            raise ParameterError("quantizer", f"must be one of {', '.join(QUANTIZERS)}", self.quantizer)
        if self.rounding not in ROUNDINGS:
            raise ParameterError("rounding", f"must be one of {', '.join(ROUNDINGS)}", self.rounding)
        bits = self.bits
        if isinstance(bits, bool) or not isinstance(bits, (int, float)) or not math.isfinite(bits) \
                or bits != int(bits):
            raise ParameterError("bits", "must be an integer", bits)
        low = 2 if self.quantizer == "mid-tread" else 1
        if not low <= int(bits) <= MAX_BITS:
            raise ParameterError("bits", f"must be between {low} and {MAX_BITS} for the {self.quantizer} quantizer",
                                 bits)
        object.__setattr__(self, "bits", int(bits))
        if isinstance(self.clip, str):
            if self.clip not in CLIP_RULES:
                try:
                    value = float(self.clip)
                except ValueError:
                    raise ParameterError("clip", f"must be one of {', '.join(CLIP_RULES)} or a positive number",
                                         self.clip) from None
                object.__setattr__(self, "clip", value)
        if not isinstance(self.clip, str):
            try:
                object.__setattr__(self, "clip", check_clip(self.clip))
            except ValueError:
                raise ParameterError("clip", f"must be one of {', '.join(CLIP_RULES)} or a positive finite number",
                                     self.clip) from None

    @property
    def clip_rule(self) -> str:
        """``"mse"``, ``"absmax"``, ``"optimal"`` or ``"fixed"``."""
        return self.clip if isinstance(self.clip, str) else "fixed"

    def to_dict(self) -> dict:
        return {"bits": self.bits, "quantizer": self.quantizer, "clip_rule": self.clip_rule,
                "rounding": self.rounding}


@dataclass(frozen=True)
class Quantized:
    """The predicted quantized risks of one model: the dense model quantized and the
    magnitude-pruned model's kept weights quantized (prune-then-quantize).

    ``clip`` maps ``"dense"`` and ``"magnitude"`` to the clip used (fixed), predicted (``mse``,
    ``optimal``) or expected (``absmax``: ``E[max_i |β̂_i|]``); ``risk`` maps them to
    :class:`~dcprune.results.Estimate` values; ``threshold`` to the pruning threshold ``t``
    the map uses (0 for the dense model and when nothing is pruned). ``measured``: a Monte
    Carlo's (:func:`dcprune.montecarlo.simulate`), whose clips and risks are the means over
    trials of each trial's clip and risk, as :class:`~dcprune.results.Estimate` values.
    """

    spec: Quantization
    clip: dict
    risk: dict
    converged: bool = True
    threshold: dict | None = None
    measured: bool = False

    def to_dict(self) -> dict:
        """The ``"quantized"`` block of the JSON contract: numbers, or ``{"mean", "se"}`` when measured."""
        def number(v):
            if self.measured:
                return v.to_dict()
            return json_number(float(v.mean)) if isinstance(v, Estimate) else json_number(v)

        return {**self.spec.to_dict(), "clip": {k: number(v) for k, v in self.clip.items()},
                "risk": {k: number(v) for k, v in self.risk.items()}}
