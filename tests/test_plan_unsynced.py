"""A ``sync: on_create`` folder that a run created and was killed before it saw the sync
started: the folder is never created again, so without the journal's word its sync would never
come and its items would be missing for good. The journal (``JournalState.unsynced``) names
it; the next plan syncs it once and defers its items, as its creation would have."""

from __future__ import annotations

from helpers.desired import desired_state, folder, src
from simulator import Org

from reconciler.model.desired import OWNER_KEY, CloudSync, DesiredState, MetadataRule, SyncMode
from reconciler.plan import DiffOptions, diff

OURS = {OWNER_KEY: "acme"}


def _org() -> tuple[Org, str]:
    org = Org()
    org.integrations["int"] = "bucket"
    uuid = org.add_folder(
        None,
        "cams",
        metadata=OURS,
        folder_type="cloudLinked",
        integration_uuid="int",
        remote_url="s3://b/cams/",
    )
    return org, uuid


def _desired(sync: SyncMode = "on_create") -> DesiredState:
    cloud = CloudSync(integration="bucket", remote_url="s3://b/cams/", sync=sync, source=src(3))
    rule = MetadataRule(folder="/cams", recursive=True, metadata={"seen": True}, source=src(5))
    return desired_state(folders={"/cams": folder("/cams", cloud_sync=cloud)}, rules=(rule,))


def test_a_folder_a_stopped_run_created_and_never_synced_is_synced_once() -> None:
    org, uuid = _org()
    desired = _desired()
    plan = diff(
        desired, org.live_state(desired.roots()), options=DiffOptions(unsynced=("folder:/cams",))
    )
    (change,) = plan.changes
    assert change.address == "folder:/cams" and change.actions == ("sync",)
    assert change.refs.uuid == uuid and change.diff == ()
    assert "never started its cloud sync" in change.reason
    assert [d.folder for d in plan.deferred] == ["/cams"]  # its items wait for the sync
    assert plan.summary.sync == 1 and plan.refusals == ()


def test_no_sync_without_the_journal_or_for_a_folder_that_never_syncs() -> None:
    org, _ = _org()
    desired = _desired()
    live = org.live_state(desired.roots())
    assert diff(desired, live).changes == ()
    never = _desired("never")
    assert diff(never, live, options=DiffOptions(unsynced=("folder:/cams",))).changes == ()


def test_a_never_synced_folder_declared_moved_since_is_moved_and_synced() -> None:
    """The journal names the folder where the stopped run created it; the config has moved
    it since (``previously``): the sync must still come, with the move."""
    org, uuid = _org()
    org.add_folder(None, "archive", metadata=OURS)
    cloud = CloudSync(
        integration="bucket", remote_url="s3://b/cams/", sync="on_create", source=src(3)
    )
    moved = folder("/archive/cams", cloud_sync=cloud, previously=("/cams",))
    desired = desired_state(folders={"/archive": folder("/archive"), "/archive/cams": moved})
    live = org.live_state(desired.roots())
    plan = diff(desired, live, options=DiffOptions(unsynced=("folder:/cams",)))
    (change,) = plan.changes
    assert change.address == "folder:/archive/cams" and change.actions == ("move", "sync")
    assert change.refs.uuid == uuid


def test_a_sync_always_folder_is_synced_by_every_plan_but_not_when_verifying() -> None:
    org, uuid = _org()
    desired = _desired("always")
    live = org.live_state(desired.roots())
    (change,) = diff(desired, live).changes
    assert change.address == "folder:/cams" and change.actions == ("sync",)
    assert change.refs.uuid == uuid and "sync: always" in change.reason
    assert [d.folder for d in diff(desired, live).deferred] == ["/cams"]
    # verify and drift leave routine syncs out: they are neither unfinished work nor drift
    assert diff(desired, live, options=DiffOptions(sync_always=False)).changes == ()


def test_a_sync_always_folder_is_synced_when_created() -> None:
    desired = _desired("always")
    org = Org()
    org.integrations["int"] = "bucket"
    plan = diff(desired, org.live_state(desired.roots()))
    (change,) = plan.changes
    assert change.actions == ("create", "sync")
