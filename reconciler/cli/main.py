"""The ``reconciler`` command group; subcommands register themselves from their modules.

``CommandGroup`` gives every command two things wherever it is declared: usage errors exit 1
(the README's exit codes: 2 means "changes" or "drift", so a mistyped flag in a CI job must
never read as either), and ``-v`` is accepted after the subcommand as well as before it.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

import click

from reconciler import __version__
from reconciler.cli.exit_codes import EXIT_ERROR
from reconciler.printable import printable

_VERBOSITY = "reconciler.verbose"  # ctx.meta key: -v counted over the whole command line


class OneLineFormatter(logging.Formatter):
    """Each log record on one line, shown ``printable``: messages carry live names (a folder
    named with a newline must not forge a log line in CI output). A traceback (``-vv``) is
    appended as it is."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        return printable(super().formatMessage(record))


def _set_verbosity(ctx: click.Context, _param: click.Parameter, count: int) -> None:
    """Add this command's ``-v`` to the ones before it, and set the log level from the sum."""
    total = ctx.meta.get(_VERBOSITY, 0) + count
    ctx.meta[_VERBOSITY] = total
    level = logging.WARNING if total == 0 else logging.INFO if total == 1 else logging.DEBUG
    root = logging.getLogger()
    if not root.handlers:  # once per process, as ``logging.basicConfig``
        handler = logging.StreamHandler()
        handler.setFormatter(OneLineFormatter("%(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
    logging.getLogger().setLevel(level)
    # -v: our one line per request; httpx's own request lines only with -vv
    logging.getLogger("httpx").setLevel(logging.WARNING if total < 2 else logging.NOTSET)


def _verbose_option() -> click.Option:
    return click.Option(
        ["-v", "--verbose"],
        count=True,
        expose_value=False,
        callback=_set_verbosity,
        help="Log requests and timings (-vv for debug).",
    )


class CommandGroup(click.Group):
    """A group whose commands (and sub-groups) all exit 1 on a usage error and take ``-v``."""

    group_class = type  # sub-groups (``sandbox``) are CommandGroups too

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        if not any(p.name == "verbose" for p in cmd.params):
            cmd.params.append(_verbose_option())
        super().add_command(cmd, name)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args and self.no_args_is_help and not ctx.resilient_parsing:
            # a group without its command is a usage error: the help, and exit 1 (click
            # itself exits 0 in 8.1 and 2 from 8.2 on)
            click.echo(ctx.get_help(), err=True)
            ctx.exit(EXIT_ERROR)
        with _usage_errors_exit_1():
            return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        # subcommands parse their arguments here, and a body may raise click.UsageError too
        with _usage_errors_exit_1():
            return super().invoke(ctx)


@contextlib.contextmanager
def _usage_errors_exit_1() -> Iterator[None]:
    try:
        yield
    except click.UsageError as exc:
        exc.exit_code = EXIT_ERROR  # type: ignore[misc]  # click reads it per instance
        raise


@click.group(cls=CommandGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="reconciler")
def cli() -> None:
    """Encord storage as code: validate, plan, apply and audit YAML against Encord."""


cli.params.append(_verbose_option())


def main() -> None:
    from reconciler.cli import commands  # noqa: F401  (registers the subcommands)

    cli(prog_name="reconciler")
