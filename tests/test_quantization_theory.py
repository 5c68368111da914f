"""Quantized and prune-then-quantize risks in closed form (docs/theory.rst §11).

Every closed form is checked against two things it does not compute itself: sampling of the DC
law through the real rounding map of :mod:`dcprune.quantization.levels` (10⁶ draws per atom,
within 4 SE), and adaptive quadrature of the real map's conditional loss (to 1e-8). The absmax
integral is checked against sampling the max of whole DC models (10⁵ models).
"""

import json
import math

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate
from scipy.stats import norm

import dcprune
from dcprune.cli import main
from dcprune.quantization import magnitude_levels, quantize
from dcprune.quantization.clipping import AtomTargets, map_risks, quantization_error
from dcprune.quantization.maps import quantizer_pieces, threshold_pieces
from dcprune.quantization.pieces import piece_loss
from dcprune.quantization.spec import Quantization
from dcprune.solver import dense_risk

QUANTIZERS = ("mid-tread", "sign-magnitude")
ROUNDINGS = ("nearest", "stochastic")
KIND = {"mid-tread": 0, "sign-magnitude": 1}
# p > n (n = 200, p = 600, s = 300) and p < n with pruning (p = 160, s = 120).
OVER = dict(kappa=3.0, alpha=0.5, n=200, width=3.0)
UNDER = dict(kappa=3.0, alpha=0.2, n=200, width=0.8)


def problem(case):
    return dcprune.Diagonal(dcprune.SpikedCovariance(), kappa=case["kappa"], alpha=case["alpha"], n=case["n"],
                            sigma2=0.1)


def dc_law(prob, width):
    """The per-atom DC law of the model of width ``width`` (docs/theory.rst §2)."""
    p = prob.count(width)
    lay = prob.spectrum.layout(prob.d, p, prob.s, True)
    sigma2_eff = prob.sigma2 + lay.tail
    dense = dense_risk(lay.lam, lay.beta, lay.mult, sigma2_eff, prob.scale, finite=True)
    c = dense.shrink[0]
    sd = c * np.sqrt(dense.tau[0] / (prob.n * lay.lam[0]))
    keep = lay.mult[0] > 0
    return (lay.lam[0][keep], lay.beta[0][keep], lay.mult[0][keep], float(sigma2_eff[0]), (c * lay.beta[0])[keep],
            sd[keep])


def real_map(x, bits, quantizer, rounding, clip, threshold, rng):
    """The real (pruned-then-)quantized coefficients: levels.py's map on ``|x| ≥ t``, 0 below."""
    levels = magnitude_levels(bits, KIND[quantizer], clip, threshold)
    out = quantize(x, levels, rounding == "stochastic", rng.random(x.size))
    out[np.abs(x) < threshold] = 0.0
    return out


def sampled_risk(law, bits, quantizer, rounding, clip, threshold, draws=1_000_000, seed=0):
    lam, beta, mult, sigma2_eff, mu, sd = law
    rng = np.random.default_rng(seed)
    mean, var = sigma2_eff, 0.0
    for a in range(lam.size):
        x = rng.normal(mu[a], sd[a], draws)
        loss = (real_map(x, bits, quantizer, rounding, clip, threshold, rng) - beta[a]) ** 2
        mean += mult[a] * lam[a] * loss.mean()
        var += (mult[a] * lam[a]) ** 2 * loss.var() / draws
    return mean, math.sqrt(var)


@pytest.mark.parametrize("case", [OVER, UNDER], ids=["p>n", "p<n"])
@pytest.mark.parametrize("clip", [0.06, "mse", "optimal"])
@pytest.mark.parametrize("rounding", ROUNDINGS)
@pytest.mark.parametrize("quantizer", QUANTIZERS)
def test_closed_form_equals_sampling_of_the_dc_law(case, clip, rounding, quantizer):
    prob = problem(case)
    spec = Quantization(3, quantizer, clip, rounding)
    q = dcprune.predict(prob, case["width"], quantization=spec).quantized
    law = dc_law(prob, case["width"])
    assert q.threshold["magnitude"] > 0  # both cases prune
    for key in ("dense", "magnitude"):
        mean, se = sampled_risk(law, 3, quantizer, rounding, q.clip[key], q.threshold[key])
        z = (q.risk[key].mean - mean) / se
        assert abs(z) < 4, (key, q.risk[key].mean, mean, se)


