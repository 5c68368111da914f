"""Whole-file writers: a file is written to a temporary name beside it, then renamed.

An interrupted run therefore never leaves a half-written figure, CSV or report behind. No
plotting or numerical dependency, so the CLI, validation and benchmarks can all use it.
"""

from __future__ import annotations

import csv
import glob
import json
import os
import secrets
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

import numpy as np

from .signals import in_chain

__all__ = ["atomic_write", "write_csv", "write_json", "check_directory", "prepare_directory", "temporaries",
           "remove_stale_temporaries", "file_set"]


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
    if not str(path).strip():
        raise ValueError("output directory must not be empty (got '')")
    path = Path(path)
    existed = path.exists()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise ValueError(f"output directory '{path}' is an existing file") from None
    except OSError as exc:
        raise ValueError(f"cannot create output directory '{path}': {exc.strerror}") from None
    _probe(path, "output directory")
    if not existed:
        _CREATED.add(path.resolve())
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
    old file or the complete new one. The temporary file is removed if ``write`` fails or the
    run is interrupted (SIGINT, and SIGTERM through :mod:`dcprune.signals`); its name
    ``.NAME.<pid>.<random>.tmp`` carries the writer's process id, so the temporaries a killed
    run (SIGKILL) left behind are removed by the next write of ``path``. The new file gets the
    mode of the file it replaces, or the default mode under the umask. A failed write (a full
    disk, or a writer that fails after an ``OSError``, as matplotlib's PDF back end does) is
    raised as ``OSError`` naming ``path``.
    """
    path = Path(path)
    check_directory(path)
    remove_stale_temporaries(path)
    # The name is chosen before the file exists, so an interrupt between creating it and
    # entering the ``try`` cannot lose track of it (mkstemp returns the name only afterwards).
    tmp = path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    try:
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        try:
            write(tmp)
        except Exception as exc:
            cause = in_chain(exc, OSError)
            if cause is None:
                raise
            raise OSError(cause.errno, cause.strerror or str(cause), str(path)) from exc
        os.chmod(tmp, _file_mode(path))
        staged = _STAGED.get()
        if staged is not None:  # inside file_set(): renamed with the rest of the set
            staged.append((tmp, path))
        else:
            os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


# The (temporary, final) paths of the file_set() being written, if any.
_STAGED: ContextVar[list | None] = ContextVar("dcprune_staged_files", default=None)


@contextmanager
def file_set(directory=None):
    """Write several files as one: every :func:`atomic_write` inside goes to its temporary
    name, and all are renamed only when the block ends without an error.

    A run that fails or is interrupted therefore leaves either the whole set (``report.md``,
    ``checks.csv`` and ``zscores.png``; a figure's PNG, PDF and CSV) or none of it, never a
    report without its table. A write error is raised as ``OSError`` naming the file and
    saying that nothing was written. ``directory``, when given and created by the caller for
    this set (it did not exist before :func:`prepare_directory`), is removed again if empty.
    """
    staged: list = []
    token = _STAGED.set(staged)
    try:
        yield staged
    except BaseException as exc:
        _STAGED.reset(token)
        for tmp, _ in staged:
            Path(tmp).unlink(missing_ok=True)
        _remove_if_created(directory)
        if isinstance(exc, OSError) and exc.errno is not None:
            where = f" to '{directory}'" if directory is not None else ""
            raise OSError(exc.errno, f"{exc.strerror or exc}; no file of the set was written{where}",
                          exc.filename) from exc
        raise
    _STAGED.reset(token)
    done = []
    try:
        for tmp, path in staged:
            os.replace(tmp, path)
            done.append(path)
    except BaseException as exc:
        missing = [Path(path).name for _, path in staged[len(done):]]
        for tmp, _ in staged[len(done):]:
            Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise OSError(exc.errno, f"{exc.strerror or exc}; not written: {', '.join(missing)}",
                          exc.filename) from exc
        raise


# Directories prepare_directory() created in this process (removed again by a failed set).
_CREATED: set[Path] = set()


def _remove_if_created(directory) -> None:
    if directory is None:
        return
    directory = Path(directory)
    if directory.resolve() in _CREATED:
        try:
            directory.rmdir()  # only if empty: never a file the user had there
            _CREATED.discard(directory.resolve())
        except OSError:
            pass


def temporaries(path) -> list[Path]:
    """The temporary files of :func:`atomic_write` for ``path`` that exist now."""
    path = Path(path)
    return sorted(path.parent.glob(f".{glob.escape(path.name)}.*.tmp"))


def remove_stale_temporaries(path) -> list[Path]:
    """Remove the temporaries of ``path`` whose writing process no longer runs; returns them.

    Names without a process id (older dcprune, ``.NAME.xxxxxxxx.tmp``) are removed when
    older than an hour: no write takes that long between creating and renaming its file.
    """
    removed = []
    for tmp in temporaries(path):
        parts = tmp.name[len(Path(path).name) + 2:].split(".")
        try:
            if len(parts) == 3 and parts[0].isdigit():
                if _alive(int(parts[0])):
                    continue
            elif time.time() - tmp.stat().st_mtime < 3600:
                continue
            tmp.unlink()
            removed.append(tmp)
        except OSError:
            continue
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


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
