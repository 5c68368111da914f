"""Theory vs Monte Carlo over the validation grid; the same as ``dcprune validate``.

    python validation/validate.py            # full grid, both parts (by hand: ~7 + ~12 minutes on 2 cores)
    python validation/validate.py --quick    # the CI grid
    python validation/validate.py --part quantized --out validation/results/quantized   # §11's grid

Writes validation/results/{report.md, checks.csv, zscores.png}; exits 1 when a claimed
|z| exceeds --threshold (default 4). See dcprune/validate/zscores.py for the grid and the statistics.
"""

import sys

from dcprune.cli import main

if __name__ == "__main__":
    main(["validate", *sys.argv[1:]], prog_name="validation/validate.py")
