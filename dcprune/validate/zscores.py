"""Theory against Monte Carlo across the parameter space, as z-scores.

For every configuration of a grid (problem, width, sparsity, noise, ridge, sample size) the
theory's prediction and a Monte Carlo run of the real regressions give
``z = (MC mean − theory) / SE`` per quantity. Quantities the theory claims (dense, pruned,
fresh retraining, distillation) fail the run when ``|z|`` exceeds a threshold; the heuristic
prediction of magnitude pruning's same-data retraining (docs/theory.rst §14) is claimed with its
stated allowance, :func:`dcprune.samedata.allowance` (it fails when ``|MC − theory|`` exceeds
``threshold·SE + allowance·theory``); Hessian and oracle same-data retraining are reported only,
beside fresh retraining's prediction (§4). A finite-size bias would show up as ``|z|`` growing
with the number of trials and shrinking with ``n``; the report tabulates mean ``z`` by ``n`` so
such a trend is seen, not hidden by a tolerance.
"""

from __future__ import annotations

import itertools
import math
import random
from dataclasses import asdict, dataclass, replace

import numpy as np

from ..checks import ParameterError, whole_number
from ..families import Diagonal, standard_problem
from ..predict import predict
from ..quantities import PREDICTED, QUANTITIES, SAME_DATA
from ..samedata import allowance

__all__ = ["CLAIMED", "REPORTED", "Config", "Check", "grid", "run_config", "compare", "validate", "report_markdown",
           "write_outputs"]

#: Quantities the theory claims: a |z| beyond the threshold (plus the heuristic's allowance)
#: fails the run.
CLAIMED = PREDICTED
#: Reported only: same-data retraining the theory does not predict, compared with the
#: fresh-retraining prediction.
REPORTED = tuple(name for name in SAME_DATA if name not in PREDICTED)
_SAME_DATA_REASON = ("same-data retraining is measured beside a prediction the theory does not claim "
                     "(docs/theory.rst §14)")


@dataclass(frozen=True)
class Config:
    problem: str
    kappa: float
    width: float
    alpha: float
    sigma2: float
    ridge: float
    n: int
    #: A quantized configuration (docs/theory.rst §11) also names its coefficients and quantizer.
    coefficients: str = "fixed"
    bits: int | None = None
    quantizer: str | None = None
    clip: str | float | None = None
    rounding: str | None = None
    #: Distillation's unlabelled inputs ``M`` (docs/theory.rst §12; ``inf``: the population projection).
    unlabelled: float = math.inf

    def setup(self) -> Diagonal:
        return Diagonal(standard_problem(self.problem), kappa=self.kappa, alpha=self.alpha,
                        sigma2=self.sigma2, n=self.n, ridge=self.ridge, coefficients=self.coefficients,
                        unlabelled=self.unlabelled)

    def quantization(self):
        """The :class:`~dcprune.Quantization` of a quantized configuration, else ``None``
        (a ``"fixed"`` clip needs its number first: :func:`dcprune.validate.quantized.fixed_clip`)."""
        if self.bits is None:
            return None
        if self.clip == "fixed":
            raise ValueError("the fixed clip has no number yet: dcprune.validate.quantized.fixed_clip gives it one")
        from ..quantization.spec import Quantization

        return Quantization(self.bits, self.quantizer, self.clip, self.rounding)

    def label(self) -> str:
        text = (f"{self.problem} κ={self.kappa:g} W={self.width:g} α={self.alpha:g} "
                f"σ²={self.sigma2:g} ridge={self.ridge:g} n={self.n}")
        if math.isfinite(self.unlabelled):
            text += f" M={self.unlabelled:g}"
        if self.bits is not None:
            clip = self.clip if isinstance(self.clip, str) else f"clip {self.clip:g}"
            text += f" β {self.coefficients}, {self.bits}-bit {self.quantizer} {clip} {self.rounding}"
        return text


