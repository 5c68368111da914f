"""Theory vs Monte Carlo of the real procedure for quantized and pruned-then-quantized models,
and for pruning with Gaussian coefficients (docs/theory.rst §11).

Each trial fits min-norm least squares, applies the real quantizer (dcprune.quantization.levels)
to the dense fit and to the magnitude-kept weights with the clip the rule takes from that
trial's coefficients, and evaluates the exact population risk; the theory is the closed form.
Tolerance: |theory − MC| ≤ 4 SE (the SE of the Monte Carlo mean; the closed forms have none)
with no allowance: for p > n the finite-size DC is accurate to well below the SE of these
trial counts (docs/theory.rst §11: rms z 0.92 over 2,286 comparisons).

The fast set (CI) covers both quantizers, both roundings, every clip rule and both kinds of
coefficients at n = 200; the full grid (bits 1–8, n = 200 and 400) is slow-marked
(DCPRUNE_SLOW=1).
"""

import json
import math

import numpy as np
import pytest
from click.testing import CliRunner

import dcprune
from dcprune.cli import main
from dcprune.montecarlo import kernels, runtime, simulate
from dcprune.montecarlo.sampler import Sampler
from dcprune.quantities import PREDICTED

Z = 4.0
# p = 1.5 n > n; s = p/2 kept.
KAPPA, ALPHA = 1.5, 0.5


def problem(n=200, coefficients="gaussian", kappa=KAPPA, alpha=ALPHA):
    return dcprune.Diagonal(dcprune.SpikedCovariance(), kappa=kappa, alpha=alpha, n=n, sigma2=0.1,
                            coefficients=coefficients)


def zscores(prob, spec, trials, seed=0):
    """``{model: z}`` of the quantized dense and magnitude-pruned risks, and the run."""
    theory = dcprune.predict(prob, quantization=spec).quantized
    run = simulate(prob, trials=trials, seed=seed, quantization=spec)
    measured = run.rows[0].quantized
    out = {}
    for model in ("dense", "magnitude"):
        mean, se = measured.risk[model]
        out[model] = (mean - theory.risk[model].mean) / se
    return out, run, theory


FAST = [
    ("gaussian", dcprune.Quantization(2, "sign-magnitude", "mse", "nearest")),
    ("gaussian", dcprune.Quantization(3, "mid-tread", "absmax", "stochastic")),
    ("fixed", dcprune.Quantization(4, "sign-magnitude", "optimal", "nearest")),
    ("gaussian", dcprune.Quantization(1, "sign-magnitude", 0.08, "stochastic")),
]


@pytest.mark.parametrize("coefficients,spec", FAST, ids=[f"{c}-{s.bits}-{s.quantizer}-{s.clip_rule}-{s.rounding}"
                                                          for c, s in FAST])
def test_quantized_theory_matches_monte_carlo(coefficients, spec):
    z, run, theory = zscores(problem(coefficients=coefficients), spec, trials=150)
    assert max(abs(v) for v in z.values()) <= Z, z
    measured = run.rows[0].quantized
    if spec.clip_rule in ("fixed", "optimal"):  # the same clip in every trial: the theory's
        assert measured.clip["dense"].mean == pytest.approx(theory.clip["dense"], rel=1e-12)
        assert measured.clip["dense"].se < 1e-12
    else:  # the rule's clip concentrates near its prediction (mse: within 2–4%; absmax: E max)
        for model in ("dense", "magnitude"):
            assert abs(measured.clip[model].mean / theory.clip[model] - 1) < 0.05, (model, measured.clip[model])


def test_gaussian_pruning_theory_matches_monte_carlo():
    """Every claimed quantity (dense, pruned, fresh retraining, distillation on M = 400 inputs)
    with a new β per trial."""
    prob = dcprune.Diagonal(dcprune.SpikedCovariance(), kappa=KAPPA, alpha=ALPHA, n=200, sigma2=0.1,
                            coefficients="gaussian", unlabelled=400)
    theory = dcprune.predict(prob).risk
    run = simulate(prob, trials=150, seed=1)
    z = {k: (run.rows[0].risk[k].mean - theory[k].mean) / run.rows[0].risk[k].se for k in PREDICTED}
    assert max(abs(v) for v in z.values()) <= Z, z


