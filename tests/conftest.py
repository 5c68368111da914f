"""Slow Monte Carlo checks run only with DCPRUNE_SLOW=1; CI runs a reduced set."""

import os

import pytest


def pytest_collection_modifyitems(config, items):
    if os.environ.get("DCPRUNE_SLOW") == "1":
        return
    skip = pytest.mark.skip(reason="slow Monte Carlo check: set DCPRUNE_SLOW=1 to run")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
