"""Figure 7(a)-style: spiked identity, MP and HP with and without retraining.

Lines: theory (retraining on fresh data, docs/theory.rst §4); filled markers: Monte Carlo of fresh
retraining; unfilled markers: same-data retraining, which the theory does not cover.
"""

import dcprune

from .common import RETRAINING, SPIKE, SPIKE_FRACTION, CurveFigure

FIGURE = CurveFigure(
    name="fig7a",
    label="Figure 7(a)-style: pruning and retraining",
    spectrum=dcprune.SpikedIdentity(spike_fraction=SPIKE_FRACTION, spike=SPIKE),
    names=RETRAINING,
)
build = FIGURE.build
