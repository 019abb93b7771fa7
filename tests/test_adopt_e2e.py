"""Adopt and release end to end, over a loopback socket, the official SDK as the reader.

A hand-built organisation (made with the SDK: no ownership marker anywhere) is exported,
adopted in one reviewed plan, then pruned correctly when a declaration is removed; a released
folder survives its removal from the YAML; a folder another config owns is adopted only with
``--takeover``. One served sandbox for the module; each test works under its own root.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from encord.orm.storage import StorageUserRole as SdkStorageRole
from helpers import SandboxServer, flags, run_cli, running_sandbox, sdk

from reconciler.model.desired import OWNER_KEY, ownership_tag

OWNER = "e2e-adopt"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxServer]:
    with running_sandbox(tmp_path_factory.mktemp("sandbox")) as served:
        yield served


def _folders(server: SandboxServer, top: str) -> dict[str, dict[str, Any]]:
    """Every folder under ``/top`` (and it), by path, as the SDK reads it."""
    client = sdk(server)
    (root,) = [f for f in client.find_storage_folders(search=top) if f.name == top]
    out = {f"/{top}": root.client_metadata or {}}
    stack = [(f"/{top}", root)]
    while stack:
        path, folder = stack.pop()
        for child in folder.list_subfolders():
            out[f"{path}/{child.name}"] = child.client_metadata or {}
            stack.append((f"{path}/{child.name}", child))
    return out


def _group_description(server: SandboxServer, name: str) -> str:
    (group,) = [g for g in sdk(server).list_groups() if g.name == name]
    return str(group.description)


def _plan(server: SandboxServer, config: Path, out: Path, *extra: str) -> dict[str, Any]:
    made = run_cli("plan", str(config), "--out", str(out), *extra, *flags(server))
    assert made.returncode == 0, made.stdout + made.stderr
    doc: dict[str, Any] = json.loads(out.read_text())
    return doc


def _apply(server: SandboxServer, plan: Path) -> str:
    applied = run_cli("apply", str(plan), "--auto-approve", *flags(server), timeout=120)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "Verified: a fresh plan is empty." in applied.stdout
    return applied.stdout


def _shapes(doc: dict[str, Any]) -> set[tuple[str, tuple[str, ...]]]:
    return {(c["address"], tuple(c["actions"])) for c in doc["changes"]}


def _drop_folder(config: Path, path: str) -> None:
    """Remove one folder's declaration from the exported folders.yaml."""
    file = config / "folders.yaml"
    data = yaml.safe_load(file.read_text())
    del data["folders"][path]
    file.write_text(yaml.safe_dump(data, sort_keys=False))


