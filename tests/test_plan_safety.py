"""The safety filters: one list, applied in full by ``screen``, each with a case that it
withholds (the change leaves the plan) or refuses (the change stays; the plan needs
--force). Each case is also planned without its filter, to show the refusal is that filter's
and that nothing else would have caught it."""

from __future__ import annotations

import dataclasses
import importlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers.desired import desired_state, folder, src
from simulator import Collection, Dataset, Org

from reconciler.config import load_config
from reconciler.live import Scope
from reconciler.model.desired import (
    OWNER_KEY,
    CloudSync,
    DesiredDataset,
    DesiredState,
    ItemSelector,
    MetadataRule,
    Policy,
)
from reconciler.model.live import Caller, LiveState
from reconciler.plan import DiffOptions, Plan, diff
from reconciler.plan.canonical import tagged
from reconciler.plan.safety import FILTERS, filters

GOLDEN = Path(__file__).parent / "golden"
DIFF = importlib.import_module("reconciler.plan.diff")  # the module; ``plan.diff`` is the function
OURS = {OWNER_KEY: "acme"}

Case = Callable[[], tuple[DesiredState, LiveState]]


def _golden(name: str) -> Case:
    def load() -> tuple[DesiredState, LiveState]:
        root = GOLDEN / name
        live = LiveState.from_json(json.loads((root / "live.json").read_text()))
        return load_config(root / "config", env={}), live

    return load


def _empty_selector() -> tuple[DesiredState, LiveState]:
    """``unlink: all`` with a selector on an existing folder that matches no item."""
    org = Org()
    data = org.add_folder(None, "data", metadata=OURS)
    org.add_folder(data, "empty", metadata=OURS)
    item = org.add_item(data, "a.jpg")
    org.datasets["d1"] = Dataset("d1", "train", description=tagged("", "acme"))
    org.datasets["d1"].rows["h1"] = item
    selector = ItemSelector(folder="/data/empty", source=src(5, "datasets.yaml"))
    desired = desired_state(
        folders={"/data": folder("/data"), "/data/empty": folder("/data/empty")},
        datasets={
            "train": DesiredDataset(
                title="train", items=(selector,), unlink="all", source=src(4, "datasets.yaml")
            )
        },
    )
    return desired, org.live_state(desired.roots())


def _unsupported() -> tuple[DesiredState, LiveState]:
    org = Org()
    org.datasets["d1"] = Dataset("d1", "train", description=tagged("old words", "acme"))
    desired = desired_state(
        datasets={
            "train": DesiredDataset(
                title="train", description="new words", source=src(7, "datasets.yaml")
            )
        }
    )
    return desired, org.live_state(desired.roots())


def _unreadable() -> tuple[DesiredState, LiveState]:
    """A rule writes metadata on an item whose live metadata could not be read."""
    org = Org()
    data = org.add_folder(None, "data", metadata=OURS)
    org.add_item(data, "a.jpg")
    rule = MetadataRule(folder="/data", metadata={"split": "train"}, source=src(3, "items.yaml"))
    desired = desired_state(folders={"/data": folder("/data")}, rules=(rule,))
    live = org.live_state(desired.roots())
    items = {u: dataclasses.replace(i, metadata_unreadable=True) for u, i in live.items.items()}
    return desired, dataclasses.replace(live, items=items)


def _unlinks() -> tuple[DesiredState, LiveState]:
    """Half of a dataset's links planned away, with ``max_unlink_ratio`` at a quarter."""
    org = Org()
    data = org.add_folder(None, "data", metadata=OURS)
    org.datasets["d1"] = Dataset("d1", "train", description=tagged("", "acme"))
    for n in range(4):
        org.datasets["d1"].rows[f"h{n}"] = org.add_item(data, f"{n}.jpg")
    selector = ItemSelector(
        paths=frozenset({"/data/0.jpg", "/data/1.jpg"}), source=src(5, "datasets.yaml")
    )
    desired = desired_state(
        folders={"/data": folder("/data")},
        datasets={
            "train": DesiredDataset(
                title="train", items=(selector,), unlink="all", source=src(4, "datasets.yaml")
            )
        },
        policy=Policy(min_existing=1, max_unlink_ratio=0.25),
    )
    return desired, org.live_state(desired.roots())


def _takeover() -> tuple[DesiredState, LiveState]:
    """``adopt: true`` on a folder another config owns, planned without --takeover."""
    org = Org()
    org.add_folder(None, "theirs", metadata={OWNER_KEY: "someone-else"})
    desired = desired_state(folders={"/theirs": folder("/theirs", claim="adopt")})
    return desired, org.live_state(desired.roots())


def _collections_inside() -> tuple[DesiredState, LiveState]:
    """A top-level folder to be replaced (made cloud-synced) holds a collection made by hand."""
    org = Org()
    org.integrations["int-1"] = "s3-raw"
    raw = org.add_folder(None, "raw", metadata=OURS)
    org.collections["k1"] = Collection("k1", raw, "curated", "by hand")
    sync = CloudSync(integration="s3-raw", remote_url="s3://bucket/raw/", source=src(9))
    desired = desired_state(
        folders={"/raw": folder("/raw", cloud_sync=sync)}, policy=Policy(allow_replace=True)
    )
    return desired, org.live_state(desired.roots(), scope=Scope.from_desired(desired))


