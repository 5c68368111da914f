"""Theory against Monte Carlo across the parameter space (``dcprune validate``).

:mod:`.zscores` holds the grid, the runs and the report (its docstring states the
statistics); :mod:`.quantized` the quantized configurations (docs/theory.rst §11) and
:mod:`.claims` the rule that says which quantized checks are claimed; :mod:`.naive` is a
slow NumPy restatement of the Monte Carlo, the test oracle of the Numba kernels (not imported
here: it loads Numba).
"""

from .claims import quantized_reason
from .quantized import QUANTIZED, compare_quantized, quantized_grid
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

__all__ = ["CLAIMED", "REPORTED", "QUANTIZED", "Config", "Check", "compare", "compare_quantized", "grid",
           "quantized_grid", "quantized_reason", "run_config", "validate", "report_markdown", "write_outputs"]