@dataclass(frozen=True)
class Check:
    """One quantity of one configuration: theory, Monte Carlo mean ± SE, and ``z``.

    ``allowance`` is the relative error a heuristic prediction is stated to have (0 for the
    exact theory): a claimed check fails when ``|mean − theory| > threshold·se +
    allowance·|theory|`` (:meth:`fails`).
    """

    config: Config
    quantity: str
    claimed: bool
    theory: float
    mean: float
    se: float
    flagged: int
    converged: bool
    #: Why a check is reported only ("" when claimed).
    reason: str = ""
    #: The relative error a claimed check may have beyond ``threshold·se`` (0 for the exact
    #: theory; stated and justified where it is set: :func:`dcprune.samedata.allowance`,
    #: :func:`dcprune.validate.claims.quantized_allowance`).
    allowance: float = 0.0

    @property
    def z(self) -> float:
        if not math.isfinite(self.theory) or not self.se > 0:
            return math.nan
        return (self.mean - self.theory) / self.se

    def fails(self, threshold: float) -> bool:
        """Whether a claimed, scored check lies beyond ``threshold`` SE plus its allowance."""
        if not (self.claimed and math.isfinite(self.z)):
            return False
        return abs(self.mean - self.theory) > threshold * self.se + self.allowance * abs(self.theory)

    def to_dict(self) -> dict:
        return {**asdict(self.config), "quantity": self.quantity, "claimed": self.claimed,
                "theory": self.theory, "mean": self.mean, "se": self.se, "z": self.z,
                "flagged": self.flagged, "converged": self.converged, "reason": self.reason,
                "allowance": self.allowance}


# The largest n whose configurations also distil on finite M (the students' least squares grow like M s²).
_FINITE_M_UP_TO = 200
# Widths relative to the interpolation peak p = n, on both sides, plus the full width κ.
_WIDTHS = (0.5, 0.8, 0.9, 1.1, 1.25, 2.0)


def grid(quick: bool = False, size: int = 160, seed: int = 0) -> list[Config]:
    """The validation grid.

    Full: a seeded random sample of ``size`` distinct configurations from the product of
    every standard problem, κ ∈ {1.5, 3}, widths ``_WIDTHS`` (both sides of the peak) and the
    full width, α from 0.05 to 0.9, σ² ∈ {0, 0.1, 1}, ridge on and off (at finite ``n``, the
    finite-size ridge of docs/theory.rst §13), n ∈ {100, 200, 400, 800}, and distillation's
    ``M ∈ {∞, n, 4n}`` drawn per sampled configuration (§12; finite ``M`` for ``n <= 200`` only: a
    student on ``4n = 3200`` inputs and up to 2160 features costs seconds per trial). Quick: a
    fixed eight covering each factor at least once, small n.
    """
    problems = ("spiked-covariance", "spiked-identity", "isotropic", "power-law")
    size = whole_number("size", size, 1)
    if quick:
        rows = [
            ("spiked-covariance", 2.0, 2.0, 0.3, 0.1, 0.0, 100, 100),
            ("spiked-identity", 2.0, 1.25, 0.2, 0.1, 0.0, 100),
            ("spiked-covariance", 2.0, 0.8, 0.5, 1.0, 0.0, 100),
            ("isotropic", 3.0, 3.0, 0.1, 0.0, 0.0, 100),
            ("power-law", 2.0, 2.0, 0.3, 0.1, 0.0, 100),
            ("spiked-identity", 1.5, 0.5, 0.9, 0.1, 0.0, 120),
            ("spiked-covariance", 2.0, 2.0, 0.05, 0.1, 0.1, 100, 400),
            ("power-law", 1.5, 1.1, 0.3, 1.0, 0.0, 100),
        ]
        return [Config(*r[:7], unlabelled=r[7]) if len(r) > 7 else Config(*r) for r in rows]
    # Widths beyond κ mean the full width, so the product has repeats: drop them before sampling.
    space = list(dict.fromkeys(
        Config(problem, kappa, kappa if width is None or width > kappa else width, alpha, sigma2, ridge, n)
        for problem, kappa, width, alpha, sigma2, ridge, n in itertools.product(
            problems, (1.5, 3.0), _WIDTHS + (None,), (0.05, 0.2, 0.5, 0.9), (0.0, 0.1, 1.0), (0.0, 0.1),
            (100, 200, 400, 800))))
    if size > len(space):
        raise ParameterError("size", f"must be at most {len(space):,} (the grid's distinct configurations; "
                             f"about {len(space) * 2:,} s of Monte Carlo at the default trials)", size)
    rng = random.Random(seed)
    configs = rng.sample(space, size)
    # Distillation's M, drawn per configuration after the sample (which stays the same as without it).
    return [replace(c, unlabelled=rng.choice((math.inf, 1, 4)) * c.n) if c.n <= _FINITE_M_UP_TO else c
            for c in configs]


