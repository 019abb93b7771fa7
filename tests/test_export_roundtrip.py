"""The export contract: ``reconciler export`` then a plan against the same organisation plans
zero changes. Export through the CLI, validate through the CLI, load the directory, read the
live state and diff with the real config loader, reader and planner; then ``reconciler apply``
finds nothing to do and the live state is unchanged."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import yaml
from encord_data.kit import embedded
from helpers import run_cli

from reconciler.config import load_config
from reconciler.live import Scope, read_live
from reconciler.model.live import LiveState
from reconciler.plan.diff import diff
from reconciler.targets import TargetOptions, connect
from reconciler.wire.enums import DatasetUserRole, StorageUserRole
from reconciler.wire.storage import CloudSyncedFolderParams, PatchItemPayload


async def _organisation(tmp_path: Path) -> None:
    async with embedded(tmp_path) as s:
        c = s.client
        top = await c.folders.create("team", description="Team ${HOME} $$ {x}", metadata={
            "owner": "ml", "n": 1, "ratio": 0.25, "on": True, "none": None,
            "nested": {"list": [1, "two", False]}, "ünï": "cödé",
        })  # fmt: skip
        raw = await c.folders.create("raw", parent=top.uuid)
        await c.folders.create("empty", parent=raw.uuid, description="nothing here")
        integration = (await c.integrations.list_all())[0]
        params = CloudSyncedFolderParams(
            integration_uuid=integration.integration_uuid, remote_url="s3://acme-raw/cams/"
        )
        cams = await c.folders.create("cams", parent=raw.uuid, cloud_sync=params)
        job = await c.folders.start_sync(cams.uuid)
        await c.folders.wait_for_sync(cams.uuid, job, timeout_seconds=30)
        items = {i.name: i async for i in c.items.list_recursive(cams.uuid)}
        await c.items.patch_bulk({
            items["a.jpg"].uuid: PatchItemPayload(client_metadata={"split": "train", "q": 1}),
            items["d.txt"].uuid: PatchItemPayload(client_metadata={"note": "${HOME}", "ok": False}),
        })  # fmt: skip
        elsewhere = await c.folders.create("elsewhere")
        outside_cams = await c.folders.create("cams2", parent=elsewhere.uuid, cloud_sync=params)
        job = await c.folders.start_sync(outside_cams.uuid)
        await c.folders.wait_for_sync(outside_cams.uuid, job, timeout_seconds=30)
        outside = [i.uuid async for i in c.items.list_recursive(outside_cams.uuid)]

        team = await c.groups.create("Prüfer – QA", "Reviewers")
        await c.groups.add_members(team.group_hash, ["alice@example.com", "bob@example.com"])
        leads = await c.groups.create("leads")
        await c.folders.add_groups(top.uuid, [team.group_hash], StorageUserRole.USER)
        await c.folders.add_groups(raw.uuid, [leads.group_hash], StorageUserRole.ADMIN)
        await c.folders.add_groups(cams.uuid, [team.group_hash], StorageUserRole.ADMIN)

        night = [items["c.png"].uuid, items["d.txt"].uuid]
        train = (await c.datasets.create("train set", description="Train")).dataset_uuid
        await c.datasets.link_items(train, [*night, items["a.jpg"].uuid, outside[0]])
        await c.datasets.add_groups(train, [leads.group_hash], DatasetUserRole.ADMIN)
        await c.datasets.add_users(train, ["bob@example.com"], DatasetUserRole.USER)
        everything = (await c.datasets.create("everything")).dataset_uuid
        await c.datasets.link_items(everything, [i.uuid for i in items.values()])
        await c.datasets.create("unrelated")  # links nothing under the root
        await c.metadata_schema.set(
            {
                "split": {"ty": "enum", "values": ["train", "val"]},
                "q": {"ty": "number", "format": "F64"},
            }
        )


async def _plan(config: Path) -> tuple[LiveState, object]:
    desired = load_config(config)
    async with connect(TargetOptions(config=desired.target, env={})) as client:
        live = await read_live(client, Scope.from_desired(desired))
    return live, diff(desired, live)


@pytest.mark.slow
def test_export_then_plan_is_empty(tmp_path: Path) -> None:
    asyncio.run(_organisation(tmp_path))
    db, out = tmp_path / "embedded.sqlite", tmp_path / "adopted"
    exported = run_cli("export", "--root", "/team", "--sandbox", str(db), "--out", str(out))
    assert exported.returncode == 0, exported.stderr
    assert exported.stderr == ""  # nothing had to be left out
    validated = run_cli("validate", str(out))
    assert validated.returncode == 0, validated.stdout + validated.stderr

    live, plan = asyncio.run(_plan(out))
    assert live.complete and live.missing_roots == ()
    assert plan.changes == (), [(c.address, c.actions, c.reason) for c in plan.changes]  # type: ignore[attr-defined]
    assert plan.refusals == ()  # type: ignore[attr-defined]
    # Through the CLI as well: plan reports no changes, apply sees nothing to do, and nothing
    # changes live.
    planned = run_cli("plan", str(out), "--detailed-exitcode")
    assert planned.returncode == 0, planned.stdout + planned.stderr
    applied = run_cli("apply", str(out), "--auto-approve")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "No changes. The organisation matches the configuration." in applied.stdout
    after, _ = asyncio.run(_plan(out))
    assert after.to_json() == live.to_json()

    datasets = yaml.safe_load((out / "datasets.yaml").read_text())["datasets"]
    assert datasets["everything"]["items"] == [{"folder": "/team", "recursive": True}]
    assert datasets["train set"]["items"] == [
        {"folder": "/team/raw/cams/night", "recursive": True},
        {"manifest": "manifests/links-train-set.jsonl"},
    ]
    assert "unrelated" not in datasets
