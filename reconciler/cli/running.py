"""How every command runs and stops: ``run_command``, the one place where the CLI catches a
``ReconcilerError`` (so that nothing ever ends in a traceback), and the errors a command body
raises to stop. Light on purpose: ``validate`` and ``schema`` import it without the client.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import NoReturn

import click

from reconciler.cli.exit_codes import EXIT_ERROR
from reconciler.errors import ReconcilerError


class CommandError(ReconcilerError):
    """Stop the command with exit code 1; each line is printed as it is (one problem a line)."""

    def __init__(self, *lines: str) -> None:
        super().__init__(lines[0] if lines else "")
        self._lines = lines

    def lines(self) -> tuple[str, ...]:
        return self._lines


class InternalError(ReconcilerError):
    """Anything else that reached a command: a bug, said in one line (``-vv`` logs it)."""

    def __init__(self, cause: Exception) -> None:
        super().__init__(
            f"internal error: {type(cause).__name__}: {cause} (run with -vv for details)"
        )
        self.cause = cause


Report = Callable[[ReconcilerError], None]


def echo_error(error: ReconcilerError) -> None:
    # here, not at the top: its patterns cost a millisecond that a command ending well
    # (``validate`` of a valid config) need not pay
    from reconciler.printable import printable

    lines = error.lines()
    for line in map(printable, lines):  # a live name in a message must not forge a line
        click.echo(f"Error: {line}" if len(lines) == 1 else line, err=True)


def run_command(
    name: str,
    body: Callable[[], int],
    *,
    report: Report = echo_error,
    interrupted: str | None = "interrupted; nothing was changed",
) -> NoReturn:
    """Run ``body`` and exit with its code. The one place where the CLI catches errors: a
    ``ReconcilerError`` is printed as its ``lines()`` by ``report``, exit 1; anything else
    is an ``InternalError`` (never a traceback). Ctrl-C says ``interrupted`` (None: click's
    own "Aborted!")."""
    try:
        code = body()
    except (
        BrokenPipeError
    ):  # the reader left (`| head`, a pager quit): stop quietly, as Unix tools do
        _silence_stdout()
        code = EXIT_ERROR
    except KeyboardInterrupt:
        if interrupted is None:
            raise
        report(CommandError(interrupted))
        code = EXIT_ERROR
    except ReconcilerError as failed:
        report(failed)
        code = EXIT_ERROR
    except Exception as exc:  # never a traceback; -vv logs it
        _log_internal_error(name)
        report(InternalError(exc))
        code = EXIT_ERROR
    sys.exit(code)


def _log_internal_error(name: str) -> None:
    """The traceback of an internal error, at debug level (``-vv``). ``logging`` is imported
    here, not at the top: a command that never logs (``validate``) starts without it, and
    without ``-v`` a debug record is dropped whether or not the root handler was set."""
    import logging

    logging.getLogger(__name__).debug("%s failed", name, exc_info=True)


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that flushing it at exit does not fail a second time
    (the recipe of Python's documentation on SIGPIPE)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
