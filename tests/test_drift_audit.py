"""``reconciler.drift.audit``: a plan read as an audit, on hand-built live states.

The desired state comes from real YAML (so ``file:line`` is what a user sees); the live state
is built here. Each kind of drift is asserted on the right object, with its fields written
live → declared and the check (declared object) it fails.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from drift_data.kit import (
    MAIN,
    MINE,
    OWNER,
    SETTINGS,
    Org,
    desired_from,
    in_sync_org,
    report_for,
)

from reconciler.drift import Drift, DriftKind, DriftReport, audit
from reconciler.model.desired import OWNER_KEY, ownership_tag
from reconciler.model.live import (
    LiveFolder,
    LiveIntegration,
    LiveState,
)
from reconciler.plan import diff
from reconciler.plan.model import FieldDiff


def only_entry(report: DriftReport) -> Drift:
    assert len(report.drift) == 1, [(d.kind, d.address) for d in report.drift]
    return report.drift[0]


def fields(entry: Drift) -> dict[str, tuple[Any, Any]]:
    return {".".join(map(str, f.path)): (f.before, f.after) for f in entry.fields}


def test_an_organisation_that_matches_has_no_drift_and_every_check_passes(
    tmp_path: Path,
) -> None:
    desired = desired_from(tmp_path)
    report = report_for(desired, in_sync_org())
    assert report.in_sync and report.drift == () and report.unmanaged == ()
    assert report.refusals == () and report.problems == ()
    assert [c.id for c in report.checks] == [
        "group:annotators",
        "folder:/drift",
        "folder-group:/drift#annotators",
        "folder:/drift/archive",
        "folder:/drift/archive/2023",
        "folder:/drift/cams",
        "dataset:cams",
        "links:cams",
        "rule:/drift/cams",
        "policy:prune",
    ]
    sources = {c.id: c.source for c in report.checks}
    assert sources["folder:/drift/cams"] == "main.yaml:9"
    assert sources["folder-group:/drift#annotators"] == "main.yaml:8"
    assert sources["rule:/drift/cams"] == "main.yaml:16"
    assert sources["links:cams"] == "main.yaml:22"
    assert sources["policy:prune"] == "reconciler.yaml:1"


def test_a_changed_description_is_changed_drift_with_live_and_declared(tmp_path: Path) -> None:
    org = in_sync_org().folder("/drift/cams", "edited by hand", **MINE)
    entry = only_entry(report_for(desired_from(tmp_path), org))
    assert (entry.kind, entry.address, entry.check) == (
        DriftKind.CHANGED,
        "folder:/drift/cams",
        "folder:/drift/cams",
    )
    assert entry.source == "main.yaml:10"  # the description line itself
    assert fields(entry) == {"description": ("edited by hand", "cameras")}


def test_a_missing_folder_is_missing_drift(tmp_path: Path) -> None:
    org = in_sync_org()
    del org.folders["/drift/archive/2023"]
    entry = only_entry(report_for(desired_from(tmp_path), org))
    assert (entry.kind, entry.address, entry.source) == (
        DriftKind.MISSING,
        "folder:/drift/archive/2023",
        "main.yaml:13",
    )
    assert fields(entry)["exists"] == (False, True)
    assert fields(entry)["description"] == (None, "last year")


def test_a_revoked_grant_is_access_drift_on_the_grant(tmp_path: Path) -> None:
    org = in_sync_org()
    org.grants.clear()
    entry = only_entry(report_for(desired_from(tmp_path), org))
    assert (entry.kind, entry.address, entry.check) == (
        DriftKind.ACCESS,
        "folder-group:/drift#annotators",
        "folder-group:/drift#annotators",
    )
    assert entry.fields == (FieldDiff(("role",), "add", None, "admin"),)
    assert entry.summary == "no role in Encord; declared admin"


def test_a_role_changed_by_hand_and_an_extra_grant_are_access_drift(tmp_path: Path) -> None:
    org = in_sync_org().group("outsiders").grant("/drift", "annotators", "user")
    org.grant("/drift", "outsiders", "admin")
    report = report_for(desired_from(tmp_path), org)
    by_address = {d.address: d for d in report.drift}
    assert set(by_address) == {"folder-group:/drift#annotators", "folder-group:/drift#outsiders"}
    changed = by_address["folder-group:/drift#annotators"]
    assert fields(changed) == {"role": ("user", "admin")}
    extra = by_address["folder-group:/drift#outsiders"]
    assert extra.kind is DriftKind.ACCESS and fields(extra) == {"role": ("admin", None)}
    assert extra.check == "folder:/drift"  # the folder's authoritative groups map


def test_group_members_differ_is_membership_drift(tmp_path: Path) -> None:
    org = in_sync_org()
    tag = ownership_tag(OWNER)
    org.group("annotators", "bob@example.com", description=f"People who label {tag}")
    org_state_users = org.state().users
    assert "bob@example.com" not in org_state_users  # bob is a plain member, not an admin
    entry = only_entry(report_for(desired_from(tmp_path), org))
    assert (entry.kind, entry.address, entry.source) == (
        DriftKind.MEMBERSHIP,
        "group:annotators",
        "main.yaml:2",
    )
    assert "declared but not members: ada@example.com" in entry.summary
    assert "members not declared: bob@example.com" in entry.summary


def test_changed_item_metadata_is_metadata_drift_failing_its_rule(tmp_path: Path) -> None:
    org = in_sync_org().item("/drift/cams/img-1.jpg", split="test", other=1)
    entry = only_entry(report_for(desired_from(tmp_path), org))
    assert (entry.kind, entry.address, entry.check, entry.source) == (
        DriftKind.METADATA,
        "item:/drift/cams/img-1.jpg",
        "rule:/drift/cams",
        "main.yaml:16",
    )
    assert fields(entry) == {"metadata.split": ("test", "train")}


def test_an_unlinked_item_is_links_drift(tmp_path: Path) -> None:
    org = in_sync_org()
    tag = ownership_tag(OWNER)
    org.dataset("cams", f"camera images {tag}", linked=["/drift/cams/img-0.jpg"])
    report = report_for(desired_from(tmp_path), org)
    assert [(d.kind, d.address, d.check) for d in report.drift] == [
        (DriftKind.LINKS, "link:cams#/drift/cams/img-1.jpg", "links:cams"),
        (DriftKind.LINKS, "link:cams#/drift/cams/img-2.jpg", "links:cams"),
    ]
    assert fields(report.drift[0]) == {"linked": (False, True)}


def test_an_extra_owned_folder_is_extra_drift_with_its_items_folded_in(tmp_path: Path) -> None:
    org = in_sync_org().folder("/drift/leftover", "", **MINE)
    org.folder("/drift/leftover/deep", "", **MINE).item("/drift/leftover/a.jpg").item(
        "/drift/leftover/deep/b.jpg"
    )
    report = report_for(desired_from(tmp_path), org)
    entry = only_entry(report)
    assert (entry.kind, entry.address, entry.check, entry.source) == (
        DriftKind.EXTRA,
        "folder:/drift/leftover",
        "policy:prune",
        None,
    )
    assert fields(entry) == {"exists": (True, False)}
    assert set(entry.related) == {
        "folder:/drift/leftover/deep",
        "item:/drift/leftover/a.jpg",
        "item:/drift/leftover/deep/b.jpg",
    }
    assert report.unmanaged == ()


def test_an_undeclared_folder_not_ours_is_unmanaged_not_drift(tmp_path: Path) -> None:
    org = in_sync_org().folder("/drift/hand-made", "made by a person")
    org.item("/drift/hand-made/x.jpg").folder("/drift/hand-made/sub").item(
        "/drift/hand-made/sub/y.jpg"
    )
    report = report_for(desired_from(tmp_path), org)
    assert report.in_sync
    assert [(u.address, u.root, u.items) for u in report.unmanaged] == [
        ("folder:/drift/hand-made", "/drift", 2)
    ]


def test_with_prune_never_even_our_own_leftovers_are_unmanaged(tmp_path: Path) -> None:
    settings = SETTINGS.replace("prune: owned", "prune: never")
    org = in_sync_org().folder("/drift/leftover", "", **MINE)
    report = report_for(desired_from(tmp_path, settings=settings), org)
    assert report.in_sync
    assert [u.address for u in report.unmanaged] == ["folder:/drift/leftover"]


def test_a_folder_renamed_by_hand_is_one_moved_entry_not_missing_plus_extra(
    tmp_path: Path,
) -> None:
    org = in_sync_org()
    renamed = Org()
    for path, folder in org.folders.items():
        new_path = path.replace("/drift/archive", "/drift/archive-old")
        renamed.folder(new_path, folder.description, **folder.metadata)
    renamed.items, renamed.groups, renamed.datasets = org.items, org.groups, org.datasets
    renamed.grant("/drift", "annotators", "admin")
    renamed.item("/drift/archive-old/2023/scan.tif")
    report = report_for(desired_from(tmp_path), renamed)
    assert [(d.kind, d.address, d.live_address) for d in report.drift] == [
        (DriftKind.MOVED, "folder:/drift/archive", "folder:/drift/archive-old"),
        (DriftKind.MOVED, "folder:/drift/archive/2023", "folder:/drift/archive-old/2023"),
    ]
    top, below = report.drift
    assert top.source == "main.yaml:11" and below.source == "main.yaml:13"
    assert fields(top) == {
        "name": ("archive-old", "archive"),
        "path": ("/drift/archive-old", "/drift/archive"),
    }
    assert "renamed in Encord" in top.summary and "previously: [/drift/archive-old]" in top.summary
    assert "1 sub-folder, 1 item" in top.summary  # what apply would delete
    assert top.is_destructive_fix and top.severity == 0
    assert set(top.related) == {
        "folder:/drift/archive",
        "folder:/drift/archive/2023",
        "folder:/drift/archive-old",
        "folder:/drift/archive-old/2023",
        "item:/drift/archive-old/2023/scan.tif",
    }
    assert report.unmanaged == ()


def test_a_renamed_folder_that_is_not_ours_is_paired_by_its_description(tmp_path: Path) -> None:
    org = in_sync_org()
    del org.folders["/drift/archive/2023"]
    del org.folders["/drift/archive"]
    org.folder("/drift/old-stuff", "old data").folder("/drift/old-stuff/2023", "last year")
    report = report_for(desired_from(tmp_path), org)
    top = report.drift[0]
    assert (top.kind, top.address, top.live_address) == (
        DriftKind.MOVED,
        "folder:/drift/archive",
        "folder:/drift/old-stuff",
    )
    assert not top.is_destructive_fix  # not ours: prune would leave it alone
    assert "has the declared description" in top.summary
    # it is the declared folder now, so it is not reported as unmanaged too
    assert report.unmanaged == ()
    assert fields(top) == {
        "name": ("old-stuff", "archive"),
        "path": ("/drift/old-stuff", "/drift/archive"),
    }


def test_no_pairing_without_evidence_or_when_two_declared_folders_compete(
    tmp_path: Path,
) -> None:
    org = in_sync_org()
    del org.folders["/drift/archive/2023"]
    del org.folders["/drift/archive"]
    org.folder("/drift/unrelated")  # same parent, but nothing says it is /drift/archive
    report = report_for(desired_from(tmp_path), org)
    assert {(d.kind, d.address) for d in report.drift} == {
        (DriftKind.MISSING, "folder:/drift/archive"),
        (DriftKind.MISSING, "folder:/drift/archive/2023"),
    }
    assert [u.address for u in report.unmanaged] == ["folder:/drift/unrelated"]

    main = MAIN.replace("  /drift/archive/2023:\n    description: last year\n", "")
    main = main.replace("  /drift/cams:\n", "  /drift/more:\n    description: x\n  /drift/cams:\n")
    org = in_sync_org()
    del org.folders["/drift/archive/2023"]
    del org.folders["/drift/archive"]
    org.folder("/drift/renamed", "", **MINE)  # ours, but /drift/archive or /drift/more?
    report = report_for(desired_from(tmp_path, main=main), org)
    kinds = {(d.kind, d.address) for d in report.drift}
    assert (DriftKind.EXTRA, "folder:/drift/renamed") in kinds
    assert (DriftKind.MISSING, "folder:/drift/archive") in kinds
    assert (DriftKind.MISSING, "folder:/drift/more") in kinds


def test_a_folder_marked_by_another_config_is_never_taken_for_ours(tmp_path: Path) -> None:
    org = in_sync_org()
    del org.folders["/drift/archive/2023"]
    del org.folders["/drift/archive"]
    org.folder("/drift/archive-old", "old data", **{OWNER_KEY: "someone-else"})
    report = report_for(desired_from(tmp_path), org)
    assert {d.kind for d in report.drift} == {DriftKind.MISSING}
    assert [u.address for u in report.unmanaged] == ["folder:/drift/archive-old"]


def test_a_declared_move_not_applied_yet_is_moved_drift(tmp_path: Path) -> None:
    main = MAIN.replace("  /drift/cams:\n", "  /drift/cams:\n    previously: [/drift/cameras]\n")
    org = in_sync_org()
    cams = org.folders.pop("/drift/cams")
    org.folders["/drift/cameras"] = LiveFolder(
        **{**_fields_of(cams), "name": "cameras", "path": "/drift/cameras"}
    )
    report = report_for(desired_from(tmp_path, main=main), org)
    moved = [d for d in report.drift if d.kind is DriftKind.MOVED]
    assert [(d.address, d.live_address) for d in moved] == [
        ("folder:/drift/cams", "folder:/drift/cameras")
    ]


def _fields_of(folder: LiveFolder) -> Mapping[str, Any]:
    return {name: getattr(folder, name) for name in folder.__slots__}


def test_drift_is_sorted_worst_first(tmp_path: Path) -> None:
    org = in_sync_org().folder("/drift/leftover", "", **MINE)
    org.folder("/drift/cams", "edited", **MINE).item("/drift/cams/img-1.jpg", split="x", other=1)
    org.grants.clear()
    report = report_for(desired_from(tmp_path), org)
    assert [d.kind for d in report.drift] == [
        DriftKind.EXTRA,
        DriftKind.ACCESS,
        DriftKind.CHANGED,
        DriftKind.METADATA,
    ]
    assert [d.severity for d in report.drift] == [0, 1, 3, 4]


def test_only_keeps_matching_entries_unmanaged_and_checks(tmp_path: Path) -> None:
    org = in_sync_org().folder("/drift/cams", "edited", **MINE).folder("/drift/hand-made")
    org.grants.clear()
    report = report_for(desired_from(tmp_path), org, only=("folder:/drift/cams",))
    assert [d.address for d in report.drift] == ["folder:/drift/cams"]
    assert report.unmanaged == ()
    assert [c.id for c in report.checks] == ["folder:/drift/cams"]
    grants = report_for(desired_from(tmp_path), org, only=("*:/drift/**",))
    assert {d.address for d in grants.drift} == {
        "folder:/drift/cams",
        "folder-group:/drift#annotators",
    }
    assert [u.address for u in grants.unmanaged] == ["folder:/drift/hand-made"]


def test_an_incomplete_read_is_recorded_as_problems(tmp_path: Path) -> None:
    desired = desired_from(tmp_path)
    live = in_sync_org().state()
    broken = LiveState(
        **{
            **{n: getattr(live, n) for n in live.__slots__},
            "complete": False,
            "problems": ("403 on /drift/cams",),
        }
    )
    report = audit(diff(desired, broken), desired, broken)
    assert report.problems == ("403 on /drift/cams",)


def test_a_withheld_change_is_a_refusal_the_report_keeps(tmp_path: Path) -> None:
    settings = SETTINGS.replace(
        "policy: {prune: owned}", 'policy: {prune: owned, protect: ["/drift/leftover/**"]}'
    )
    org = in_sync_org().folder("/drift/leftover", "", **MINE)
    report = report_for(desired_from(tmp_path, settings=settings), org)
    assert report.drift == ()
    assert [r.code for r in report.refusals] == ["protected"]
    assert report.withheld == report.refusals


def test_folders_a_cloud_sync_made_are_not_unmanaged(tmp_path: Path) -> None:
    main = MAIN.replace(
        "  /drift/cams:\n",
        "  /drift/raw:\n    cloud_sync: {integration: bucket, remote_url: 's3://b/raw/'}\n"
        "  /drift/cams:\n",
    )
    org = in_sync_org()
    org.folders["/drift/raw"] = LiveFolder(
        uuid="f:/drift/raw",
        parent="f:/drift",
        name="raw",
        path="/drift/raw",
        metadata=MINE,
        folder_type="cloudLinked",
        integration_uuid="int-1",
        remote_url="s3://b/raw/",
    )
    org.folder("/drift/raw/cats").folder("/drift/raw/dogs").item("/drift/raw/cats/a.jpg")
    org.integrations["int-1"] = LiveIntegration("int-1", "bucket")
    live = org.state()
    settings = SETTINGS.replace(
        "sandbox: {path: sandbox.sqlite}",
        "sandbox: {path: sandbox.sqlite, integrations: {bucket: {provider: s3, root: ./b}}}",
    )
    (tmp_path / "b").mkdir()
    desired = desired_from(tmp_path, main=main, settings=settings)
    report = audit(diff(desired, live), desired, live)
    assert report.in_sync and report.unmanaged == ()
    # the same sub-folders under a plain folder would be unmanaged
    org.folder("/drift/cams/cats")
    report = audit(diff(desired, org.state()), desired, org.state())
    assert "folder:/drift/cams/cats" in [u.address for u in report.unmanaged]


def test_manifest_rows_and_the_metadata_schema_are_checks_of_their_own(tmp_path: Path) -> None:
    (tmp_path / "manifests").mkdir()
    (tmp_path / "manifests" / "qa.jsonl").write_text(
        '{"path": "/drift/cams/img-0.jpg", "metadata": {"qa": "ok"}}\n'
        '{"path": "/drift/cams/img-2.jpg", "metadata": {"qa": "redo"}}\n'
    )
    main = MAIN.replace(
        "\nitems:\n",
        "\nmetadata_schema:\n  split: {type: enum, values: [train, test]}\n  qa: text\n"
        "items:\n  - manifest: manifests/qa.jsonl\n",
        1,
    )
    desired = desired_from(tmp_path, main=main)
    org = in_sync_org().item("/drift/cams/img-0.jpg", split="train", other=0, qa="ok")
    org.item("/drift/cams/img-2.jpg", split="train", other=2, qa="ok")
    live = org.state()
    live = LiveState(
        **{
            **{n: getattr(live, n) for n in live.__slots__},
            "metadata_schema": {"split": {"ty": "enum", "values": ["train"]}},
        }
    )
    report = audit(diff(desired, live), desired, live)
    checks = {c.id: c for c in report.checks}
    assert checks["manifest:manifests/qa.jsonl"].source == "main.yaml:19"
    assert checks["metadata-schema:organisation"].source == "main.yaml:15"
    by_check = {d.check: d for d in report.drift}
    assert set(by_check) == {"manifest:manifests/qa.jsonl", "metadata-schema:organisation"}
    row = by_check["manifest:manifests/qa.jsonl"]
    assert (row.kind, row.address, row.source) == (
        DriftKind.METADATA,
        "item:/drift/cams/img-2.jpg",
        "manifests/qa.jsonl:2",
    )
    assert fields(row) == {"metadata.qa": ("ok", "redo")}
    schema = by_check["metadata-schema:organisation"]
    assert schema.kind is DriftKind.CHANGED
    assert fields(schema)["qa"] == (None, {"ty": "text"})
