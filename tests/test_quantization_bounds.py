"""The lower bound on quantized risks and the clip brackets the bit-budget search skips with
(docs/theory.rst §11; dcprune/quantization/bounds.py)."""

import numpy as np
import pytest

import dcprune
from dcprune.quantization import frontier as F
from dcprune.quantization.bounds import mse_bracket, risk_floor
from dcprune.quantization.clipping import AtomTargets, map_risks, quantization_error, search_clips
from dcprune.quantization.maps import threshold_pieces
from dcprune.quantization.pieces import piece_loss
from dcprune.quantization.risk import clips_and_risks


def random_case(rng):
    """A model of 1–3 atoms with fixed or Gaussian-like targets, a quantizer, a threshold."""
    count = int(rng.integers(1, 4))
    mu, sd = rng.normal(0.0, 1.0, count), rng.uniform(0.05, 1.0, count)
    if rng.random() < 0.5:  # random coefficients: E[β | X] = ρX, Var(β | X) = w
        b0, b1, w = np.zeros(count), rng.uniform(0.2, 1.5, count), rng.uniform(0.0, 0.5, count)
    else:
        b0, b1, w = mu + rng.normal(0.0, 0.3, count), np.zeros(count), np.zeros(count)
    atoms = AtomTargets(mu, sd, b0, b1, w, rng.integers(1, 50, count).astype(float), rng.uniform(0.5, 10.0, count))
    quantizer = str(rng.choice(["sign-magnitude", "mid-tread"]))
    bits = int(rng.integers(1 if quantizer == "sign-magnitude" else 2, 17))
    spec = dcprune.Quantization(bits, quantizer, rounding=str(rng.choice(["nearest", "stochastic"])))
    t = float(rng.choice([0.0, rng.uniform(0.0, 1.5)]))
    return atoms, spec, t


def test_floor_is_below_every_clip_of_its_bracket():
    rng = np.random.default_rng(3)
    for _ in range(300):
        atoms, spec, t = random_case(rng)
        lo = rng.uniform(t if spec.quantizer == "sign-magnitude" else 0.0, 3.0) + 1e-3
        hi = lo * rng.uniform(1.0, 1.5)
        clips = np.linspace(lo, hi, 7)
        floor = risk_floor(spec, np.array([t]), lo, hi, atoms, 0.1)[0]
        for fine in (False, True):  # the exact bin sums and the fine-regime map
            risks = map_risks(spec, clips, np.full(clips.size, t), atoms, 0.1, fine)
            assert floor <= risks.min() * (1 + 1e-12), (spec, t, lo, hi, fine)


def test_floor_is_the_risk_when_everything_is_pruned():
    atoms = AtomTargets(np.array([0.3]), np.array([0.1]), np.array([0.3]), np.zeros(1), np.zeros(1),
                        np.array([10.0]), np.array([2.0]))
    spec = dcprune.Quantization(3)
    t = 5.0  # far beyond the atom: M = 0 everywhere, the risk is σ² + m λ β²
    assert risk_floor(spec, np.array([t]), 6.0, 7.0, atoms, 0.1)[0] == pytest.approx(0.1 + 10 * 2 * 0.09, rel=1e-12)


def test_quantizing_can_lower_the_risk():
    # Why the search does not skip on "quantized ≥ unquantized pruned": the mse clip shrinks the
    # largest coefficients, which lowers the risk of the min-norm fit (here at 16 bits, dense).
    prob = dcprune.Diagonal(dcprune.SpikedCovariance(), kappa=3, alpha=0.5, n=200, sigma2=0.1)
    atoms, sigma2_eff, gamma = F.model_atoms(prob, 600)
    _, risks = clips_and_risks(dcprune.Quantization(16), np.zeros(1), atoms, sigma2_eff, True)
    unquantized = sigma2_eff + (atoms.mult * atoms.lam * piece_loss(
        threshold_pieces(np.zeros(1)), atoms.mu[None], atoms.sd[None], atoms.b0[None], atoms.b1[None],
        atoms.w[None])).sum()
    assert unquantized == pytest.approx(gamma, rel=1e-9)
    assert risks[0] < gamma


@pytest.mark.parametrize("rule", ["mse", "optimal"])
def test_clip_search_stays_in_its_brackets(rule):
    rng = np.random.default_rng(7)
    for _ in range(40):
        atoms, spec, t = random_case(rng)
        spec = dcprune.Quantization(spec.bits, spec.quantizer, rule, spec.rounding)
        low = np.array([t if spec.quantizer == "sign-magnitude" else 0.0])
        high = np.maximum(atoms.span, low * (1 + 1e-9) + 1e-300)
        fine = spec.bits >= 8

        def objective(clips, rows):
            ts = np.full(clips.size, t)
            if rule == "mse":
                return quantization_error(spec, clips.ravel(), ts, atoms, fine).reshape(clips.shape)
            return map_risks(spec, clips.ravel(), ts, atoms, 0.1, fine).reshape(clips.shape)

        seen = []
        clip, _ = search_clips(objective, low, high, 16, lambda lo, hi: seen.append((lo, hi)) or np.ones(1, bool))
        lo, hi = seen[0]
        assert lo[0] <= clip[0] <= hi[0]
        if rule == "mse":
            lo, hi = mse_bracket(spec, np.array([t]), low, high, 16, atoms)
            assert lo[0] <= clip[0] <= hi[0], (spec, t)
