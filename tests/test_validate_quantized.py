"""The quantized part of `dcprune validate`, the claimed/reported rule it shares with
`dcprune check --bits`, and `curve --simulate --bits` (docs/theory.rst §11).

The rule's cases are those §11 measured (p < n with ≤ 2-bit absmax; a tiny quantized set with a
tuned clip; the ranking rule at small s with Gaussian coefficients); the Monte Carlo tests use
the house tolerance, |z| ≤ 4 with no allowance.
"""

import json
import math

import numpy as np
import pytest
from click.testing import CliRunner

import dcprune
import dcprune.quantization.pieces
from dcprune.cli import main
from dcprune.validate import QUANTIZED, quantized_grid, quantized_reason
from dcprune.validate.claims import TINY
from dcprune.validate.quantized import fixed_clip

Q = dcprune.Quantization


def reason(model="dense", n=200, p=300, s=150, coefficients="fixed", spec=None):
    return quantized_reason(model, n=n, p=p, s=s, coefficients=coefficients, quantization=spec or Q(2))


@pytest.mark.parametrize("bits,quantizer", [(1, "sign-magnitude"), (2, "sign-magnitude"), (2, "mid-tread")])
def test_p_below_n_with_few_bit_absmax_is_reported(bits, quantizer):
    spec = Q(bits, quantizer, "absmax")
    for model in ("dense", "magnitude"):
        assert "absmax" in reason(model, p=100, s=50, spec=spec)
        assert reason(model, p=300, s=150, spec=spec) is None  # p > n: claimed
    assert reason(p=100, s=50, spec=Q(3, clip="absmax")) is None  # from 3 bits within 0.2%
    assert reason(p=100, s=50, spec=Q(1, clip="mse")) is None


def test_tiny_sets_with_tuned_clips_are_reported():
    for rule in ("mse", "optimal"):
        assert "tuned" in reason("magnitude", s=TINY, spec=Q(2, clip=rule))
        assert reason("dense", s=TINY, spec=Q(2, clip=rule)) is None  # the dense model quantizes p weights
        assert reason("magnitude", s=TINY + 1, spec=Q(2, clip=rule)) is None
    for clip in ("absmax", 0.5):
        assert reason("magnitude", s=5, spec=Q(2, clip=clip)) is None


def test_gaussian_ranking_at_small_s_is_reported():
    assert "large-s limit" in reason("magnitude", s=100, coefficients="gaussian")
    assert reason("magnitude", s=101, coefficients="gaussian") is None
    assert reason("dense", s=100, coefficients="gaussian") is None
    assert reason("magnitude", p=80, s=100, coefficients="gaussian") is None  # p ≤ s: nothing pruned
    with pytest.raises(ValueError, match="model must be one of"):
        reason("oracle")


def test_full_quantized_grid_covers_its_factors_and_every_reason():
    configs = quantized_grid(size=96, seed=0)
    assert len(configs) == len(set(configs)) >= 96
    specs = [Q(c.bits, c.quantizer, 1.0 if c.clip == "fixed" else c.clip, c.rounding) for c in configs]
    assert {(s.quantizer, s.bits) for s in specs} == {("sign-magnitude", b) for b in (1, 2, 4, 8)} | {
        ("mid-tread", b) for b in (2, 4, 8)}
    assert {s.clip_rule for s in specs} == {"mse", "optimal", "absmax", "fixed"}
    assert {s.rounding for s in specs} == {"nearest", "stochastic"}
    assert {c.coefficients for c in configs} == {"fixed", "gaussian"} and {c.n for c in configs} == {200, 400}
    assert any(c.width < 1 for c in configs) and any(c.width > 1 for c in configs)
    fixed = fixed_clip(next(c for c in configs if c.clip == "fixed"))
    assert fixed.quantization().clip_rule == "fixed" and fixed.clip > 0
    reasons = set()
    for c, spec in zip(configs, specs):
        p, s = round(c.width * c.n), round(c.alpha * c.kappa * c.n)
        for model in ("dense", "magnitude"):
            text = quantized_reason(model, n=c.n, p=p, s=s, coefficients=c.coefficients, quantization=spec)
            reasons.add(None if text is None else text.split(":")[0].split(" ")[-1])
    assert {None, "clip", "kept"} <= reasons  # claimed, absmax/tuned clip, ranking at small s


def run_quick(tmp_path, *extra):
    return CliRunner().invoke(main, ["validate", "--quick", "--part", "quantized", "--out", str(tmp_path), *extra])


def test_planted_error_in_the_quantized_risk_fails_validation(tmp_path, monkeypatch):
    """The sign of the cross term −2·m0·b of the per-piece loss flipped: the quantized checks must fail."""
    right = dcprune.quantization.pieces.loss_coefficients

    def wrong(pieces, b0, b1, w):
        l0, l1, l2 = right(pieces, b0, b1, w)
        m0 = pieces.m0[:, None, :]
        return l0 + 4.0 * m0 * np.asarray(b0, dtype=float)[..., None], l1, l2

    monkeypatch.setattr(dcprune.quantization.pieces, "loss_coefficients", wrong)
    res = run_quick(tmp_path, "--no-plot")
    assert res.exit_code == 1, res.output
    assert "FAIL" in res.output and "q_" in res.output


def test_absmax_theory_with_empty_atoms_is_finite():
    """A narrow model of a power-law problem leaves atoms with no coordinate (m_a = 0): the
    max's law skips them instead of 0·log 0 = NaN."""
    prob = dcprune.Diagonal(dcprune.PowerLaw(), kappa=2.0, alpha=0.3, n=100, sigma2=0.1)
    q = dcprune.predict(prob, 0.5, quantization=Q(1, clip="absmax")).quantized
    assert all(math.isfinite(q.risk[m].mean) and q.clip[m] > 0 for m in ("dense", "magnitude"))


