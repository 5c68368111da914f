"""SIGINT/SIGTERM at random moments of `figure --quick`, `validate --quick` and `curve --plot`.

    PYTHONPATH=. python validation/signals.py [RUNS] [SEED]

Each run starts one command in a fresh directory, sends SIGINT or SIGTERM after a random
delay, uniform over the command's uninterrupted duration (imports, Numba loading, the
computation, the writes, the exit), and checks the acceptance
criterion of issue 13: exit 130 (SIGINT) or 143 (SIGTERM), exactly one stderr line
(``Error: interrupted``), no ``.tmp`` file left. A run that had exited before the signal was
sent is counted apart. Prints one line per run and the tally.
"""

from __future__ import annotations

import collections
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = {
    "figure": ["figure", "lemma1", "--out", "figs", "--quick"],
    "figure-fig3b": ["figure", "fig3b", "--out", "figs", "--quick"],
    "validate": ["validate", "--quick", "--out", "val"],
    "curve": ["curve", "--kappa", "2", "--alpha", "0.3", "--n", "100", "--plot", "c.pdf", "--simulate", "20",
              "--quiet"],
}


def one_run(name: str, signum: int, delay: float):
    with tempfile.TemporaryDirectory() as cwd:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        proc = subprocess.Popen([sys.executable, "-m", "dcprune", *COMMANDS[name]], cwd=cwd, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                # a shell's background job ignores SIGINT; a user's run does not
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        time.sleep(delay)
        sent = time.monotonic()
        if proc.poll() is not None:  # finished before the signal: not an interrupted run
            _, err = proc.communicate()
            stray = [str(p.relative_to(cwd)) for p in Path(cwd).rglob("*.tmp")]
            return name, proc.returncode, err.strip().splitlines(), stray, 0.0, True
        proc.send_signal(signum)
        try:
            _, err = proc.communicate(timeout=300)
            code = proc.returncode
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
            code = None
        took = time.monotonic() - sent
        stray = [str(p.relative_to(cwd)) for p in Path(cwd).rglob("*.tmp")]
    return name, code, err.strip().splitlines(), stray, took, False


def duration(name: str) -> float:
    """Seconds one uninterrupted run of ``name`` takes here (warm Numba cache)."""
    with tempfile.TemporaryDirectory() as cwd:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        start = time.monotonic()
        subprocess.run([sys.executable, "-m", "dcprune", *COMMANDS[name]], cwd=cwd, env=env,
                       capture_output=True, check=False)
        return time.monotonic() - start


def main(runs: int = 50, seed: int = 0) -> int:
    rng = random.Random(seed)
    tally = collections.Counter()
    # Signals land anywhere in a run: imports, Numba loading, computing, writing, exiting.
    spans = {name: duration(name) for name in sorted(COMMANDS)}
    print("uninterrupted:", {k: round(v, 2) for k, v in spans.items()}, flush=True)
    for i in range(runs):
        name = rng.choice(sorted(COMMANDS))
        signum = rng.choice([signal.SIGINT, signal.SIGTERM])
        delay = rng.uniform(0.0, spans[name])
        name, code, lines, stray, took, finished = one_run(name, signum, delay)
        ok = not stray and (code == 0 if finished else code == 128 + signum and lines == ["Error: interrupted"])
        tally["ok" if ok else "FAIL"] += 1
        tally[f"exit {code}"] += 1
        tally["finished before the signal"] += finished
        tally["stray .tmp"] += bool(stray)
        print(f"{i:2d} {name:12s} {signal.Signals(signum).name:7s} after {delay:4.2f}s: exit {code}, "
              f"{len(lines)} stderr line(s), {len(stray)} .tmp, stopped {took:5.2f}s after the signal"
              f"{'' if ok else '  <-- FAIL ' + repr(lines)}", flush=True)
    print("tally:", dict(tally))
    return 0 if tally["FAIL"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main(*(int(a) for a in sys.argv[1:3])))
