"""The ``dcprune`` command line: :mod:`~dcprune.cli.options` (the option registry and the
problem it builds), :mod:`~dcprune.cli.commands`, :mod:`~dcprune.cli.render` (table, CSV and
JSON) and :mod:`~dcprune.cli.errors` (one-line errors, parameter → option names)."""

from .commands import main
from . import flows  # noqa: E402,F401  (registers best and check on main)

__all__ = ["main"]
