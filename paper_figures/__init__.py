"""Scripts regenerating the paper's figures with dcprune (THEORY.md §9).

``python paper_figures/build.py all --out DIR [--quick]`` builds every registered figure;
``paper_figures.build.FIGURES`` is the registry and ``paper_figures.build.build`` the function.
Each ``figXX.py`` is one figure and also runs on its own: ``python paper_figures/fig3b.py``.
"""
