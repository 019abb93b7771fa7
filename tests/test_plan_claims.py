"""Adopt and release (``plan/claims.py``): ``adopt: true`` puts our ownership marker on a
declared live object something else made, ``release: true`` takes ours off; both are actions
of their own, planned only when they change something, and an object another config owns is
adopted only with --takeover."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from helpers.desired import OTHER, OWNER, desired_state, folder, group, src
from simulator import Group, Org

from reconciler.config import load_config
from reconciler.drift import AuditOptions, audit
from reconciler.drift import render_text as drift_text
from reconciler.drift.document import dumps as drift_dumps
from reconciler.drift.schema import drift_schema
from reconciler.errors import ReconcilerError
from reconciler.model.desired import OWNER_KEY, CloudSync, DesiredState, SyncMode
from reconciler.plan import DiffOptions, diff, dumps, loads, render_markdown, render_text
from reconciler.plan.actions import Action
from reconciler.plan.canonical import tagged
from reconciler.plan.document import plan_document

OURS = {OWNER_KEY: OWNER}


def _org_with_hand_made_folder() -> Org:
    org = Org()
    data = org.add_folder(None, "data", metadata={"team": "ml"})
    org.add_folder(data, "raw")
    return org


def test_adopt_marks_an_unowned_declared_folder_as_ours_and_nothing_else() -> None:
    org = _org_with_hand_made_folder()
    desired = desired_state(folders={"/data": folder("/data", claim="adopt")})
    plan = diff(desired, org.live_state(desired.roots()))
    (change,) = plan.changes
    assert (change.address, change.actions) == ("folder:/data", (Action.ADOPT,))
    assert change.after is not None and change.after["metadata"] == {"team": "ml", **OURS}
    assert [(d.path, d.op) for d in change.diff] == [(("metadata", OWNER_KEY), "add")]
    assert "adopt" in change.reason
    assert "~ folder:/data (adopt: becomes ours)  [folders.yaml:10]" in render_text(plan)
    assert "~ folder:/data (adopt: becomes ours)  metadata." in render_markdown(plan)
    # /data/raw is not declared: never adopted, listed as unmanaged
    assert plan.unmanaged == ("folder:/data/raw",)


def test_adopt_with_a_declared_edit_is_one_patch_and_adopt_change() -> None:
    org = _org_with_hand_made_folder()
    desired = desired_state(
        folders={"/data": folder("/data", claim="adopt", description="All data")}
    )
    (change,) = diff(desired, org.live_state(desired.roots())).changes
    assert change.actions == (Action.PATCH, Action.ADOPT)
    assert {d.path for d in change.diff} == {("description",), ("metadata", OWNER_KEY)}


def test_adopting_what_is_ours_or_releasing_what_is_not_changes_nothing() -> None:
    org = Org()
    org.add_folder(None, "ours", metadata=OURS)
    org.add_folder(None, "hand")
    desired = desired_state(
        folders={"/ours": folder("/ours", claim="adopt"), "/hand": folder("/hand", claim="release")}
    )
    assert diff(desired, org.live_state(desired.roots())).changes == ()


def test_release_takes_our_marker_off_and_the_released_folder_then_survives_removal() -> None:
    org = Org()
    proj = org.add_folder(None, "proj", metadata=OURS)
    kept = org.add_folder(proj, "kept", metadata={**OURS, "team": "ml"})
    both = {"/proj": folder("/proj"), "/proj/kept": folder("/proj/kept", claim="release")}
    desired = desired_state(folders=both)
    (change,) = diff(desired, org.live_state(desired.roots())).changes
    assert change.actions == (Action.RELEASE,)
    assert change.after is not None and change.after["metadata"] == {"team": "ml"}
    assert not change.is_destructive
    # applied: the marker is gone; then the declaration is removed
    org.folders[kept].metadata = {"team": "ml"}
    rest = desired_state(folders={"/proj": folder("/proj")})
    plan = diff(rest, org.live_state(rest.roots()))
    assert plan.changes == ()
    assert plan.unmanaged == ("folder:/proj/kept",)
    # while our marker was on it, the same removal would have deleted it
    org.folders[kept].metadata = {**OURS, "team": "ml"}
    owned = diff(rest, org.live_state(rest.roots()))
    assert [(c.address, c.actions) for c in owned.changes] == [
        ("folder:/proj/kept", (Action.DELETE,))
    ]


def test_a_folder_created_released_carries_no_marker() -> None:
    desired = desired_state(folders={"/new": folder("/new", claim="release")})
    (change,) = diff(desired, Org().live_state(desired.roots())).changes
    assert change.actions == (Action.CREATE,)
    assert change.after is not None and OWNER_KEY not in change.after["metadata"]


def test_groups_are_adopted_and_released_through_their_description_tag() -> None:
    org = Org()
    org.groups["g1"] = Group("g1", "hand", description="made by hand")
    org.groups["g2"] = Group("g2", "ours", description=tagged("ours", OWNER))
    org.users["a@example.com"] = "MEMBER"
    desired = desired_state(
        groups={
            "hand": group("hand", claim="adopt"),
            "ours": group("ours", claim="release", members=("a@example.com",)),
        }
    )
    plan = diff(desired, org.live_state(desired.roots()))
    by = {c.address: c for c in plan.changes}
    assert by["group:hand"].actions == (Action.ADOPT,)
    assert by["group:hand"].after["description"] == tagged("made by hand", OWNER)  # type: ignore[index]
    assert by["group:ours"].actions == (Action.PATCH, Action.RELEASE)
    assert by["group:ours"].after["description"] == "ours"  # type: ignore[index]


def _foreign() -> tuple[Org, DesiredState]:
    org = Org()
    theirs = org.add_folder(None, "theirs", metadata={OWNER_KEY: OTHER})
    org.groups["g1"] = Group("g1", "crew", description=tagged("crew", OTHER))
    org.folder_groups[theirs] = {"g1": "user"}
    desired = desired_state(
        folders={"/theirs": folder("/theirs", claim="adopt", groups={"crew": "admin"})},
        groups={"crew": group("crew", claim="adopt")},
    )
    return org, desired


def test_adopting_what_another_config_owns_is_withheld_without_takeover() -> None:
    org, desired = _foreign()
    plan = diff(desired, org.live_state(desired.roots()))
    assert plan.changes == ()
    refusals = {r.addresses[-1]: r for r in plan.refusals}  # the object, after its relations
    assert set(refusals) == {"folder:/theirs", "group:crew"}
    assert all(r.code == "takeover" and r.withheld for r in refusals.values())
    assert "--takeover" in refusals["folder:/theirs"].message
    assert "someone-else" in refusals["folder:/theirs"].message
    # the grant on the folder goes with it: nothing of a foreign object leaks through
    assert refusals["folder:/theirs"].count == 2


def test_takeover_adopts_it_and_lets_its_other_changes_through() -> None:
    org, desired = _foreign()
    live = org.live_state(desired.roots())
    plan = diff(desired, live, options=DiffOptions(takeover=True))
    shapes = {(c.address, c.actions) for c in plan.changes}
    assert ("folder:/theirs", (Action.ADOPT,)) in shapes
    assert ("group:crew", (Action.ADOPT,)) in shapes
    assert any(a.startswith("folder-group:/theirs") for a, _ in shapes)
    assert plan.refusals == ()
    assert plan.takeover
    folder_change = next(c for c in plan.changes if c.address == "folder:/theirs")
    assert folder_change.after["metadata"] == OURS  # type: ignore[index]
    assert "someone-else" in folder_change.reason
    # recorded in the document (and so in the checksum), read back by a saved plan
    assert plan_document(plan)["takeover"] is True
    assert loads(dumps(plan)).takeover


def test_a_plan_without_takeover_has_no_takeover_key() -> None:
    desired = desired_state(folders={"/x": folder("/x")})
    assert "takeover" not in plan_document(diff(desired, Org().live_state(desired.roots())))


def _config(tmp_path: Path, body: str) -> Path:
    (tmp_path / "reconciler.yaml").write_text(
        "version: 1\ntarget: {sandbox: {path: s.sqlite}}\nownership: {id: acme}\n"
    )
    (tmp_path / "main.yaml").write_text(body)
    return tmp_path


def test_the_yaml_keys_load_as_claims(tmp_path: Path) -> None:
    body = "folders:\n  /a: {adopt: true}\n  /b: {release: true}\ngroups:\n  g: {adopt: true}\n"
    desired = load_config(_config(tmp_path, body), env={})
    assert desired.folders["/a"].claim == "adopt"
    assert desired.folders["/b"].claim == "release"
    assert desired.groups["g"].claim == "adopt"


@pytest.mark.parametrize(
    ("body", "where", "says"),
    [
        ("folders:\n  /a: {adopt: true, release: true}\n", "main.yaml:2:", "undo each other"),
        ("groups:\n  g:\n    adopt: true\n    release: true\n", "main.yaml:4:5", "undo each other"),
        ("datasets:\n  d: {adopt: true}\n", "main.yaml:2:", "cannot be adopted"),
        ("datasets:\n  d: {release: true}\n", "main.yaml:2:", "needs no release"),
    ],
)
def test_claims_that_cannot_be_made_are_one_line_each(
    tmp_path: Path, body: str, where: str, says: str
) -> None:
    with pytest.raises(ReconcilerError) as raised:
        load_config(_config(tmp_path, body), env={})
    text = str(raised.value)
    assert where in text and says in text
    assert json.dumps(text).count("\\n") <= 1


def test_drift_reports_a_pending_claim_and_says_what_apply_would_do() -> None:
    org = _org_with_hand_made_folder()
    kept = org.add_folder(None, "kept", metadata=OURS)
    desired = desired_state(
        folders={"/data": folder("/data", claim="adopt"), "/kept": folder("/kept", claim="release")}
    )
    live = org.live_state(desired.roots())
    report = audit(diff(desired, live), desired, live, options=AuditOptions())
    by = {d.address: d for d in report.drift}
    assert by["folder:/data"].summary.startswith("declared adopt: true, not ours yet")
    assert by["folder:/data"].actions == (Action.ADOPT,)
    assert by["folder:/kept"].summary.startswith("declared release: true, still ours")
    assert kept in org.folders  # an audit changes nothing
    doc = json.loads(drift_dumps(report))  # the document (schema) carries the new action
    jsonschema.validate(doc, drift_schema())
    assert ["adopt"] in [d["actions"] for d in doc["drift"]]
    assert "  ~ changed    folder:/data  [folders.yaml:10]\n        declared adopt: true" in (
        drift_text(report)
    )


def _synced(sync: SyncMode) -> tuple[DesiredState, Org]:
    org = Org()
    org.integrations["int-1"] = "s3-raw"
    org.add_folder(
        None, "cams", folder_type="cloudLinked", integration_uuid="int-1", remote_url="s3://b/c/"
    )
    cloud = CloudSync(integration="s3-raw", remote_url="s3://b/c/", sync=sync, source=src(9))
    desired = desired_state(folders={"/cams": folder("/cams", claim="adopt", cloud_sync=cloud)})
    return desired, org


def test_a_routine_sync_always_waits_for_the_next_plan_when_a_folder_is_adopted() -> None:
    desired, org = _synced("always")
    (change,) = diff(desired, org.live_state(desired.roots())).changes
    assert change.actions == (Action.ADOPT,)


def test_a_folder_a_stopped_run_never_synced_is_synced_and_its_claim_waits() -> None:
    desired, org = _synced("on_create")
    live = org.live_state(desired.roots())
    options = DiffOptions(unsynced=("folder:/cams",))
    (change,) = diff(desired, live, options=options).changes
    assert change.actions == (Action.SYNC,)