def conditional_loss(x, levels, stochastic, t, b0, b1, w):
    """E[(M(x) − β)² | X = x] of the real map, read off the levels (not the pieces)."""
    b = b0 + b1 * x
    if abs(x) < t:
        return b * b + w
    a, sign = abs(x), math.copysign(1.0, x)
    if a <= levels[0] or a >= levels[-1] or not stochastic:
        m = sign * quantize(np.array([a]), levels, False, np.zeros(1))[0]
        return (m - b) ** 2 + w
    k = int(np.searchsorted(levels, a, side="right")) - 1
    lo, hi = levels[k], levels[k + 1]
    up = (a - lo) / (hi - lo)
    return up * (sign * hi - b) ** 2 + (1 - up) * (sign * lo - b) ** 2 + w


@pytest.mark.parametrize("threshold", [0.0, 0.45])
@pytest.mark.parametrize("target", [(0.5, 0.0, 0.0), (0.0, 1.0, 0.0), (0.1, 0.6, 0.03)],
                         ids=["fixed", "itself", "gaussian"])
@pytest.mark.parametrize("rounding", ROUNDINGS)
@pytest.mark.parametrize("quantizer", QUANTIZERS)
def test_closed_form_equals_quadrature(threshold, target, rounding, quantizer):
    bits, clip, mu, sd = 3, 1.3, 0.4, 0.35
    levels = magnitude_levels(bits, KIND[quantizer], clip, threshold)
    pieces = quantizer_pieces(bits, quantizer, rounding, np.array([clip]), threshold)
    closed = piece_loss(pieces, np.array([[mu]]), np.array([[sd]]), *target)[0, 0]
    edges = pieces.edges[0][np.isfinite(pieces.edges[0])]
    lo, hi = mu - 14 * sd, mu + 14 * sd
    pts = np.unique(edges[(edges > lo) & (edges < hi)])
    value, _ = integrate.quad(lambda x: conditional_loss(x, levels, rounding == "stochastic", threshold, *target)
                              * norm.pdf(x, mu, sd), lo, hi, points=pts, limit=400, epsabs=1e-13, epsrel=1e-12)
    assert abs(closed - value) <= 1e-8 * max(1.0, abs(value))


def test_pruning_is_the_special_case_of_section_3():
    from dcprune.numerics import kept_moments

    mu, sd, beta, t = 0.3, 0.25, 0.4, 0.35
    prob, kept = kept_moments(mu, sd, beta, t)
    closed = piece_loss(threshold_pieces(np.array([t])), np.array([[mu]]), np.array([[sd]]), beta, 0.0, 0.0)[0, 0]
    assert closed == pytest.approx(kept + beta**2 * (1 - prob), rel=1e-13)


@pytest.mark.parametrize("bits", [8, 10])
@pytest.mark.parametrize("rounding,factor", [("nearest", 1 / 12), ("stochastic", 1 / 6)])
@pytest.mark.parametrize("quantizer", QUANTIZERS)
def test_fine_regime_adds_sheppard_terms(bits, rounding, factor, quantizer):
    """Δ ≪ sd: nearest rounding adds Δ²/12 per coordinate, stochastic Δ²/6 (docs/theory.rst §11).

    The mean sits 6 sd from zero: sign-magnitude keeps the sign, so its stochastic rounding is
    biased on (−ℓ_0, ℓ_0) (it adds Δ²/12 there, not Δ²/6), a correction of order f(0)Δ³
    (−1.3% of Δ²/6 at 8 bits with the mean 1.5 sd from zero).
    """
    mu, sd, beta, clip = 1.2, 0.2, 1.25, 3.0  # clipping sits 9 sd out: no clipping error
    step = clip / 2 ** (bits - 1) if quantizer == "sign-magnitude" else clip / (2 ** (bits - 1) - 1)
    pieces = quantizer_pieces(bits, quantizer, rounding, np.array([clip]))
    loss = piece_loss(pieces, np.array([[mu]]), np.array([[sd]]), beta, 0.0, 0.0)[0, 0]
    added = loss - ((mu - beta) ** 2 + sd**2)
    assert added == pytest.approx(factor * step**2, rel=1e-6)


