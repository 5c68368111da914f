"""Random features (docs/theory.rst §7): the Monte Carlo of the real ReLU regression, and the
acceptance experiment, theory of the equivalent LGP vs that Monte Carlo on the same draws of W.

Claims checked (``|MC − theory| <= Z_MAX·SE + allowance``): dense, magnitude pruning (MP) and
MP + fresh retraining. Same-data retraining has no theory; it is reported, not scored.

Known departures, measured (see the module constants and the report in the PR):

- MP of the widest models departs from the theory far beyond sampling error: at p = 3n by
  −7.1% (D=100, n=200, s=50, z = −13), −3.0% (s=100, z = −5.7), +7.8% and +6.2% (D=50, n=400,
  s=100 and 200, z = +5.6, +4.6); at p = 2n by at most 2.8%; at s = n/8 from p ≈ 1.2n on.
  The gap does not shrink with size at fixed ratios (p = 3n, s = n/4, D = n/2: −7.9%, −8.0%,
  −7.7% at n = 100, 200, 400, 1000–2000 trials each). It is not the
  DC: Gaussian features with the same Σ, β, σ² match it (D=100, n=200, p=600: 3.414 ± 0.053 vs
  3.395). It is the label: real ReLU features with a linear label plus independent noise match
  it too (3.38 ± 0.04); with y = (θᵀx)² the residual y − xᵀβ is uncorrelated with the
  features but not independent of them, which Gaussian equivalence assumes.
  :func:`test_overparameterized_magnitude_pruning_departs` is that case, an expected failure.
- Dense and fresh retraining carry a Gaussian-equivalence bias of about 1% that shrinks with
  size at fixed ratios (dense OLS at p = n/4, D = n/2, 4000 trials: +1.95% at n = 100, +1.11% at
  n = 200, +0.41% at n = 400). Sampling error hides it below ~500 trials; the slow test, with
  1000 trials, states it as the allowance :data:`GE_ALLOWANCE`.
"""

import importlib
import math

import numpy as np
import pytest

import dcprune
from dcprune.families.covariance import CovarianceProblem
from dcprune.families.randomfeatures import (
    equivalent_problem,
    sweep_random_features,
)
from dcprune.montecarlo import Simulation, kernels, simulate
from dcprune.montecarlo.randomfeatures import random_feature_trials
from dcprune.montecarlo.sampler import Sampler
from dcprune.montecarlo.simulate import QUANTITIES

# Tolerances, in one place.
Z_MAX = 4.0  # |MC − theory| <= Z_MAX standard errors (MC SE over all trials and theory's own DC-sampling SE)
# Relative small-size allowance of the slow test (1000 trials, n = 200 and 400), needed there
# because the Gaussian-equivalence bias of dense and fresh-retrained risks (measured above:
# 1.1% at n = 200, 0.4% at n = 400, decreasing with n) is then resolved at 3–5 SE. MP in the
# overparameterized regime (3–10%, not decreasing) is not covered by any allowance.
GE_ALLOWANCE = 0.015
CLAIMED = ("dense", "magnitude", "magnitude_retrain")
# MP is claimed up to this width (p/n) for s >= n/4; beyond it the departure above starts
# (2n: −2.8% at s = n/4; at s = n/8 it starts near 1.2n: −8% at 1.15n, full fig4).
MP_MAX_WIDTH = 1.5


def simulate_random_features(input_dim, n, widths, s, *, draws=5, trials=100, seed=0, label_noise=0.0, ridge=0.0,
                             threads=None, progress=None):
    """The RandomFeatures family's Monte Carlo through the one entry point, at feature counts ``widths``."""
    widths = np.asarray(widths)
    d = int(widths.max())
    problem = dcprune.RandomFeatures(kappa=d / n, alpha=s / d, n=n, input_dim=input_dim, draws=draws,
                                     sigma2=label_noise, ridge=ridge, seed=seed)
    assert (problem.d, problem.s) == (d, s)
    return simulate(problem, widths=widths / n, trials=trials, seed=seed, threads=threads, progress=progress)


def _theory_se(row, name):
    """The theory's own sampling error (DC draws), without the spread across W draws."""
    return math.sqrt(sum(pd.risk[name][1] ** 2 for pd in row.per_draw)) / len(row.per_draw)


def _compare(theory, sim, allowance=0.0):
    """Rows ``(p, name, theory, mean, se, z, ok, claimed)`` for every width and quantity."""
    out = []
    for row, srow in zip(theory.rows, sim.rows):
        assert row.p == srow.p
        for name in CLAIMED + ("magnitude_retrain_same",):
            t = row.risk[name.removesuffix("_same")][0]
            est = srow.risk[name]
            se = math.hypot(est.se, _theory_se(row, name.removesuffix("_same")))
            z = (est.mean - t) / se
            ok = abs(est.mean - t) <= Z_MAX * se + allowance * t
            claimed = name in CLAIMED and (name != "magnitude" or row.p <= MP_MAX_WIDTH * sim.problem.n)
            out.append((row.p, name, t, est.mean, est.se, z, ok, claimed))
    return out


