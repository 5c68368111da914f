"""Problem definitions: diagonal linear Gaussian problems and the latent spectra they come from.

A *latent problem* (docs/theory.rst §5) is a law of ``(Λ, B)`` over ``d`` coordinates sorted by
saliency ``λ β²`` (largest first), with ``β = B / sqrt(d)`` so that the signal energy
``βᵀΣβ = E[Λ B²]`` does not depend on ``d``. A model of width ``p`` uses the first ``p``
coordinates; the rest act as noise. Every spectrum answers one question,
:meth:`Spectrum.layout`: for a batch of widths, the atoms ``(λ_a, β_a, m_a)`` of each model,
the part of each atom the oracle keeps, and the omitted energy. Discrete spectra split their
atoms exactly at the width and oracle boundaries; the asymptotic power law uses Gauss–Jacobi
quadrature panels that start at those boundaries.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..checks import bounded_number, finite_number, require, shown

__all__ = [
    "DiagonalProblem",
    "Layout",
    "Spectrum",
    "AtomSpectrum",
    "SpikedCovariance",
    "SpikedIdentity",
    "Isotropic",
    "ArraySpectrum",
    "load_spectrum",
    "MAX_SCALE",
    "check_layout_size",
    "overlap",
    "normalize_signal",
    "group_atoms",
]

# Largest float64 array a layout may allocate: beyond this the caller asked for more than a
# diagonal prediction ever needs, and a clear refusal beats the machine swapping.
MAX_LAYOUT_ELEMENTS = 50_000_000


def group_atoms(lam, beta, mult=None):
    """Group equal ``(λ, β)`` pairs into atoms with multiplicities, sorted by saliency.

    Sort order: saliency ``λβ²`` descending, ties by ``λ`` descending, then ``|β|``. Returns
    ``(lam, beta, mult)`` arrays. The sign of ``β`` is kept (pruning only sees ``|β̂|``,
    but the sign is part of the problem).
    """
    lam = np.asarray(lam, dtype=float).ravel()
    beta = np.asarray(beta, dtype=float).ravel()
    mult = np.ones_like(lam) if mult is None else np.asarray(mult, dtype=float).ravel()
    saliency = lam * beta**2
    order = np.argsort(-saliency, kind="stable")
    if np.any(np.diff(saliency[order]) == 0):  # ties: resolve them by λ, then β
        order = np.lexsort((-np.abs(beta), beta, -lam, -saliency))
    lam, beta, mult = lam[order], beta[order], mult[order]
    first = np.r_[True, (lam[1:] != lam[:-1]) | (beta[1:] != beta[:-1])]
    starts = np.flatnonzero(first)
    return lam[starts], beta[starts], np.add.reduceat(mult, starts)


def _validate_spectrum_arrays(lam, beta, source: str):
    for name, values in (("lambda", lam), ("beta", beta)):
        if np.iscomplexobj(values):
            raise ValueError(f"{source}: {name} must be real numbers, got a complex array")
    lam = np.asarray(lam, dtype=float)
    beta = np.asarray(beta, dtype=float)
    if lam.ndim != 1 or beta.ndim != 1 or lam.shape != beta.shape:
        raise ValueError(
            f"{source}: lambda and beta must be 1-D arrays of equal length, "
            f"got shapes {lam.shape} and {beta.shape}"
        )
    if lam.size == 0:
        raise ValueError(f"{source}: the spectrum is empty")
    if not np.all(np.isfinite(lam)):
        raise ValueError(f"{source}: lambda has NaN or infinite entries")
    if not np.all(np.isfinite(beta)):
        raise ValueError(f"{source}: beta has NaN or infinite entries")
    if np.any(lam <= 0):
        bad = float(lam[lam <= 0][0])
        raise ValueError(
            f"{source}: lambda must be > 0 (a covariance eigenvalue; zero-variance features "
            f"carry nothing), got lambda={shown(bad)}"
        )
    _check_range(lam, beta, source)
    return lam, beta


# Spectra stay inside 1e±250 so that the squares and sums of the DC (sd² ∝ 1/λ, λβ²,
# the signal energy) are finite in double precision; the risks scale with the signal, so a
# problem outside can be rescaled without losing anything.
MAX_SCALE = 1e250


# Spike values the two-atom saliency sums resolve: beyond 1e12 the bulk's share of the
# threshold counts falls below double precision and magnitude pruning drifts (1e50 gave 0.23
# for 1.17); risks are continuous down to 0, so a smaller spike changes nothing visible.
SPIKE_RANGE = (1e-12, 1e12)
_SPIKE_WHY = "spike and bulk beyond 12 decades apart are not resolved in double precision"
# Signal energies whose squares and sums (risks scale with the signal) stay finite.
SIGNAL_RANGE = (1e-200, 1e200)


def check_signal(value) -> float:
    """The signal energy ``βᵀΣβ`` as a float in :data:`SIGNAL_RANGE`."""
    return bounded_number("signal", value, *SIGNAL_RANGE,
                          "the risk's squares overflow double precision beyond it; rescale the labels")


def _check_range(lam, beta, source):
    with np.errstate(over="ignore"):
        energy = lam * np.square(beta)
        total = float(np.sum(energy))
    rescale = "; rescale the features or the labels (risks scale with the signal energy)"
    if lam.max() > MAX_SCALE or lam.min() < 1.0 / MAX_SCALE:
        bad = float(lam.max() if lam.max() > MAX_SCALE else lam.min())
        raise ValueError(f"{source}: lambda={shown(bad)} is outside [1e-250, 1e250], where the risk's "
                         f"squares overflow double precision" + rescale)
    if not np.all(np.abs(beta) <= math.sqrt(MAX_SCALE)) or not total <= MAX_SCALE:
        raise ValueError(f"{source}: the signal energy sum lambda*beta^2 (or a beta^2) exceeds 1e250, "
                         f"where the risk overflows double precision" + rescale)


@dataclass(frozen=True)
class DiagonalProblem:
    """A diagonal linear Gaussian problem: ``x ~ N(0, diag λ)``, ``y = xᵀβ + σ z``.

    Coordinates with equal ``(λ, β)`` share one atom with multiplicity ``mult`` (real
    multiplicities describe the asymptotic law). Atoms are sorted by saliency ``λβ²``.
    Build one from per-coordinate arrays with :meth:`from_arrays`.
    """

    lam: np.ndarray
    beta: np.ndarray
    mult: np.ndarray
    sigma2: float

    def __post_init__(self):
        lam, beta = _validate_spectrum_arrays(self.lam, self.beta, "DiagonalProblem")
        mult = np.asarray(self.mult, dtype=float)
        if mult.shape != lam.shape or not np.all(np.isfinite(mult)) or np.any(mult < 0):
            raise ValueError("DiagonalProblem: mult must be finite, >= 0 and match lam in shape")
        object.__setattr__(self, "lam", lam)
        object.__setattr__(self, "beta", beta)
        object.__setattr__(self, "mult", mult)
        object.__setattr__(self, "sigma2", finite_number("sigma2", self.sigma2, nonnegative=True))

    @classmethod
    def from_arrays(cls, lam, beta, sigma2: float) -> DiagonalProblem:
        lam, beta = _validate_spectrum_arrays(lam, beta, "DiagonalProblem")
        return cls(*group_atoms(lam, beta), sigma2=sigma2)

    @property
    def p(self) -> float:
        return float(self.mult.sum())

    @property
    def signal(self) -> float:
        return float(np.sum(self.mult * self.lam * self.beta**2))


@dataclass(frozen=True)
class Layout:
    """Batched models of a width sweep: arrays ``(widths, atoms)`` and ``(widths,)``.

    ``mult`` is each atom's multiplicity inside the model, ``oracle_mult`` the part the
    oracle keeps (the top ``s`` latent coordinates), ``tail`` the energy ``Σ_{j>p} λ_j β_j²``
    of the omitted coordinates, and ``tail_s`` the energy beyond the oracle's ``s``.
    """

    lam: np.ndarray
    beta: np.ndarray
    mult: np.ndarray
    oracle_mult: np.ndarray
    tail: np.ndarray
    tail_s: float


class Spectrum:
    """A latent law of ``(Λ, B)``; subclasses implement :meth:`layout`."""

    name: str = "spectrum"

    def params(self) -> dict:
        raise NotImplementedError

    def describe(self) -> dict:
        return {"name": self.name, **self.params()}

    def layout(self, d: float, widths: np.ndarray, s: float, finite: bool) -> Layout:
        """Atoms of the models of width ``widths`` (coordinate counts) in dimension ``d``.

        ``finite`` asks for the exact finite-``d`` problem (integer ``d``, ``widths``,
        ``s``); otherwise the asymptotic law at scale ``d`` (real counts).
        """
        raise NotImplementedError

    def tail(self, d: float, widths: np.ndarray, finite: bool) -> np.ndarray:
        """Energy ``Σ_{j>p} λ_j β_j²`` of the coordinates a width-``p`` model omits."""
        raise NotImplementedError

    def breakpoints(self, d: float, finite: bool):
        """Widths where the tail energy has kinks (atom edges), or ``None`` if it is smooth."""
        return None

    def warnings(self, finite: bool) -> list[str]:
        """Caveats about the accuracy of this spectrum's predictions."""
        return []

    def coordinates(self, d: int) -> tuple[np.ndarray, np.ndarray]:
        """Per-coordinate ``(λ_j, β_j)`` of the finite problem of dimension ``d``, by saliency."""
        lay = self.layout(d, np.array([float(d)]), float(d), True)
        counts = np.round(lay.mult[0]).astype(np.int64)
        return np.repeat(lay.lam[0], counts), np.repeat(lay.beta[0], counts)

    def check_finite_size(self, d: int) -> None:
        """Raise ``ValueError`` if the spectrum cannot be laid out at finite dimension ``d``."""

    def atom_count(self, d: float, finite: bool) -> int:
        """Atoms of one model's layout (the cost unit of a prediction), without building it."""
        return int(self.layout(d, np.array([float(d)]), float(d), finite).lam.shape[-1])


