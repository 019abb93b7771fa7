"""Planning registered cloud data: one register change per folder, rows matched to live items
by URL (else by name), prune of what this ownership id registered, metadata through the item
path, sidecar settings as a folder-config patch, and every rendering."""

from __future__ import annotations

import json
from typing import Any

from helpers.desired import OWNER, dataset, desired_state, folder, registration, rule, select, src
from simulator import Org

from reconciler.kinds.folder_config import FolderConfigPayload
from reconciler.kinds.register import RegisterPayload
from reconciler.model.desired import OWNER_KEY, CloudSync, Policy, Sidecars
from reconciler.model.live import LiveFolderConfig
from reconciler.plan import DiffOptions, Plan, diff
from reconciler.plan.planfile import dumps, loads
from reconciler.plan.render_html import render_html
from reconciler.plan.render_markdown import render_markdown
from reconciler.plan.render_text import render_text

OURS = {OWNER_KEY: OWNER}
ROWS: list[dict[str, Any]] = [
    {"url": "s3://raw/b7/a.jpg", "metadata": {"split": "train"}},
    {"url": "s3://raw/b7/b.jpg"},
    {"url": "s3://raw/b7/c.mp4", "title": "clip.mp4"},
    {"url": "s3://raw/b7/d.txt"},
]


def _org() -> Org:
    org = Org()
    org.integrations["int-1"] = "bucket"
    return org


def _plan(org: Org, rows: list[dict[str, Any]] = ROWS, **fields: Any) -> Plan:
    policy = fields.pop("policy", Policy())
    extra = fields.pop("extra", {})
    batch = folder("/batch", registration=registration(rows, **fields))
    desired = desired_state(folders={"/batch": batch, **extra}, policy=policy)
    return diff(desired, org.live_state(desired.roots()))


def test_a_new_folder_registers_every_row_in_one_change_after_its_creation() -> None:
    plan = _plan(_org())
    create, register = plan.changes
    assert create.address == "folder:/batch" and create.actions == ("create",)
    assert register.address == "register:/batch" and register.actions == ("create",)
    assert register.depends_on == ("folder:/batch",)
    assert register.refs.folder_uuid is None and register.refs.integration_uuid == "int-1"
    payload = RegisterPayload.of(register.after)
    assert payload is not None and payload.integration == "bucket"
    assert [r.name for r in payload.rows] == ["a.jpg", "b.jpg", "clip.mp4", "d.txt"]
    assert all(r.metadata[OWNER_KEY] == OWNER for r in payload.rows)  # the ownership marker
    assert payload.rows[0].metadata["split"] == "train"
    assert payload.rows[0].source == "manifests/reg.jsonl:1"
    assert payload.counts() == {"image": 2, "plainText": 1, "video": 1}
    assert register.source == "folders.yaml:12"
    assert [d.folder for d in plan.deferred] == []  # nothing selects the new items yet


def test_rows_match_live_items_by_url_else_by_name() -> None:
    org = _org()
    batch = org.add_folder(None, "batch", metadata=OURS)
    org.add_item(batch, "renamed.jpg", url="s3://raw/b7/a.jpg", metadata={"split": "train"})
    org.add_item(batch, "b.jpg")  # the API gave no URL: matched by its name
    org.add_item(batch, "clip.mp4", url="s3://raw/b7/c.mp4")
    (register,) = _plan(org).changes
    payload = RegisterPayload.of(register.after)
    assert payload is not None and [r.url for r in payload.rows] == ["s3://raw/b7/d.txt"]
    assert register.refs.folder_uuid == batch and register.depends_on == ()
    assert register.reason == "1 of 4 rows of manifests/reg.jsonl have no item in /batch"


def test_a_name_held_by_another_object_is_not_registered_over_and_warned_about() -> None:
    org = _org()
    batch = org.add_folder(None, "batch", metadata=OURS)
    org.add_item(batch, "a.jpg", url="s3://elsewhere/a.jpg", metadata=OURS)
    plan = _plan(org, ROWS[:1], prune="owned")
    assert plan.changes == ()  # neither registered over nor pruned
    (warning,) = plan.warnings
    assert warning.startswith("manifests/reg.jsonl:1: /batch/a.jpg is already the object")


