"""End to end over a loopback socket: the wrong identity must not read as "nothing exists".

A served sandbox holds a tree an admin applied. A member's key with no grants sees none of it;
its plan must name the caller, warn that it is not an organisation admin and that the declared
root is invisible to it, and refuse (not crash) to create the top-level folder a second time.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from helpers import run_cli, running_sandbox, write_config

from reconciler.drift.schema import drift_schema
from reconciler.plan import PLAN_SCHEMA, loads

SETTINGS = """\
version: 1
target:
  encord: {domain: https://api.encord.com}
ownership: {id: identity-e2e}
"""
RESOURCES = """\
folders:
  /team:
    description: Team space
  /team/raw: {}
"""


@pytest.mark.slow
def test_a_member_key_without_grants_is_named_warned_and_refused(tmp_path: Path) -> None:
    with running_sandbox(tmp_path) as server:
        member_key = tmp_path / "member.key"
        added = run_cli(
            "sandbox", "add-user", "--db", str(server.db_path),
            "--email", "member@example.com", "--key-out", str(member_key),
        )  # fmt: skip
        assert added.returncode == 0, added.stderr
        admin = ("--domain", server.url, "--ssh-key-file", str(server.key_path))
        member = ("--domain", server.url, "--ssh-key-file", str(member_key))
        config = write_config(tmp_path / "config", RESOURCES, SETTINGS)
        applied = run_cli("apply", str(config), "--auto-approve", *admin)
        assert applied.returncode == 0, applied.stderr
        assert "Caller: admin@example.com (ADMIN)" in applied.stdout
        (config / "main.yaml").write_text(RESOURCES + "  /team/new: {}\n")
        saved = tmp_path / "admin-plan.json"
        assert run_cli("plan", str(config), "--out", str(saved), *admin).returncode == 0
        server.reset_stats()
        replayed = run_cli("apply", str(saved), "--auto-approve", *admin)
        assert replayed.returncode == 0, replayed.stdout + replayed.stderr
        assert "Applying as: admin@example.com (ADMIN)" in replayed.stdout
        # "Applying as" is the caller the re-check's read found, not asked for again: the
        # re-check's read and verification's (a folder was created: the scope is relisted)
        assert server.stats()["GET /v2/public/user/current"] == 2

        out = tmp_path / "member-plan.json"
        planned = run_cli("plan", str(config), "--out", str(out), *member)
        forced = run_cli("plan", str(config), "--force", *member)
        drift = run_cli("drift", str(config), "--format", "json", *member)
        who = run_cli("whoami", *member)
        who_json = run_cli("whoami", "--format", "json", *member)
        admin_who = run_cli("whoami", *admin)

    assert planned.returncode == 1, planned.stdout + planned.stderr
    assert "Traceback" not in planned.stderr
    assert "Caller: member@example.com (MEMBER)" in planned.stdout
    assert "is not an organisation admin" in planned.stdout
    assert "declared root /team is not visible to this caller" in planned.stdout
    assert "this key may not see an existing folder" in planned.stdout
    plan = loads(out.read_text())
    jsonschema.validate(json.loads(out.read_text()), PLAN_SCHEMA)
    assert plan.caller is not None
    assert (plan.caller.email, plan.caller.role, plan.caller.admin) == (
        "member@example.com",
        "MEMBER",
        False,
    )
    refusal = next(r for r in plan.refusals if r.code == "invisible-root")
    assert refusal.addresses == ("folder:/team",) and not refusal.withheld
    assert any("not an organisation admin" in w for w in plan.warnings)

    assert forced.returncode == 0, forced.stderr  # a refusal in the plan, lifted by --force

    report = json.loads(drift.stdout)
    jsonschema.validate(report, drift_schema())
    assert report["caller"] == {"email": "member@example.com", "role": "MEMBER", "admin": False}
    assert any("not an organisation admin" in w for w in report["warnings"])

    assert who.returncode == 0, who.stderr
    assert who.stdout == f"member@example.com (MEMBER) on {server.url}\n"
    assert json.loads(who_json.stdout) == {
        "email": "member@example.com",
        "role": "MEMBER",
        "admin": False,
        "target": server.url,
    }
    assert admin_who.stdout == f"admin@example.com (ADMIN) on {server.url}\n"