def overlap(start, stop, lo, hi):
    """Length of ``[start, stop) ∩ [lo, hi)`` with broadcasting."""
    return np.clip(np.minimum(stop, hi) - np.maximum(start, lo), 0.0, None)


class AtomSpectrum(Spectrum):
    """A spectrum made of finitely many atoms ``(λ_a, B_a)`` with coordinate fractions ``w_a``.

    At finite ``d`` the counts come from :meth:`counts`; the oracle and width boundaries
    split atoms exactly (an atom is homogeneous, so a partial atom is exact).
    """

    def atoms(self, d: float, finite: bool):
        """Return ``(lam, B, counts)`` sorted by saliency, with counts summing to ``d``."""
        raise NotImplementedError

    def layout(self, d, widths, s, finite):
        lam, big_b, counts = self.atoms(d, finite)
        _check_saliency_order(lam, big_b, type(self).__name__)
        widths = np.asarray(widths, dtype=float).reshape(-1, 1)
        check_layout_size(widths.shape[0] * lam.size)
        stop = np.cumsum(counts)
        start = stop - counts
        beta = big_b / math.sqrt(d)
        mult = overlap(start, stop, 0.0, widths)
        oracle_mult = overlap(start, stop, 0.0, np.minimum(widths, s))
        tail = self.tail(d, widths[:, 0], finite)
        tail_s = float(self.tail(d, np.array([s]), finite)[0])
        lam_b = np.broadcast_to(lam, mult.shape)
        beta_b = np.broadcast_to(beta, mult.shape)
        return Layout(lam_b, beta_b, mult, oracle_mult, tail, tail_s)

    def tail(self, d, widths, finite):
        # The kept energy is linear in p inside an atom, so interpolating the cumulative
        # energy at atom boundaries is exact.
        # The omitted energy is summed from the end (not total − kept): a full-width model
        # omits exactly 0, whatever the signal's scale, and a noiseless fit stays exact.
        lam, big_b, counts = self.atoms(d, finite)
        energy = counts * lam * big_b**2 / d
        bounds = np.concatenate([[0.0], np.cumsum(counts)])
        beyond = np.concatenate([np.cumsum(energy[::-1])[::-1], [0.0]])
        return np.interp(np.asarray(widths, dtype=float), bounds, beyond)

    def atom_count(self, d, finite):
        return int(self.atoms(d, finite)[0].size)

    def breakpoints(self, d, finite):
        """Widths (coordinate counts) where atoms begin and end."""
        return np.concatenate([[0.0], np.cumsum(self.atoms(d, finite)[2])])