def test_prune_owned_deletes_only_what_this_id_registered_and_no_row_lists() -> None:
    org = _org()
    batch = org.add_folder(None, "batch", metadata=OURS)
    org.add_item(batch, "a.jpg", metadata={**OURS, "split": "train"})
    for name in ("b.jpg", "clip.mp4", "d.txt"):
        org.add_item(batch, name, metadata=OURS)
    gone = org.add_item(batch, "old.jpg", url="s3://raw/b7/old.jpg", metadata=OURS)
    org.add_item(batch, "theirs.jpg", metadata={OWNER_KEY: "someone-else"})
    org.add_item(batch, "by-hand.jpg")
    plan = _plan(org, prune="owned")
    (delete,) = plan.changes
    assert delete.address == "item:/batch/old.jpg" and delete.actions == ("delete",)
    assert delete.refs.uuid == gone and delete.refs.from_parent_uuid == batch
    assert "no longer in manifests/reg.jsonl" in delete.reason
    assert plan.summary.delete == 1
    assert _plan(org).changes == ()  # prune: never (the default)
    assert _plan(org, prune="owned", policy=Policy(prune="never")).changes == ()


def test_pruned_items_get_no_metadata_or_links_planned() -> None:
    org = _org()
    batch = org.add_folder(None, "batch", metadata=OURS)
    org.add_item(batch, "old.jpg", metadata=OURS)
    desired = desired_state(
        folders={"/batch": folder("/batch", registration=registration([], prune="owned"))},
        rules=(rule("/batch", {"seen": True}),),
        datasets={"d": dataset("d", select("/batch"))},
    )
    plan = diff(desired, org.live_state(desired.roots()))
    assert [(c.address, c.actions) for c in plan.changes] == [
        ("item:/batch/old.jpg", ("delete",)),
        ("dataset:d", ("create",)),
    ]


def test_deletes_count_in_the_delete_threshold() -> None:
    org = _org()
    batch = org.add_folder(None, "batch", metadata=OURS)
    for n in range(20):
        org.add_item(batch, f"x{n}.jpg", metadata=OURS)
    plan = _plan(org, ROWS[:0], prune="owned")
    assert plan.summary.delete == 20
    assert [r.code for r in plan.refusals] == ["delete-threshold"]


def test_registered_metadata_is_upserted_through_item_patches_unless_create_only() -> None:
    org = _org()
    batch = org.add_folder(None, "batch", metadata=OURS)
    item = org.add_item(batch, "a.jpg", url="s3://raw/b7/a.jpg", metadata={**OURS, "k": 1})
    (patch,) = _plan(org, ROWS[:1]).changes
    assert patch.address == "item:/batch/a.jpg" and patch.actions == ("patch",)
    assert patch.refs.uuid == item and patch.source == "manifests/reg.jsonl:1"
    assert [(d.path, d.after) for d in patch.diff] == [(("metadata", "split"), "train")]
    assert _plan(org, ROWS[:1], metadata="create_only").changes == ()


def test_a_registered_folder_defers_the_rules_and_datasets_that_reach_it() -> None:
    desired = desired_state(
        folders={"/batch": folder("/batch", registration=registration(ROWS))},
        datasets={"d": dataset("d", select("/batch"))},
    )
    plan = diff(desired, _org().live_state(desired.roots()))
    (deferral,) = plan.deferred
    assert deferral.folder == "/batch" and deferral.datasets == ("d",)


def test_every_rendering_shows_counts_and_a_sample_and_the_json_every_name() -> None:
    rows: list[dict[str, Any]] = [{"url": f"s3://raw/b7/f{n:03d}.jpg"} for n in range(40)]
    plan = _plan(_org(), rows)
    text = render_text(plan)
    assert "register:/batch" in text and 'register: + "40 objects (image 40)"' in text
    assert "f000.jpg, f001.jpg, f002.jpg, f003.jpg, f004.jpg, … and 35 more" in text
    markdown = render_markdown(plan)
    assert "register:/batch" in markdown and "40 objects (image 40)" in markdown
    assert "and 35 more" in markdown
    html = render_html(plan)
    assert "register:/batch" in html and "and 35 more" in html
    document = json.loads(dumps(plan))
    (register,) = [c for c in document["changes"] if c["kind"] == "register"]
    assert [r["name"] for r in register["after"]["rows"]] == [f"f{n:03d}.jpg" for n in range(40)]
    again = loads(dumps(plan))
    assert again.changes == plan.changes  # the payload reads back equal


