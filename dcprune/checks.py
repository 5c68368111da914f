"""Argument checks shared by every entry point: each raises ``ValueError`` naming the argument.

Library errors are the CLI's one-line messages, so every message says what was expected and
what was given (``"alpha must be in (0, 1], got alpha=1.5"``).
"""

from __future__ import annotations

import math

__all__ = ["require", "finite_number", "whole_number", "shown"]


def require(condition: bool, name: str, message: str, value) -> None:
    if not condition:
        raise ValueError(f"{name} {message}, got {name}={shown(value)}")


def shown(value) -> str:
    """``value`` as a user typed it: NumPy scalars print as plain numbers, not ``np.float64(…)``."""
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:
        value = value.item()
    return repr(value)


def finite_number(name: str, value, *, positive=False, nonnegative=False) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {name}={shown(value)}") from None
    require(math.isfinite(x), name, "must be finite", value)
    if positive:
        require(x > 0, name, "must be > 0", value)
    if nonnegative:
        require(x >= 0, name, "must be >= 0", value)
    return x


def whole_number(name: str, value, lo: int) -> int:
    """``value`` as an ``int`` if it is a whole number ``>= lo`` (bools are not numbers here)."""
    try:
        ok = not isinstance(value, bool) and float(value).is_integer() and value >= lo
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(f"{name} must be an integer >= {lo}, got {name}={shown(value)}")
    return int(value)
