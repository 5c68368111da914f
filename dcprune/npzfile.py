"""Reading named arrays from a ``.npz`` file, with one-line errors that name the file.

Two inputs are ``.npz`` archives (a covariance file, :func:`dcprune.families.correlated.load_covariance`;
a data file, :func:`dcprune.yourdata.dataset.load_dataset`); both read them here, so a missing
array, a damaged archive or a pickled member gets the same message, and the array sizes can be
read from the headers before anything is loaded.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from .checks import npy_shape

__all__ = ["largest_array", "read_npz"]


def largest_array(path: Path) -> int | None:
    """The element count of the largest ``.npy`` member of the archive ``path``, read from the
    headers without loading the data; ``None`` when it is not a readable zip (the loader then
    gives the one-line error)."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            elements = 0
            for info in archive.infolist():
                if not info.filename.endswith(".npy"):
                    continue
                with archive.open(info) as fh:
                    elements = max(elements, math.prod(npy_shape(fh)))
    except Exception:  # not a zip, or a damaged member
        return None
    return elements


def read_npz(path: Path, required: tuple[str, ...], optional: tuple[str, ...] = (), *, check=None) -> dict:
    """The arrays ``required`` (all must be present) and those of ``optional`` that are, by name.

    ``check(name, array)`` runs on each array read, inside the archive (it raises ``ValueError``
    starting with ``f"{path}:"`` to refuse one). Errors are ``ValueError`` starting with the
    path: a missing array (naming what the file has), a member that is not a plain numeric
    array, or a file that is not a readable ``.npz``.
    """
    try:
        with np.load(path, allow_pickle=False) as data:
            missing = set(required) - set(data.files)
            if missing:
                raise ValueError(f"{path}: missing array {' and '.join(sorted(missing))} "
                                 f"(has {', '.join(data.files) or 'none'})")
            out = {name: data[name] for name in (*required, *optional) if name in data.files}
            if check is not None:
                for name, arr in out.items():
                    check(name, arr)
    except ValueError as exc:
        if str(exc).startswith(f"{path}:"):
            raise
        raise ValueError(f"{path}: not a .npz of numeric arrays {' and '.join(required)}") from None
    except Exception:  # zipfile and numpy raise several types for a damaged file
        raise ValueError(f"{path}: not a readable .npz file") from None
    return out