def test_gaussian_coefficients_are_drawn_per_trial_from_seed_and_trial():
    sd = np.full(30, 0.2)
    widths = np.array([20, 30])
    a = kernels.sample_gaussian_trial(7, 3, sd, 10, np.ones(30), 0.1, widths, 5, 0)
    b = kernels.sample_gaussian_trial(7, 3, sd, 10, np.ones(30), 0.1, widths, 5, 0)
    c = kernels.sample_gaussian_trial(7, 4, sd, 10, np.ones(30), 0.1, widths, 5, 0)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(a[-1], c[-1])
    assert abs(np.concatenate([kernels.sample_gaussian_trial(7, t, sd, 10, np.ones(30), 0.1, widths, 5, 0)[-1]
                               for t in range(200)]).std() / 0.2 - 1) < 0.05


SMALL = dict(kappa=2.0, alpha=0.3, n=40, sigma2=0.1)


@pytest.mark.parametrize("coefficients,spec", [
    ("gaussian", dcprune.Quantization(3, "sign-magnitude", "mse", "stochastic")),
    ("fixed", dcprune.Quantization(2, "mid-tread", "absmax", "stochastic")),
])
def test_same_seed_same_numbers_whatever_the_threads_and_batches(coefficients, spec):
    prob = dcprune.Diagonal(dcprune.SpikedIdentity(), coefficients=coefficients, **SMALL)
    one = simulate(prob, points=3, trials=12, seed=5, threads=1, quantization=spec)
    # Two threads where Numba has them (under NUMBA_NUM_THREADS=1 the pool has one).
    two = simulate(prob, points=3, trials=12, seed=5, threads=min(2, runtime.num_threads()), quantization=spec)
    assert np.array_equal(one.values, two.values) and np.array_equal(one.quantized, two.quantized)
    assert one.to_dict() == two.to_dict()
    # Batches: trials 0..11 in one call or in three, on one thread each.
    lam, beta = prob.spectrum.coordinates(prob.d)
    job = kernels.prepare(Sampler.diagonal(lam, beta, math.sqrt(prob.sigma2)), n=prob.n, widths=[40, 80], s=24,
                          seed=5, coef_sd=np.abs(beta) if coefficients == "gaussian" else None, quantization=spec)
    whole, _ = job.trials(0, 12)
    parts = np.concatenate([job.trials(first, 4)[0] for first in (0, 4, 8)])
    assert np.array_equal(whole, parts)
    assert whole.shape[-1] == len(kernels.QUANTITIES) + len(kernels.QUANTIZED_COLUMNS)
    # Stochastic rounding changes the numbers; nearest rounding is another run.
    nearest = dcprune.Quantization(spec.bits, spec.quantizer, spec.clip, "nearest")
    other = simulate(prob, points=3, trials=12, seed=5, quantization=nearest)
    assert np.array_equal(other.values, one.values) and not np.array_equal(other.quantized, one.quantized)


def test_quantization_adds_columns_and_changes_nothing_else():
    prob = dcprune.Diagonal(dcprune.SpikedCovariance(), **SMALL)
    plain = simulate(prob, points=3, trials=6, seed=2)
    quantized = simulate(prob, points=3, trials=6, seed=2, quantization=dcprune.Quantization(3))
    assert np.array_equal(plain.values, quantized.values) and plain.quantized is None
    assert quantized.quantized.shape == (6, len(plain.rows), 4)


def test_fixed_sign_magnitude_clip_below_the_threshold_has_no_levels():
    prob = dcprune.Diagonal(dcprune.SpikedCovariance(), **SMALL)
    run = simulate(prob, trials=4, seed=0, quantization=dcprune.Quantization(2, clip=1e-6))
    assert math.isnan(run.rows[0].quantized.risk["magnitude"].mean)
    assert any("quantized.risk.magnitude is undefined in some trials" in w for w in run.warnings)
    assert math.isnan(dcprune.predict(prob, quantization=dcprune.Quantization(2, clip=1e-6)).quantized.risk[
        "magnitude"].mean)


def test_quantized_simulation_of_other_families_is_refused():
    rf = dcprune.RandomFeatures(kappa=1.5, alpha=0.2, n=40, input_dim=10, draws=1)
    with pytest.raises(ValueError, match="quantization is not simulated for"):
        simulate(rf, trials=2, quantization=dcprune.Quantization(2))
    with pytest.raises(ValueError, match="quantization must be a dcprune.Quantization"):
        simulate(dcprune.Diagonal(dcprune.SpikedCovariance(), **SMALL), trials=2, quantization=3)


def cli(*args):
    return CliRunner().invoke(main, ["simulate", "--kappa", "2", "--alpha", "0.3", "--n", "40", "--trials", "4",
                                     *args])


