"""Applying organisation tags through the real client and an embedded sandbox: each step
is checked against what is live before it is written (a create whose name was taken since
the plan, an unacknowledged create of ours, a delete of a tag changed or gone since)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from helpers.desired import src
from helpers.embedded import OWNER, ensure_created, make_sandbox, plan_for

from reconciler.apply import ApplyOptions, apply_plan
from reconciler.model.desired import DesiredTag, Policy

MARK = f"[managed by reconciler: {OWNER}]"


def _declared(*names: str) -> dict[str, DesiredTag]:
    return {n: DesiredTag(name=n, description=f"{n} text", source=src(3, "t.yaml")) for n in names}


@pytest.mark.anyio
async def test_tag_steps_are_checked_against_what_is_live_before_writing(tmp_path: Path) -> None:
    sandbox = make_sandbox(tmp_path)
    await ensure_created(sandbox)
    desired = sandbox.desired(
        organisation_tags=_declared("taken", "adopted", "fresh"),
        policy=Policy(max_delete_ratio=1),
    )
    async with sandbox.connect() as client:
        for name in ("old", "gone"):
            await client.organisation_tags.create(name, f"retired {MARK}")
        plan = await plan_for(client, desired)
        assert len(plan.changes) == 5
        # between plan and apply: a hand-made tag takes a declared name, an earlier attempt
        # of ours turns out to have made another, one of ours is edited, another deleted
        await client.organisation_tags.create("taken", "by hand")
        await client.organisation_tags.create("adopted", f"adopted text {MARK}")
        with sqlite3.connect(sandbox.db) as conn:
            conn.execute("UPDATE organisation_tags SET description = 'edited' WHERE name = 'old'")
        gone = {t.name: t.uuid for t in await client.organisation_tags.list_all()}["gone"]
        await client.organisation_tags.delete(gone)

        result = await apply_plan(plan, client=client, options=ApplyOptions(desired=desired))
        live = {t.name: t.description for t in await client.organisation_tags.list_all()}

    failures = {f.address: f for f in result.failures}
    assert set(failures) == {"organisation-tag:taken", "organisation-tag:old"}
    assert all(f.stale for f in failures.values())
    assert "appeared since the plan" in failures["organisation-tag:taken"].message
    assert "changed since the plan: description differ" in failures["organisation-tag:old"].message
    assert live == {
        "taken": "by hand",
        "adopted": f"adopted text {MARK}",
        "fresh": f"fresh text {MARK}",
        "old": "edited",
    }
