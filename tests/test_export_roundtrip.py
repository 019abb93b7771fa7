"""The export contract: ``reconciler export`` then a plan against the same organisation plans
zero changes. Export through the CLI, validate through the CLI, load the directory, read the
live state and diff with the real config loader, reader and planner; then ``reconciler apply``
finds nothing to do and the live state is unchanged.

Over a loopback socket, for the three kinds of organisation an export meets: built by hand
with the official ``encord`` SDK, built by reconciler (``examples/realistic`` applied), and a
mix (a reconciler config, then edited by hand). One served sandbox for the module: each case
works under its own roots and group names.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
import yaml
from encord.http.bundle import Bundle
from encord.http.constants import RequestsSettings
from encord.orm.dataset import DatasetUserRole as SdkDatasetRole
from encord.orm.dataset import StorageLocation
from encord.orm.storage import CloudSyncedFolderParams as SdkSyncParams
from encord.orm.storage import StorageUserRole as SdkStorageRole
from encord.user_client import EncordUserClient
from encord_data.kit import TINY_PNG, embedded
from helpers import SandboxServer, run_cli, running_sandbox

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


@pytest.mark.anyio
@pytest.mark.slow
async def test_export_then_plan_is_empty(tmp_path: Path) -> None:
    await _organisation(tmp_path)
    db, out = tmp_path / "embedded.sqlite", tmp_path / "adopted"
    exported = run_cli("export", "--root", "/team", "--sandbox", str(db), "--out", str(out))
    assert exported.returncode == 0, exported.stderr
    assert exported.stderr == ""  # nothing had to be left out
    validated = run_cli("validate", str(out))
    assert validated.returncode == 0, validated.stdout + validated.stderr

    live, plan = await _plan(out)
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
    after, _ = await _plan(out)
    assert after.to_json() == live.to_json()

    datasets = yaml.safe_load((out / "datasets.yaml").read_text())["datasets"]
    assert datasets["everything"]["items"] == [{"folder": "/team", "recursive": True}]
    assert datasets["train set"]["items"] == [
        {"folder": "/team/raw/cams/night", "recursive": True},
        {"manifest": "manifests/links-train-set.jsonl"},
    ]
    assert "unrelated" not in datasets


# --- over a socket: by hand, by reconciler, and a mix ---------------------------------------------

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@dataclass
class Org:
    server: SandboxServer
    workdir: Path
    buckets: Path  # the s3 integration's root directory

    @property
    def flags(self) -> tuple[str, ...]:
        return ("--domain", self.server.url, "--ssh-key-file", str(self.server.key_path))

    def sdk(self) -> EncordUserClient:
        return EncordUserClient.create_with_ssh_private_key(
            self.server.key_text,
            requests_settings=RequestsSettings(max_retries=0),
            domain=self.server.url,
        )


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Org]:
    """A served sandbox with ``examples/realistic``'s integrations and users (its buckets
    copied away, so the repository is never written to)."""
    workdir = tmp_path_factory.mktemp("export-org")
    example = workdir / "realistic"
    shutil.copytree(EXAMPLES / "realistic", example, ignore=shutil.ignore_patterns(".reconciler"))
    fixtures = load_config(example).target.sandbox
    assert fixtures is not None
    db, key = workdir / "sandbox.sqlite", workdir / "admin.key"
    steps = [
        ("init", "--db", str(db), "--admin-email", "admin@example.com", "--key-out", str(key)),
        *(
            ("add-integration", "--db", str(db), "--title", i.title, "--provider", i.provider,
             "--root", i.root)
            for i in fixtures.integrations
        ),
        *(
            ("add-user", "--db", str(db), "--email", u.email,
             "--org-role", u.role.lower().replace("_", "-"),
             "--key-out", str(workdir / f"{u.email}.key"))
            for u in fixtures.users
        ),
    ]  # fmt: skip
    for step in steps:
        done = run_cli("sandbox", *step)
        assert done.returncode == 0, (step, done.stderr)
    with running_sandbox(workdir, init=False) as server:
        yield Org(server, workdir, example / "buckets" / "s3")


def _apply(org: Org, config: Path) -> None:
    applied = run_cli("apply", str(config), "--auto-approve", *org.flags, timeout=300)
    assert applied.returncode == 0, applied.stdout + applied.stderr


def _export_round_trip(org: Org, out: Path, *args: str) -> dict[str, Any]:
    """Export, validate, plan: the plan is empty. Returns the YAML documents by file name."""
    exported = run_cli("export", *args, *org.flags, "--out", str(out))
    assert exported.returncode == 0, exported.stdout + exported.stderr
    validated = run_cli("validate", str(out))
    assert validated.returncode == 0, validated.stdout + validated.stderr
    planned = run_cli("plan", str(out), "--detailed-exitcode", *org.flags)
    assert planned.returncode == 0, planned.stdout + planned.stderr
    assert "No changes." in planned.stdout
    texts = {p.relative_to(out).as_posix(): p.read_text() for p in out.rglob("*") if p.is_file()}
    for name, text in texts.items():
        assert str(org.workdir) not in text, name  # no path of this machine
        if name != "config.schema.json":
            assert "reconciler.owner" not in text and "managed by reconciler" not in text, name
    return {n: yaml.safe_load(t) for n, t in texts.items() if n.endswith(".yaml")}


def _no_empty_mappings(value: Any) -> bool:
    if isinstance(value, dict):
        return bool(value) and all(v is not None and _no_empty_mappings(v) for v in value.values())
    if isinstance(value, list):
        return all(_no_empty_mappings(v) for v in value)
    return True


@pytest.mark.slow
def test_an_organisation_built_by_reconciler_exports_and_plans_to_nothing(
    org: Org, tmp_path: Path
) -> None:
    _apply(org, org.workdir / "realistic")
    docs = _export_round_trip(org, tmp_path / "out", "--root", "/raw", "--root", "/curated")
    assert docs["reconciler.yaml"]["ownership"] == {"id": "acme-data-platform"}
    assert docs["groups.yaml"]["groups"]["labeling-ops"]["description"] == "Labeling team"
    described = docs["datasets.yaml"]["datasets"]["front-camera-train"]["description"]
    assert described == "Front camera frames for training"
    for folder in docs["folders.yaml"]["folders"].values():
        assert "metadata" not in folder or _no_empty_mappings(folder["metadata"])
    rules = [e for e in docs["items.yaml"]["items"] if "folder" in e]
    assert {"folder": "/raw/cameras/side", "metadata": {
        "position": "side", "sensor": "camera", "source": "s3://acme-raw/cameras/"}} in rules  # fmt: skip


@pytest.mark.slow
def test_an_organisation_built_by_hand_with_the_sdk_exports_and_plans_to_nothing(
    org: Org, tmp_path: Path
) -> None:
    uc = org.sdk()
    names = [f"{n:04}.png" for n in range(120)]
    for name in names:
        path = org.buckets / "acme-raw" / "hand" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(TINY_PNG)
    top = uc.create_storage_folder("hand", "Built by hand", client_metadata={"team": "ops"})
    uc.create_storage_folder("notes", parent_folder=top, client_metadata={"k": [1, {"x": None}]})
    (integration,) = uc.get_cloud_integrations(filter_integration_titles=["acme-s3-raw"])
    params = SdkSyncParams(integration_uuid=UUID(integration.id), remote_url="s3://acme-raw/hand/")
    synced = uc.create_storage_folder(
        "frames", parent_folder=top, cloud_synced_folder_params=params
    )
    job = synced.sync_private_data_with_cloud_synced_folder_start()
    synced.sync_private_data_with_cloud_synced_folder_get_result(job, timeout_seconds=60)
    items = sorted(synced.list_items(), key=lambda i: i.name)
    assert [i.name for i in items] == names
    with Bundle() as bundle:
        for n, item in enumerate(items):
            extra = {"qa": "checked"} if n % 10 == 0 else {}
            item.update(client_metadata={"sensor": "camera", "site": "lab", **extra}, bundle=bundle)
    reviewers = uc.create_group("hand-reviewers", "Reviews by hand")
    reviewers.add_users(["lina.park@acme.example"])
    top.add_group(reviewers.group_hash, SdkStorageRole.USER)
    created = uc.create_dataset(
        "hand-set", StorageLocation.CORD_STORAGE, "Picked by hand", create_backing_folder=False
    )
    dataset = uc.get_dataset(created.dataset_hash)
    dataset.link_items([i.uuid for i in items[:7]])
    dataset.add_group(reviewers.group_hash, SdkDatasetRole.USER)

    docs = _export_round_trip(org, tmp_path / "out", "--root", "/hand")
    assert docs["reconciler.yaml"]["ownership"] == {"id": "change-me"}  # nothing of ours found
    rules = [e for e in docs["items.yaml"]["items"] if "folder" in e]
    assert rules == [{"folder": "/hand/frames", "metadata": {"sensor": "camera", "site": "lab"}}]
    rows = (tmp_path / "out" / "manifests" / "metadata.jsonl").read_text().splitlines()
    assert len(rows) == 12  # only the items with something of their own
    assert docs["groups.yaml"]["groups"]["hand-reviewers"]["description"] == "Reviews by hand"


MIXED = """\
version: 1
target: {encord: {domain: DOMAIN}}
ownership: {id: mix-team}
policy: {prune: owned}
folders:
  /mixed: {description: Mixed, metadata: {team: vision}, groups: {mix-annotators: user}}
  /mixed/clips:
    cloud_sync: {integration: acme-s3-raw, remote_url: "s3://acme-raw/cameras/", sync: on_create}
