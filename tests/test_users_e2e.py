"""End to end over a loopback socket: organisation users as code, read back with the
official SDK as the independent client.

One served sandbox, one story: declared users are added with their role and type (and
put into a group in the same apply); a re-role is refused by default and applied when
forced, giving the group place back; an out-of-band removal is drift with its
``file:line``; authoritative mode removes an undeclared user; the removal ratio,
min-admins and require-self refuse with what to do; export then plan is empty.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import SandboxServer, flags, run_cli, running_sandbox, sdk, write_config

from reconciler.plan import loads

ADMIN = "admin@example.com"
SETTINGS = """\
version: 1
target:
  encord: {domain: https://api.encord.com}
ownership: {id: users-e2e}
policy:
  users: %(mode)s
  max_user_removal_ratio: %(ratio)s
  min_admins: %(min_admins)s
"""
USERS = """\
users:
  Ann@Example.com: %(ann)s
  bob@example.com: {role: tasker, type: external}
%(more)sgroups:
  team: {description: Annotators, members: [ann@example.com, bob@example.com]}
folders:
  /space: {groups: {team: user}}
"""


def _config(
    root: Path,
    *,
    ann: str = "member",
    mode: str = "additive",
    ratio: float = 0.5,
    admins: int = 1,
    more: tuple[str, ...] = (ADMIN,),
) -> Path:
    """The config; ``more`` are further users, each a tasker but the caller (an admin)."""
    settings = SETTINGS % {"mode": mode, "ratio": ratio, "min_admins": admins}
    lines = "".join(f"  {e}: {'admin' if e == ADMIN else 'tasker'}\n" for e in more)
    return write_config(root, USERS % {"ann": ann, "more": lines}, settings)


def _members(server: SandboxServer) -> dict[str, tuple[str, str]]:
    return {
        u.email: (u.role_mnemonic_name, u.member_type)
        for u in sdk(server).list_organisation_users()
    }


def _team(server: SandboxServer) -> set[str]:
    (group,) = [g for g in sdk(server).list_groups() if g.name == "team"]
    return {u.user_email for u in group.list_users()}


@pytest.mark.slow
def test_users_as_code_over_a_socket(tmp_path: Path) -> None:
    with running_sandbox(tmp_path, admin_email=ADMIN) as server:
        target = flags(server)
        config = _config(tmp_path / "config")
        applied = run_cli("apply", str(config), "--auto-approve", *target)
        assert applied.returncode == 0, applied.stdout + applied.stderr
        assert _members(server)["ann@example.com"] == ("MEMBER", "internal")
        assert _members(server)["bob@example.com"] == ("TASKER", "external")
        assert _team(server) >= {"ann@example.com", "bob@example.com"}

        # A re-role is refused by default, says why, and changes nothing.
        _config(config, ann="workforce_manager")
        refused = run_cli("apply", str(config), "--auto-approve", *target)
        assert refused.returncode == 1
        assert "[user-rerole, needs --force]" in refused.stdout
        assert "removes each from the organisation and adds them again" in refused.stdout
        assert _members(server)["ann@example.com"] == ("MEMBER", "internal")
        forced = run_cli("apply", str(config), "--auto-approve", "--force", *target)
        assert forced.returncode == 0, forced.stdout + forced.stderr
        assert "is re-roled" in forced.stdout
        assert _members(server)["ann@example.com"] == ("WORKFORCE_MANAGER", "internal")
        assert "ann@example.com" in _team(server)  # the re-role dropped it; apply gave it back

        # Removed by hand: drift names the declaration.
        sdk(server).remove_organisation_user("bob@example.com")
        drift = run_cli("drift", str(config), "--format", "json", *target)
        assert drift.returncode == 2, drift.stdout + drift.stderr
        entries = {d["address"]: d for d in json.loads(drift.stdout)["drift"]}
        assert entries["user:bob@example.com"]["source"] == "main.yaml:3"
        assert entries["user:bob@example.com"]["kind"] == "membership"

        # Authoritative: an undeclared user is removed; bob comes back (and into the team).
        sdk(server).add_organisation_user("carl@example.com", role_mnemonic_name="MEMBER", member_type="internal")  # fmt: skip
        _config(config, ann="workforce_manager", mode="authoritative")
        removed = run_cli("apply", str(config), "--auto-approve", *target)
        assert removed.returncode == 0, removed.stdout + removed.stderr
        members = _members(server)
        assert "carl@example.com" not in members and "bob@example.com" in members
        assert "bob@example.com" in _team(server)

        # More removals than the ratio allows: refused, nothing removed.
        for extra in ("x1@example.com", "x2@example.com"):
            sdk(server).add_organisation_user(extra, role_mnemonic_name="TASKER", member_type="external")  # fmt: skip
        _config(config, ann="workforce_manager", mode="authoritative", ratio=0.3)
        over = run_cli("apply", str(config), "--auto-approve", *target)
        assert over.returncode == 1
        assert "more than policy.max_user_removal_ratio 30%" in over.stdout
        assert {"x1@example.com", "x2@example.com"} <= set(_members(server))

        # require-self: a config that leaves the caller out (and hands over to a new admin,
        # so min-admins holds) never removes it.
        extras = ("x1@example.com", "x2@example.com")
        _config(config, ann="workforce_manager", mode="authoritative", more=extras)
        main = config / "main.yaml"
        main.write_text(
            main.read_text().replace("groups:\n", "  boss@example.com: admin\ngroups:\n")
        )
        own = run_cli("plan", str(config), "--out", str(tmp_path / "self.json"), *target)
        assert own.returncode == 1
        assert "user:admin@example.com is the caller" in own.stdout
        plan = loads((tmp_path / "self.json").read_text())
        assert "user:admin@example.com" not in {c.address for c in plan.changes}

        # min-admins: with a second admin, a plan dropping it would leave one of two.
        sdk(server).add_organisation_user("admin2@example.com", role_mnemonic_name="ADMIN", member_type="internal")  # fmt: skip
        _config(
            config, ann="workforce_manager", mode="authoritative", admins=2, more=(ADMIN, *extras)
        )
        few = run_cli("plan", str(config), *target)
        assert few.returncode == 1
        assert "[min-admins, withheld]" in few.stdout
        assert "fewer than policy.min_admins 2" in few.stdout

        # Export, then plan: nothing to do, users included.
        exported = tmp_path / "exported"
        done = run_cli("export", "--root", "/space", "--out", str(exported), *target)
        assert done.returncode == 0, done.stdout + done.stderr
        again = run_cli("plan", str(exported), "--detailed-exitcode", *target)
        assert again.returncode == 0, again.stdout + again.stderr
        assert "admin2@example.com: admin" in (exported / "users.yaml").read_text()