def run_config(config: Config, trials: int, seed: int) -> list[Check]:
    """Theory and Monte Carlo of one configuration, one :class:`Check` per quantity."""
    from ..montecarlo import simulate

    if config.bits is not None:
        from .quantized import fixed_clip

        config = fixed_clip(config)  # a fixed clip's number comes from the theory of its model
    setup = config.setup()
    quantization = config.quantization()
    theory = predict(setup, config.width, quantization=quantization)
    row = simulate(setup, width=config.width, trials=trials, seed=seed, quantization=quantization).rows[0]
    if quantization is not None:  # a quantized configuration checks its quantized models (§11)
        from .quantized import compare_quantized

        return compare_quantized(config, theory, row)
    return compare(config, theory, row)


def compare(config, theory, row) -> list[Check]:
    """One :class:`Check` per quantity of :data:`CLAIMED` and :data:`REPORTED`.

    ``theory`` is a :class:`~dcprune.Prediction`, ``row`` a Monte Carlo row of the same model
    (:class:`~dcprune.montecarlo.simulate.SimulationRow`); same-data retraining is compared with
    its own prediction where the family has one (a heuristic one, §14, with its allowance;
    NaN where it is not predicted, which leaves it unscored), else with fresh retraining's. The standard
    error is the Monte Carlo's and, for a sampled theory, the theory's combined,
    ``se = sqrt(se_MC² + se_theory²)``, so that ``z = (MC mean − theory) / se`` is standard
    normal when the theory is right.
    """
    checks = []
    for name in CLAIMED + REPORTED:
        # a family whose theory covers same-data retraining (rank-one, §8) is compared with it
        t = theory.risk[name] if name in theory.risk else theory.risk[name.removesuffix("_same")]
        est = row.risk[name]
        se = math.hypot(est.se, t.se) if math.isfinite(t.se) else est.se
        claimed = name in CLAIMED
        # Diagonal same-data retraining is the heuristic of §14; rank-one's (§8) is exact.
        heuristic = QUANTITIES[name].heuristic and isinstance(theory.problem, Diagonal)
        checks.append(Check(config, name, claimed, t.mean, est.mean, se, row.flagged, theory.converged,
                            reason="" if claimed else _SAME_DATA_REASON,
                            allowance=allowance(theory.problem.n) if heuristic else 0.0))
    return checks


def validate(configs, trials: int = 100, seed: int = 0, progress=None) -> list[Check]:
    """The checks of every configuration, configuration ``i`` run with seed ``seed + i``;
    ``progress(1)`` after each. Under a cluster executor
    (:func:`dcprune.montecarlo.cluster.connect`) each configuration is one task (its theory and
    trials run on a worker), with the same numbers."""
    from ..montecarlo.batches import current_executor

    jobs = [(config, trials, seed + i) for i, config in enumerate(configs)]
    executor = current_executor()
    if executor is not None:
        return [check for checks in executor.map(run_config, jobs, progress) for check in checks]
    checks = []
    for job in jobs:
        checks.extend(run_config(*job))
        if progress is not None:
            progress(1)
    return checks


