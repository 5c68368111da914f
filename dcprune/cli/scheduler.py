"""``--scheduler``: run a command's Monte Carlo on a Dask cluster (:mod:`dcprune.montecarlo.cluster`).

Without the option (and without ``DCPRUNE_SCHEDULER``) nothing changes and Dask is never
imported; with it, :func:`on_scheduler` connects for the duration of the command and turns a
cluster problem (Dask missing, scheduler unreachable) into one ``Error:`` line.
``DCPRUNE_SCHEDULER_TIMEOUT`` (seconds, default 10) bounds the wait for the scheduler and
``DCPRUNE_TASK_TRIALS`` fixes the trials per task (default: about 4 tasks per worker thread).
"""

from __future__ import annotations

import contextlib
import os

import click

__all__ = ["scheduler_option", "on_scheduler"]


def scheduler_option(func):
    return click.option(
        "--scheduler", envvar="DCPRUNE_SCHEDULER", default=None, metavar="ADDRESS",
        help="Run the trials as tasks on the Dask scheduler at ADDRESS (tcp://host:8786), or on "
             "local:N, N local worker processes  [env: DCPRUNE_SCHEDULER; default: in-process threads].")(func)


@contextlib.contextmanager
def on_scheduler(address: str | None):
    """Run the block's Monte Carlo on ``address`` (``None`` or empty: in this process)."""
    if not address:
        yield None
        return
    from ..montecarlo.cluster import TIMEOUT, ClusterError, connect

    try:
        timeout = float(os.environ.get("DCPRUNE_SCHEDULER_TIMEOUT", TIMEOUT))
        task_trials = int(os.environ["DCPRUNE_TASK_TRIALS"]) if os.environ.get("DCPRUNE_TASK_TRIALS") else None
    except ValueError:
        raise click.UsageError("DCPRUNE_SCHEDULER_TIMEOUT must be seconds and DCPRUNE_TASK_TRIALS a whole "
                               "number") from None
    try:
        with connect(address, timeout=timeout, task_trials=task_trials) as cluster:
            yield cluster
    except ClusterError as exc:
        raise click.ClickException(str(exc)) from None
