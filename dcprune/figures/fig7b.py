"""Figure 7(b)-style: spiked covariance, MP and HP with and without retraining.

Lines: theory (retraining on fresh data, docs/theory.rst §4); filled markers: Monte Carlo of fresh
retraining; unfilled markers: same-data retraining, which the theory does not cover.
"""

import dcprune

from .common import RETRAINING, SPIKE, SPIKE_FRACTION, CurveFigure

FIGURE = CurveFigure(
    name="fig7b",
    label="Figure 7(b)-style: pruning and retraining",
    spectrum=dcprune.SpikedCovariance(spike_fraction=SPIKE_FRACTION, spike=SPIKE),
    names=RETRAINING,
)
build = FIGURE.build
