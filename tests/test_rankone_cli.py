"""--problem rank-one from the command line: the closed forms of docs/theory.rst §8 and Monte Carlo."""

import json

import numpy as np
import pytest
from test_flows_cli import one_line_error, run

import dcprune

C = [1, 1, 1, 0.5, 0.5, 0.2, 0.2, 0.2, 0.1, 0.1]
B = [0.1, 0.2, 0.1, 0.3, 0.1, 0.2, 0.1, 0.1, 0.4, 0.1]
ARGS = ["--problem", "rank-one", "--scales", ",".join(map(str, C)), "--weights", ",".join(map(str, B)),
        "--alpha", "0.3", "--n", "8", "--sigma2", "0.5"]


def test_risk_is_the_closed_form():
    res = run("risk", *ARGS, "--format", "json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    exact = dcprune.predict(dcprune.RankOne(np.array(C, float), np.array(B, float), 0.5, n=8, s=3))
    assert out["risk"] == exact.risk.to_dict()
    assert out["p"] == 10 and out["s"] == 3 and out["width"] == 10 / 8
    # §8: below the peak in p (p > n here, rank one), the dense risk is σ²(1 + 1/(n − 2)) ... as the library
    assert out["risk"]["dense"] == pytest.approx(0.5 * (1 + 1 / (8 - 1 - 1)))


def test_a_features_file_is_the_same_problem(tmp_path):
    path = tmp_path / "features.csv"
    path.write_text("c,beta\n" + "".join(f"{c},{b}\n" for c, b in zip(C, B)))
    from_file = run("risk", "--problem", "rank-one", "--features", str(path), "--alpha", "0.3", "--n", "8",
                    "--sigma2", "0.5", "--format", "json")
    assert json.loads(from_file.output) == json.loads(run("risk", *ARGS, "--format", "json").output)


def test_monte_carlo_agrees_within_4_se():
    res = run("check", *ARGS, "--trials", "4000", "--format", "json", "--quiet")
    assert res.exit_code == 0, res.output
    out = json.loads(res.output[res.output.index("{"):res.output.rindex("}") + 1])
    assert all(abs(c["z"]) <= 4 for c in out["checks"])  # same-data retraining is exact here too
    sim = json.loads(run("simulate", *ARGS, "--trials", "50", "--format", "json").output)
    assert set(sim["risk"]) == set(dcprune.MEASURED)


@pytest.mark.parametrize("args,option", [
    (["--scales", "1,2", "--weights", "1", "--alpha", "0.5", "--n", "5"], "--weights"),
    (["--scales", "1,x", "--weights", "1,1", "--alpha", "0.5", "--n", "5"], "--scales"),
    (["--scales", "1,1", "--weights", "1,1", "--alpha", "0.5"], "--n"),
    (["--scales", "1,1", "--weights", "1,1", "--alpha", "0.5", "--n", "5", "--kappa", "2"], "--kappa"),
    (["--scales", "-1,1", "--weights", "1,1", "--alpha", "0.5", "--n", "5"], "--scales"),
    (["--alpha", "0.5", "--n", "5"], "--scales"),
])
def test_bad_input_is_one_line(args, option):
    assert option in one_line_error(run("risk", "--problem", "rank-one", *args))


def test_scales_belong_to_rank_one():
    res = run("risk", "--kappa", "2", "--alpha", "0.3", "--scales", "1,2")
    assert res.exit_code != 0 and "--scales does not apply" in res.output