def _sidecar_plan(org: Org, suffix: str = ".meta.json", paused: bool = False) -> Plan:
    cloud = CloudSync(
        integration="bucket",
        remote_url="s3://raw/cams/",
        sync="never",
        metadata_sidecars=Sidecars(suffix=suffix, paused=paused),
        source=src(5, "folders.yaml"),
    )
    desired = desired_state(folders={"/cams": folder("/cams", cloud_sync=cloud)})
    return diff(desired, org.live_state(desired.roots()))


def _cams(org: Org) -> str:
    return org.add_folder(
        None,
        "cams",
        metadata=OURS,
        folder_type="cloudLinked",
        integration_uuid="int-1",
        remote_url="s3://raw/cams/",
    )


def test_sidecar_settings_are_a_patch_of_the_folder_config_when_they_differ() -> None:
    org = _org()
    cams = _cams(org)
    org.folder_configs[cams] = LiveFolderConfig(".metadata.json", False)
    (change,) = _sidecar_plan(org).changes
    assert change.address == "folder-config:/cams" and change.actions == ("patch",)
    assert change.refs.folder_uuid == cams
    assert change.before == FolderConfigPayload(".metadata.json", False)
    assert change.after == FolderConfigPayload(".meta.json", False)
    assert [(d.path, d.before, d.after) for d in change.diff] == [
        (("sidecar_suffix",), ".metadata.json", ".meta.json")
    ]
    org.folder_configs[cams] = LiveFolderConfig(".meta.json", False)
    assert _sidecar_plan(org).changes == ()


def test_an_unread_folder_config_plans_nothing_and_a_new_folder_gets_one() -> None:
    org = _org()
    _cams(org)
    assert _sidecar_plan(org).changes == ()  # not read: not taken for an empty config
    create, config = _sidecar_plan(_org()).changes
    assert create.address == "folder:/cams" and config.depends_on == ("folder:/cams",)
    assert config.before is None and config.refs.folder_uuid is None


def test_an_item_another_config_registered_is_never_touched() -> None:
    org = _org()
    batch = org.add_folder(None, "batch", metadata=OURS)
    org.add_item(batch, "a.jpg", url="s3://raw/b7/a.jpg", metadata={OWNER_KEY: "other-team"})
    plan = _plan(org, ROWS[:1])
    assert plan.changes == ()  # its metadata would differ (split), but it is not ours
    (refusal,) = plan.refusals
    assert refusal.code == "foreign-owned" and refusal.addresses == ("item:/batch/a.jpg",)


def test_drift_reports_missing_registrations_extra_registered_items_and_sidecars() -> None:
    from reconciler.drift import DriftKind, audit

    org = _org()
    batch = org.add_folder(None, "batch", metadata=OURS)
    org.add_item(batch, "a.jpg", url="s3://raw/b7/a.jpg", metadata={**OURS, "split": "train"})
    org.add_item(batch, "gone.jpg", url="s3://raw/b7/gone.jpg", metadata=OURS)
    cams = _cams(org)
    org.folder_configs[cams] = LiveFolderConfig(".metadata.json", False)
    cloud = CloudSync(
        integration="bucket",
        remote_url="s3://raw/cams/",
        sync="always",
        metadata_sidecars=Sidecars(suffix=".meta.json"),
        source=src(5, "folders.yaml"),
    )
    desired = desired_state(
        folders={
            "/batch": folder("/batch", registration=registration(ROWS[:2], prune="owned")),
            "/cams": folder("/cams", cloud_sync=cloud),
        }
    )
    live = org.live_state(desired.roots())
    plan = diff(desired, live, options=DiffOptions(sync_always=False))  # as `drift` plans
    report = audit(plan, desired, live)
    found = {(d.address, d.kind) for d in report.drift}
    assert found == {
        ("register:/batch", DriftKind.MISSING),  # b.jpg is not in the folder
        ("item:/batch/gone.jpg", DriftKind.EXTRA),
        ("folder-config:/cams", DriftKind.CHANGED),
    }
    (missing,) = [d for d in report.drift if d.address == "register:/batch"]
    assert "rows" not in {f.path[0] for f in missing.fields}  # counts, not every row


