"""Who the credentials act as (``reconciler.live.identity``): ``user/current`` names the
caller even where two organisation admins cannot be told apart by the listings, so
require-self holds back exactly the caller and lets the other admin go."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import pytest
from helpers.desired import src
from helpers.embedded import make_sandbox, plan_for

from reconciler.encord import EncordClient, NotFoundError
from reconciler.live.identity import _own_email, identify, read_caller
from reconciler.model.desired import DesiredUser, SandboxUser
from reconciler.model.live import LiveUser
from reconciler.sandbox.provision import DEFAULT_ADMIN_EMAIL

SECOND = "second.admin@example.com"
HEIR = "heir@example.com"


@pytest.mark.anyio
async def test_two_admins_the_caller_is_named_by_user_current(tmp_path: Path) -> None:
    sandbox = make_sandbox(tmp_path, users=(SandboxUser(email=SECOND, role="ADMIN"),))
    async with sandbox.connect() as client:
        caller = await read_caller(client)
    assert (caller.email, caller.role, caller.admin) == (DEFAULT_ADMIN_EMAIL, "ADMIN", True)


@pytest.mark.anyio
async def test_require_self_holds_back_only_the_caller_among_admins(tmp_path: Path) -> None:
    sandbox = make_sandbox(tmp_path, users=(SandboxUser(email=SECOND, role="ADMIN"),))
    heir = DesiredUser(email=HEIR, role="ADMIN", member_type="internal", source=src(2))
    desired = sandbox.desired(users={HEIR: heir})
    desired = dataclasses.replace(
        desired,
        policy=dataclasses.replace(
            desired.policy, users="authoritative", min_admins=1, max_user_removal_ratio=1.0
        ),
    )
    async with sandbox.connect() as client:
        plan = await plan_for(client, desired)
    withheld = {r.code: r for r in plan.refusals}
    assert withheld["require-self"].addresses == (f"user:{DEFAULT_ADMIN_EMAIL}",)
    assert "is the caller" in withheld["require-self"].message
    planned = {c.address: tuple(c.actions) for c in plan.changes if c.kind == "user"}
    assert planned[f"user:{SECOND}"] == ("revoke",)  # not the caller: removed as declared
    assert f"user:{DEFAULT_ADMIN_EMAIL}" not in planned


def test_the_named_caller_takes_its_role_from_the_listing() -> None:
    users = [LiveUser(email="a@x.io", role="ADMIN"), LiveUser(email="b@x.io", role="ADMIN")]
    assert identify(True, users, "B@x.io").role == "ADMIN"
    member = identify(False, [LiveUser(email="m@x.io", role="TASKER")], "m@x.io")
    assert (member.email, member.role, member.admin) == ("m@x.io", "TASKER", False)
    assert identify(False, None, "m@x.io").role is None  # the listing refused: unknown


def test_without_user_current_two_admins_stay_unknown() -> None:
    users = [LiveUser(email="a@x.io", role="ADMIN"), LiveUser(email="b@x.io", role="ADMIN")]
    assert identify(True, users).email is None
    assert identify(True, users[:1]).email == "a@x.io"


class _Users:
    async def current(self) -> None:
        raise NotFoundError("not found: the caller")


@dataclass
class _OlderDeployment:
    """A client whose server does not serve ``user/current`` (404)."""

    users: _Users


@pytest.mark.anyio
async def test_a_deployment_without_user_current_leaves_the_email_to_the_listings() -> None:
    assert await _own_email(cast(EncordClient, _OlderDeployment(_Users()))) is None
