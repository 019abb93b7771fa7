"""``reconciler export`` of an organisation whose names are hostile, then ``validate`` and
``plan`` on what it wrote, through the CLI.

Folder, item, group and dataset names, descriptions and metadata keys and values hold
newlines, NUL, bidirectional controls, leading and trailing spaces, ``#``, ``:``, ``*``, YAML
indicators and very long text. What the config can hold must read back as itself (the plan is
empty); what it cannot (a control character in a path) is left out, each in one warning line
naming it; never a file that fails to load or that means something else.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from encord_data.kit import INTEGRATION, TINY_PNG, embedded
from helpers import run_cli

from reconciler.config import load_config
from reconciler.wire.enums import DatasetUserRole, StorageUserRole
from reconciler.wire.storage import CloudSyncedFolderParams, PatchItemPayload

# names a config path can hold: they must come back exactly
HOLDABLE = (
    "rlo\u202ex", "lri\u2066x\u2069", " lead", "trail ", "#hash", "co: lon", "star*", "q?[a]",
    "- dash", "null", "yes", "1e3", "'q\"", "{a}", "&anchor", "!tag", "|pipe", ">fold", "%pct",
    "@at", "`tick", "$${x}", "x" * 300,
)  # fmt: skip
# names no config path can hold: left out, one line each
UNHOLDABLE = ("nl\nx", "cr\rx", "nul\x00x", "tab\tx")
TEXT = "line one\nline two\r\x00\u202e # not: a comment * ${HOME} " + "y" * 2000
ITEM_NAMES = ("nl\nitem.jpg", "rlo\u202eitem.jpg", " lead.jpg", "#h: x.jpg", "plain.jpg")
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069]")


async def _organisation(tmp_path: Path) -> None:
    async with embedded(tmp_path) as s:
        c = s.client
        team = await c.folders.create("team", description=TEXT, metadata={TEXT: TEXT, "k": 1})
        for name in (*HOLDABLE, *UNHOLDABLE):
            await c.folders.create(name, parent=team.uuid, description=name, metadata={name: name})
        bucket = tmp_path / "buckets" / "acme-raw" / "hostile"
        bucket.mkdir(parents=True)
        for name in ITEM_NAMES:
            (bucket / name).write_bytes(TINY_PNG)
        integration = {i.title: i for i in await c.integrations.list_all()}[INTEGRATION]
        params = CloudSyncedFolderParams(
            integration_uuid=integration.integration_uuid, remote_url="s3://acme-raw/hostile/"
        )
        raw = await c.folders.create("raw", parent=team.uuid, cloud_sync=params)
        job = await c.folders.start_sync(raw.uuid)
        await c.folders.wait_for_sync(raw.uuid, job, timeout_seconds=30)
        items = {i.name: i.uuid async for i in c.items.list_recursive(raw.uuid)}
        await c.items.patch_bulk(
            {uuid: PatchItemPayload(client_metadata={name: name}) for name, uuid in items.items()}
        )
        group = await c.groups.create("grp: #x *", TEXT)
        await c.folders.add_groups(team.uuid, [group.group_hash], StorageUserRole.USER)
        dataset = await c.datasets.create("ds\u202e #: x *", description="d: # x")
        await c.datasets.link_items(dataset.dataset_uuid, list(items.values())[:3])
        await c.datasets.add_groups(dataset.dataset_uuid, [group.group_hash], DatasetUserRole.USER)
        # a group and a dataset no config name can hold: left out, one line each
        unnamed = await c.groups.create("grp\nx", "")
        await c.folders.add_groups(raw.uuid, [unnamed.group_hash], StorageUserRole.ADMIN)
        other = await c.datasets.create("ds\x00" + "z" * 300, description="")
        await c.datasets.link_items(other.dataset_uuid, list(items.values())[:1])


@pytest.mark.anyio
@pytest.mark.slow
async def test_export_of_hostile_names_validates_and_plans_to_nothing(tmp_path: Path) -> None:
    await _organisation(tmp_path)
    db, out = tmp_path / "embedded.sqlite", tmp_path / "exported"
    exported = run_cli("export", "--root", "/team", "--sandbox", str(db), "--out", str(out))
    assert exported.returncode == 0, exported.stderr
    warnings = exported.stderr.splitlines()
    assert all(w.startswith("warning: ") for w in warnings), warnings
    assert not UNSAFE.search(exported.stderr), exported.stderr
    for name in UNHOLDABLE:  # each named once, shown printable
        shown = re.sub(r"[\n\r\x00\t]", lambda m: f"⟨U+{ord(m.group(0)):04X}⟩", name)
        assert sum(f"folder /team/{shown}: left out" in w for w in warnings) == 1, warnings

    assert sum("group grp⟨U+000A⟩x: left out" in w for w in warnings) == 1, warnings
    assert sum("dataset ds⟨U+0000⟩zzz" in w and "left out" in w for w in warnings) == 1
    assert "folder /team/raw: grants left unmanaged" in exported.stderr
    validated = run_cli("validate", str(out))
    assert validated.returncode == 0, validated.stdout + validated.stderr
    planned = run_cli("plan", str(out), "--detailed-exitcode")
    assert planned.returncode == 0, planned.stdout + planned.stderr
    assert "Traceback" not in planned.stderr + validated.stderr + exported.stderr

    desired = load_config(out)  # as the config loader reads it: interpolation and all
    for name in HOLDABLE:  # read back exactly as live names them
        folder = desired.folders[f"/team/{name}"]
        assert (folder.description, dict(folder.metadata or {})) == (name, {name: name})
    team = desired.folders["/team"]
    assert (team.description, dict(team.metadata or {})) == (TEXT, {TEXT: TEXT, "k": 1})
    assert not any(f"/team/{name}" in desired.folders for name in UNHOLDABLE)
    assert yaml.safe_load((out / "folders.yaml").read_text())  # plain YAML loads it too
