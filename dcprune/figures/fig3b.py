"""Figure 3(b)-style: spiked covariance (Σ = diag(c), β ∝ 1), dense vs MP, HP and OP pruning.

The covariance reveals the salient features, so HP beats MP, and the pruned model at full
width beats every small dense model and oracle + retraining. docs/theory.rst §5, §9.
"""

import dcprune

from .common import PRUNING, SPIKE, SPIKE_FRACTION, CurveFigure

FIGURE = CurveFigure(
    name="fig3b",
    label="Figure 3(b)-style: pruning",
    spectrum=dcprune.SpikedCovariance(spike_fraction=SPIKE_FRACTION, spike=SPIKE),
    names=PRUNING,
)
build = FIGURE.build
