"""to_frame(): every sweep, axis sweep and simulation as a pandas DataFrame (pandas optional)."""

import sys

import numpy as np
import pytest

import dcprune
from dcprune.workflows.axes import along

pd = pytest.importorskip("pandas")

PROBLEM = dcprune.Diagonal(dcprune.SpikedCovariance(), kappa=2, alpha=0.3, sigma2=0.1, n=100)


def _columns(names):
    return ["width", "p", *[c for k in names for c in (k, f"{k}_se")]]


def test_sweep_frame_is_the_sweep():
    curve = dcprune.sweep(PROBLEM, points=30)
    frame = curve.to_frame()
    assert list(frame.columns) == _columns(dcprune.PREDICTED)
    assert len(frame) == len(curve.rows)
    np.testing.assert_array_equal(frame["width"], curve.widths)
    for name in dcprune.PREDICTED:
        np.testing.assert_array_equal(frame[name], curve.mean(name))
        assert (frame[f"{name}_se"] == 0).all()  # closed forms


def test_axis_sweep_frame_leads_with_the_axis():
    curve = along(PROBLEM, "sigma2", start=0.01, stop=1, points=5, width=1.5)
    frame = curve.to_frame()
    assert list(frame.columns) == ["sigma2", *_columns(dcprune.PREDICTED)]
    np.testing.assert_allclose(frame["sigma2"], np.geomspace(0.01, 1, 5))
    np.testing.assert_array_equal(frame["hessian"], curve.mean("hessian"))


def test_simulation_frame_has_every_measured_quantity():
    sim = dcprune.montecarlo.simulate(PROBLEM, points=3, trials=4, seed=0)
    frame = sim.to_frame()
    assert list(frame.columns) == _columns(dcprune.MEASURED)
    np.testing.assert_array_equal(frame["magnitude_retrain_same_se"], sim.se("magnitude_retrain_same"))
    assert (frame["dense_se"] > 0).all()


def test_without_pandas_the_error_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas now raises ImportError
    with pytest.raises(ImportError, match=r"dcprune\[data\]"):
        dcprune.sweep(PROBLEM, points=3).to_frame()
