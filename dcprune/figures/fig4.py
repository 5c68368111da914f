"""Figure 4-style: ReLU random features at several sparsity targets, fresh vs same-data retraining.

One panel per target s (docs/theory.rst §7, §9): theory lines of dense, magnitude pruning (MP) and
MP + fresh retraining against Monte Carlo of the real random-feature regression on the same
draws of W (filled markers) and same-data retraining (unfilled markers, no theory).
"""

from .common import RandomFeaturesFigure

FIGURE = RandomFeaturesFigure(name="fig4", label="Figure 4-style",
                              targets=(25, 50, 100))
build = FIGURE.build
