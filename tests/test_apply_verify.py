"""Verification after apply: a fresh plan that withholds anything is not "Verified"."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.desired import folder
from helpers.embedded import OWNER, ensure_created, make_sandbox, plan_and_apply

from reconciler.model.desired import OWNER_KEY


@pytest.mark.anyio
async def test_a_fresh_plan_that_withholds_changes_is_not_converged(tmp_path: Path) -> None:
    sandbox = make_sandbox(tmp_path)

    await ensure_created(sandbox)
    async with sandbox.connect() as client:
        top = await client.folders.create("v", metadata={OWNER_KEY: OWNER})
        for _ in range(2):  # two siblings with one name: the path is ambiguous
            await client.folders.create("dup", parent=top.uuid)
    desired = sandbox.desired(
        folders={
            "/v": folder("/v", description="declared"),
            "/v/dup": folder("/v/dup", description="declared"),
        }
    )
    plan, result = await plan_and_apply(sandbox, desired)
    assert any(r.withheld and r.code == "ambiguous-path" for r in plan.refusals)
    assert result.failures == ()
    verification = result.verification
    assert verification is not None and verification.remaining == ()
    assert any("ambiguous" in line for line in verification.withheld)
    assert not verification.converged and not result.ok