groups:
  mix-annotators: {description: Annotators, members: [lina.park@acme.example]}
items:
  - {folder: /mixed/clips, recursive: true, match: {type: image}, metadata: {sensor: camera}}
datasets:
  mix-train:
    description: Train
    groups: {mix-annotators: user}
    items: [{folder: /mixed/clips/rear}]
"""


@pytest.mark.slow
def test_a_mix_of_reconciler_and_hand_edits_exports_and_plans_to_nothing(
    org: Org, tmp_path: Path
) -> None:
    config = tmp_path / "mixed"
    config.mkdir()
    (config / "reconciler.yaml").write_text(MIXED.replace("DOMAIN", org.server.url))
    _apply(org, config)
    uc = org.sdk()
    (mixed,) = [f for f in uc.find_storage_folders(search="mixed") if f.name == "mixed"]
    by_hand = uc.create_storage_folder("by-hand", parent_folder=mixed, client_metadata={"o": 1})
    reviewers = uc.create_group("mix-hand-reviewers")
    mixed.add_group(reviewers.group_hash, SdkStorageRole.ADMIN)
    by_hand.add_group(reviewers.group_hash, SdkStorageRole.USER)
    (clips,) = [f for f in mixed.list_subfolders() if f.name == "clips"]
    (rear,) = [f for f in clips.list_subfolders() if f.name == "rear"]
    rear_items = list(rear.list_items())
    rear_items[0].update(client_metadata={**(rear_items[0].client_metadata or {}), "hand": True})
    created = uc.create_dataset(
        "mix-hand-set", StorageLocation.CORD_STORAGE, create_backing_folder=False
    )
    uc.get_dataset(created.dataset_hash).link_items([i.uuid for i in rear_items])

    docs = _export_round_trip(org, tmp_path / "out", "--root", "/mixed")
    assert docs["reconciler.yaml"]["ownership"] == {"id": "mix-team"}
    assert docs["folders.yaml"]["folders"]["/mixed"]["metadata"] == {"team": "vision"}
    assert "metadata" not in docs["folders.yaml"]["folders"]["/mixed/clips"]
    assert docs["groups.yaml"]["groups"]["mix-annotators"]["description"] == "Annotators"
    assert "description" not in docs["groups.yaml"]["groups"]["mix-hand-reviewers"]
    assert set(docs["datasets.yaml"]["datasets"]) == {"mix-train", "mix-hand-set"}
    # and the exported config applies as nothing to do
    applied = run_cli("apply", str(tmp_path / "out"), "--auto-approve", *org.flags)
    assert applied.returncode == 0, applied.stdout + applied.stderr


@pytest.mark.slow
def test_objects_of_several_ownership_ids_need_a_choice(org: Org, tmp_path: Path) -> None:
    for ownership, root in (("team-a", "/alpha"), ("team-b", "/beta")):
        config = tmp_path / ownership
        config.mkdir()
        (config / "reconciler.yaml").write_text(
            f"version: 1\ntarget: {{encord: {{domain: {org.server.url}}}}}\n"
            f"ownership: {{id: {ownership}}}\n"
            f"folders:\n  {root}: {{description: {ownership}'s}}\n"
            f"groups:\n  {ownership}-people: {{description: People}}\n"
            f"  {ownership}-admins: {{}}\n"
        )
        (config / "grants.yaml").write_text(
            f"folders:\n  {root}/shared: {{groups: {{{ownership}-people: user}}}}\n"
        )
        _apply(org, config)
    roots = ("--root", "/alpha", "--root", "/beta")
    refused = run_cli("export", *roots, *org.flags, "--out", str(tmp_path / "refused"))
    assert refused.returncode == 1
    (line,) = refused.stderr.strip().splitlines()
    assert "team-a (3 objects), team-b (3 objects)" in line and "--ownership-id" in line
    assert not (tmp_path / "refused").exists()

    out = tmp_path / "chosen"
    docs = _export_round_trip(org, out, *roots, "--ownership-id", "team-a")
    assert docs["reconciler.yaml"]["ownership"] == {"id": "team-a"}
    assert docs["folders.yaml"]["folders"]["/beta"] == {"description": "team-b's"}
