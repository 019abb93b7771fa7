"""Applying organisation users through the real client and an embedded sandbox: each add,
re-role and removal is checked against the live users before it is written (a user added,
removed or re-roled by hand since the plan), and a write that meets "already a member"
(409) is done only when the member holds the planned role and type."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from helpers.desired import src
from helpers.embedded import ensure_created, make_sandbox, plan_for

from reconciler.apply import ApplyOptions, apply_plan
from reconciler.encord import EncordClient
from reconciler.model.desired import DesiredUser, OrganisationRole, Policy

ADMIN = "admin@sandbox.local"
POLICY = Policy(users="authoritative", allow_user_rerole=True, max_user_removal_ratio=1.0)


def _users(**roles: OrganisationRole) -> dict[str, DesiredUser]:
    declared: dict[str, OrganisationRole] = {
        ADMIN: "ADMIN",
        **{f"{name}@example.com": r for name, r in roles.items()},
    }
    return {
        email: DesiredUser(email=email, role=role, source=src(n + 2, "users.yaml"))
        for n, (email, role) in enumerate(declared.items())
    }


async def _members(client: EncordClient) -> dict[str, str]:
    return {u.email: u.role_mnemonic_name for u in await client.users.list_all()}


@pytest.mark.anyio
async def test_user_steps_are_checked_against_the_live_users(tmp_path: Path) -> None:
    sandbox = make_sandbox(tmp_path)
    await ensure_created(sandbox)
    desired = sandbox.desired(
        users=_users(ann="WORKFORCE_MANAGER", new1="MEMBER", new2="MEMBER"), policy=POLICY
    )
    async with sandbox.connect() as client:
        for name in ("ann", "eve", "fay", "gil"):
            await client.users.add(f"{name}@example.com", role="MEMBER")
        plan = await plan_for(client, desired)
        assert {c.address: tuple(c.actions) for c in plan.changes} == {
            "user:ann@example.com": ("revoke", "grant"),
            "user:eve@example.com": ("revoke",),
            "user:fay@example.com": ("revoke",),
            "user:gil@example.com": ("revoke",),
            "user:new1@example.com": ("grant",),
            "user:new2@example.com": ("grant",),
        }
        # between plan and apply: new1 added as planned, new2 with another role, ann's
        # re-role half done (removed, not added), eve re-roled by hand, gil removed by hand
        await client.users.add("new1@example.com", role="MEMBER")
        await client.users.add("new2@example.com", role="TASKER")
        await client.users.remove("ann@example.com")
        await client.users.remove("eve@example.com")
        await client.users.add("eve@example.com", role="TASKER")
        await client.users.remove("gil@example.com")

        result = await apply_plan(plan, client=client, options=ApplyOptions(desired=desired))
        members = await _members(client)

    failures = {f.address: f.message for f in result.failures}
    assert set(failures) == {"user:new2@example.com", "user:eve@example.com"}
    assert "changed since the plan (now TASKER (internal))" in failures["user:eve@example.com"]
    assert members["ann@example.com"] == "WORKFORCE_MANAGER"  # the re-role only added
    assert (members["new1@example.com"], members["new2@example.com"]) == ("MEMBER", "TASKER")
    assert members["eve@example.com"] == "TASKER"  # changed since the plan: left alone
    assert "fay@example.com" not in members and "gil@example.com" not in members


@pytest.mark.anyio
async def test_an_add_that_meets_an_existing_member_is_done_only_as_planned(
    tmp_path: Path,
) -> None:
    sandbox = make_sandbox(tmp_path)
    await ensure_created(sandbox)
    desired = sandbox.desired(users=_users(same="MEMBER", other="MEMBER"), policy=POLICY)
    async with sandbox.connect() as client:
        read_at = time.monotonic()
        plan = await plan_for(client, desired)
        await client.users.add("same@example.com", role="MEMBER")
        await client.users.add("other@example.com", role="TASKER")
        # the plan was just read: apply trusts it and writes without reading again, so both
        # adds meet "already a member" (409)
        options = ApplyOptions(desired=desired, read_at=read_at)
        result = await apply_plan(plan, client=client, options=options)
        members = await _members(client)

    assert [f.address for f in result.failures] == ["user:other@example.com"]
    assert members["same@example.com"] == "MEMBER"
    assert members["other@example.com"] == "TASKER"