def _table(label, rows):
    lines = [label]
    for p, name, t, mean, se, z, ok, claimed in rows:
        if claimed:
            flag = "" if abs(z) <= Z_MAX else ("  (within the allowance)" if ok else "  FAIL")
        else:
            flag = "" if abs(z) <= Z_MAX else "  (departs; not claimed)"
        lines.append(f"  p={p:5d} {name:24s} theory {t:8.4f}  MC {mean:8.4f} ± {se:.4f}  z = {z:+6.2f}{flag}")
    return "\n".join(lines)


def _run(D, n, widths, s, draws, trials, seed=0):
    theory = sweep_random_features(D, n, widths, s, "relu", draws=draws, seed=seed)
    sim = simulate_random_features(D, n, widths, s, draws=draws, trials=trials, seed=seed)
    return theory, sim


# --------------------------------------------------------------------------------------------
# The simulation itself
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny():
    return simulate_random_features(12, 30, [10, 25, 50], 10, draws=2, trials=6, seed=3)


def test_result_shape_and_summaries(tiny):
    assert isinstance(tiny, Simulation)
    assert tiny.values.shape == (6, 3, len(QUANTITIES)) and tiny.flags.shape == (6, 3)
    assert [r.p for r in tiny.rows] == [10, 25, 50]
    np.testing.assert_allclose(tiny.widths, [10 / 30, 25 / 30, 50 / 30])
    np.testing.assert_array_equal(tiny.draw, [0, 0, 0, 1, 1, 1])
    for k, name in enumerate(QUANTITIES):
        np.testing.assert_allclose(tiny.mean(name), tiny.values[:, :, k].mean(axis=0), rtol=1e-14)
        np.testing.assert_allclose(tiny.se(name), tiny.values[:, :, k].std(axis=0, ddof=1) / math.sqrt(6),
                                   rtol=1e-12)
        np.testing.assert_allclose(tiny.draw_means(name).mean(axis=0), tiny.mean(name), rtol=1e-13)
    # p <= s: nothing is pruned.
    for name in ("magnitude", "hessian", "oracle", "random", "magnitude_retrain_same"):
        np.testing.assert_array_equal(tiny.values[:, 0, QUANTITIES.index(name)], tiny.values[:, 0, 0])
    d = tiny.to_dict()
    assert d["trials"] == 6 and len(d["rows"]) == 3 and set(d["rows"][0]["risk"]) == set(QUANTITIES)


def test_reproducible_and_thread_independent(tiny):
    again = simulate_random_features(12, 30, [10, 25, 50], 10, draws=2, trials=6, seed=3, threads=1)
    np.testing.assert_array_equal(again.values, tiny.values)
    other = simulate_random_features(12, 30, [10, 25, 50], 10, draws=2, trials=6, seed=4)
    assert not np.array_equal(other.values, tiny.values)


def test_uses_the_theory_draws_of_w(tiny):
    """Draw k is equivalent_problem(D, max(widths), seed=(seed, k)); width p its first p rows,
    with the width-p problem's oracle score; trials k·m .. (k+1)·m − 1 (m = trials/draws)."""
    for k in range(2):
        rf = equivalent_problem(12, 50, "relu", seed=(3, k))
        for j, p in enumerate([10, 25, 50]):
            sub = CovarianceProblem.from_moments(rf.Sigma[:p, :p], rf.q[:p], rf.c0)
            # The moments' leading blocks, copied: the runner passes the draw's whole moments.
            sampler = Sampler.relu(rf.W[:p], rf.theta, c0=rf.c0, q=rf.q[:p], Sigma=rf.Sigma[:p, :p])
            v, _ = kernels.run(sampler, n=30, widths=[p], s=10, trials=3, first_trial=3 * k, seed=3,
                               oracle_score=np.diag(sub.Sigma) * sub.beta**2)
            np.testing.assert_array_equal(tiny.values[3 * k:3 * k + 3, j], v[:, 0])


def test_nested_widths_share_the_samples(tiny):
    """A width's values do not depend on which other widths are run."""
    alone = simulate_random_features(12, 30, [25], 10, draws=2, trials=6, seed=3)
    one = simulate_random_features(12, 30, [25, 50], 10, draws=2, trials=6, seed=3)
    # The W draw depends on max(widths) only through its number of rows: nested, so the
    # first 25 rows are the same and so is every value at p = 25 (up to the rounding of the
    # Gram matrix W Wᵀ, which BLAS blocks differently for 25 and 50 rows).
    np.testing.assert_allclose(alone.values[:, 0], tiny.values[:, 1], rtol=1e-9)
    np.testing.assert_allclose(one.values, tiny.values[:, 1:], rtol=1e-9)


def test_label_noise_and_ridge_enter():
    base = simulate_random_features(10, 40, [20], 5, draws=1, trials=20, seed=0)
    noisy = simulate_random_features(10, 40, [20], 5, draws=1, trials=20, seed=0, label_noise=1.0)
    ridge = simulate_random_features(10, 40, [20], 5, draws=1, trials=20, seed=0, ridge=0.5)
    # OLS with p = 20 < n = 40: noise of variance 1 adds about 1 + 20/19 to the dense risk.
    assert noisy.mean("dense")[0] - base.mean("dense")[0] > 1.0
    assert not np.array_equal(ridge.values, base.values)


