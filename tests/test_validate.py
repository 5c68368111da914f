"""The quick validation grid (pruning and quantized parts) runs in CI and catches a planted error in a risk
formula."""

import csv

import numpy as np
from click.testing import CliRunner

import dcprune.pruning
from dcprune.cli import main
from dcprune.numerics import kept_moments, normal_pdf
from dcprune.validate import QUANTIZED


def run_quick(tmp_path, *extra):
    return CliRunner().invoke(main, ["validate", "--quick", "--out", str(tmp_path), *extra])


def test_quick_validation_passes(tmp_path):
    res = run_quick(tmp_path)
    assert res.exit_code == 0, res.output
    report = (tmp_path / "report.md").read_text()
    assert "|z| > 4: **0**" in report
    assert (tmp_path / "checks.csv").read_text().count("\n") > 80
    assert (tmp_path / "zscores.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # The quantized part (docs/theory.rst §11): claimed checks within 4 SE, the rest with their reasons.
    assert "## Quantized models (docs/theory.rst §11)" in report and "Reported only, and why:" in report
    with open(tmp_path / "checks.csv") as fh:
        rows = [r for r in csv.DictReader(fh) if r["quantity"] in QUANTIZED]
    assert len(rows) == 12
    reported = [r for r in rows if r["claimed"] in ("0", "False")]
    assert reported and all(r["reason"] for r in reported) and all(not r["reason"] for r in rows if r not in reported)
    assert any("absmax" in r["reason"] for r in reported) and any("tuned" in r["reason"] for r in reported)
    claimed = [float(r["z"]) for r in rows if r not in reported and r["z"] not in ("", "nan")]
    assert len(claimed) >= 6 and max(map(abs, claimed)) <= 4


def test_planted_sign_error_fails_validation(tmp_path, monkeypatch):
    """Flip the sign of the cross term 2δ·s·(φ₊ − φ₋) of the kept loss: validation must fail."""

    def wrong(mu, sd, b, threshold):
        prob, loss = kept_moments(mu, sd, b, threshold)
        mu, sd, b, threshold = np.broadcast_arrays(*map(np.asarray, (mu, sd, b, threshold)))
        cross = 2 * (mu - b) * sd * (normal_pdf((threshold - mu) / sd) - normal_pdf((-threshold - mu) / sd))
        return prob, loss - 2 * cross

    monkeypatch.setattr(dcprune.pruning, "kept_moments", wrong)
    res = run_quick(tmp_path, "--no-plot", "--part", "pruning")
    assert res.exit_code == 1, res.output
    assert "FAIL" in res.output


def test_full_grid_is_distinct_and_covers_its_factors():
    from dcprune.validate import grid

    configs = grid(size=160, seed=0)
    assert len(configs) == len(set(configs)) == 160
    assert {c.problem for c in configs} == {"spiked-covariance", "spiked-identity", "isotropic", "power-law"}
    assert {c.n for c in configs} == {100, 200, 400, 800}
    assert {c.ridge for c in configs} == {0.0, 0.1} and {c.sigma2 for c in configs} == {0.0, 0.1, 1.0}
    assert any(c.width < 1 for c in configs) and any(1 < c.width < c.kappa for c in configs)
    assert {c.unlabelled / c.n for c in configs} == {float("inf"), 1.0, 4.0}  # distillation's M (§12)