def report_markdown(checks: list[Check], threshold: float, trials: int) -> str:
    """A Markdown report: summary, the trend of z with n, z by quantity, the quantized models
    (claimed and reported-only, with the reasons), worst cases and failures."""
    from .quantized import QUANTIZED

    claimed = [c for c in checks if c.claimed and math.isfinite(c.z)]
    zs = np.array([c.z for c in claimed])
    configs = {c.config for c in checks}
    bad = [c for c in claimed if c.fails(threshold)]
    kinds = ", ".join(k for k, names in (("dense, pruned, fresh retraining, distillation, finite-size ridge; "
                                          "magnitude same-data retraining with the allowance of "
                                          "docs/theory.rst §14", CLAIMED),
                                         ("quantized dense and prune-then-quantize", QUANTIZED))
                      if any(c.quantity in names for c in claimed))
    lines = [
        "# dcprune validation: theory vs Monte Carlo",
        "",
        f"{len(configs)} configurations × {trials} trials; {len(claimed)} claimed checks "
        f"({kinds or 'none'}); threshold |z| ≤ {threshold:g}.",
        "",
        f"- |z| > {threshold:g}: **{len(bad)}**" + ("" if not any(c.allowance for c in claimed) else
                                                     " (beyond the stated allowances)"),
    ]
    if zs.size:
        lines += [f"- mean z {zs.mean():+.3f}, sd of z {zs.std():.3f} (1 if the theory is exact and SEs honest)",
                  f"- largest |z|: {np.abs(zs).max():.2f}"]
    lines += ["", "## Mean z by n (a finite-size bias shows as a trend)", "",
              "| n | checks | mean z | sd z | max abs z |", "|---|---|---|---|---|"]
    for n in sorted({c.config.n for c in claimed}):
        sub = np.array([c.z for c in claimed if c.config.n == n])
        lines.append(f"| {n} | {sub.size} | {sub.mean():+.3f} | {sub.std():.3f} | {np.abs(sub).max():.2f} |")
    lines += ["", "## Mean z by quantity", "", "| quantity | mean z | sd z | max abs z |", "|---|---|---|---|"]
    for name in CLAIMED + REPORTED + QUANTIZED:
        sub = np.array([c.z for c in checks if c.quantity == name and c.claimed == (name not in REPORTED)
                        and math.isfinite(c.z)])
        if sub.size:
            lines.append(f"| {name} | {sub.mean():+.3f} | {sub.std():.3f} | {np.abs(sub).max():.2f} |")
    lines += ["", "## By claim (docs/theory.rst §12–14)", "",
              "| claim | checks | mean z | max abs z | allowance | beyond threshold·SE + allowance |",
              "|---|---|---|---|---|---|"]
    for label, keep in _CLAIMS:
        sub = [c for c in claimed if keep(c)]
        if sub:
            z = np.array([c.z for c in sub])
            allow = sorted({f"{100 * c.allowance:g}%" for c in sub})
            lines.append(f"| {label} | {z.size} | {z.mean():+.3f} | {np.abs(z).max():.2f} | {', '.join(allow)} | "
                         f"{sum(c.fails(threshold) for c in sub)} |")
    lines += _quantized_section([c for c in checks if c.quantity in QUANTIZED], threshold)
    lines += ["", "## Worst claimed checks", "", "| configuration | quantity | theory | MC mean ± SE | z |",
              "|---|---|---|---|---|"]
    for c in sorted(claimed, key=lambda c: -abs(c.z))[:15]:
        lines.append(f"| {c.config.label()} | {c.quantity} | {c.theory:.4f} | {c.mean:.4f} ± {c.se:.4f} | {c.z:+.2f} |")
    trouble = sorted({(c.config.label(), c.flagged, c.converged) for c in checks if c.flagged or not c.converged})
    lines += ["", "## Convergence and conditioning", ""]
    if trouble:
        lines += [f"- {label}: {flagged} ill-conditioned trials, solver converged: {conv}"
                  for label, flagged, conv in trouble]
    else:
        lines.append("- none: every solve converged and no fit was ill-conditioned")
    infinite = sorted({c.config.label() for c in checks if c.claimed and math.isinf(c.theory)})
    if infinite:
        lines += ["", "## Infinite predictions (not scored)", ""] + [f"- {x}" for x in infinite]
    missing = sorted({f"{c.config.label()}: {c.quantity}" for c in checks if c.claimed and math.isnan(c.theory)})
    if missing:
        lines += ["", "## Not predicted or undefined there (NaN, not scored: docs/theory.rst §14, §11)", ""]
        lines += [f"- {x}" for x in missing]
    return "\n".join(lines) + "\n"


