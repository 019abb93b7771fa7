"""Unmanaged (``plan/unmanaged.py``): the live objects no declaration names that a plan
leaves alone, every kind with a lister in its spec (``KindSpec.unmanaged``), in the plan and
in drift."""

from __future__ import annotations

import dataclasses

import pytest
from helpers.desired import OTHER, OWNER, desired_state, folder, group, src
from simulator import Dataset, Group, Org

from reconciler.drift import AuditOptions, audit, render_markdown, render_text
from reconciler.kinds import all_specs, spec_of
from reconciler.kinds.spec import UnmanagedLister
from reconciler.model.addresses import Kind
from reconciler.model.desired import OWNER_KEY, DesiredCollection, DesiredTag, DesiredUser, Policy
from reconciler.model.live import LiveCollection, LiveState, LiveTag, LiveUser
from reconciler.plan import DiffOptions, diff
from reconciler.plan.canonical import tagged


def _org() -> Org:
    org = Org()
    data = org.add_folder(None, "data", metadata={OWNER_KEY: OWNER})
    org.add_folder(data, "by-hand")
    org.groups["g1"] = Group("g1", "by-hand", description="made in the app")
    org.groups["g2"] = Group("g2", "theirs", description=tagged("x", OTHER))
    org.groups["g3"] = Group("g3", "ours-gone", description=tagged("x", OWNER))
    org.groups["g4"] = Group("g4", "declared")
    org.datasets["d1"] = Dataset("d1", "hand-set")
    return org


def test_every_kind_is_listed_and_what_prune_deletes_is_not() -> None:
    desired = desired_state(
        folders={"/data": folder("/data")}, groups={"declared": group("declared")}
    )
    plan = diff(desired, _org().live_state(desired.roots()))
    assert plan.unmanaged == (
        "dataset:hand-set",
        "folder:/data/by-hand",
        "group:by-hand",
        "group:theirs",
    )
    assert "group:ours-gone" in {c.address for c in plan.changes}  # pruned, so not listed


def test_with_prune_never_our_undeclared_group_is_unmanaged_too() -> None:
    desired = desired_state(
        folders={"/data": folder("/data")},
        groups={"declared": group("declared")},
        policy=Policy(prune="never"),
    )
    plan = diff(desired, _org().live_state(desired.roots()))
    assert "group:ours-gone" in plan.unmanaged
    assert plan.changes == ()


def test_a_cloud_synced_folders_own_dataset_follows_its_folder() -> None:
    org = _org()
    cams = org.add_folder(None, "cams", metadata={OWNER_KEY: OWNER})
    desired = desired_state(folders={"/data": folder("/data"), "/cams": folder("/cams")})
    live = org.live_state(desired.roots())
    synced = dataclasses.replace(live.folders[cams], synced_dataset_hash="d1")
    live = dataclasses.replace(live, folders={**live.folders, cams: synced})
    assert "dataset:hand-set" not in diff(desired, live).unmanaged


def test_tags_are_listed_only_when_the_config_manages_tags() -> None:
    desired = desired_state(folders={"/data": folder("/data")})
    live = _org().live_state(desired.roots())
    tags = {
        "t1": LiveTag("t1", "by-hand", "made in the app"),
        "t2": LiveTag("t2", "kept", "declared"),
        "t3": LiveTag("t3", "unknown", None),  # no description: cannot be proven ours
    }
    live = dataclasses.replace(live, organisation_tags=tags)
    assert not any(a.startswith("organisation-tag:") for a in diff(desired, live).unmanaged)
    managed = dataclasses.replace(
        desired, organisation_tags={"kept": DesiredTag(name="kept", source=folder("/x").source)}
    )
    listed = [a for a in diff(managed, live).unmanaged if a.startswith("organisation-tag:")]
    assert listed == ["organisation-tag:by-hand", "organisation-tag:unknown"]


def test_a_kind_joins_by_declaring_a_lister_in_its_spec(monkeypatch: pytest.MonkeyPatch) -> None:
    desired = desired_state(folders={"/data": folder("/data")})
    live = _org().live_state(desired.roots())
    spec = spec_of(Kind.METADATA_SCHEMA)
    assert spec.unmanaged is None
    joined = dataclasses.replace(spec, unmanaged=lambda d, lv: ("metadata-schema:left-alone",))
    monkeypatch.setattr(
        "reconciler.plan.unmanaged.all_specs",
        lambda: tuple(joined if s is spec else s for s in all_specs()),
    )
    assert "metadata-schema:left-alone" in diff(desired, live).unmanaged
    # a partial plan (apply re-planning a sync's items) lists folders alone
    partial = diff(desired, live, options=DiffOptions(item_roots=("/data",)))
    assert all(a.startswith("folder:") for a in partial.unmanaged)


def test_drift_reports_them_not_as_drift() -> None:
    desired = desired_state(
        folders={"/data": folder("/data")}, groups={"declared": group("declared")}
    )
    live = _org().live_state(desired.roots())
    report = audit(diff(desired, live), desired, live, options=AuditOptions())
    assert [(u.address, u.root) for u in report.unmanaged] == [
        ("folder:/data/by-hand", "/data"),
        ("dataset:hand-set", ""),
        ("group:by-hand", ""),
        ("group:theirs", ""),
    ]
    assert not any(d.address == "group:by-hand" for d in report.drift)
    text = render_text(report)
    assert (
        "Unmanaged: 1 folder under the declared roots, 1 dataset, 2 groups are not declared "
        "and left alone (not drift):" in text
    )
    assert "  ? group:by-hand\n" in text
    assert "Unmanaged: 1 folder under the declared roots, 1 dataset, 2 groups (not drift)." in (
        render_markdown(report)
    )


def _lister(kind: Kind) -> UnmanagedLister:
    found = spec_of(kind).unmanaged
    assert found is not None
    return found


def test_users_are_listed_when_declared_additively() -> None:
    live = LiveState(users={e: LiveUser(e) for e in ("Ann@x.com", "bob@x.com", "cy@x.com")})
    ann = DesiredUser(email="ann@x.com", role="MEMBER", source=src(3))
    users = _lister(Kind.USER)
    assert users(desired_state(), live) == ()  # no users: declared, nobody is managed
    additive = desired_state(users={"ann@x.com": ann})
    assert users(additive, live) == ("user:bob@x.com", "user:cy@x.com")
    strict = desired_state(users={"ann@x.com": ann}, policy=Policy(users="authoritative"))
    assert users(strict, live) == ()  # the others are removed, not left alone
    assert users(additive, dataclasses.replace(live, users_complete=False)) == ()


def test_collections_are_listed_unless_declared_or_ours_to_prune() -> None:
    live = LiveState(
        collection_folders={"/data": "u1"},
        collections={
            "c1": LiveCollection("c1", "/data", "by-hand"),
            "c2": LiveCollection("c2", "/data", "old-name"),
            "c3": LiveCollection("c3", "/data", "ours", tagged("x", OWNER)),
            "c4": LiveCollection("c4", "/elsewhere", "not-listed"),
        },
    )
    renamed = DesiredCollection(name="new", folder="/data", previously=("old-name",), source=src(4))
    desired = desired_state(collections={"new": renamed})
    collections = _lister(Kind.COLLECTION)
    assert collections(desired, live) == ("collection:by-hand",)
    kept = dataclasses.replace(desired, policy=Policy(prune="never"))
    assert collections(kept, live) == ("collection:by-hand", "collection:ours")
