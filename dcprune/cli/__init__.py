"""The ``dcprune`` command line: :mod:`~dcprune.cli.options` (the option registry and the
problem it builds), :mod:`~dcprune.cli.commands`, :mod:`~dcprune.cli.render` (table, CSV and
JSON), :mod:`~dcprune.cli.errors` (one-line errors, parameter → option names), and
:mod:`~dcprune.cli.flows` (``best``, ``check``, ``split``) and :mod:`~dcprune.cli.frontier`
(``frontier``)."""

from . import (
    flows,  # noqa: F401  (registers best, check and split on main)
    frontier,  # noqa: F401  (registers frontier on main)
)
from .commands import main

__all__ = ["main"]
