"""Build the paper's figures: ``python -m dcprune.figures.build {all,NAME...} --out DIR [--quick]``.

:data:`FIGURES` maps a figure name to its builder ``build(out_dir, quick=False, mc=True)``,
which writes the figure's files into the existing directory ``out_dir`` and returns their
paths. ``--quick`` is the CI smoke test (5 trials on 12 widths); the full run uses the trials
stated in each CSV header and legend. ``--no-mc`` draws the theory alone.

To add a figure, write ``dcprune/figures/NAME.py`` defining ``build`` with that signature (a
:class:`dcprune.figures.common.CurveFigure` when it is a width sweep of a linear Gaussian
problem) and register it in :data:`FIGURES`.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from dcprune.output import file_set, prepare_directory

from . import compression, fig2, fig3a, fig3b, fig4, fig7a, fig7b, lemma1, retraining

__all__ = ["FIGURES", "build", "main"]

#: Figure name -> ``build(out_dir, quick=False, mc=True) -> list[Path]``.
FIGURES: dict[str, Callable[..., list[Path]]] = {
    "fig2": fig2.build,
    "fig3a": fig3a.build,
    "fig3b": fig3b.build,
    "fig4": fig4.build,
    "fig7a": fig7a.build,
    "fig7b": fig7b.build,
    "lemma1": lemma1.build,
    "compression": compression.build,
    "retraining": retraining.build,
}


def build(name: str, out_dir, quick: bool = False, *, mc: bool = True) -> list[Path]:
    """Build figure ``name`` (or ``"all"``) into ``out_dir`` (created if missing).

    Returns the written paths (PNG, PDF and CSV per figure). Unknown names raise
    ``ValueError`` before anything is computed.
    """
    names = list(FIGURES) if name == "all" else [name]
    for one in names:
        if one not in FIGURES:
            raise ValueError(f"unknown figure {one!r}; choose from all, {', '.join(FIGURES)}")
    out = prepare_directory(out_dir)
    paths = []
    with file_set(out):  # every file of the run or none (an empty new directory is removed)
        for one in names:
            paths += FIGURES[one](out, quick=quick, mc=mc)
    return paths


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="+", metavar="NAME",
                        help=f"all, or figure names: {', '.join(FIGURES)}")
    parser.add_argument("--out", default="figures", help="output directory (created if missing)")
    parser.add_argument("--quick", action="store_true", help="few trials, coarse grid (smoke test)")
    parser.add_argument("--no-mc", action="store_true", help="theory lines only, no Monte Carlo")
    args = parser.parse_args(argv)
    names = list(FIGURES) if "all" in args.names else args.names
    for name in names:  # fail on a typo before computing anything
        if name not in FIGURES:
            parser.error(f"unknown figure {name!r}; choose from all, {', '.join(FIGURES)}")
    for name in names:
        start = time.perf_counter()
        for path in build(name, args.out, quick=args.quick, mc=not args.no_mc):
            print(path)
        print(f"{name}: {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
