"""Figure 2-style: ReLU random features, theory of the equivalent LGP vs the real regression.

Width sweep through the interpolation peak p = n at one sparsity target s: dense, magnitude
pruning (MP) and MP + fresh retraining, theory lines (docs/theory.rst §7: the equivalent linear
Gaussian problem, §6: its DC, averaged over draws of W) against Monte Carlo of the real
random-feature regression on the same W (filled markers), and same-data retraining, which the
theory does not cover (unfilled markers).
"""

from .common import RandomFeaturesFigure

FIGURE = RandomFeaturesFigure(name="fig2", label="Figure 2-style", targets=(50,))
build = FIGURE.build
