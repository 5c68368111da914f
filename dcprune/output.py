"""Whole-file writers: a file is written to a temporary name beside it, then renamed.

An interrupted run therefore never leaves a half-written figure, CSV or report behind. No
plotting or numerical dependency, so the CLI, validation and benchmarks can all use it.
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np

__all__ = ["atomic_write", "write_csv", "write_json", "check_directory", "prepare_directory"]


def check_directory(path: Path) -> None:
    """``ValueError`` unless a file can be written at ``path`` (its directory exists and
    takes a file); called before any computation, so a bad path costs nothing."""
    path = Path(path)
    parent = path.parent
    if not parent.is_dir():
        raise ValueError(f"directory '{parent}' does not exist (path='{path}')")
    if path.is_dir():
        raise ValueError(f"'{path}' is a directory, not a file name")
    _probe(parent, f"path='{path}'")


def prepare_directory(path) -> Path:
    """Create the output directory ``path`` (and parents) and check that it takes files.

    Raises ``ValueError`` with the reason (not a file-system traceback) when it cannot.
    """
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise ValueError(f"output directory '{path}' is an existing file") from None
    except OSError as exc:
        raise ValueError(f"cannot create output directory '{path}': {exc.strerror}") from None
    _probe(path, "output directory")
    return path


def _probe(directory: Path, what: str) -> None:
    # os.access says yes to root on read-only and virtual file systems; only a write tells.
    try:
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError as exc:
        raise ValueError(f"directory '{directory}' is not writable: {exc.strerror} ({what})") from None


def atomic_write(path, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp)`` on a temporary path beside ``path``, then rename it to ``path``.

    The rename (:func:`os.replace`) is atomic on one file system, so readers see either the
    old file or the complete new one. The temporary file is removed if ``write`` fails. The
    new file gets the mode of the file it replaces, or the default mode under the umask.
    """
    path = Path(path)
    check_directory(path)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        os.chmod(tmp, _file_mode(path))
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def _file_mode(path: Path) -> int:
    try:
        return path.stat().st_mode & 0o777
    except FileNotFoundError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


def write_csv(path, header: Sequence[str], rows: Iterable[Sequence], *, comments: Sequence[str] = ()) -> Path:
    """Write a CSV table atomically; returns the path.

    ``comments`` become leading lines ``# ...`` (read back with ``comment="#"`` in pandas or
    ``comments="#"`` in NumPy). Cells: floats are written with :func:`repr`, so they read
    back exactly (``inf``, ``nan`` included); ``None`` is an empty cell; booleans are 0/1.
    """
    header = list(header)
    lines = [line for text in comments for line in str(text).splitlines()]

    def write(tmp: Path) -> None:
        with open(tmp, "w", newline="", encoding="utf-8") as fh:
            for line in lines:
                fh.write(f"# {line}\n")
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(header)
            for row in rows:
                row = list(row)
                if len(row) != len(header):
                    raise ValueError(f"a CSV row has {len(row)} cells for {len(header)} columns")
                writer.writerow([_cell(v) for v in row])

    return atomic_write(path, write)


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return str(value)


def write_json(path, data) -> Path:
    """Write ``data`` as indented JSON atomically; returns the path."""
    text = json.dumps(data, indent=2, allow_nan=False)
    return atomic_write(path, lambda tmp: Path(tmp).write_text(text + "\n"))