CHECK = ["check", "--kappa", "1.5", "--alpha", "0.5", "--n", "100", "--sigma2", "0.1", "--quiet"]


def check_json(*args):
    res = CliRunner().invoke(main, [*CHECK, *args, "--format", "json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.output[res.output.index("{"):res.output.rindex("}") + 1])


def test_check_with_bits_claims_the_quantized_models_beside_the_others():
    out = check_json("--bits", "2", "--trials", "100")  # p = 1.5n > n, s = 75
    checks = {c["quantity"]: c for c in out["checks"]}
    for name in QUANTIZED:
        assert checks[name]["claimed"] and checks[name]["reason"] == "" and abs(checks[name]["z"]) <= 4
    assert out["quantized"]["theory"]["bits"] == 2 and set(out["quantized"]["monte_carlo"]["risk"]) == {
        "dense", "magnitude"}
    assert all(c["reason"] for c in out["checks"] if not c["claimed"])  # same-data retraining says why


def test_check_reports_what_the_validation_rule_reports():
    """p = n/2 with a 1-bit absmax clip: reported only, with the reason, whatever its z."""
    out = check_json("--width", "0.5", "--bits", "1", "--clip", "absmax", "--trials", "30")
    checks = {c["quantity"]: c for c in out["checks"]}
    spec = Q(1, clip="absmax")
    for model, name in zip(("dense", "magnitude"), QUANTIZED):
        expected = quantized_reason(model, n=100, p=out["p"], s=out["s"], coefficients="fixed", quantization=spec)
        assert not checks[name]["claimed"] and checks[name]["reason"] == expected
    table = CliRunner().invoke(main, [*CHECK, "--width", "0.5", "--bits", "1", "--clip", "absmax", "--trials", "10"])
    assert "q_dense (reported)" in table.output and "reported only, q_dense, q_magnitude: p < n" in table.output


@pytest.mark.parametrize("args,option", [(["--bits", "0"], "--bits"), (["--bits", "2", "--clip", "-1"], "--clip"),
                                         (["--rounding", "stochastic"], "--bits")])
def test_bad_check_quantization_is_one_line(args, option):
    res = CliRunner().invoke(main, [*CHECK, *args])
    lines = res.output.strip().splitlines()
    assert res.exit_code != 0 and len(lines) == 1 and lines[0].startswith("Error:") and option in lines[0]


def test_curve_simulate_with_bits_points_to_simulate(tmp_path):
    res = CliRunner().invoke(main, ["curve", "--kappa", "2", "--alpha", "0.3", "--n", "100", "--bits", "2",
                                    "--simulate", "10", "--plot", str(tmp_path / "c.png")])
    lines = res.output.strip().splitlines()
    assert res.exit_code != 0 and len(lines) == 1 and "dcprune simulate --bits" in lines[0]
    assert not (tmp_path / "c.png").exists()


def test_the_tuned_clip_allowance_is_the_pruned_models_only():
    from dcprune.validate import Check, Config
    from dcprune.validate.claims import TUNED_ALLOWANCE, quantized_allowance

    for rule in ("mse", "optimal"):
        assert quantized_allowance("magnitude", p=300, s=30, quantization=Q(4, clip=rule)) == TUNED_ALLOWANCE
        assert quantized_allowance("dense", p=300, s=30, quantization=Q(4, clip=rule)) == 0
        assert quantized_allowance("magnitude", p=30, s=30, quantization=Q(4, clip=rule)) == 0  # nothing pruned
    assert quantized_allowance("magnitude", p=300, s=30, quantization=Q(4, clip="absmax")) == 0
    config = Config("isotropic", 1.5, 1.5, 0.1, 0.1, 0.0, 200)
    # 1.0 against 1.0045 with se 0.001: z = 4.5, within 4 SE + 0.002·1.0 = 0.006 but not without it.
    near = Check(config, "q_magnitude", True, 1.0, 1.0045, 0.001, 0, True, "", 0.002)
    assert near.fails(4) is False and Check(config, "q_magnitude", True, 1.0, 1.0045, 0.001, 0, True).fails(4)
    assert not Check(config, "q_dense", False, 1.0, 2.0, 0.001, 0, True, "why").fails(4)  # reported only


def test_one_atom_of_fixed_coefficients_with_a_tuned_clip_is_reported():
    from dcprune.validate.quantized import one_atom

    iso = dcprune.Diagonal(dcprune.Isotropic(), kappa=1.5, alpha=0.4, n=200)
    spiked = dcprune.Diagonal(dcprune.SpikedCovariance(), kappa=1.5, alpha=0.4, n=200)
    assert one_atom(iso, 300) and not one_atom(spiked, 300)
    for rule in ("mse", "optimal"):
        text = quantized_reason("magnitude", n=200, p=300, s=120, coefficients="fixed", quantization=Q(4, clip=rule),
                                one_atom=True)
        assert text.startswith("one atom")
        assert quantized_reason("dense", n=200, p=300, s=120, coefficients="fixed", quantization=Q(4, clip=rule),
                                one_atom=True) is None
        assert quantized_reason("magnitude", n=200, p=300, s=120, coefficients="gaussian",
                                quantization=Q(4, clip=rule), one_atom=True) is None
    assert quantized_reason("magnitude", n=200, p=300, s=120, coefficients="fixed", quantization=Q(4, clip="absmax"),
                            one_atom=True) is None