def test_mse_clip_is_the_argmin_of_the_predicted_error():
    prob = problem(OVER)
    law = dc_law(prob, 3.0)
    lam, beta, mult, sigma2_eff, mu, sd = law
    zeros = np.zeros_like(beta)
    atoms = AtomTargets(mu, sd, beta, zeros, zeros, mult, lam)
    for quantizer in QUANTIZERS:
        spec = Quantization(3, quantizer, "mse")
        q = dcprune.predict(prob, quantization=spec).quantized
        scan = np.linspace(1e-4, atoms.span, 20_001)
        error = quantization_error(spec, scan, 0.0, atoms)
        assert quantization_error(spec, q.clip["dense"], 0.0, atoms)[0] <= error.min() * (1 + 1e-9)
        opt = dcprune.predict(prob, quantization=Quantization(3, quantizer, "optimal")).quantized
        risks = map_risks(spec, scan, 0.0, atoms, sigma2_eff)
        assert opt.risk["dense"].mean <= risks.min() * (1 + 1e-9)
        assert opt.risk["dense"].mean <= q.risk["dense"].mean


def sampled_absmax(prob, width, spec, threshold, models=100_000, seed=1):
    """Risk and clip of absmax, sampling whole DC models (every coordinate) and their max."""
    lam, beta, mult, sigma2_eff, mu, sd = dc_law(prob, width)
    counts = mult.astype(int)
    lam_c, beta_c = np.repeat(lam, counts), np.repeat(beta, counts)
    mu_c, sd_c = np.repeat(mu, counts), np.repeat(sd, counts)
    rng = np.random.default_rng(seed)
    risks, clips = np.empty(models), np.empty(models)
    stochastic = spec.rounding == "stochastic"
    for k in range(models):
        x = mu_c + sd_c * rng.standard_normal(mu_c.size)
        c = np.abs(x).max()
        levels = magnitude_levels(spec.bits, KIND[spec.quantizer], c, threshold)
        m = quantize(x, levels, stochastic, rng.random(x.size))
        m[np.abs(x) < threshold] = 0.0
        risks[k] = sigma2_eff + (lam_c * (m - beta_c) ** 2).sum()
        clips[k] = c
    se = lambda v: v.std() / math.sqrt(models)  # noqa: E731
    return risks.mean(), se(risks), clips.mean(), se(clips)


ABSMAX = dict(kappa=2.0, alpha=0.3, n=50)


# p = 100 > n = 50 with s = 30, and p = 30 < n with s = 15: both prune.
@pytest.mark.parametrize("width,alpha", [(2.0, 0.3), (0.6, 0.15)], ids=["p>n", "p<n"])
@pytest.mark.parametrize("rounding", ROUNDINGS)
@pytest.mark.parametrize("quantizer", QUANTIZERS)
def test_absmax_integral_equals_sampling_of_the_max(width, alpha, rounding, quantizer):
    prob = dcprune.Diagonal(dcprune.SpikedCovariance(), sigma2=0.1, **{**ABSMAX, "alpha": alpha})
    spec = Quantization(2, quantizer, "absmax", rounding)
    q = dcprune.predict(prob, width, quantization=spec).quantized
    assert q.threshold["magnitude"] > 0
    for key in ("dense", "magnitude"):
        mean, se, clip, clip_se = sampled_absmax(prob, width, spec, q.threshold[key], models=100_000 if
                                                 key == "dense" else 40_000)
        assert abs(q.risk[key].mean - mean) < 4 * se, (key, q.risk[key].mean, mean, se)
        assert abs(q.clip[key] - clip) < 4 * clip_se, (key, q.clip[key], clip, clip_se)


def test_absmax_needs_a_finite_n():
    prob = dcprune.Diagonal(dcprune.SpikedCovariance(), kappa=2, alpha=0.3)
    with pytest.raises(ValueError, match="clip absmax needs a finite sample size"):
        dcprune.predict(prob, quantization=Quantization(3, clip="absmax"))


