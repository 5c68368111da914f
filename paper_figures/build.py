"""Rebuild the paper's figures into a directory: ``python paper_figures/build.py {all,NAME...} --out DIR``.

``python paper_figures/build.py all --out paper_figures/gallery`` refreshes the committed
gallery. The figures live in :mod:`dcprune.figures` (this script needs dcprune importable:
installed, or the checkout on ``PYTHONPATH``); the options are those of
:func:`dcprune.figures.build.main` (``--quick``, ``--no-mc``).
"""

import sys

from dcprune.figures.build import main

if __name__ == "__main__":
    sys.exit(main())
