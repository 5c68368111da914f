"""The quantization options of ``dcprune risk``, ``curve`` and ``simulate`` (docs/theory.rst §11).

``--bits B [--quantizer mid-tread|sign-magnitude] [--clip mse|absmax|optimal|VALUE]
[--rounding nearest|stochastic]`` add the quantized dense and magnitude-pruned risks to the
output (predicted, or measured by the Monte Carlo of ``simulate``); the library
(:class:`dcprune.quantization.Quantization`) checks the values, so a bad one is the same
one-line error in Python and on the command line.
"""

from __future__ import annotations

import click

from ..quantization.spec import CLIP_RULES, Quantization

__all__ = ["quantization_options", "quantization_from", "QUANTIZED_COLUMNS"]

_KEYS = ("bits", "quantizer", "clip", "rounding")
#: CSV columns of a quantized result, after the usual ones.
QUANTIZED_COLUMNS = ("q_dense", "q_magnitude", "clip_dense", "clip_magnitude")


def quantization_options(func):
    """``--bits``, ``--quantizer``, ``--clip`` and ``--rounding``."""
    options = [
        click.option("--bits", type=float, default=None,
                     help="Quantize the dense model and the magnitude-pruned model's kept weights to B bits per "
                          "weight (1-16; mid-tread 2-16)."),
        # Plain strings: Quantization checks the names (and loads the compiled levels only then).
        click.option("--quantizer", default=None, metavar="NAME",
                     help="mid-tread (2^B - 1 levels with a zero) or sign-magnitude (2^B levels on [t, c])  "
                          "[default: sign-magnitude]."),
        click.option("--clip", default=None, metavar="RULE",
                     help=f"Clipping range: {', '.join(CLIP_RULES)} or a positive number  [default: mse]."),
        click.option("--rounding", default=None, metavar="NAME",
                     help="nearest or stochastic (unbiased) rounding  [default: nearest]."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def quantization_from(kwargs) -> Quantization | None:
    """The :class:`~dcprune.quantization.Quantization` the options describe (they are removed
    from ``kwargs``), or ``None`` without ``--bits``."""
    values = {k: kwargs.pop(k) for k in _KEYS}
    if values["bits"] is None:
        extra = [f"--{k}" for k in _KEYS[1:] if values[k] is not None]
        if extra:
            raise click.UsageError(f"{' and '.join(extra)} {'set' if len(extra) > 1 else 'sets'} how to quantize: "
                                   f"give --bits too")
        return None
    given = {k: v for k, v in values.items() if v is not None}
    bits = given.pop("bits")
    return Quantization(int(bits) if float(bits).is_integer() else bits, **given)
