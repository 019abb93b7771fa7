"""The command tree as a whole: every command, including ones added later, exits 1 (never
click's 2, which means "changes" or "drift" here) on a usage error, and takes ``-v`` after the
subcommand as well as before it. The tree is walked, not listed, so a new command is covered
without touching this file."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from helpers import run_cli

from reconciler.cli.main import cli

CONTEXT = click.Context(cli)


def walk(group: click.Group, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Through ``get_command``, as click finds a command (which imports a lazy one)."""
    for name in group.list_commands(CONTEXT):
        command = group.get_command(CONTEXT, name)
        assert command is not None, name
        yield (*path, name)
        if isinstance(command, click.Group):
            yield from walk(command, (*path, name))


COMMANDS = list(walk(cli))


def resolve(path: tuple[str, ...]) -> click.Command:
    command: click.Command = cli
    for name in path:
        assert isinstance(command, click.Group)
        found = command.get_command(CONTEXT, name)
        assert found is not None, path
        command = found
    return command


def invoke(*args: str) -> click.testing.Result:
    return CliRunner().invoke(cli, list(args), prog_name="reconciler")


def test_the_walk_finds_every_command_and_sandbox_subcommand() -> None:
    names = {" ".join(p) for p in COMMANDS}
    assert {"plan", "apply", "drift", "validate", "export", "sandbox serve"} <= names
    assert {"sandbox init", "sandbox add-user", "sandbox add-integration", "sandbox seed"} <= names


@pytest.mark.parametrize("path", [(), *COMMANDS], ids=lambda p: " ".join(p) or "reconciler")
def test_an_unknown_flag_exits_1_everywhere(path: tuple[str, ...]) -> None:
    result = invoke(*path, "--no-such-flag")
    assert result.exit_code == 1, result.output
    assert "--no-such-flag" in result.output


@pytest.mark.parametrize(
    "path",
    [p for p in COMMANDS if any(param.required for param in resolve(p).params)],
    ids=" ".join,
)
def test_a_missing_required_option_exits_1(path: tuple[str, ...]) -> None:
    result = invoke(*path)
    assert result.exit_code == 1, result.output
    first = next(p for p in resolve(path).params if p.required)
    # named, in click's words: an option by its flag, an argument by its metavar
    named = first.opts[0] if isinstance(first, click.Option) else first.human_readable_name
    assert named in result.output


@pytest.mark.parametrize(
    "path",
    [(), *(p for p in COMMANDS if isinstance(resolve(p), click.Group))],
    ids=lambda p: " ".join(p) or "reconciler",
)
def test_a_group_alone_or_with_an_unknown_command_exits_1(path: tuple[str, ...]) -> None:
    alone = invoke(*path)
    assert alone.exit_code == 1 and "Commands:" in alone.output
    unknown = invoke(*path, "no-such-command")
    assert unknown.exit_code == 1
    assert "'no-such-command'" in unknown.output


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_every_command_takes_v_after_the_subcommand(path: tuple[str, ...]) -> None:
    result = invoke(*path, "-v", "--help")
    assert result.exit_code == 0, result.output
    assert "-v, --verbose" in result.output


def test_the_installed_entry_point_exits_1_on_usage_errors(tmp_path: Path) -> None:
    """Through ``python -m reconciler``, as the README's CI jobs run it."""
    for args in ((), ("export",)):
        result = run_cli(*args, cwd=tmp_path)
        assert result.returncode == 1, (args, result.stderr)
        assert result.stdout == "" and "Traceback" not in result.stderr


SETTINGS = "version: 1\ntarget:\n  sandbox: {path: s.sqlite}\nownership: {id: verbose}\n"


def config(directory: Path) -> Path:
    (directory / "reconciler.yaml").write_text(SETTINGS)
    (directory / "folders.yaml").write_text("folders:\n  /v: {description: v}\n")
    return directory


def test_a_reader_that_leaves_early_ends_the_command_quietly(tmp_path: Path) -> None:
    """``reconciler render | head -1``: the pipe is closed before the command writes, and the
    command stops without an error line or a traceback."""
    process = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "render", str(config(tmp_path))],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None
    process.stdout.close()  # before the interpreter has even imported the command
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 1
    assert stderr.decode() == ""


def test_v_after_the_subcommand_logs_requests(tmp_path: Path) -> None:
    result = run_cli("plan", str(config(tmp_path)), "-v")
    assert result.returncode == 0, result.stderr
    requests = [line for line in result.stderr.splitlines() if "reconciler.encord" in line]
    assert any(" GET /v2/public/" in line for line in requests), result.stderr
    assert "httpx" not in result.stderr  # -v once: httpx's own lines only with -vv


def test_v_counts_across_the_command_line(tmp_path: Path) -> None:
    result = run_cli("-v", "plan", str(config(tmp_path)), "-v")
    assert result.returncode == 0, result.stderr
    assert "INFO httpx: HTTP Request:" in result.stderr  # -v + -v is -vv
