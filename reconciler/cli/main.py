"""The ``reconciler`` command group; subcommands register themselves from their modules,
which are imported only when their command is used (the table is ``cli/commands.py``).

``CommandGroup`` gives every command two things wherever it is declared: usage errors exit 1
(the README's exit codes: 2 means "changes" or "drift", so a mistyped flag in a CI job must
never read as either), and ``-v`` is accepted after the subcommand as well as before it.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterator, Mapping
from typing import Any

import click

from reconciler import __version__
from reconciler.cli.commands import COMMANDS, LazyCommand
from reconciler.cli.exit_codes import EXIT_ERROR
from reconciler.collector import pause_for_start_up, start_up_done

_VERBOSITY = "reconciler.verbose"  # ctx.meta key: -v counted over the whole command line


def _set_verbosity(ctx: click.Context, _param: click.Parameter, count: int) -> None:
    """Add this command's ``-v`` to the ones before it, and set the log level from the sum.

    Without ``-v`` the level is the default (warnings), and the root handler that formats
    them is installed by the command's own callback (each command has ``-v``), unless its
    row says it never logs: ``validate`` then starts without importing ``logging``.
    """
    total = ctx.meta.get(_VERBOSITY, 0) + count
    ctx.meta[_VERBOSITY] = total
    if total == 0 and (ctx.parent is None or _never_logs(ctx)):
        return
    from reconciler.cli.logsetup import set_log_level

    set_log_level(total)


def _never_logs(ctx: click.Context) -> bool:
    """A top-level command whose row in the table says it never logs."""
    row = COMMANDS.get(ctx.info_name or "") if ctx.parent and ctx.parent.parent is None else None
    return row is not None and not row.logs


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

    def __init__(self, *args: Any, lazy: Mapping[str, LazyCommand] | None = None, **kw: Any):
        super().__init__(*args, **kw)
        self.lazy: Mapping[str, LazyCommand] = lazy or {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """A lazy command's module is imported here, the first time the command is needed;
        importing it registers the command (``@cli.command``)."""
        if cmd_name not in self.commands and cmd_name in self.lazy:
            importlib.import_module(self.lazy[cmd_name].module)
        start_up_done()  # the command runs with the collector on (see ``main``)
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list of ``--help`` from the table, without importing any command:
        a command not loaded yet is shown by its row's summary, shortened as click does."""
        shown = {
            name: self.commands.get(name) or click.Command(name, help=self.lazy[name].summary)
            for name in self.list_commands(ctx)
        }
        rows = [(name, cmd) for name, cmd in shown.items() if not cmd.hidden]
        if rows:
            limit = formatter.width - 6 - max(len(name) for name, _ in rows)
            with formatter.section("Commands"):
                formatter.write_dl([(name, cmd.get_short_help_str(limit)) for name, cmd in rows])

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


@click.group(
    cls=CommandGroup, lazy=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]}
)
@click.version_option(__version__, prog_name="reconciler")
def cli() -> None:
    """Encord storage as code: validate, plan, apply and audit YAML against Encord."""


cli.params.append(_verbose_option())


def main() -> None:
    """The ``reconciler`` command (and ``python -m reconciler``). The cycle collector waits
    until the command's module is loaded (``get_command``): start-up makes no garbage."""
    pause_for_start_up()
    cli(prog_name="reconciler")
