"""A user's table of rows: reading a file and refusing what cannot be a regression problem.

A :class:`Dataset` is ``X`` (N rows × d numeric feature columns), ``y`` (the target column),
the column names and the file it came from. Files:

- ``.csv`` with a header line: the target is the column named ``target``; every other column
  is a feature. Read with the :mod:`csv` module (pandas is not needed).
- ``.npz`` with arrays ``X`` (N×d) and ``y`` (N), optionally ``columns`` (d names); the
  target is named ``y`` (``target`` must be ``y`` or omitted).
- ``.npy``: one N×(d+1) array; ``target`` is the index of the target column (default: the
  last), the features are named ``x0``, ``x1``, ....

Every refusal is one :class:`ValueError` line naming the file and the rows or columns at fault:
a missing target column, a non-numeric cell, NaN or infinite values, a constant target.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..npzfile import read_npz

__all__ = ["Dataset", "load_dataset", "from_arrays"]

# Rows or columns a refusal lists before "and K more".
_SHOWN = 5


def _listing(items) -> str:
    items = [str(i) for i in items]
    more = f" and {len(items) - _SHOWN} more" if len(items) > _SHOWN else ""
    return ", ".join(items[:_SHOWN]) + more


@dataclass(frozen=True, eq=False)
class Dataset:
    """Rows of a table: ``X`` (N×d floats), ``y`` (N floats), ``columns`` (d names),
    ``target`` (the target's name) and ``source`` (the file, or ``"arrays"``)."""

    X: np.ndarray
    y: np.ndarray
    columns: tuple[str, ...]
    target: str
    source: str = "arrays"

    @property
    def N(self) -> int:
        return self.X.shape[0]

    @property
    def d(self) -> int:
        return self.X.shape[1]


def from_arrays(X, y, columns=None, *, target: str = "y", source: str = "arrays") -> Dataset:
    """A :class:`Dataset` of arrays, with the checks of :func:`load_dataset`.

    >>> from_arrays([[1.0, 2.0], [2.0, 1.0], [3.0, 5.0]], [1.0, 0.0, 2.0]).columns
    ('x0', 'x1')
    """
    try:
        X = np.array(X, dtype=float)
        y = np.array(y, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{source}: X and y must hold numbers") from None
    if X.ndim != 2 or X.shape[1] == 0:
        raise ValueError(f"{source}: X must be a 2-D array with at least one column, got shape {X.shape}")
    if y.ndim != 1 or y.size != X.shape[0]:
        raise ValueError(f"{source}: y must be 1-D with one value per row of X ({X.shape[0]}), got shape {y.shape}")
    columns = tuple(f"x{j}" for j in range(X.shape[1])) if columns is None else tuple(str(c) for c in columns)
    if len(columns) != X.shape[1]:
        raise ValueError(f"{source}: {len(columns)} column names for {X.shape[1]} columns")
    if len(set(columns)) != len(columns):
        raise ValueError(f"{source}: repeated column names")
    _check_finite(X, y, columns, target, source)
    if X.shape[0] < 2 or np.ptp(y) == 0:
        raise ValueError(f"{source}: the target {target} is constant: there is nothing to predict")
    return Dataset(X, y, columns, target, source)


def _check_finite(X, y, columns, target, source) -> None:
    bad_x = ~np.isfinite(X)
    bad_y = ~np.isfinite(y)
    if not (bad_x.any() or bad_y.any()):
        return
    rows = np.flatnonzero(bad_x.any(axis=1) | bad_y)
    cols = [columns[j] for j in np.flatnonzero(bad_x.any(axis=0))] + ([target] if bad_y.any() else [])
    raise ValueError(f"{source}: NaN or infinite values in rows {_listing(rows + 1)} (1-based data rows), "
                     f"columns {_listing(cols)}; drop or fill them first")


def load_dataset(path, target: str | None = None) -> Dataset:
    """Read ``path`` (``.csv``, ``.npz`` or ``.npy``, see the module docstring) into a :class:`Dataset`."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"data file not found: {path}")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _read_csv(path, target)
    if suffix == ".npz":
        return _read_npz(path, target)
    if suffix == ".npy":
        return _read_npy(path, target)
    raise ValueError(f"{path}: a data file is a .csv with a header, a .npz with arrays X and y, or a .npy array")


def _read_csv(path: Path, target: str | None) -> Dataset:
    if target is None:
        raise ValueError(f"{path}: name the target column (--target COL)")
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if header is None:
                raise ValueError(f"{path}: empty file (a header line naming the columns is needed)")
            header = [h.strip() for h in header]
            if target not in header:
                raise ValueError(f"{path}: no target column {target!r} (columns: {_listing(header)})")
            rows = [r for r in reader if any(cell.strip() for cell in r)]
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not a UTF-8 text file") from None
    if not rows:
        raise ValueError(f"{path}: no data rows below the header")
    values = np.empty((len(rows), len(header)))
    for i, row in enumerate(rows):
        if len(row) != len(header):
            raise ValueError(f"{path}: data row {i + 1} has {len(row)} cells for {len(header)} columns")
        for j, cell in enumerate(row):
            try:
                values[i, j] = float(cell)
            except ValueError:
                raise ValueError(f"{path}: non-numeric cell {cell.strip()!r} in data row {i + 1}, column "
                                 f"{header[j]!r} (encode categories as numbers first)") from None
    k = header.index(target)
    features = [h for j, h in enumerate(header) if j != k]
    return from_arrays(np.delete(values, k, axis=1), values[:, k], features, target=target, source=str(path))


def _numeric(path, name, arr):
    if arr.dtype.kind not in "iuf" and arr.dtype.kind != "b":
        raise ValueError(f"{path}: {name} must hold real numbers, got dtype {arr.dtype}")
    return arr


def _read_npz(path: Path, target: str | None) -> Dataset:
    if target not in (None, "y"):
        raise ValueError(f"{path}: a .npz file's target is its array y (--target y or leave it out), got {target!r}")
    arrays = read_npz(path, ("X", "y"), ("columns",),
                      check=lambda name, arr: name == "columns" or _numeric(path, name, arr))
    X, y = arrays["X"], arrays["y"]
    columns = [str(c) for c in arrays["columns"]] if "columns" in arrays else None
    return from_arrays(X, y, columns, target="y", source=str(path))


def _read_npy(path: Path, target: str | None) -> Dataset:
    try:
        data = np.load(path, allow_pickle=False)
    except Exception:
        raise ValueError(f"{path}: not a readable .npy file") from None
    _numeric(path, "the array", data)
    if data.ndim != 2 or data.shape[1] < 2:
        raise ValueError(f"{path}: a .npy data file is an N×(d+1) array (features and the target), got "
                         f"shape {data.shape}")
    if target is None:
        k = data.shape[1] - 1
    else:
        try:
            k = int(target)
        except ValueError:
            raise ValueError(f"{path}: a .npy file's target is a column index, got {target!r}") from None
        if not -data.shape[1] <= k < data.shape[1]:
            raise ValueError(f"{path}: no target column {k} (the array has {data.shape[1]} columns)")
        k %= data.shape[1]
    names = [f"x{j}" for j in range(data.shape[1])]
    features = [h for j, h in enumerate(names) if j != k]
    return from_arrays(np.delete(data, k, axis=1), data[:, k], features, target=names[k], source=str(path))
