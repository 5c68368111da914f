"""``--problem rank-one``: perfectly correlated features from the command line (docs/theory.rst §8).

Features ``x_i = sqrt(c_i) g`` with one shared Gaussian factor ``g`` and label
``y = xᵀβ + σ z``: the per-feature scales ``c`` and weights ``β`` come from ``--scales`` and
``--weights`` (comma-separated lists of equal length) or from ``--features FILE`` (a ``.csv``
with columns ``c,beta``, one row per feature, or a ``.npy`` array of shape ``(p, 2)``). The
model is the full one (width ``p/n``; a rank-one problem has no nested sub-models), pruned to
``s = max(1, round(alpha·p))`` weights.
"""

from __future__ import annotations

import csv
from pathlib import Path

import click
import numpy as np

from ..checks import ParameterError
from ..families import RankOne

__all__ = ["RANK_ONE", "rank_one_from"]

RANK_ONE = "rank-one"


def _numbers(option: str, text: str) -> np.ndarray:
    try:
        values = np.array([float(x) for x in text.split(",") if x.strip()])
    except ValueError:
        raise click.UsageError(f"{option} must be comma-separated numbers, got {option}={text!r}") from None
    if values.size == 0 or not np.all(np.isfinite(values)):
        raise click.UsageError(f"{option} must list at least one number, all finite, got {option}={text!r}")
    return values


def _read(path: str) -> tuple[np.ndarray, np.ndarray]:
    file = Path(path)
    if file.suffix == ".npy":
        data = np.load(file, allow_pickle=False)
        if data.ndim != 2 or data.shape[1] != 2:
            raise click.UsageError(f"--features {path}: a .npy file must have shape (p, 2), got {data.shape}")
        return data[:, 0].astype(float), data[:, 1].astype(float)
    with file.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or not {"c", "beta"} <= {f.strip() for f in reader.fieldnames}:
            raise click.UsageError(f"--features {path}: a .csv file needs the columns c,beta")
        c, beta = [], []
        for line, row in enumerate(reader, start=2):
            row = {k.strip(): v for k, v in row.items()}
            try:
                c.append(float(row["c"]))
                beta.append(float(row["beta"]))
            except (TypeError, ValueError):
                raise click.UsageError(f"--features {path}: line {line} is not two numbers c,beta") from None
    if not c:
        raise click.UsageError(f"--features {path}: no rows")
    return np.array(c), np.array(beta)


def rank_one_from(args: dict) -> RankOne:
    """The rank-one problem of the parsed options ``args`` (scales, weights or features, alpha,
    sigma2, n), refusing the options it has no use for."""
    if args["n"] is None:
        raise click.UsageError("--problem rank-one needs --n (its risks are exact at finite n)")
    for name in ("kappa", "spectrum", "covariance"):
        if args[name] is not None:
            raise click.UsageError(f"--{name} does not apply to rank-one: the width is p/n, p the number of features")
    if args["ridge"]:
        raise click.UsageError("--ridge does not apply to rank-one: its theory is min-norm least squares")
    if args["features"] is not None:
        if args["scales"] is not None or args["weights"] is not None:
            raise click.UsageError("give either --features FILE or --scales and --weights, not both")
        c, beta = _read(args["features"])
    else:
        if args["scales"] is None or args["weights"] is None:
            raise click.UsageError("--problem rank-one needs --scales and --weights (or --features FILE)")
        c, beta = _numbers("--scales", args["scales"]), _numbers("--weights", args["weights"])
        if c.size != beta.size:
            raise click.UsageError(f"--scales and --weights must have the same length, got {c.size} and "
                                   f"{beta.size}")
    s = max(1, int(round(args["alpha"] * c.size)))
    if not 0 < args["alpha"] <= 1:
        raise click.UsageError(f"--alpha must be in (0, 1], got --alpha={args['alpha']:g}")
    try:
        return RankOne(c, beta, 0.1 if args["sigma2"] is None else args["sigma2"], n=args["n"], s=s,
                       unlabelled=args["unlabelled"])
    except ParameterError as exc:  # the library's c and beta are these options
        source = "--features" if args["features"] is not None else None
        names = {"c": source or "--scales", "beta": source or "--weights"}
        if exc.parameter in names:
            raise click.UsageError(exc.render(names[exc.parameter])) from None
        raise

