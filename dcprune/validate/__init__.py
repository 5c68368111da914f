"""Theory against Monte Carlo across the parameter space (``dcprune validate``).

:mod:`.zscores` holds the grid, the runs and the report (its docstring states the
statistics); :mod:`.naive` is a slow NumPy restatement of the Monte Carlo, the test oracle
of the Numba kernels (not imported here: it loads Numba).
"""

from .zscores import (
           CLAIMED,
           REPORTED,
           Check,
           Config,
           compare,
           grid,
           report_markdown,
           run_config,
           validate,
           write_outputs,
)

__all__ = ["CLAIMED", "REPORTED", "Config", "Check", "compare", "grid", "run_config", "validate", "report_markdown",
           "write_outputs"]
