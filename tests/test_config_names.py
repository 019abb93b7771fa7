"""``validate`` checks the names an embedded sandbox target can answer offline: groups in
roles, and members and dataset users, with "did you mean"."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from test_config_loader import write

from reconciler.cli.main import cli

SETTINGS = """\
version: 1
target:
  sandbox:
    path: .reconciler/sandbox.sqlite
    users: [{email: alice@example.com}]
ownership: {id: names}
"""
RESOURCES = """\
groups:
  annotators: {members: [alice@example.com, bob@example.com]}
folders:
  /a:
    groups: {anotators: user, ml-admins: admin}
datasets:
  d:
    users: {Alice@Example.com: user, alcie@example.com: admin}
"""


def validate(config: Path) -> tuple[int, list[str]]:
    result = CliRunner().invoke(cli, ["validate", str(config)], catch_exceptions=False)
    return result.exit_code, result.stdout.splitlines()


def test_unknown_groups_and_users_of_a_sandbox_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, {"reconciler.yaml": SETTINGS, "main.yaml": RESOURCES})
    monkeypatch.chdir(tmp_path)
    code, lines = validate(tmp_path)
    assert code == 1
    assert lines == [
        "main.yaml:2:3: bob@example.com (member of group 'annotators') is not a user of the "
        "sandbox organisation; declare them under 'users:'",
        "main.yaml:5:5: unknown group 'anotators': declare it under 'groups:' "
        "(did you mean 'annotators'?)",
        "main.yaml:5:5: unknown group 'ml-admins': declare it under 'groups:'",
        "main.yaml:7:3: alcie@example.com (user of dataset 'd') is not a user of the sandbox "
        "organisation; declare them under 'users:' (did you mean 'alice@example.com'?)",
    ]
    assert not (tmp_path / ".reconciler").exists()  # validate never creates the sandbox


def test_names_that_exist_in_the_sandbox_database_are_valid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    declared = "groups:\n  ops: {members: [alice@example.com]}\nfolders:\n  /a: {}\n"
    write(tmp_path, {"reconciler.yaml": SETTINGS, "main.yaml": declared})
    applied = CliRunner().invoke(cli, ["apply", str(tmp_path), "--auto-approve"])
    assert applied.exit_code == 0, applied.output
    # 'ops' is no longer declared but lives in the sandbox: a role may name it.
    write(tmp_path, {"main.yaml": "folders:\n  /a: {groups: {ops: user}}\n"})
    monkeypatch.chdir(tmp_path)
    assert validate(tmp_path) == (0, ["valid: . (sandbox target): " + _counts()])
    write(tmp_path, {"main.yaml": "folders:\n  /a: {groups: {Ops: user}}\n"})
    assert validate(tmp_path) == (
        1,
        ["main.yaml:2:8: unknown group 'Ops': declare it under 'groups:' (did you mean 'ops'?)"],
    )


def _counts() -> str:
    return (
        "1 folder, 0 groups, 0 users, 0 rules, 0 manifests, 0 manifest rows, 0 registrations, "
        "0 registration rows, 0 datasets, 0 metadata keys"
    )


def test_declared_users_may_be_members_and_dataset_users(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    users = "users:\n  Bob@Example.com: member\n  alcie@example.com: {role: tasker}\n"
    write(tmp_path, {"reconciler.yaml": SETTINGS, "main.yaml": RESOURCES, "users.yaml": users})
    monkeypatch.chdir(tmp_path)
    code, lines = validate(tmp_path)
    assert code == 1
    assert not any("example.com" in line for line in lines), lines  # only the groups are unknown


def test_authoritative_users_must_declare_every_member(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = SETTINGS + "policy: {users: authoritative}\n"
    groups = "groups:\n  annotators: {members: [alice@example.com, bob@example.com]}\n"
    users = "users:\n  bob@example.com: member\n  admin@sandbox.local: admin\n"
    write(tmp_path, {"reconciler.yaml": settings, "main.yaml": groups, "users.yaml": users})
    monkeypatch.chdir(tmp_path)
    assert validate(tmp_path) == (
        1,
        [
            "main.yaml:2:3: alice@example.com (member of group 'annotators') is not declared "
            "under 'users:', and policy.users: authoritative removes undeclared users from "
            "the organisation; declare them"
        ],
    )
