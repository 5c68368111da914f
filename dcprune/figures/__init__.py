"""The paper's figures, rebuilt with dcprune (docs/theory.rst §9).

``dcprune figure NAME --out DIR [--quick] [--no-mc]`` (or ``python paper_figures/build.py
all --out DIR``) builds them; :data:`dcprune.figures.build.FIGURES` is the registry and
:func:`dcprune.figures.build.build` the function. Each ``figXX`` module is one figure.
``import dcprune`` does not import this subpackage (it needs matplotlib).
"""
