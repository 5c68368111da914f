"""Figure 3(b)-style: spiked covariance (Σ = diag(c), β ∝ 1), dense vs MP, HP and OP pruning.

The covariance reveals the salient features, so HP beats MP, and the pruned model at full
width beats every small dense model and oracle + retraining. THEORY.md §5, §9.
"""

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the package importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import dcprune  # noqa: E402
from paper_figures.common import PRUNING, SPIKE, SPIKE_FRACTION, CurveFigure, main  # noqa: E402

FIGURE = CurveFigure(
    name="fig3b",
    label="Figure 3(b)-style: pruning",
    spectrum=dcprune.SpikedCovariance(spike_fraction=SPIKE_FRACTION, spike=SPIKE),
    names=PRUNING,
)
build = FIGURE.build

if __name__ == "__main__":
    sys.exit(main(build, __doc__))