def _quantized_section(checks: list[Check], threshold: float) -> list[str]:
    """The quantized models' summary: claimed by clip rule, and every reported-only check."""
    if not checks:
        return []
    claimed = [c for c in checks if c.claimed and math.isfinite(c.z)]
    reported = [c for c in checks if not c.claimed]
    zs = np.array([c.z for c in claimed])
    lines = ["", "## Quantized models (docs/theory.rst §11)", "",
             f"{len(claimed)} claimed checks, {len(reported)} reported only"
             + ("" if not zs.size else f"; claimed: rms z {math.sqrt(np.mean(zs ** 2)):.3f}, largest |z| "
                f"{np.abs(zs).max():.2f}, {sum(c.fails(threshold) for c in claimed)} beyond {threshold:g} SE "
                f"plus allowance ({sum(c.allowance > 0 for c in claimed)} checks have one)") + ".",
             "", "| clip rule | claimed checks | rms z | max abs z |", "|---|---|---|---|"]
    for rule in ("mse", "optimal", "absmax", "fixed"):
        sub = np.array([c.z for c in claimed if c.config.quantization().clip_rule == rule])
        if sub.size:
            lines.append(f"| {rule} | {sub.size} | {math.sqrt(np.mean(sub ** 2)):.3f} | {np.abs(sub).max():.2f} |")
    if reported:
        lines += ["", "Reported only, and why:", "",
                  "| configuration | quantity | theory | MC mean ± SE | z | MC/theory − 1 | reason |",
                  "|---|---|---|---|---|---|---|"]
        for c in reported:
            gap = f"{100 * (c.mean / c.theory - 1):+.2f}%" if math.isfinite(c.z) and c.theory else "-"
            lines.append(f"| {c.config.label()} | {c.quantity} | {c.theory:.4f} | {c.mean:.4f} ± {c.se:.4f} "
                         f"| {c.z:+.2f} | {gap} | {c.reason} |")
    return lines


# The claims beyond the paper, each a subset of the claimed checks.
_CLAIMS = (
    ("same-data retraining, magnitude (§14 heuristic)", lambda c: c.quantity == "magnitude_retrain_same"),
    ("distillation, M = ∞ (§12)", lambda c: c.quantity.endswith("_distill") and math.isinf(c.config.unlabelled)),
    ("distillation, finite M (§12)", lambda c: c.quantity.endswith("_distill") and math.isfinite(c.config.unlabelled)),
    ("finite-size ridge, every quantity (§13)", lambda c: c.config.ridge > 0),
)


def write_outputs(checks: list[Check], out_dir, *, threshold: float, trials: int, plot: bool = True) -> list[Check]:
    """Write ``report.md``, ``checks.csv`` and (with ``plot``) ``zscores.png`` atomically.

    Returns the claimed checks beyond ``threshold`` SE plus their allowance (:meth:`Check.fails`).
    """
    from ..output import atomic_write, file_set, prepare_directory, write_csv

    out_dir = prepare_directory(out_dir)
    text = report_markdown(checks, threshold, trials)
    with file_set(out_dir):  # the three files or none: never a report without its table
        atomic_write(out_dir / "report.md", lambda tmp: tmp.write_text(text))
        rows = [c.to_dict() for c in checks]
        write_csv(out_dir / "checks.csv", list(rows[0]), [list(r.values()) for r in rows])
        if plot:
            from ..plotting import plot_zscores

            plot_zscores([c.z for c in checks if c.claimed], out_dir / "zscores.png", threshold=threshold)
    return [c for c in checks if c.fails(threshold)]
