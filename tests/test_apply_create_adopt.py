"""A resumed folder create finds what an unacknowledged attempt made: which folder it takes."""

from __future__ import annotations

from pathlib import Path

import pytest
from encord_data.kit import embedded

from reconciler.apply.context import RunContext, RunState
from reconciler.apply.ops_folders import CreateFolders
from reconciler.apply.phases import Phase, Step
from reconciler.apply.recorder import Recorder
from reconciler.kinds.folder import FolderPayload
from reconciler.model.addresses import Kind
from reconciler.model.desired import OWNER_KEY
from reconciler.plan.actions import Action
from reconciler.plan.model import Change, Refs

OURS = {OWNER_KEY: "test"}


def create_a() -> Step:
    after = FolderPayload(path="/a", name="a", description="", metadata=OURS)
    change = Change(
        address="folder:/a", kind=Kind.FOLDER, actions=(Action.CREATE,), after=after, refs=Refs()
    )
    return Step(
        key="0:create-folders", change=change, phase=Phase.CREATE_FOLDERS, actions=change.actions
    )


@pytest.mark.anyio
async def test_a_resumed_create_takes_its_own_attempt_not_a_newer_folder_the_plan_moves_away(
    tmp_path: Path,
) -> None:
    # A swap: the plan creates a new /a while the old /a (ours too) still holds the name until
    # it moves. A run stopped after the create's answer left the new /a unrecorded. Whichever
    # of the two the server dates later, the resumed create must take the new one.
    async with embedded(tmp_path) as sandbox:
        client = sandbox.client
        attempt = await client.folders.create("a", metadata=OURS)
        moving = await client.folders.create("a", metadata=OURS)
        assert moving.created_at >= attempt.created_at
        ctx = RunContext(
            client=client,
            state=RunState(),
            ownership_id="test",
            resume=True,
            recorder=Recorder(None, lambda _event: None),
            planned=frozenset({str(moving.uuid)}),
        )
        checked = await CreateFolders().check(ctx, [create_a()])

        assert not checked.fresh
        assert ctx.state.created == {"folder:/a": str(attempt.uuid)}


@pytest.mark.anyio
async def test_a_create_whose_name_only_the_moving_folder_holds_makes_a_new_one(
    tmp_path: Path,
) -> None:
    async with embedded(tmp_path) as sandbox:
        moving = await sandbox.client.folders.create("a", metadata=OURS)
        ctx = RunContext(
            client=sandbox.client,
            state=RunState(),
            ownership_id="test",
            resume=True,
            recorder=Recorder(None, lambda _event: None),
            planned=frozenset({str(moving.uuid)}),
        )
        step = create_a()
        checked = await CreateFolders().check(ctx, [step])

        assert checked.fresh == [step]
        assert ctx.state.created == {}
