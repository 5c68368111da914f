"""Figure 3(a)-style: spiked identity (Σ = I, β ∝ sqrt(c)), dense vs MP, HP and OP pruning.

With Σ = I magnitude and Hessian pruning coincide. docs/theory.rst §5, §9.
"""

import dcprune

from .common import PRUNING, SPIKE, SPIKE_FRACTION, CurveFigure

FIGURE = CurveFigure(
    name="fig3a",
    label="Figure 3(a)-style: pruning",
    spectrum=dcprune.SpikedIdentity(spike_fraction=SPIKE_FRACTION, spike=SPIKE),
    names=PRUNING,
)
build = FIGURE.build
