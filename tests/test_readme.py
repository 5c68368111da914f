"""The README's examples are run, so they cannot drift from the code."""

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from dcprune.cli import main

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def test_python_example_runs():
    blocks = re.findall(r"```python\n(.*?)```", README, re.S)
    assert blocks
    for code in blocks:
        exec(compile(code, "README.md", "exec"), {})


def test_json_example_matches_the_cli():
    shown = json.loads(re.search(r"```json\n(.*?)```", README, re.S).group(1))
    res = CliRunner().invoke(main, ["risk", "--kappa", "2", "--alpha", "0.3", "--format", "json"])
    actual = json.loads(res.output)
    assert list(shown) == list(actual)

    def close(a, b):  # the README rounds to 4 decimals
        if isinstance(a, dict):
            return a.keys() == b.keys() and all(close(a[k], b[k]) for k in a)
        if isinstance(a, float) and isinstance(b, float):
            return a == pytest.approx(b, abs=6e-5)
        return a == b

    assert close(shown, actual), (shown, actual)


def test_images_exist():
    for path in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", README):
        assert (Path(__file__).resolve().parents[1] / path).is_file(), path
