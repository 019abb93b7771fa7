"""Organisation tags end to end over a loopback socket, the official SDK as the independent
reader: declared tags are created; an owned tag removed from the YAML is deleted under
prune; a tag made by hand, or by another config, is never deleted (not even under
``prune: all``); drift shows a tag deleted by hand; export then plan is empty."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from encord.user_client import EncordUserClient
from helpers import SandboxServer, flags, run_cli, running_sandbox
from sdk_data.sdk_kit import ssh_client

from reconciler.export.build import Documents
from reconciler.export.render import render

SETTINGS = """\
version: 1
target:
  encord: {domain: https://api.encord.com}
ownership: {id: tags-e2e}
policy: {prune: PRUNE, max_delete_ratio: 1.0}
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxServer]:
    with running_sandbox(tmp_path_factory.mktemp("tags-e2e")) as served:
        yield served


def _config(root: Path, tags: str, prune: str = "owned") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "reconciler.yaml").write_text(SETTINGS.replace("PRUNE", prune))
    (root / "tags.yaml").write_text(tags)
    return root


def _tags(uc: EncordUserClient) -> set[str]:
    return {tag.name for tag in uc.list_organisation_tags()}


@pytest.mark.slow
def test_tags_are_created_pruned_when_ours_audited_and_exported(
    server: SandboxServer, tmp_path: Path
) -> None:
    uc = ssh_client(server.key_text, server.url)
    uc.create_organisation_tag("by-hand", description="made in the app")
    uc.create_organisation_tag("theirs", description="x [managed by reconciler: other]")
    target = flags(server)
    declared = "organisation_tags:\n  night: Frames at night\n  qa: Checked twice\n"
    config = _config(tmp_path / "config", declared)

    created = run_cli("apply", str(config), "--auto-approve", *target)
    assert created.returncode == 0, created.stdout + created.stderr
    assert _tags(uc) == {"by-hand", "theirs", "night", "qa"}

    _config(config, "organisation_tags:\n  night: Frames at night\n", prune="all")
    plan = run_cli("plan", str(config), *target)
    pruned = run_cli("apply", str(config), "--auto-approve", *target)
    assert pruned.returncode == 0, pruned.stdout + pruned.stderr
    assert _tags(uc) == {"by-hand", "theirs", "night"}  # ours deleted, nobody else's
    assert plan.stdout.index("Deletes") < plan.stdout.index("- organisation-tag:qa")
    assert plan.stdout.count("- organisation-tag:") == 1  # only ours is deleted
    assert "Plan: 0 to create, 0 to change, 0 to move, 1 to delete," in plan.stdout

    uc.delete_organisation_tag(tag_name="night")  # a change made by hand
    drift = run_cli("drift", str(config), "--format", "json", *target)
    assert drift.returncode == 2, drift.stdout + drift.stderr
    (entry,) = json.loads(drift.stdout)["drift"]
    assert (entry["kind"], entry["address"]) == ("missing", "organisation-tag:night")
    assert entry["source"] == "tags.yaml:2"

    folder = uc.create_storage_folder("exported")
    server.control("POST", "/_sandbox/folder-tags", {"folder": str(folder.uuid), "tag": "by-hand"})
    out = tmp_path / "exported"
    exported = run_cli("export", "--root", "/exported", "--out", str(out), *target)
    assert exported.returncode == 0, exported.stdout + exported.stderr
    assert "'theirs' carries ownership id 'other'" in exported.stderr
    tags = yaml.safe_load((out / "organisation_tags.yaml").read_text())["organisation_tags"]
    assert tags == {"by-hand": "made in the app"}
    folders = (out / "folders.yaml").read_text()  # folder tags are shown, not declared
    assert '#   "/exported": "by-hand"\n' in folders
    assert yaml.safe_load(folders)["folders"] == {"/exported": {}}
    again = run_cli("plan", str(out), "--detailed-exitcode", *target)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "No changes." in again.stdout


def test_folder_tags_in_an_export_stay_comments_whatever_their_names() -> None:
    docs = Documents(settings={}, folders={"/a": {}}, folder_tags={"/a": ["x\ny: 1", "z\u2028w"]})
    text = render(docs, header="# h")["folders.yaml"]
    assert '#   "/a": "x\\ny: 1", "z\\u2028w"\n' in text
    assert yaml.safe_load(text) == {"folders": {"/a": {}}}