def _check_saliency_order(lam, big_b, what: str) -> None:
    # Every width, oracle and tail computation assumes the atoms come most salient first;
    # a spectrum that breaks the order would give wrong numbers silently.
    saliency = lam * np.square(big_b)
    if np.any(np.diff(saliency) > 1e-12 * saliency[:-1]):
        raise RuntimeError(f"{what}: atoms are not sorted by saliency (a dcprune bug)")


def check_layout_size(elements: int) -> None:
    if elements > MAX_LAYOUT_ELEMENTS:
        raise ValueError(
            f"the problem needs {elements:,} atom evaluations at once "
            f"(over {MAX_LAYOUT_ELEMENTS:,}, about {8 * MAX_LAYOUT_ELEMENTS / 2**30:.1f} GiB "
            f"per array); use fewer distinct atoms, a smaller --n, or fewer --points"
        )


def _spike_atoms(spike_fraction, d, finite):
    if finite:
        k = int(round(spike_fraction * d))
        return np.array([k, d - k], dtype=float)
    return np.array([spike_fraction * d, (1.0 - spike_fraction) * d])


def normalize_signal(lam, big_b, counts, d, signal):
    energy = float(np.sum(counts * lam * big_b**2)) / d
    return big_b * math.sqrt(signal / energy)