@settings(max_examples=25, deadline=None)
@given(kappa=st.floats(0.3, 4.0), alpha=st.floats(0.05, 1.0), sigma2=st.floats(0.01, 1.0),
       bits=st.integers(1, 8), quantizer=st.sampled_from(QUANTIZERS), rounding=st.sampled_from(ROUNDINGS),
       clip=st.sampled_from(["mse", "optimal", 0.1]))
def test_quantized_risk_is_at_least_the_noise(kappa, alpha, sigma2, bits, quantizer, rounding, clip):
    if quantizer == "mid-tread" and bits < 2:
        bits = 2
    prob = dcprune.Diagonal(dcprune.SpikedIdentity(), kappa=kappa, alpha=alpha, sigma2=sigma2, n=100)
    pred = dcprune.predict(prob, quantization=Quantization(bits, quantizer, clip, rounding))
    for key in ("dense", "magnitude"):
        r = pred.quantized.risk[key].mean
        assert math.isnan(r) or r >= sigma2 * (1 - 1e-12)


@settings(max_examples=6, deadline=None)
@given(kappa=st.floats(1.3, 4.0), alpha=st.floats(0.1, 0.9), quantizer=st.sampled_from(QUANTIZERS),
       rounding=st.sampled_from(ROUNDINGS))
def test_more_bits_approach_the_unquantized_risks(kappa, alpha, quantizer, rounding):
    prob = dcprune.Diagonal(dcprune.SpikedCovariance(), kappa=kappa, alpha=alpha, n=200)
    gaps = []
    for bits in (4, 8, 14):
        pred = dcprune.predict(prob, quantization=Quantization(bits, quantizer, "mse", rounding))
        gaps.append(abs(pred.quantized.risk["magnitude"].mean - pred.risk.magnitude.mean))
        if bits == 14:
            assert pred.quantized.risk["dense"].mean == pytest.approx(pred.risk.dense.mean, rel=1e-5)
    assert gaps[2] <= gaps[1] <= gaps[0] and gaps[2] <= 1e-5 * pred.risk.magnitude.mean


def test_predict_is_unchanged_without_quantization():
    prob = dcprune.Diagonal(dcprune.SpikedCovariance(), kappa=2, alpha=0.3)
    plain = dcprune.predict(prob).to_dict()
    quant = dcprune.predict(prob, quantization=Quantization(4)).to_dict()
    assert "quantized" not in plain
    assert {k: v for k, v in quant.items() if k != "quantized"} == plain


@pytest.mark.parametrize("kwargs,name", [
    (dict(bits=0), "bits"), (dict(bits=17), "bits"), (dict(bits=2.5), "bits"), (dict(bits="3"), "bits"),
    (dict(bits=1, quantizer="mid-tread"), "bits"), (dict(bits=3, quantizer="midtread"), "quantizer"),
    (dict(bits=3, clip=-1.0), "clip"), (dict(bits=3, clip=0), "clip"), (dict(bits=3, clip=math.nan), "clip"),
    (dict(bits=3, clip="absmx"), "clip"), (dict(bits=3, rounding="nearst"), "rounding"),
])
def test_bad_specs_raise_value_errors_naming_the_argument(kwargs, name):
    with pytest.raises(ValueError, match=f"^{name} "):
        Quantization(**kwargs)


def test_quantization_of_sampled_families_is_refused():
    prob = dcprune.RandomFeatures(kappa=1.5, alpha=0.5, n=20, input_dim=5, draws=1)
    with pytest.raises(ValueError, match="quantization is not predicted"):
        dcprune.predict(prob, quantization=Quantization(3))
    with pytest.raises(ValueError, match="quantization must be"):
        dcprune.predict(dcprune.Diagonal(dcprune.SpikedCovariance(), kappa=2, alpha=0.3), quantization=3)


def run(*args):
    return CliRunner().invoke(main, list(args))


BASE = ["--kappa", "3", "--alpha", "0.5", "--n", "200"]


