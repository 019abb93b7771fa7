"""The journal records each bundle's intent (keys, addresses, UUIDs) before it is sent, and
the next plan knows an unacknowledged folder by its UUID wherever it is: a move whose rename
failed is finished, even for a folder without our marker, and never becomes create + prune."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from helpers.desired import desired_state, folder
from helpers.embedded import ensure_created, make_sandbox, plan_for
from simulator import Org

from reconciler.apply import ApplyOptions, apply_plan
from reconciler.apply.journal import in_flight, read_journal
from reconciler.encord import ServerError
from reconciler.model.desired import OWNER_KEY, Policy
from reconciler.plan import DiffOptions, diff
from reconciler.plan.actions import Action


@pytest.mark.anyio
async def test_intent_is_journaled_before_the_bundle_and_unacknowledged_ones_are_in_flight(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox = make_sandbox(tmp_path)
    await ensure_created(sandbox)
    sandbox.seed("/cams", items=3)  # made by hand: no marker of ours
    desired = sandbox.desired(
        folders={
            "/archive": folder("/archive"),
            "/archive/footage": folder("/archive/footage", previously=("/cams",)),
        }
    )
    journal = tmp_path / "journal.jsonl"

    async def rename_fails(*_: Any, **__: Any) -> None:
        raise ServerError("injected: the rename never arrived", status=503)

    async def stopped_half_way() -> str:
        async with sandbox.connect() as client:
            plan = await plan_for(client, desired)
            (move,) = [c for c in plan.changes if Action.MOVE in c.actions]
            monkeypatch.setattr(client.folders, "patch_bulk", rename_fails)
            result = await apply_plan(
                plan, client=client, options=ApplyOptions(desired=desired, journal=journal)
            )
            assert not result.ok
            return str(move.refs.uuid)

    uuid = await stopped_half_way()
    records = [json.loads(line) for line in journal.read_text().splitlines()]
    intent = next(i for i, r in enumerate(records) if r["type"] == "intent")
    assert {"key", "address", "uuid"} <= set(records[intent]["steps"][0])
    state = read_journal(journal)
    assert state.in_flight() == ((uuid, "folder:/archive/footage"),)
    assert in_flight([state]) == state.in_flight()

    async with sandbox.connect() as client:
        blind = await plan_for(client, desired)  # without the journal: a fresh folder
        assert [c.address for c in blind.changes if Action.CREATE in c.actions] == [
            "folder:/archive/footage"
        ]
        plan = await plan_for(client, desired, in_flight=state.in_flight())
        (change,) = plan.changes
        assert change.refs.uuid == uuid and change.previous_address == "folder:/archive/cams"
        result = await apply_plan(plan, client=client, options=ApplyOptions(desired=desired))
        assert result.ok
        again = await plan_for(client, desired)
        assert again.changes == ()
        moved = await client.folders.get(uuid)
        assert moved.name == "footage"


def test_prune_never_deletes_a_folder_an_unfinished_step_was_moving() -> None:
    """Even one carrying our marker, at a path no ``previously`` names: the journal says
    what it is, so it is refused, never deleted."""
    org = Org()
    ours = {OWNER_KEY: "acme"}
    archive = org.add_folder(None, "archive", metadata=ours)
    org.add_folder(archive, "footage", metadata=ours)  # made by the stopped run
    elsewhere = org.add_folder(archive, "somewhere-else", metadata=ours)
    org.add_item(elsewhere, "a.jpg")
    desired = desired_state(
        folders={
            "/archive": folder("/archive"),
            "/archive/footage": folder("/archive/footage", previously=("/cams",)),
        },
        policy=Policy(min_existing=100),
    )
    live = org.live_state(desired.read_roots())
    assert any(c.is_delete for c in diff(desired, live).changes)  # without the journal
    options = DiffOptions(in_flight=((elsewhere, "folder:/archive/footage"),))
    plan = diff(desired, live, options=options)
    assert not any(c.is_delete for c in plan.changes)
    (refusal,) = plan.refusals
    assert refusal.addresses == ("folder:/archive/somewhere-else",)
    assert "named by its journal" in refusal.message
