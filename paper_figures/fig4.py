"""Figure 4-style: ReLU random features at several sparsity targets, fresh vs same-data retraining.

One panel per target s (THEORY.md §7, §9): theory lines of dense, magnitude pruning (MP) and
MP + fresh retraining against Monte Carlo of the real random-feature regression on the same
draws of W (filled markers) and same-data retraining (unfilled markers, no theory).
"""

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the package importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from paper_figures.common import RandomFeaturesFigure, main  # noqa: E402

FIGURE = RandomFeaturesFigure(name="fig4", label="Figure 4-style",
                              targets=(25, 50, 100))
build = FIGURE.build

if __name__ == "__main__":
    sys.exit(main(build, __doc__))
