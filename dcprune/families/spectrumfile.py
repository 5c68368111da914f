"""Reading a user spectrum file (``--spectrum``): ``.csv`` with columns ``lambda,beta`` or a
``.npy`` array of shape ``(d, 2)``, refused from its size before it is read when it has more
rows than a prediction evaluates."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from ..checks import npy_shape
from .spectra import ArraySpectrum

__all__ = ["load_spectrum", "MAX_SPECTRUM_ROWS"]


def load_spectrum(path, signal: float | None = None) -> ArraySpectrum:
    """Read a user spectrum: ``.csv`` with columns ``lambda,beta`` or ``.npy`` of shape (d, 2)."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"spectrum file not found: {path}")
    suffix = path.suffix.lower()
    _check_spectrum_rows(path, suffix)
    if suffix == ".npy":
        try:
            data = np.load(path, allow_pickle=False)
        except Exception:  # numpy raises several types for bad files, with its own jargon
            raise ValueError(f"{path}: not a .npy file of numbers (save one with numpy.save)") from None
        if not isinstance(data, np.ndarray) or not np.issubdtype(data.dtype, np.number):
            raise ValueError(f"{path}: not a .npy array of numbers")
        if data.ndim != 2 or data.shape[1] != 2:
            raise ValueError(f"{path}: expected an array of shape (d, 2), got {data.shape}")
        lam, beta = data[:, 0], data[:, 1]
    elif suffix == ".csv":
        lam, beta = _read_csv(path)
    else:
        raise ValueError(f"{path}: spectrum files must end in .csv or .npy")
    return ArraySpectrum(lam=lam, beta=beta, signal=signal, source=str(path))


# Rows a spectrum file may have: a prediction evaluates every atom for each model (and the
# reference line), and beyond ~10⁷ evaluations it is refused anyway; reading and sorting more
# rows only delays that refusal (a 10⁷-row file took minutes before it).
MAX_SPECTRUM_ROWS = 3_000_000


def _check_spectrum_rows(path: Path, suffix: str) -> None:
    """Refuse a spectrum file of more than :data:`MAX_SPECTRUM_ROWS` rows before reading it:
    from the ``.npy`` header, or by counting the lines of a ``.csv`` (a fast byte scan)."""
    rows = None
    if suffix == ".npy":
        try:
            with path.open("rb") as fh:
                shape = npy_shape(fh)
            rows = shape[0] if shape else 1
        except Exception:  # not a .npy: np.load gives the one-line error
            return
    elif suffix == ".csv":
        rows = 0
        with path.open("rb") as fh:
            while chunk := fh.read(1 << 24):
                rows += chunk.count(b"\n")
                if rows > MAX_SPECTRUM_ROWS + 1:
                    break
        rows -= 1  # the header
    if rows is not None and rows > MAX_SPECTRUM_ROWS:
        raise ValueError(f"{path}: more than {MAX_SPECTRUM_ROWS:,} rows, the most a prediction evaluates "
                         f"(each row is an atom of every model: about {2.5e-6 * rows:.0f} s per model at "
                         f"{rows:,}{'+' if suffix == '.csv' else ''} rows); group equal rows or use a coarser "
                         f"spectrum")


def _read_csv(path: Path):
    try:
        with path.open(encoding="utf-8") as fh:
            header = [h.strip().lower() for h in fh.readline().split(",")]
            if "lambda" not in header or "beta" not in header:
                raise ValueError(f"{path}: the first line must name the columns lambda,beta")
            with warnings.catch_warnings():  # an empty file gets our message, not numpy's warning
                warnings.simplefilter("ignore", UserWarning)
                data = np.loadtxt(fh, delimiter=",", ndmin=2, dtype=float)  # C parser: 10⁶ rows in ~0.5 s
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not a text file (expected CSV with columns lambda,beta)") from None
    except ValueError as exc:
        if str(exc).startswith(f"{path}:"):
            raise
        lines = path.read_text(encoding="utf-8").splitlines()
        raise ValueError(f"{path}: {_csv_problem(lines, len(header))}") from None
    if data.size == 0:
        raise ValueError(f"{path}: the spectrum is empty")
    if data.shape[1] != len(header):
        raise ValueError(f"{path}: rows have {data.shape[1]} columns, header has {len(header)}")
    return data[:, header.index("lambda")], data[:, header.index("beta")]


def _csv_problem(lines: list[str], columns: int) -> str:
    """Where a CSV that NumPy refused goes wrong, in file line numbers (the slow path: errors only)."""
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        cells = line.split(",")
        if len(cells) != columns:
            return f"line {number} has {len(cells)} columns, the header {columns}"
        for cell in cells:
            try:
                float(cell)
            except ValueError:
                return f"line {number}: {cell.strip()!r} is not a number"
    return "not a CSV of numbers with columns lambda,beta"
