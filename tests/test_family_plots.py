"""--plot for every family: ± SE bands for sampled theories, Monte Carlo markers with --simulate."""

import numpy as np
import pytest
from test_flows_cli import run

pytest.importorskip("matplotlib")

BAND = "opacity: 0.18"  # the shaded ± one standard error of a sampled theory


@pytest.fixture(scope="module")
def covariance(tmp_path_factory):
    rng = np.random.default_rng(0)
    d = 60
    a = rng.standard_normal((d, d)) / np.sqrt(d)
    sigma = a @ a.T + 0.5 * np.eye(d)
    beta = rng.standard_normal(d)
    path = tmp_path_factory.mktemp("cov") / "cov.npz"
    np.savez(path, Sigma=sigma, beta=beta / np.sqrt(beta @ sigma @ beta), sigma2=0.1)
    return ["--covariance", str(path), "--n", "40", "--alpha", "0.3"]


RF = ["--problem", "random-features", "--kappa", "2", "--alpha", "0.25", "--n", "60", "--input-dim", "20",
      "--draws", "2"]


@pytest.mark.parametrize("family", ["covariance", "random-features"])
def test_sampled_families_plot_with_bands_and_markers(family, covariance, tmp_path):
    args = covariance if family == "covariance" else RF
    out = tmp_path / "curve.svg"
    res = run("curve", *args, "--points", "8", "--plot", str(out), "--simulate", "20", "--sim-points", "4",
              "--quiet")
    assert res.exit_code == 0, res.output
    svg = out.read_text()
    assert BAND in svg and "Monte Carlo" in svg and "lines: theory ± s.e." in svg
    assert res.output == ""  # --quiet: no table


def test_a_closed_form_has_no_band(tmp_path):
    out = tmp_path / "curve.svg"
    res = run("curve", "--kappa", "2", "--alpha", "0.3", "--points", "20", "--plot", str(out))
    assert res.exit_code == 0 and BAND not in out.read_text()