def test_a_hand_built_organisation_is_exported_adopted_then_pruned_and_released(
    server: SandboxServer, tmp_path: Path
) -> None:
    client = sdk(server)
    hand = client.create_storage_folder("hand", description="made in the app")
    for name in ("old", "keep", "raw"):
        client.create_storage_folder(name, parent_folder=hand.uuid, client_metadata={"by": "me"})
    client.create_group("hand-crew", "made in the app")
    config = tmp_path / "config"
    exported = run_cli(
        "export", "--root", "/hand", "--out", str(config), "--ownership-id", OWNER, *flags(server)
    )
    assert exported.returncode == 0, exported.stdout + exported.stderr

    # Exported, it plans to nothing: declared, yet not ours, so never pruned.
    before = _plan(server, config, tmp_path / "p0.json")
    assert before["changes"] == []

    adopted = run_cli("adopt", "--config", str(config), "folder:/hand", "folder:/hand/**")
    assert adopted.returncode == 0, adopted.stdout + adopted.stderr
    assert "Wrote adopt: true into 4 declaration(s)" in adopted.stdout

    # One reviewed plan adopts every declared folder, and nothing else.
    doc = _plan(server, config, tmp_path / "p1.json")
    assert _shapes(doc) == {
        (f"folder:{p}", ("adopt",)) for p in ("/hand", "/hand/old", "/hand/keep", "/hand/raw")
    }
    _apply(server, tmp_path / "p1.json")
    live = _folders(server, "hand")
    assert {p: m.get(OWNER_KEY) for p, m in live.items()} == dict.fromkeys(live, OWNER)
    assert live["/hand/old"]["by"] == "me"  # the rest of the metadata is kept

    # Export wrote prune: never (nothing was ours); now that it is, prune what is ours.
    settings = yaml.safe_load((config / "reconciler.yaml").read_text())
    assert settings["policy"]["prune"] == "never"
    settings["policy"]["prune"] = "owned"
    (config / "reconciler.yaml").write_text(yaml.safe_dump(settings, sort_keys=False))
    assert _plan(server, config, tmp_path / "p1b.json")["changes"] == []

    # Removed from the YAML, an adopted folder is now pruned.
    _drop_folder(config, "/hand/old")
    doc = _plan(server, config, tmp_path / "p2.json")
    assert _shapes(doc) == {("folder:/hand/old", ("delete",))}
    _apply(server, tmp_path / "p2.json")
    assert "/hand/old" not in _folders(server, "hand")

    # Released first, a folder survives its removal from the YAML.
    released = run_cli("release", "--config", str(config), "folder:/hand/keep")
    assert released.returncode == 0, released.stdout + released.stderr
    doc = _plan(server, config, tmp_path / "p3.json")
    assert _shapes(doc) == {("folder:/hand/keep", ("release",))}
    _apply(server, tmp_path / "p3.json")
    assert OWNER_KEY not in _folders(server, "hand")["/hand/keep"]
    _drop_folder(config, "/hand/keep")
    doc = _plan(server, config, tmp_path / "p4.json")
    assert doc["changes"] == []
    assert "folder:/hand/keep" in doc["unmanaged"]
    assert "group:hand-crew" in doc["unmanaged"]  # organisation-wide, not declared
    assert "/hand/keep" in _folders(server, "hand")


def test_a_group_is_adopted_and_another_configs_folder_only_with_takeover(
    server: SandboxServer, tmp_path: Path
) -> None:
    client = sdk(server)
    theirs = client.create_storage_folder("theirs", client_metadata={OWNER_KEY: "other-team"})
    client.create_storage_folder("inner", parent_folder=theirs.uuid)
    client.create_group("crew-b", "made in the app")
    readers = client.create_group("readers-b", "made in the app")
    theirs.add_group(readers.group_hash, SdkStorageRole.USER)
    config = tmp_path / "config"
    config.mkdir()
    (config / "reconciler.yaml").write_text(
        f"version: 1\ntarget: {{sandbox: {{path: unused.sqlite}}}}\nownership: {{id: {OWNER}}}\n"
    )
    (config / "main.yaml").write_text(
        "folders:\n  /theirs: {adopt: true, description: now ours, groups: {}}\n"
        "groups:\n  crew-b: {adopt: true}\n"
    )
    refused = run_cli("plan", str(config), *flags(server))
    assert refused.returncode == 1
    assert "! [takeover, withheld]" in refused.stdout and "plan with --takeover" in refused.stdout
    assert "folder:/theirs" in refused.stdout and "other-team" in refused.stdout

    doc = _plan(server, config, tmp_path / "p.json", "--takeover")
    assert doc["takeover"] is True
    assert _shapes(doc) == {
        ("folder:/theirs", ("patch", "adopt")),
        ("folder-group:/theirs#readers-b", ("revoke",)),
        ("group:crew-b", ("adopt",)),
    }
    # The saved plan revokes on the taken-over folder: apply re-judges it with --takeover too.
    out = _apply(server, tmp_path / "p.json")
    assert "group:crew-b" in out
    assert _folders(server, "theirs")["/theirs"][OWNER_KEY] == OWNER
    assert _group_description(server, "crew-b") == f"made in the app {ownership_tag(OWNER)}"
    assert list(sdk(server).get_storage_folder(theirs.uuid).list_groups()) == []
