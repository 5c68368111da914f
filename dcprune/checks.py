"""Argument checks shared by every entry point: each raises ``ValueError`` naming the argument.

Library errors are the CLI's one-line messages, so every message says what was expected and
what was given (``"alpha must be in (0, 1], got alpha=1.5"``).
"""

from __future__ import annotations

import math
import os

__all__ = ["ParameterError", "require", "finite_number", "bounded_number", "whole_number", "shown",
           "available_memory", "check_memory"]


class ParameterError(ValueError):
    """A bad value of the named ``parameter``: ``"<parameter> <problem>, got <parameter>=<value>"``.

    The parts are kept so that a front end can name the parameter its own way (the CLI says
    ``--alpha`` where the library says ``alpha``) without parsing the message:
    :meth:`render` rebuilds it with another name.

    >>> err = ParameterError("width_min", "must be > 0", -1.0)
    >>> str(err)
    'width_min must be > 0, got width_min=-1.0'
    >>> err.render("--width-min")
    '--width-min must be > 0, got --width-min=-1.0'
    """

    def __init__(self, parameter: str, problem: str, value=None, *, shown_value: str | None = None):
        self.parameter = parameter
        self.problem = problem
        self.shown_value = shown(value) if shown_value is None else shown_value
        super().__init__(self.render(parameter))

    def render(self, name: str) -> str:
        """The message with the parameter called ``name``."""
        return f"{name} {self.problem}, got {name}={self.shown_value}"


def require(condition: bool, name: str, message: str, value) -> None:
    """Raise :class:`ParameterError` for ``name`` unless ``condition`` holds."""
    if not condition:
        raise ParameterError(name, message, value)


def shown(value) -> str:
    """``value`` as a user typed it: NumPy scalars print as plain numbers, not ``np.float64(…)``."""
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:
        value = value.item()
    return repr(value)


def finite_number(name: str, value, *, positive=False, nonnegative=False) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ParameterError(name, "must be a number", value) from None
    require(math.isfinite(x), name, "must be finite", value)
    if positive:
        require(x > 0, name, "must be > 0", value)
    if nonnegative:
        require(x >= 0, name, "must be >= 0", value)
    return x


def bounded_number(name: str, value, lo: float, hi: float, why: str) -> float:
    """``value`` as a float in ``[lo, hi]``; outside, a :class:`ParameterError` saying ``why``
    (what goes wrong beyond the bounds: the numbers would not be right, not just slow)."""
    x = finite_number(name, value)
    require(lo <= x <= hi, name, f"must be in [{lo:g}, {hi:g}] ({why})", value)
    return x


def npy_shape(fh) -> tuple:
    """The shape in the header of the ``.npy`` stream ``fh``, read without loading the data."""
    import numpy as np

    version = np.lib.format.read_magic(fh)
    read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
    return tuple(read(fh)[0])


def whole_number(name: str, value, lo: int) -> int:
    """``value`` as an ``int`` if it is a whole number ``>= lo`` (bools are not numbers here)."""
    try:
        ok = not isinstance(value, bool) and float(value).is_integer() and value >= lo
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ParameterError(name, f"must be an integer >= {lo}", value)
    return int(value)


# Share of the available memory a single run may plan to use.
_MEMORY_SHARE = 0.7


def available_memory() -> int:
    """Bytes of memory available now (``MemAvailable``, or physical memory as a fallback),
    and no more than the address space a limit (``ulimit -v``, ``RLIMIT_AS``) leaves this
    process: under a limit an allocation fails long before the machine runs out."""
    have = None
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    have = int(line.split()[1]) * 1024
                    break
    except OSError:
        pass
    if have is None:
        have = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    room = _address_space_left()
    return have if room is None else min(have, room)


def _address_space_left() -> int | None:
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
        if soft == resource.RLIM_INFINITY:
            return None
        with open("/proc/self/statm") as fh:
            used = int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        return max(soft - used, 0)
    except (ImportError, OSError, ValueError):
        return None


def check_memory(need: float, remedy: str) -> None:
    """Raise ``ValueError`` before allocating ``need`` bytes beyond what the machine has."""
    have = available_memory()
    if need > _MEMORY_SHARE * have:
        raise ValueError(f"the run needs about {need / 2**30:.1f} GiB but {have / 2**30:.1f} GiB is "
                         f"available; {remedy}")
