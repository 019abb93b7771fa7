"""End to end over a loopback socket: apply never writes from a read it could not finish.

A served sandbox holds a tree an admin applied; the config then declares one more folder.
When part of the organisation answers 403 (``forbid_reads``: a key that lost access to a
subtree), ``apply`` (fresh plan) and ``apply plan.json`` (saved plan, re-read before it runs)
both refuse in one line and create nothing. A saved plan made by an admin that creates a
top-level folder is refused to a member's key that cannot list the organisation.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import SandboxServer, flags, run_cli, running_sandbox, write_config

SETTINGS = """\
version: 1
target:
  encord: {domain: https://api.encord.com}
ownership: {id: incomplete-e2e}
"""
RESOURCES = """\
folders:
  /team:
    description: Team space
  /team/raw: {}
"""


def _planned(config: Path, server: SandboxServer) -> str:
    """The admin's plan text now (complete read): what is still to do."""
    planned = run_cli("plan", str(config), "--detailed-exitcode", *flags(server))
    assert planned.returncode in (0, 2), planned.stdout + planned.stderr
    return planned.stdout


def _one_error(stderr: str) -> str:
    """The one error line (the read's own warnings are logged above it)."""
    errors = [line for line in stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, stderr
    assert "Traceback" not in stderr
    return errors[0]


@pytest.mark.slow
def test_apply_refuses_an_incomplete_read_fresh_and_saved(tmp_path: Path) -> None:
    with running_sandbox(tmp_path) as server:
        config = write_config(tmp_path / "config", RESOURCES, SETTINGS)
        applied = run_cli("apply", str(config), "--auto-approve", *flags(server))
        assert applied.returncode == 0, applied.stdout + applied.stderr
        (config / "main.yaml").write_text(RESOURCES + "  /team/new: {}\n")
        saved = tmp_path / "plan.json"
        made = run_cli("plan", str(config), "--out", str(saved), *flags(server))
        assert made.returncode == 0, made.stdout + made.stderr

        server.set_faults(forbid_reads="/items")  # every item listing: 403
        fresh = run_cli("apply", str(config), "--auto-approve", *flags(server))
        replayed = run_cli("apply", str(saved), "--auto-approve", *flags(server))
        server.set_faults(forbid_reads=None)
        still = _planned(config, server)

    for result in (fresh, replayed):
        assert result.returncode == 1, result.stdout + result.stderr
        line = _one_error(result.stderr)
        assert line.startswith("Error: the organisation could not be read completely (items ")
        assert "forbidden" in line and "nothing was applied" in line
    assert "+ folder:/team/new" in still  # neither run created it


@pytest.mark.slow
def test_a_saved_plan_creating_a_root_a_member_cannot_see_is_refused(tmp_path: Path) -> None:
    with running_sandbox(tmp_path) as server:
        member_key = tmp_path / "member.key"
        added = run_cli(
            "sandbox", "add-user", "--db", str(server.db_path),
            "--email", "member@example.com", "--key-out", str(member_key),
        )  # fmt: skip
        assert added.returncode == 0, added.stderr
        config = write_config(tmp_path / "config", RESOURCES, SETTINGS)
        applied = run_cli("apply", str(config), "--auto-approve", *flags(server))
        assert applied.returncode == 0, applied.stdout + applied.stderr
        (config / "main.yaml").write_text(RESOURCES + "  /other: {}\n")
        saved = tmp_path / "plan.json"
        made = run_cli("plan", str(config), "--out", str(saved), *flags(server))
        assert made.returncode == 0, made.stdout + made.stderr

        replayed = run_cli("apply", str(saved), "--auto-approve", *flags(server, member_key))
        still = _planned(config, server)

    assert replayed.returncode == 1, replayed.stdout + replayed.stderr
    line = _one_error(replayed.stderr)
    assert line.startswith(
        "Error: the saved plan creates top-level folders that member@example.com (MEMBER) "
        "cannot see whether they exist (folder:/other)"
    )
    assert "+ folder:/other" in still  # not created by the member
