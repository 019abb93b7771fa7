"""Index collections end to end over a loopback socket (``reconciler sandbox serve``), with
the official SDK as the independent reader: created with exactly the selected items,
members that leave the selector removed, a rename that keeps the UUID, drift reporting a
hand-added item, ``failedItems`` failing only their item, and export → plan empty."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest
from encord.collection import Collection
from encord.storage import StorageFolder, StorageItem
from encord.user_client import EncordUserClient
from helpers import SandboxServer, flags, run_cli, running_sandbox, sdk, write_config

pytestmark = [pytest.mark.slow, pytest.mark.sdk]

SETTINGS = """\
version: 1
target:
  sandbox:
    path: .reconciler/unused.sqlite
ownership: {id: e2e-collections}
"""

CURATION = """\
collections:
  {name}:
    folder: /raw
    description: Frames captured at night
{previously}    items:
      - {{folder: /raw/cams, match: {{metadata: {{lighting: night}}}}}}
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxServer]:
    with running_sandbox(
        tmp_path_factory.mktemp("collections-e2e"), seeds=(("/raw/cams", 6), ("/other", 1))
    ) as served:
        yield served


@pytest.fixture(scope="module")
def uc(server: SandboxServer) -> EncordUserClient:
    return sdk(server)


def top(uc: EncordUserClient, name: str) -> StorageFolder:
    (folder,) = [
        f for f in uc.find_storage_folders(search=name) if f.name == name and not f.parent_uuid
    ]
    return folder


def cams(uc: EncordUserClient) -> dict[str, StorageItem]:
    (folder,) = [f for f in top(uc, "raw").list_subfolders() if f.name == "cams"]
    return {item.name: item for item in folder.list_items()}


def collection_named(uc: EncordUserClient, name: str) -> Collection:
    (found,) = [
        c for c in uc.list_collections(top_level_folder_uuid=top(uc, "raw").uuid) if c.name == name
    ]
    return found


def members(collection: Collection) -> set[UUID]:
    return {item.uuid for item in collection.list_items()}


def apply(config: Path, server: SandboxServer, *extra: str) -> subprocess.CompletedProcess[str]:
    return run_cli("apply", str(config), "--auto-approve", *flags(server), *extra, timeout=300)


def curation(tmp_path: Path, name: str, previously: str = "") -> Path:
    body = CURATION.format(name=name, previously=previously)
    return write_config(tmp_path / name, body, SETTINGS)


def test_a_collection_follows_its_selector_and_keeps_its_uuid(
    tmp_path: Path, server: SandboxServer, uc: EncordUserClient
) -> None:
    items = cams(uc)
    for name in ("item-0000000.jpg", "item-0000001.jpg", "item-0000002.jpg"):
        items[name].update(client_metadata={"lighting": "night"})
    config = curation(tmp_path, "night")

    first = apply(config, server)

    assert first.returncode == 0, first.stdout + first.stderr
    night = collection_named(uc, "night")
    assert night.description == "Frames captured at night [managed by reconciler: e2e-collections]"
    night_items = ("item-0000000.jpg", "item-0000001.jpg", "item-0000002.jpg")
    assert members(night) == {items[n].uuid for n in night_items}

    items["item-0000001.jpg"].update(client_metadata={"lighting": "day"})  # out of the selector
    second = apply(config, server)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "collection-item:night#/raw/cams/item-0000001.jpg" in second.stdout
    assert members(night) == {items[n].uuid for n in ("item-0000000.jpg", "item-0000002.jpg")}

    renamed = curation(tmp_path, "night-scenes", previously="    previously: [night]\n")
    third = apply(renamed, server)
    assert third.returncode == 0, third.stdout + third.stderr
    assert "collection:night-scenes (from collection:night)" in third.stdout
    again = uc.get_collection(night.uuid)
    assert again.name == "night-scenes"
    assert members(again) == {items[n].uuid for n in ("item-0000000.jpg", "item-0000002.jpg")}

    again.add_items([items["item-0000004.jpg"].uuid])  # by hand
    audit = run_cli("drift", str(renamed), *flags(server))
    assert audit.returncode == 2, audit.stdout + audit.stderr
    assert "collection-item:night-scenes#/raw/cams/item-0000004.jpg" in audit.stdout
    assert "in the collection, but no selector selects it" in audit.stdout

    fourth = apply(renamed, server)
    assert fourth.returncode == 0, fourth.stdout + fourth.stderr
    assert members(again) == {items[n].uuid for n in ("item-0000000.jpg", "item-0000002.jpg")}
    assert "No changes." in apply(renamed, server).stdout

    out = tmp_path / "exported"
    exported = run_cli("export", "--root", "/raw/cams", "--out", str(out), *flags(server))
    assert exported.returncode == 0, exported.stdout + exported.stderr
    text = (out / "collections.yaml").read_text()
    assert "night-scenes:" in text and "[managed by" not in text
    replanned = run_cli("plan", str(out), "--detailed-exitcode", *flags(server))
    assert replanned.returncode == 0, replanned.stdout + replanned.stderr


SPLIT = """\
collections:
  picked:
    folder: /raw
    items:
      - {folder: /raw/cams, match: {name: "item-000000[345].jpg"}}
"""


def test_an_item_the_api_refuses_fails_alone_with_its_selector(
    tmp_path: Path, server: SandboxServer, uc: EncordUserClient
) -> None:
    settings = SETTINGS.replace("e2e-collections", "e2e-split")  # the other test's are not ours
    config = write_config(tmp_path / "split", SPLIT, settings)
    plan_file = tmp_path / "plan.json"
    made = run_cli("plan", str(config), "--out", str(plan_file), *flags(server))
    assert made.returncode == 0, made.stdout + made.stderr
    items = cams(uc)
    items["item-0000004.jpg"].move_to_folder(top(uc, "other"))  # out of the collection's folder

    result = run_cli("apply", str(plan_file), "--auto-approve", *flags(server), timeout=300)

    assert result.returncode == 1, result.stdout + result.stderr
    failed = [line for line in result.stdout.splitlines() if line.lstrip().startswith("! ")]
    assert len(failed) == 1, result.stdout
    assert "collection-item:picked#/raw/cams/item-0000004.jpg" in failed[0]
    assert "declared at main.yaml:5" in failed[0]
    assert "Apply finished with problems: 3 changes applied, 1 failed" in result.stdout
    picked = collection_named(uc, "picked")
    assert members(picked) == {items[n].uuid for n in ("item-0000003.jpg", "item-0000005.jpg")}
