"""The ``dcprune`` command line: :mod:`~dcprune.cli.options` (the option registry and the
problem it builds), :mod:`~dcprune.cli.commands`, :mod:`~dcprune.cli.render` (table, CSV and
JSON), :mod:`~dcprune.cli.errors` (one-line errors, parameter → option names), and
:mod:`~dcprune.cli.flows` (``best``, ``check``, ``split``), :mod:`~dcprune.cli.data` (``data``) and
:mod:`~dcprune.cli.frontier` (``frontier``)."""

from . import (  # noqa: F401  (each registers its commands on main)
    data,
    flows,
    frontier,
)
from .commands import main

__all__ = ["main"]