@dataclass(frozen=True)
class _Spiked(AtomSpectrum):
    spike_fraction: float = 0.1
    spike: float = 10.0
    signal: float = 1.0

    def __post_init__(self):
        f = finite_number("spike_fraction", self.spike_fraction)
        require(0 < f < 1, "spike_fraction", "must be in (0, 1)", self.spike_fraction)
        object.__setattr__(self, "spike_fraction", f)
        object.__setattr__(self, "spike", bounded_number("spike", self.spike, *SPIKE_RANGE, _SPIKE_WHY))
        object.__setattr__(self, "signal", check_signal(self.signal))

    def params(self):
        return {"spike_fraction": self.spike_fraction, "spike": self.spike, "signal": self.signal}

    def _lam_b(self):
        raise NotImplementedError

    def atoms(self, d, finite):
        counts = _spike_atoms(self.spike_fraction, d, finite)
        lam, big_b = self._lam_b()
        keep = counts > 0  # a finite d may round the spike away
        lam, big_b, counts = lam[keep], big_b[keep], counts[keep]
        # Models take the most salient coordinates first: a spike below 1 is the *least*
        # salient atom, so it goes last (stable: at spike = 1 the order is unchanged).
        order = np.argsort(-(lam * big_b**2), kind="stable")
        lam, big_b, counts = lam[order], big_b[order], counts[order]
        return lam, normalize_signal(lam, big_b, counts, d, self.signal), counts


class SpikedCovariance(_Spiked):
    """``Σ = diag(c)``, ``β ∝ 1``; ``c`` is ``spike`` on the first ``spike_fraction``, else 1 (§5)."""

    name = "spiked-covariance"

    def _lam_b(self):
        return np.array([self.spike, 1.0]), np.array([1.0, 1.0])


class SpikedIdentity(_Spiked):
    """``Σ = I``, ``β ∝ sqrt(c)``; same saliencies as :class:`SpikedCovariance` (§5)."""

    name = "spiked-identity"

    def _lam_b(self):
        return np.array([1.0, 1.0]), np.array([math.sqrt(self.spike), 1.0])


@dataclass(frozen=True)
class Isotropic(AtomSpectrum):
    """``Σ = I``, ``β ∝ 1`` with ``‖β‖² = signal``."""

    signal: float = 1.0
    name = "isotropic"

    def __post_init__(self):
        object.__setattr__(self, "signal", check_signal(self.signal))

    def params(self):
        return {"signal": self.signal}

    def atoms(self, d, finite):
        return np.array([1.0]), np.array([math.sqrt(self.signal)]), np.array([float(d)])


@dataclass(frozen=True)
class ArraySpectrum(AtomSpectrum):
    """A user spectrum: per-coordinate ``(λ_j, β_j)`` for ``j = 1..rows``, grouped into atoms.

    ``β`` is taken as given (its signal energy ``Σ λ_j β_j²`` is kept) unless ``signal`` is
    set. Asymptotically the rows are the law of ``(Λ, B)``; at finite size ``d`` must be a
    whole multiple of the number of rows (each row is then repeated ``d / rows`` times).
    """

    lam: np.ndarray = field(repr=False, default=None)
    beta: np.ndarray = field(repr=False, default=None)
    signal: float | None = None
    source: str = "arrays"
    name = "spectrum"

    def __post_init__(self):
        lam, beta = _validate_spectrum_arrays(self.lam, self.beta, self.source)
        rows = lam.size
        if self.signal is not None:
            signal = check_signal(self.signal)
            energy = float(np.sum(lam * beta**2))
            if energy <= 0:
                raise ValueError(f"{self.source}: beta is zero, cannot rescale it to signal={signal}")
            beta = beta * math.sqrt(signal / energy)
        lam_a, beta_a, counts = group_atoms(lam, beta)
        object.__setattr__(self, "lam", lam_a)
        # Stored in the normalized scale B = sqrt(rows)·β of the module docstring.
        object.__setattr__(self, "beta", beta_a * math.sqrt(rows))
        object.__setattr__(self, "_counts", counts)
        object.__setattr__(self, "_rows", rows)

    @property
    def rows(self) -> int:
        return self._rows

    def params(self):
        return {
            "source": self.source,
            "rows": self._rows,
            "atoms": int(self.lam.size),
            "signal": float(np.sum(self._counts * self.lam * self.beta**2) / self._rows),
        }

    def check_finite_size(self, d):
        if d % self._rows:
            raise ValueError(
                f"{self.source} has {self._rows} rows, but kappa*n = {d} coordinates is not a "
                f"multiple of it; choose --n so that kappa*n is {self._rows} (or a multiple)"
            )

    def atoms(self, d, finite):
        if finite:
            self.check_finite_size(int(d))
        return self.lam, self.beta, self._counts * (d / self._rows)


# The file reader lives beside (spectrumfile.py); imported here, where it always was.
from .spectrumfile import load_spectrum  # noqa: E402