def test_simulate_json_has_the_quantized_block():
    res = cli("--bits", "2", "--clip", "absmax", "--coefficients", "gaussian", "--format", "json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    q = out["quantized"]
    assert (q["bits"], q["quantizer"], q["clip_rule"], q["rounding"]) == (2, "sign-magnitude", "absmax", "nearest")
    assert set(q["clip"]) == set(q["risk"]) == {"dense", "magnitude"}
    assert set(q["risk"]["dense"]) == {"mean", "se"} and q["risk"]["magnitude"]["se"] > 0
    assert out["coefficients"] == "gaussian"
    sweep = json.loads(cli("--bits", "2", "--points", "3", "--format", "json").output)
    assert all(set(row["quantized"]["risk"]["magnitude"]) == {"mean", "se"} for row in sweep["rows"])


def test_simulate_csv_and_table_show_the_quantized_columns():
    res = cli("--bits", "3", "--quantizer", "mid-tread", "--points", "3", "--format", "csv")
    assert res.exit_code == 0, res.output
    header = res.output.splitlines()[0].split(",")
    for column in ("q_dense", "q_magnitude", "clip_dense", "clip_magnitude", "q_dense_se"):
        assert column in header
    table = cli("--bits", "3", "--rounding", "stochastic").output
    assert "# quantized: 3 bits, sign-magnitude, stochastic rounding, clip mse" in table


@pytest.mark.parametrize("args,option", [
    (["--bits", "0"], "--bits"), (["--bits", "17"], "--bits"), (["--bits", "2.5"], "--bits"),
    (["--bits", "1", "--quantizer", "mid-tread"], "--bits"), (["--bits", "2", "--clip", "-1"], "--clip"),
    (["--bits", "2", "--clip", "nan"], "--clip"), (["--bits", "2", "--rounding", "stochastik"], "--rounding"),
    (["--rounding", "stochastic"], "--bits"), (["--coefficients", "normal"], "--coefficients"),
])
def test_bad_simulate_input_is_one_line(args, option):
    res = cli(*args)
    assert res.exit_code != 0
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error:") and option in lines[0], res.output


# --------------------------------------------------------------------------------------------
# The full grid (slow): bits 1–8, both quantizers, four clip rules, n = 200 and 400, p > n.
# --------------------------------------------------------------------------------------------

def grid():
    for n in (200, 400):
        for quantizer in ("sign-magnitude", "mid-tread"):
            for bits in range(1 if quantizer == "sign-magnitude" else 2, 9):
                for k, clip in enumerate(("mse", "optimal", "absmax", 0.08)):
                    # A fractional design: both roundings and both kinds of coefficients at every n.
                    rounding = ("nearest", "stochastic")[(bits + k) % 2]
                    coefficients = ("gaussian", "fixed")[(bits + k + n // 200) % 2 if bits > 1 else 0]
                    # Every configuration its own trials: the checks are independent.
                    seed = 1000 * n + 100 * k + 10 * bits + (quantizer == "mid-tread")
                    yield n, coefficients, dcprune.Quantization(bits, quantizer, clip, rounding), seed


GRID = list(grid())


@pytest.mark.slow
@pytest.mark.parametrize("n,coefficients,spec,seed", GRID,
                         ids=[f"n{n}-{c}-{s.bits}-{s.quantizer}-{s.clip_rule}-{s.rounding}" for n, c, s, _ in GRID])
def test_quantized_grid_matches_monte_carlo(n, coefficients, spec, seed):
    z, _, _ = zscores(problem(n, coefficients), spec, trials=150, seed=seed)
    assert max(abs(v) for v in z.values()) <= Z, z


@pytest.mark.slow
@pytest.mark.parametrize("coefficients", ["gaussian", "fixed"])
def test_optimal_clip_is_optimal_for_the_real_procedure(coefficients):
    """The theory's optimal clip, applied in every trial, is not beaten on average by a range 20%
    shorter or longer above the pruning threshold (paired trials: the same seed gives the same
    fits)."""
    prob = problem(coefficients=coefficients)
    spec = dcprune.Quantization(2, "sign-magnitude", "optimal")
    theory = dcprune.predict(prob, quantization=spec).quantized
    at = simulate(prob, trials=200, seed=3, quantization=spec).quantized[:, 0, :2]
    for factor in (0.8, 1.2):
        for j, model in enumerate(("dense", "magnitude")):
            t = theory.threshold[model]
            moved = dcprune.Quantization(2, "sign-magnitude", t + (theory.clip[model] - t) * factor)
            other = simulate(prob, trials=200, seed=3, quantization=moved).quantized[:, 0, j]
            diff = other - at[:, j]
            assert diff.mean() > -Z * diff.std(ddof=1) / math.sqrt(diff.size), (model, factor, diff.mean())
