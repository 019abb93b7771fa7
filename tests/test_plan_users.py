"""Organisation users in the planner: adds, re-roles (one change, revoke then grant, that
takes the user out of every group and dataset), authoritative removals, and the guards
(require-self, min-admins, the removal ratio, re-roles refused unless allowed)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from reconciler.config import load_config
from reconciler.drift import DriftKind, audit
from reconciler.kinds.user import UserPayload
from reconciler.model.desired import DesiredDataset, DesiredState, DesiredUser
from reconciler.model.live import Caller, LiveDataset, LiveState
from reconciler.plan import DiffOptions, Plan, can_apply, diff
from reconciler.plan.actions import Action

GOLDEN = Path(__file__).parent / "golden" / "org-users"


def _case(**policy: Any) -> tuple[DesiredState, LiveState]:
    desired = load_config(GOLDEN / "config", env={})
    desired = dataclasses.replace(desired, policy=dataclasses.replace(desired.policy, **policy))
    live = LiveState.from_json(json.loads((GOLDEN / "live.json").read_text()))
    return desired, live


def _actions(plan: Plan) -> dict[str, tuple[str, ...]]:
    return {c.address: tuple(c.actions) for c in plan.changes if c.kind == "user"}


def _codes(plan: Plan) -> dict[str, tuple[str, ...]]:
    return {r.code: r.addresses for r in plan.refusals}


def test_adds_rerolls_and_removes_with_group_places_depending_on_users() -> None:
    plan = diff(*_case())
    assert _actions(plan) == {
        "user:dave@example.com": ("revoke",),
        "user:bob@example.com": ("revoke", "grant"),
        "user:newbie@example.com": ("grant",),
    }
    (group,) = [c for c in plan.changes if c.kind == "group"]
    # bob is in the group live, but the re-role takes him out: the group puts him back.
    assert "bob@example.com" not in group.before["members"]  # type: ignore[index]
    assert group.depends_on == ("user:bob@example.com", "user:newbie@example.com")
    assert not plan.refusals and can_apply(plan)


def test_additive_users_never_remove() -> None:
    plan = diff(*_case(users="additive"))
    assert "user:dave@example.com" not in _actions(plan)


def test_a_rerole_is_refused_unless_allowed_or_forced() -> None:
    desired, live = _case(allow_user_rerole=False)
    plan = diff(desired, live)
    assert _codes(plan) == {"user-rerole": ("user:bob@example.com",)}
    assert "user:bob@example.com" in _actions(plan)  # refused, not withheld
    assert not can_apply(plan)
    assert can_apply(diff(desired, live, options=DiffOptions(force=True)))
    message = plan.refusals[0].message
    assert "removes each from the organisation and adds them again" in message
    assert "policy.allow_user_rerole: true or use --force" in message


def _promote_newbie(desired: DesiredState, **users: DesiredUser) -> DesiredState:
    """newbie is added as an admin, so removing or demoting one admin keeps one."""
    newbie = dataclasses.replace(
        desired.users["newbie@example.com"], role="ADMIN", member_type="internal"
    )
    return dataclasses.replace(desired, users={**desired.users, newbie.email: newbie, **users})


def test_an_unknown_caller_keeps_every_admin() -> None:
    desired, live = _case()
    desired = _promote_newbie(desired)
    desired = dataclasses.replace(
        desired, users={e: u for e, u in desired.users.items() if e != "boss@example.com"}
    )
    live = dataclasses.replace(live, caller=Caller(admin=True, role="ADMIN"))
    plan = diff(desired, live)
    assert _codes(plan)["require-self"] == ("user:boss@example.com",)
    assert "may be the caller" in plan.refusals[0].message
    assert "user:dave@example.com" in _actions(plan)  # a tasker cannot be the admin caller


def test_demoting_the_caller_is_withheld_with_its_group_place() -> None:
    desired, live = _case()
    boss = dataclasses.replace(desired.users["boss@example.com"], role="MEMBER")
    plan = diff(_promote_newbie(desired, **{boss.email: boss}), live)
    assert _codes(plan)["require-self"] == ("user:boss@example.com",)
    assert "is the caller" in plan.refusals[0].message
    assert "user:boss@example.com" not in _actions(plan)


def test_leaving_no_admin_is_withheld_before_anything_else() -> None:
    desired, live = _case()
    boss = dataclasses.replace(desired.users["boss@example.com"], role="MEMBER")
    plan = diff(dataclasses.replace(desired, users={**desired.users, boss.email: boss}), live)
    assert _codes(plan) == {"min-admins": ("user:boss@example.com",)}
    assert "would leave 0 organisation admins of 1" in plan.refusals[0].message


def test_min_admins_counts_promotions() -> None:
    desired, live = _case(min_admins=2)
    dave = dataclasses.replace(live.users["dave@example.com"], role="ADMIN")
    live = dataclasses.replace(live, users={**live.users, dave.email: dave})
    plan = diff(_promote_newbie(desired), live)  # dave leaves, newbie arrives: still two
    assert "min-admins" not in _codes(plan)
    assert _actions(plan)["user:dave@example.com"] == ("revoke",)


def test_an_unread_users_listing_plans_no_user_change() -> None:
    desired, live = _case()
    plan = diff(desired, dataclasses.replace(live, users={}, users_complete=False))
    assert not _actions(plan)
    assert [r.code for r in plan.refusals] == ["listing-guard"]
    assert "users listing could not be read" in plan.refusals[0].message


def test_a_removed_users_reason_names_what_the_api_takes_away() -> None:
    desired, live = _case()
    dataset = LiveDataset(uuid="d1", title="train", users={"Dave@example.com": "user"})
    plan = diff(desired, dataclasses.replace(live, datasets={"d1": dataset}))
    (removal,) = [c for c in plan.changes if c.address == "user:dave@example.com"]
    assert "group 'annotators', dataset 'train'" in removal.reason
    assert removal.source == "reconciler.yaml:7"  # where policy.users says authoritative


def test_a_rerole_takes_the_user_off_datasets_and_grants_back_the_declared_role() -> None:
    desired, live = _case()
    dataset = LiveDataset(uuid="d1", title="train", users={"bob@example.com": "user"})
    live = dataclasses.replace(live, datasets={"d1": dataset})
    train = DesiredDataset(title="train", users={"bob@example.com": "user"}, source=desired.source)
    config = dataclasses.replace(desired, datasets={"train": train})
    plan = diff(config, live)
    (grant,) = [c for c in plan.changes if c.kind == "dataset-user"]
    assert grant.actions == (Action.GRANT,)
    assert grant.depends_on == ("user:bob@example.com",)


def test_a_user_payload_reads_back_from_plan_json() -> None:
    plan = diff(*_case())
    (removal,) = [c for c in plan.changes if c.address == "user:dave@example.com"]
    assert UserPayload.of(removal.before.encode()) == removal.before  # type: ignore[union-attr]
    assert UserPayload.of(None) is None


def test_drift_reads_users_added_removed_and_reroled_out_of_band() -> None:
    desired, live = _case()
    report = audit(diff(desired, live), desired, live)
    found = {d.address: (d.kind, d.check, d.source, d.summary) for d in report.drift}
    assert found["user:newbie@example.com"] == (
        DriftKind.MEMBERSHIP,
        "user:newbie@example.com",
        "users.yaml:5",
        "declared, not a member of the organisation (apply would add them)",
    )
    assert found["user:bob@example.com"][3] == (
        "MEMBER (internal) in Encord; declared WORKFORCE_MANAGER (internal) (apply would "
        "remove and re-add them)"
    )
    kind, check, source, summary = found["user:dave@example.com"]
    assert (kind, check, source) == (DriftKind.MEMBERSHIP, "policy:prune", "reconciler.yaml:7")
    assert summary == "TASKER (external) in Encord; not declared (apply would remove them)"
    assert "user:boss@example.com" in {c.id for c in report.checks}


def test_only_a_group_keeps_the_users_it_needs() -> None:
    plan = diff(*_case(), options=DiffOptions(only=("group:*",)))
    assert {c.address for c in plan.changes} == {
        "group:annotators",
        "user:bob@example.com",
        "user:newbie@example.com",
    }
