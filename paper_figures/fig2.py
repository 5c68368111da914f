"""Figure 2-style: ReLU random features, theory of the equivalent LGP vs the real regression.

Width sweep through the interpolation peak p = n at one sparsity target s: dense, magnitude
pruning (MP) and MP + fresh retraining, theory lines (THEORY.md §7: the equivalent linear
Gaussian problem, §6: its DC, averaged over draws of W) against Monte Carlo of the real
random-feature regression on the same W (filled markers), and same-data retraining, which the
theory does not cover (unfilled markers).
"""

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the package importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from paper_figures.common import RandomFeaturesFigure, main  # noqa: E402

FIGURE = RandomFeaturesFigure(name="fig2", label="Figure 2-style", targets=(50,))
build = FIGURE.build

if __name__ == "__main__":
    sys.exit(main(build, __doc__))
