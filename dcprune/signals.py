"""SIGINT and SIGTERM end a command-line run the same way: one line, exit 130 or 143.

Python turns SIGINT into ``KeyboardInterrupt`` wherever the main thread happens to be; SIGTERM
by default kills the process without running any ``finally`` (so temporary files stay). The
command line therefore:

- raises :class:`Terminated` (a ``KeyboardInterrupt``) on SIGTERM, so that every ``finally``
  and ``except BaseException`` that cleans up after Ctrl-C also cleans up after SIGTERM
  (:func:`install`);
- ends an interrupt that escapes everything (during the imports, before the command's own
  handler runs) with ``Error: interrupted`` and the exit status, not a traceback
  (:func:`install` sets ``sys.excepthook``);
- once the command's outcome is decided and printed, turns a late signal into an immediate
  exit with the right status and no second line (:func:`finishing`).

:func:`install` runs at the top of ``dcprune/__init__.py`` only when the process *is* the
``dcprune`` program (``dcprune ...`` or ``python -m dcprune ...``); importing the library
changes no signal handler.
"""

from __future__ import annotations

import os
import signal
import sys

__all__ = ["Terminated", "install", "exit_status", "finishing", "leave", "cli_process", "swallowed", "interrupt_in",
           "in_chain", "HANDLED"]

#: The signals a run is stopped by, and handles alike.
HANDLED = (signal.SIGINT, signal.SIGTERM)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that the same clean-up runs."""

    signum = signal.SIGTERM


def exit_status(exc: BaseException) -> int:
    """128 + the signal number: 130 for SIGINT, 143 for SIGTERM."""
    return 128 + int(getattr(exc, "signum", signal.SIGINT))


def _raise_terminated(signum, frame):
    raise Terminated()


def in_chain(exc: BaseException | None, kind: type) -> BaseException | None:
    """The first exception of type ``kind`` in ``exc``'s chain (itself, its cause or context)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, kind):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None


def interrupt_in(exc: BaseException | None) -> KeyboardInterrupt | None:
    """The interrupt behind ``exc``, if any: an extension module interrupted while it
    initializes raises ``ImportError`` from it, for example."""
    return in_chain(exc, KeyboardInterrupt)


def _excepthook(kind, value, tb):
    interrupt = interrupt_in(value)
    if interrupt is not None:
        # os._exit also skips the finalization of a half-initialized extension (it aborted).
        _leave(exit_status(interrupt), printed=False)
    sys.__excepthook__(kind, value, tb)


def _leave(status: int, printed: bool) -> None:
    try:
        sys.stdout.flush()
    except Exception:  # a closed or full stdout must not turn the exit into a traceback
        pass
    if not printed:
        try:
            sys.stderr.write("Error: interrupted\n")
            sys.stderr.flush()
        except Exception:
            pass
    os._exit(status)


def cli_process() -> bool:
    """Whether this process is the ``dcprune`` program (console script or ``python -m``)."""
    argv = list(getattr(sys, "orig_argv", sys.argv))
    if any(a == "-m" and b == "dcprune" for a, b in zip(argv, argv[1:])):
        return True
    return os.path.basename(sys.argv[0] if sys.argv else "") == "dcprune"


# Interrupts raised where Python cannot propagate them (a __del__, a GC callback): Python
# would print "Exception ignored in ..." and carry on as if no signal had come.
_SWALLOWED: list[BaseException] = []


def _unraisablehook(unraisable):
    if isinstance(unraisable.exc_value, KeyboardInterrupt):
        _SWALLOWED.append(unraisable.exc_value)
        return
    sys.__unraisablehook__(unraisable)


def swallowed() -> BaseException | None:
    """The first interrupt that was raised where it could not propagate, if any."""
    return _SWALLOWED[0] if _SWALLOWED else None


def install() -> None:
    """SIGTERM raises :class:`Terminated`; an uncaught interrupt prints one line and exits;
    an interrupt raised inside a finalizer is kept for :func:`swallowed` (no traceback)."""
    if signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
        signal.signal(signal.SIGTERM, _raise_terminated)
    sys.excepthook = _excepthook
    sys.unraisablehook = _unraisablehook


def finishing(code: int, printed: bool) -> None:
    """From now on a signal ends the process at once with ``128 + signum`` (status ``code``
    if a line was already printed): the outcome has been written, nothing is left to clean."""

    if not cli_process():  # in-process callers (tests, CliRunner) keep their own handlers
        return

    def late(signum, frame):
        _leave(code if printed else 128 + signum, printed)

    for signum in HANDLED:
        signal.signal(signum, late)


def leave(code: int) -> None:
    """End the run with ``code``. The ``dcprune`` program leaves at once (``os._exit`` after
    flushing): Python's finalization restores the default handlers, so a signal arriving
    during it would kill the process with -15 or a traceback after a complete run. Anywhere
    else (tests, ``CliRunner``) this is ``sys.exit``."""
    if cli_process():
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except Exception:
            pass
        os._exit(code)
    sys.exit(code)