def test_register_and_folder_config_payloads_read_back_from_plan_json() -> None:
    import pytest

    doc = {
        "folder": "/b",
        "integration": "raw",
        "upsert_metadata": True,
        "rows": [
            {"url": "s3://r/a.jpg", "type": "image", "title": None, "metadata": {},
             "source": "m.jsonl:1", "name": "a.jpg"}
        ],
    }  # fmt: skip
    payload = RegisterPayload.of(doc)
    assert payload is not None and payload.rows[0].name == "a.jpg"
    assert RegisterPayload.of(payload) is payload and RegisterPayload.of(None) is None
    with pytest.raises(TypeError):
        RegisterPayload.decode({**doc, "rows": {}})
    with pytest.raises(TypeError):
        RegisterPayload.decode({**doc, "rows": [{**doc["rows"][0], "metadata": []}]})  # type: ignore[index]
    config = FolderConfigPayload.of({"sidecar_suffix": None, "sidecars_paused": False})
    assert config == FolderConfigPayload(None, False)
    assert FolderConfigPayload.of(config) is config and FolderConfigPayload.of(None) is None


def test_a_replace_rule_keeps_the_marker_of_a_registered_item_and_then_plans_nothing() -> None:
    """Found by the convergence test: ``replace`` keeps our ownership marker, so an item
    that holds exactly the rule's keys and the marker is settled, not patched every plan."""
    org = _org()
    batch = org.add_folder(None, "batch", metadata=OURS)
    org.add_item(batch, "a.jpg", url="s3://raw/b7/a.jpg", metadata={**OURS, "r0": 0})
    stale = org.add_item(batch, "b.jpg", url="s3://raw/b7/b.jpg", metadata={**OURS, "x": 1})
    rows = [{"url": "s3://raw/b7/a.jpg"}, {"url": "s3://raw/b7/b.jpg"}]
    desired = desired_state(
        folders={"/batch": folder("/batch", registration=registration(rows))},
        rules=(rule("/batch", {"r0": 0}, mode="replace"),),
    )
    (patch,) = diff(desired, org.live_state(desired.roots())).changes
    assert patch.refs.uuid == stale
    assert [(d.path, d.after) for d in patch.diff] == [
        (("metadata", "r0"), 0),
        (("metadata", "x"), None),
    ]


def test_nothing_is_registered_into_a_folder_that_is_cloud_synced_in_encord() -> None:
    """The API refuses every such job (a synced folder's items come from its sync): the
    register change is withheld with what to do, not planned to fail at every apply (a
    counterexample of the random search of test_plan_properties)."""
    org = _org()
    org.add_folder(
        None,
        "batch",
        metadata=OURS,
        folder_type="cloudLinked",
        integration_uuid="int-1",
        remote_url="s3://raw/",
    )
    plan = _plan(org)
    assert [c.address for c in plan.changes if c.address.startswith("register:")] == []
    (refusal,) = [r for r in plan.refusals if r.code == "unsupported"]
    assert refusal.withheld and refusal.addresses == ("register:/batch",)
    assert refusal.message.startswith("register:/batch (folders.yaml:12): folder /batch is cloud")


def test_nothing_is_registered_into_a_folder_inside_a_cloud_synced_one() -> None:
    """A sync mirrors its whole subtree: what a job registers into a plain folder under a
    synced one, from outside the synced prefix, is tombstoned by the next sync and would be
    registered again at every apply (a counterexample of the random search)."""
    org = _org()
    raw = org.add_folder(
        None,
        "raw",
        metadata=OURS,
        folder_type="cloudLinked",
        integration_uuid="int-1",
        remote_url="s3://raw/",
    )
    org.add_folder(raw, "batch", metadata=OURS)
    batch = folder("/raw/batch", registration=registration(ROWS))
    desired = desired_state(folders={"/raw/batch": batch})
    plan = diff(desired, org.live_state(desired.roots()))
    assert [c.address for c in plan.changes if c.address.startswith("register:")] == []
    (refusal,) = [r for r in plan.refusals if r.code == "unsupported"]
    assert refusal.withheld and refusal.addresses == ("register:/raw/batch",)
    assert "/raw/batch is inside /raw, which is cloud-synced" in refusal.message