def _invisible_root() -> tuple[DesiredState, LiveState]:
    """A member key that cannot list the organisation creates a top-level folder."""
    desired = desired_state(folders={"/fresh": folder("/fresh")})
    live = Org().live_state(desired.roots())
    member = Caller(email="bob@example.com", role="MEMBER", admin=False)
    return desired, dataclasses.replace(live, caller=member)


def _org_users(
    drop: str = "", admin: str = "", **policy: Any
) -> Callable[[], tuple[DesiredState, LiveState]]:
    """The ``org-users`` golden case: its undeclared user removed (authoritative), one
    user re-roled, one added; ``drop`` leaves a declared user out, ``admin`` makes a live
    user an organisation admin (declared as one, if declared), ``policy`` overrides the
    golden's policy."""

    def load() -> tuple[DesiredState, LiveState]:
        desired, live = _golden("org-users")()
        users = {e: u for e, u in desired.users.items() if e != drop}
        if admin in users:
            users[admin] = dataclasses.replace(users[admin], role="ADMIN")
        changed = dataclasses.replace(desired.policy, **policy)
        desired = dataclasses.replace(desired, users=users, policy=changed)
        if admin:
            promoted = dataclasses.replace(live.users[admin], role="ADMIN")
            live = dataclasses.replace(live, users={**live.users, admin: promoted})
        return desired, live

    return load


# filter name -> (a case, the refusal code it gives)
CASES: dict[str, tuple[Case, str]] = {
    "selector-unlinks": (_empty_selector, "selector-unlink"),
    "ambiguous": (_golden("ambiguous-path"), "ambiguous-path"),
    "takeover": (_takeover, "takeover"),
    "foreign": (_golden("foreign-owned-untouched"), "foreign-owned"),
    "protected": (_golden("protect"), "protected"),
    "collections-inside": (_collections_inside, "collections-inside"),
    "unsupported": (_unsupported, "unsupported"),
    "unreadable-metadata": (_unreadable, "unreadable-metadata"),
    "lost-admin": (_golden("last-admin"), "no-admin"),
    "min-admins": (_org_users(admin="dave@example.com", min_admins=2), "min-admins"),
    "require-self": (
        _org_users(drop="boss@example.com", admin="alice@example.com"),
        "require-self",
    ),
    "unsafe-listing": (_golden("empty-read-guard"), "listing-guard"),
    "replacements": (_golden("cloud-sync-replace-refused"), "replace"),
    "thresholds": (_golden("threshold-exceeded"), "delete-threshold"),
    "unlinks": (_unlinks, "unlink-threshold"),
    "invisible-roots": (_invisible_root, "invisible-root"),
    "user-removals": (_org_users(max_user_removal_ratio=0.1), "user-removal-threshold"),
    "user-rerole": (_org_users(allow_user_rerole=False), "user-rerole"),
}


def test_every_filter_has_a_case_and_every_case_a_filter() -> None:
    assert [f.name for f in FILTERS] == list(CASES)


def test_withholding_filters_all_run_before_refusing_ones() -> None:
    verbs = [f.verb for f in FILTERS]
    assert verbs == sorted(verbs, key=lambda v: v == "refuse")


@pytest.mark.parametrize("name", list(CASES))
def test_each_filter_withholds_or_refuses_its_case(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    case, code = CASES[name]
    (spec,) = [f for f in FILTERS if f.name == name]
    desired, live = case()
    plan = diff(desired, live)
    found = [r for r in plan.refusals if r.code == code]
    assert found, f"{name}: no {code} refusal in {[r.code for r in plan.refusals]}"
    assert all(r.withheld == (spec.verb == "withhold") for r in found)
    named = {a for r in found for a in r.addresses}
    planned = {c.address for c in plan.changes}
    if spec.verb == "refuse":
        assert named <= planned  # refused changes stay in the plan
    else:
        assert not (named & planned)  # withheld changes are gone
    without = tuple(f for f in FILTERS if f.name != name)
    monkeypatch.setattr(filters, "FILTERS", without)
    # Without ``unsupported`` the plan would hold a change apply cannot make; let it through.
    monkeypatch.setattr(DIFF, "odd_shapes", lambda changes: [])
    unfiltered = diff(desired, live)
    said = {(r.code, r.message) for r in found}
    assert said - {(r.code, r.message) for r in unfiltered.refusals}  # this filter's refusal
    if spec.verb == "withhold":
        # Without the filter, what it withheld would have been planned.
        assert {c.address for c in unfiltered.changes} > planned


def test_a_change_withheld_first_is_explained_once() -> None:
    """A dataset another config owns, whose description the API cannot change anyway, is
    withheld as foreign (the first reason), and ``unsupported`` does not see it."""
    org = Org()
    org.datasets["d1"] = Dataset("d1", "train", description=tagged("old words", "theirs"))
    desired = desired_state(
        datasets={
            "train": DesiredDataset(
                title="train", description="new words", source=src(7, "datasets.yaml")
            )
        }
    )
    plan: Plan = diff(desired, org.live_state(desired.roots()))
    assert plan.changes == ()
    assert [(r.code, r.count) for r in plan.refusals] == [("foreign-owned", 1)]


def test_refusing_filters_judge_only_what_only_keeps() -> None:
    desired, live = _golden("threshold-exceeded")()
    assert any(r.code == "delete-threshold" for r in diff(desired, live).refusals)
    # An --only matching nothing leaves nothing to count: no threshold refusal.
    narrow = diff(desired, live, options=DiffOptions(only=("group:none",)))
    assert narrow.changes == () and narrow.refusals == ()
