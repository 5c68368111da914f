"""Error translation: every error a user can cause reaches the terminal as one line.

Library errors name the *parameter* (:class:`dcprune.checks.ParameterError` keeps it apart
from the message); here it is renamed to the command-line *option* through one table,
:func:`option_names`, built from the commands' own option declarations, so no message text
is ever parsed. Usage errors, unreadable files and Ctrl-C end the same way: ``Error: ...`` on
stderr and a non-zero exit status (130 for an interrupt), never a traceback.
"""

from __future__ import annotations

import sys

import click

from ..checks import ParameterError
from ..signals import exit_status, finishing, interrupt_in, leave, swallowed

__all__ = ["OneLineErrors", "option_names", "one_line"]

# click >= 8.2 signals a bare command as an error whose message is the help text.
_NO_ARGS = getattr(click.exceptions, "NoArgsIsHelpError", ())

# Library parameters whose option has another name (the rest are found by name).
_RENAMED = {"label_noise": "--sigma2", "sim_trials": "--simulate"}


def one_line(text: str) -> str:
    return " ".join(text.split())


def option_names(group: click.Group) -> dict[str, str]:
    """Parameter name → option (``alpha`` → ``--alpha``) over every command of ``group``."""
    table = {p.name: p.opts[0] for cmd in group.commands.values() for p in cmd.params
             if isinstance(p, click.Option) and p.opts[0].startswith("--")}
    return {**table, **_RENAMED}


def _message(exc: Exception, group: click.Group) -> str:
    if isinstance(exc, ParameterError):
        return exc.render(option_names(group).get(exc.parameter, exc.parameter))
    return str(exc)


def _os_error_line(exc: OSError) -> int:
    """A file that cannot be read or written, after the early checks: one line naming it."""
    where = f" '{exc.filename}'" if exc.filename else ""
    click.echo(f"Error: cannot access{where}: {exc.strerror or exc}", err=True)
    return 1


class OneLineErrors(click.Group):
    """A group whose usage errors and library ``ValueError``s print as a single line."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        try:
            # Monte Carlo holds Ctrl-C while its kernels compile and run (between batches), so
            # an interrupt arrives here as a plain KeyboardInterrupt.
            rv = super().main(args=args, prog_name=prog_name, complete_var=complete_var,
                              standalone_mode=False, **extra)
        except (KeyboardInterrupt, click.Abort) as exc:
            if isinstance(exc, click.Abort) and not isinstance(exc.__cause__, KeyboardInterrupt):
                click.echo("Aborted.", err=True)
                code = 1
            else:
                cause = exc if isinstance(exc, KeyboardInterrupt) else exc.__cause__
                code = exit_status(cause)  # the shell's convention: 130 for SIGINT, 143 for SIGTERM
                if standalone_mode:
                    finishing(code, printed=True)  # a second signal must not add a traceback
                # The interrupt's message, if any, says how far a run got ("after K of N trials").
                detail = f" {cause}" if str(cause) else ""
                click.echo(f"Error: interrupted{detail}", err=True)
        except click.exceptions.Exit as exc:
            code = exc.exit_code
        except _NO_ARGS as exc:  # bare `dcprune`: the help, laid out as with --help
            click.echo(exc.ctx.get_help())
            code = 0
        except click.ClickException as exc:
            click.echo(f"Error: {one_line(exc.format_message())}", err=True)
            code = exc.exit_code
        except (ValueError, MemoryError) as exc:
            click.echo(f"Error: {one_line(_message(exc, self))}", err=True)
            code = 2
        except Exception as exc:
            # An interrupt an extension module turned into another error (ImportError while
            # matplotlib's ft2font initializes): still an interrupt; anything else is a bug.
            interrupt = interrupt_in(exc)
            if interrupt is None and not isinstance(exc, OSError):
                raise
            if interrupt is not None:
                code = exit_status(interrupt)
                if standalone_mode:
                    finishing(code, printed=True)
                click.echo("Error: interrupted", err=True)
            else:
                code = _os_error_line(exc)
        else:
            code = rv if isinstance(rv, int) else 0
            late = swallowed()
            if late is not None:  # raised inside a finalizer, so the run went on: still an interrupt
                code = exit_status(late)
                if standalone_mode:
                    finishing(code, printed=True)
                click.echo("Error: interrupted", err=True)
        if standalone_mode:
            # The outcome is printed: a signal from here on exits at once, with 130/143 if no
            # line was printed (an interrupted run, even one whose output is complete).
            sys.stdout.flush()
            finishing(code, printed=code != 0)
            leave(code)
        return code