def test_risk_json_has_the_quantized_block():
    res = run("risk", *BASE, "--bits", "3", "--quantizer", "mid-tread", "--clip", "optimal", "--rounding",
              "stochastic", "--format", "json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)["quantized"]
    assert set(out) == {"bits", "quantizer", "clip_rule", "rounding", "clip", "risk"}
    assert (out["bits"], out["quantizer"], out["clip_rule"], out["rounding"]) == (3, "mid-tread", "optimal",
                                                                                 "stochastic")
    assert set(out["clip"]) == set(out["risk"]) == {"dense", "magnitude"}
    prob = dcprune.Diagonal(dcprune.SpikedCovariance(), kappa=3, alpha=0.5, n=200)
    q = dcprune.predict(prob, quantization=Quantization(3, "mid-tread", "optimal", "stochastic")).quantized
    assert out["risk"]["magnitude"] == q.risk["magnitude"].mean and out["clip"]["dense"] == q.clip["dense"]


def test_curve_csv_and_table_show_the_quantized_columns():
    res = run("curve", *BASE, "--bits", "4", "--points", "5", "--format", "csv")
    assert res.exit_code == 0, res.output
    # stdout alone: warnings (here same-data retraining's NaN, s > n) go to stderr
    header = res.stdout.splitlines()[0].split(",")
    assert header[-4:] == ["q_dense", "q_magnitude", "clip_dense", "clip_magnitude"]
    assert len(res.stdout.splitlines()) == 6
    res = run("curve", *BASE, "--bits", "4", "--points", "5", "--format", "json")
    assert all("quantized" in row for row in json.loads(res.output)["rows"])
    res = run("risk", *BASE, "--bits", "4")
    assert res.exit_code == 0 and "q_dense" in res.output and "clip_dense" in res.output


@pytest.mark.parametrize("args", [
    ["--bits", "0"], ["--bits", "17"], ["--bits", "2.5"], ["--quantizer", "mid-tread", "--bits", "1"],
    ["--bits", "3", "--clip", "-1"], ["--bits", "3", "--clip", "0"], ["--bits", "3", "--clip", "nan"],
    ["--bits", "3", "--rounding", "nearst"], ["--clip", "mse"],
])
def test_bad_cli_input_is_one_line(args):
    for command in ("risk", "curve"):
        res = run(command, *BASE, *args)
        assert res.exit_code != 0
        lines = res.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: ") and "Traceback" not in res.output


@pytest.mark.parametrize("rounding", ROUNDINGS)
@pytest.mark.parametrize("quantizer", QUANTIZERS)
def test_fine_regime_stand_in_is_within_its_stated_order(quantizer, rounding):
    """The fine-regime pieces differ from the exact ones by O((Δ/s)²) relative (docs/theory.rst §11)."""
    from dcprune.quantization.maps import fine_pieces

    mu, sd, beta, clip, t = np.array([[0.3]]), np.array([[0.25]]), 0.35, np.array([1.0]), 0.2
    for bits in (8, 12):
        exact = piece_loss(quantizer_pieces(bits, quantizer, rounding, clip, t), mu, sd, beta, 0.0, 0.0)[0, 0]
        fine = piece_loss(fine_pieces(bits, quantizer, rounding, clip, t), mu, sd, beta, 0.0, 0.0)[0, 0]
        step = clip[0] / 2 ** (bits - 1)
        assert abs(fine - exact) <= 2.0 * (step / sd[0, 0]) ** 2 * exact


def test_absmax_at_many_bits_matches_the_exact_bin_sum(monkeypatch):
    from dcprune.quantization import clipping

    prob = dcprune.Diagonal(dcprune.SpikedCovariance(), sigma2=0.1, **ABSMAX)
    spec = Quantization(12, "sign-magnitude", "absmax")
    fine = dcprune.predict(prob, quantization=spec).quantized
    monkeypatch.setattr(clipping, "FINE_ABSMAX_BITS", 99)
    exact = dcprune.predict(prob, quantization=spec).quantized
    for key in ("dense", "magnitude"):
        assert fine.risk[key].mean == pytest.approx(exact.risk[key].mean, rel=1e-8)
