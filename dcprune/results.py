"""One result vocabulary: estimates, risk tables and the row views every sweep shares.

Every risk dcprune reports, whatever the problem family and whether it comes from a closed
form, from sampling the DC or from Monte Carlo, is an :class:`Estimate` ``(mean, se)``. A
closed form is exact: ``se = 0.0``. The risks of one model are a :class:`Risks` mapping
(quantity name → :class:`Estimate`, names from :mod:`dcprune.quantities`); every result has
``to_dict()`` (JSON-ready: infinite values become ``None``) and every multi-model result has
the accessors of :class:`RowsView` (``widths``, ``counts``, ``mean(name)``, ``se(name)``,
``to_frame()``).

>>> from dcprune.results import Estimate, Risks
>>> r = Risks({"dense": Estimate(0.5), "magnitude": Estimate(0.7, 0.01)})
>>> r.magnitude
Estimate(mean=0.7, se=0.01)
>>> r.to_dict()
{'dense': 0.5, 'magnitude': 0.7}
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import NamedTuple

import numpy as np

__all__ = ["Estimate", "Risks", "RowsView", "json_number", "mean_se", "estimate"]


def json_number(x: float):
    """``float(x)``, or ``None`` where ``x`` is infinite or NaN (JSON has no such numbers)."""
    return float(x) if math.isfinite(x) else None


class Estimate(NamedTuple):
    """A risk and its standard error: ``se = 0.0`` for a closed form, else the sampling SE.

    A named pair, so ``mean, se = estimate`` unpacks it.
    """

    mean: float
    se: float = 0.0

    def __float__(self) -> float:
        return float(self.mean)

    def to_dict(self) -> dict:
        return {"mean": json_number(self.mean), "se": json_number(self.se)}


def mean_se(values, axis: int = 0):
    """Mean and standard error ``sd/√k`` of ``k`` samples along ``axis`` (NaN SE for one)."""
    values = np.asarray(values, dtype=float)
    k = values.shape[axis]
    mean = values.mean(axis=axis)
    se = values.std(axis=axis, ddof=1) / math.sqrt(k) if k > 1 else np.full_like(mean, np.nan)
    return mean, se


def estimate(samples) -> Estimate:
    """The :class:`Estimate` of a 1-D sample; infinite (se 0) if any sample is not finite."""
    samples = np.asarray(samples, dtype=float)
    if not np.all(np.isfinite(samples)):
        return Estimate(math.inf, 0.0)
    mean, se = mean_se(samples)
    return Estimate(float(mean), float(se))


class Risks(Mapping):
    """Quantity name → :class:`Estimate`, read-only, with attribute access (``risks.hessian``)."""

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[str, Estimate]):
        object.__setattr__(self, "_items", dict(items))

    def __getitem__(self, name: str) -> Estimate:
        return self._items[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __getattr__(self, name: str) -> Estimate:
        try:
            return self._items[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name, value):
        raise AttributeError("Risks is read-only")

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v.mean:.6g}" + (f"±{v.se:.2g}" if v.se else "") for k, v in self._items.items())
        return f"Risks({inner})"

    def __eq__(self, other) -> bool:
        return isinstance(other, Risks) and self._items == other._items

    __hash__ = None

    @property
    def exact(self) -> bool:
        """Whether every risk is a closed form (all standard errors 0)."""
        return all(e.se == 0 for e in self._items.values())

    def to_dict(self) -> dict:
        """JSON-ready means (``None`` for infinite values)."""
        return {k: json_number(v.mean) for k, v in self._items.items()}

    def se_dict(self) -> dict:
        """JSON-ready standard errors."""
        return {k: json_number(v.se) for k, v in self._items.items()}


class RowsView:
    """Column views of a multi-model result whose ``rows`` have ``width``, ``p``, ``risk``."""

    rows: tuple

    @property
    def widths(self) -> np.ndarray:
        """Model widths ``p/n``."""
        return np.array([r.width for r in self.rows])

    @property
    def counts(self) -> np.ndarray:
        """Model sizes ``p``."""
        return np.array([r.p for r in self.rows])

    @property
    def names(self) -> tuple[str, ...]:
        """The quantities the rows carry, in output order."""
        return tuple(self.rows[0].risk) if self.rows else ()

    def mean(self, name: str) -> np.ndarray:
        """Risk ``name`` across the models."""
        return np.array([r.risk[name].mean for r in self.rows])

    def se(self, name: str) -> np.ndarray:
        """The standard error of risk ``name`` across the models (0 for closed forms)."""
        return np.array([r.risk[name].se for r in self.rows])

    def to_frame(self):
        """A pandas DataFrame: ``width``, ``p``, then ``NAME`` and ``NAME_se`` per quantity.

        Needs pandas (``pip install "dcprune[data]"``).
        """
        try:
            import pandas as pd
        except ImportError:  # tests/test_frames.py hides pandas to check the message
            raise ImportError('to_frame() needs pandas: pip install "dcprune[data]"') from None
        columns = {"width": self.widths, "p": self.counts}
        for name in self.names:
            columns[name] = self.mean(name)
            columns[f"{name}_se"] = self.se(name)
        return pd.DataFrame(columns)
