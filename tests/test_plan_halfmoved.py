"""A ``previously:`` folder left half-way by a stopped run (moved but not renamed, or renamed
but not moved) is recognised and its move finished, keeping its UUID; and prune never deletes
a folder that a ``previously:`` may refer to, by any of those paths."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpers.desired import desired_state, folder
from helpers.provision import apply, provision, read
from simulator import Org

from reconciler.model.addresses import move_stops as stops
from reconciler.model.desired import OWNER_KEY, DesiredState, Policy
from reconciler.plan import diff
from reconciler.plan.halfmoved import referred

OURS = {OWNER_KEY: "acme"}


def test_stops_are_moved_not_renamed_then_renamed_not_moved() -> None:
    assert stops("/archive/footage", "/cams") == ("/archive/cams", "/footage")
    assert stops("/archive/cams", "/cams") == ()  # a pure move is one request
    assert stops("/footage", "/cams") == ()  # so is a pure rename


def test_referred_names_every_path_a_previously_may_mean() -> None:
    folders = {
        "/archive": folder("/archive"),
        "/archive/footage": folder("/archive/footage", previously=("/cams",)),
    }
    assert referred(folders, {}) == {
        "/cams": "/archive/footage",
        "/archive/cams": "/archive/footage",
        "/footage": "/archive/footage",
    }
    # a folder at /cams itself is the one meant: the move has not started
    assert referred(folders, {"/cams": "f-1"}) == {"/cams": "/archive/footage"}


def _org(where: str, *, metadata: dict[str, str]) -> tuple[Org, str, list[str]]:
    """``/archive`` and the half-moved folder at ``where`` with two items in it."""
    org = Org()
    archive = org.add_folder(None, "archive", metadata=OURS)
    parent = archive if where.startswith("/archive/") else None
    uuid = org.add_folder(parent, where.rsplit("/", 1)[1], metadata=metadata)
    items = [org.add_item(uuid, f"{n}.jpg") for n in range(2)]
    return org, uuid, items


def _desired(**policy: Any) -> DesiredState:
    return desired_state(
        folders={
            "/archive": folder("/archive"),
            "/archive/footage": folder("/archive/footage", previously=("/cams",)),
        },
        policy=Policy(min_existing=100, **policy),
    )


@pytest.mark.anyio
@pytest.mark.parametrize("where", ["/archive/cams", "/footage"])
async def test_a_half_moved_folder_of_ours_is_moved_on_not_created_and_pruned(
    where: str, tmp_path: Path
) -> None:
    """Through the real engine and an embedded sandbox: the folder (and its items) end up at
    the declared path under the same UUID, and a second plan is empty."""
    org, org_uuid, items = _org(where, metadata=OURS)
    provisioned = await provision(org, tmp_path)
    uuid = provisioned.uuids[org_uuid]
    desired = _desired()
    async with provisioned.sandbox.connect() as client:
        plan = diff(desired, await read(client, desired))
        (change,) = plan.changes
        assert change.address == "folder:/archive/footage" and change.refs.uuid == uuid
        assert [a.value for a in change.actions] == ["move"]
        assert change.previous_address == f"folder:{where}"
        assert "stopped run" in (change.reason or "") and "/cams" in (change.reason or "")
        assert not plan.refusals
        await apply(client, plan)
        live = await read(client, desired)
        assert diff(desired, live).changes == ()
    assert live.paths["/archive/footage"] == uuid
    assert {i.uuid: i.folder_path for i in live.items.values()} == {
        provisioned.uuids[i]: "/archive/footage" for i in items
    }


def test_a_folder_not_ours_half_way_is_neither_taken_nor_deleted() -> None:
    org, _, _ = _org("/archive/cams", metadata={})
    desired = _desired(prune="all")
    plan = diff(desired, org.live_state(desired.read_roots()))
    assert [(c.address, [a.value for a in c.actions]) for c in plan.changes] == [
        ("folder:/archive/footage", ["create"])
    ]
    (refusal,) = plan.refusals
    assert refusal.code == "not-prunable" and refusal.addresses == ("folder:/archive/cams",)
    assert "may be folder:/archive/footage" in refusal.message
    assert not any(c.is_delete for c in plan.changes)


@pytest.mark.parametrize("where", ["/archive/cams", "/footage", "/cams"])
def test_prune_never_deletes_what_previously_may_mean_when_the_declared_path_exists(
    where: str,
) -> None:
    """The declared folder exists (a stopped run created it, or it was made by hand) and the
    folder ``previously`` means is elsewhere: it is refused, never deleted."""
    org, uuid, _ = _org(where, metadata=OURS)
    archive = next(u for u, f in org.folders.items() if f.name == "archive")
    org.add_folder(archive, "footage", metadata=OURS)
    desired = _desired()
    plan = diff(desired, org.live_state(desired.read_roots()))
    assert not any(c.is_delete for c in plan.changes)
    assert org.path_of(uuid) == where
    if where != "/archive/cams":
        assert plan.refusals == ()  # a root itself, or read but outside every root: kept
        return
    (refusal,) = plan.refusals
    assert refusal.code == "not-prunable" and refusal.addresses == (f"folder:{where}",)
    assert "may be folder:/archive/footage" in refusal.message and "by hand" in refusal.message
