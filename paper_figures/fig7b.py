"""Figure 7(b)-style: spiked covariance, MP and HP with and without retraining.

Lines: theory (retraining on fresh data, THEORY.md §4); filled markers: Monte Carlo of fresh
retraining; unfilled markers: same-data retraining, which the theory does not cover.
"""

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the package importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import dcprune  # noqa: E402
from paper_figures.common import RETRAINING, SPIKE, SPIKE_FRACTION, CurveFigure, main  # noqa: E402

FIGURE = CurveFigure(
    name="fig7b",
    label="Figure 7(b)-style: pruning and retraining",
    spectrum=dcprune.SpikedCovariance(spike_fraction=SPIKE_FRACTION, spike=SPIKE),
    names=RETRAINING,
)
build = FIGURE.build

if __name__ == "__main__":
    sys.exit(main(build, __doc__))