def test_progress_reports_every_trial():
    seen = []
    simulate_random_features(8, 20, [5, 15], 4, draws=2, trials=40, seed=0, threads=1, progress=seen.append)
    assert sum(seen) == 40 and len(seen) > 1


@pytest.mark.parametrize("kwargs, message", [
    (dict(activation="tanh"), "activation='relu' only"),
    (dict(activation=np.tanh), "activation='relu' only"),
    (dict(trials=7, draws=2), "multiple of draws"),
    (dict(widths=[20, 10]), "strictly increasing"),
    (dict(widths=[]), "non-empty"),
    (dict(widths=[0, 5]), "width must be an integer >= 1"),
    (dict(s=0), "s must be an integer >= 1"),
    (dict(n=1), "n must be an integer >= 2"),
    (dict(draws=0), "draws must be an integer >= 1"),
    (dict(label_noise=-1.0), "label_noise must be >= 0"),
    (dict(ridge=math.nan), "ridge must be finite"),
])
def test_bad_arguments(kwargs, message):
    args = dict(input_dim=5, n=20, widths=[5, 10], s=3, draws=2, trials=4)
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        random_feature_trials(**args)


def test_memory_guard(monkeypatch):
    monkeypatch.setattr(importlib.import_module("dcprune.checks"), "available_memory", lambda: 10_000)
    with pytest.raises(ValueError, match="GiB"):
        random_feature_trials(50, 200, [100, 400], 50, draws=1, trials=10)


# --------------------------------------------------------------------------------------------
# The acceptance experiment: theory vs Monte Carlo on the same draws of W
# --------------------------------------------------------------------------------------------

# Fast version: D = 100, n = 200, two sparsity targets, widths away from p = n ± 10%; 250 trials
# (50 per draw) keep it under a minute and the ~1% Gaussian-equivalence bias below resolution,
# so no allowance is needed.
FAST = dict(D=100, n=200, widths=[100, 150, 300, 600], draws=5, trials=250)


@pytest.fixture(scope="module", params=[50, 100], ids=lambda s: f"s{s}")
def fast_run(request):
    cfg = FAST
    return _run(cfg["D"], cfg["n"], cfg["widths"], request.param, cfg["draws"], cfg["trials"])


def test_theory_matches_monte_carlo(fast_run):
    theory, sim = fast_run
    rows = _compare(theory, sim)
    failed = [r for r in rows if r[7] and not r[6]]
    assert not failed, _table(f"D={FAST['D']} n={FAST['n']} s={sim.s}", rows)
    assert sum(r.flagged for r in sim.rows) == 0


def test_same_data_retraining_is_not_fresh(fast_run):
    """Reported, not claimed: same-data retraining is far worse than the fresh prediction here."""
    theory, sim = fast_run
    for row, srow in zip(theory.rows, sim.rows):
        if row.p > sim.s:
            est = srow.risk["magnitude_retrain_same"]
            assert est.mean - row.risk["magnitude_retrain"][0] > Z_MAX * est.se


@pytest.mark.xfail(strict=True, reason="Gaussian equivalence fails for magnitude pruning of overparameterized "
                   "random features with y = (θᵀx)²: MC ≈ 7% below theory at p = 3n (module docstring)")
def test_overparameterized_magnitude_pruning_departs():
    cfg = FAST
    theory = sweep_random_features(cfg["D"], cfg["n"], [600], 50, "relu", draws=cfg["draws"], seed=0)
    sim = simulate_random_features(cfg["D"], cfg["n"], [600], 50, draws=cfg["draws"], trials=cfg["trials"], seed=0)
    t = theory.rows[0].risk["magnitude"][0]
    est = sim.rows[0].risk["magnitude"]
    assert abs(est.mean - t) <= Z_MAX * math.hypot(est.se, _theory_se(theory.rows[0], "magnitude"))


# Bigger version: two sizes, the peak approached to ±15%, 1000 / 600 trials.
SLOW = [
    dict(D=100, n=200, widths=[50, 100, 150, 170, 230, 260, 300, 400, 600], targets=(50, 100), draws=5,
         trials=1000),
    dict(D=50, n=400, widths=[100, 200, 300, 350, 450, 500, 600, 800, 1200], targets=(100, 200), draws=5,
         trials=600),
]


@pytest.mark.slow
@pytest.mark.parametrize("cfg", SLOW, ids=lambda c: f"D{c['D']}-n{c['n']}")
def test_theory_matches_monte_carlo_slow(cfg, capsys):
    failures = []
    for s in cfg["targets"]:
        theory, sim = _run(cfg["D"], cfg["n"], cfg["widths"], s, cfg["draws"], cfg["trials"])
        rows = _compare(theory, sim, allowance=GE_ALLOWANCE)
        with capsys.disabled():
            print("\n" + _table(f"D={cfg['D']} n={cfg['n']} s={s} trials={cfg['trials']}", rows))
        failures += [(s, *r[:2]) for r in rows if r[7] and not r[6]]
    assert not failures
