"""``reconciler drift`` end to end: a config applied to a sandbox served on a loopback socket,
changed out of band with the official ``encord`` SDK, then audited. Every change is reported
as the right kind of drift on the right object, the audit only ever reads, and a clean
organisation reports none."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import xmlschema
from encord.user_client import EncordUserClient
from helpers import SandboxServer, flags, run_cli, running_sandbox, sdk

from reconciler.drift import drift_schema

DATA = Path(__file__).parent / "drift_data"
SETTINGS = """\
version: 1
target:
  sandbox: {path: .reconciler/unused.sqlite}
ownership: {id: drift-e2e}
"""
MAIN = """\
groups:
  annotators: {description: People who label}
  reviewers: {description: People who review}
folders:
  /drift:
    description: root of the drift tests
    groups: {reviewers: admin}
  /drift/cams:
    description: cameras
    groups: {annotators: user, reviewers: admin}
  /drift/archive:
    description: old data
  /drift/archive/2023:
    description: last year
items:
  - folder: /drift/cams
    metadata: {split: train}
datasets:
  drift-ds:
    description: the dataset
    items:
      - {folder: /drift/cams}
"""
# What an audit may send: reads only (v2 GETs, and the v1 and v2 reads that are POSTs).
READ_POSTS = {
    "POST /public dataset",
    "POST /public datarows",
    "POST /public/user projectwithuserrole",
    "POST /v2/public/storage/items/get-bulk",
}


def config(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "reconciler.yaml").write_text(SETTINGS)
    (directory / "main.yaml").write_text(MAIN)
    return directory


def drift(cfg: Path, server: SandboxServer, *extra: str) -> subprocess.CompletedProcess[str]:
    return run_cli("drift", str(cfg), *flags(server), *extra)


def assert_only_reads(server: SandboxServer) -> None:
    stats = server.stats()
    routes = {k for k in stats if k != "total"}
    assert stats["total"] > 0
    writes = {r for r in routes if not r.startswith("GET ") and r not in READ_POSTS}
    assert writes == set(), stats


def by_name(folders: Any) -> dict[str, Any]:
    return {f.name: f for f in folders}


def change_out_of_band(uc: EncordUserClient) -> dict[str, str]:
    """The five hand edits; returns the names of the item and link it touched."""
    (root,) = [
        f
        for f in uc.find_storage_folders(search="drift")
        if f.parent_uuid is None and f.name == "drift"
    ]
    subs = by_name(root.list_subfolders())
    subs["archive"].update(name="archive-old")
    cams = subs["cams"]
    items = sorted(cams.list_items(), key=lambda i: i.name)
    items[0].update(client_metadata={"split": "test"})
    groups = by_name(uc.list_groups())
    cams.remove_group(groups["annotators"].group_hash)
    (listed,) = uc.get_datasets(title_eq="drift-ds")
    dataset = uc.get_dataset(listed["dataset"].dataset_hash)
    rows = {str(r.backing_item_uuid): r for r in dataset.list_data_rows()}
    dataset.delete_data(rows[str(items[1].uuid)].uid)
    root.create_subfolder("hand-made", description="made by a person")
    return {"metadata": items[0].name, "unlinked": items[1].name}


@pytest.mark.slow
@pytest.mark.sdk
def test_out_of_band_changes_are_each_reported_on_the_right_object(tmp_path: Path) -> None:
    cfg = config(tmp_path / "cfg")
    with running_sandbox(tmp_path, seeds=(("/drift/cams", 4),)) as server:
        applied = run_cli("apply", str(cfg), "--auto-approve", *flags(server))
        assert applied.returncode == 0, applied.stdout + applied.stderr

        server.reset_stats()
        clean = drift(cfg, server, "--format", "json")
        assert clean.returncode == 0, clean.stdout + clean.stderr
        doc = json.loads(clean.stdout)
        jsonschema.validate(doc, drift_schema())
        assert doc["in_sync"] is True and doc["drift"] == [] and doc["unmanaged"] == []
        assert_only_reads(server)

        uc = sdk(server)
        touched = change_out_of_band(uc)
        server.reset_stats()
        junit = tmp_path / "drift.xml"
        found = drift(cfg, server, "--format", "json", "--junit", str(junit))
        assert found.returncode == 2, found.stdout + found.stderr
        assert_only_reads(server)
        doc = json.loads(found.stdout)
        jsonschema.validate(doc, drift_schema())
        entries = {(d["kind"], d["address"]): d for d in doc["drift"]}
        cams = "/drift/cams"
        assert set(entries) == {
            ("moved", "folder:/drift/archive"),
            ("moved", "folder:/drift/archive/2023"),
            ("metadata", f"item:{cams}/{touched['metadata']}"),
            ("access", f"folder-group:{cams}#annotators"),
            ("links", f"link:drift-ds#{cams}/{touched['unlinked']}"),
        }
        renamed = entries[("moved", "folder:/drift/archive")]
        assert renamed["live_address"] == "folder:/drift/archive-old"
        assert renamed["source"] == "main.yaml:11"
        assert {"path": ["path"], "op": "change", "live": "/drift/archive-old",
                "declared": "/drift/archive"} in renamed["fields"]  # fmt: skip
        metadata = entries[("metadata", f"item:{cams}/{touched['metadata']}")]
        assert metadata["source"] == "main.yaml:16" and metadata["check"] == "rule:/drift/cams"
        assert metadata["fields"] == [
            {"path": ["metadata", "split"], "op": "change", "live": "test", "declared": "train"}
        ]
        access = entries[("access", f"folder-group:{cams}#annotators")]
        assert access["source"] == "main.yaml:10"
        assert access["fields"] == [
            {"path": ["role"], "op": "add", "live": None, "declared": "user"}
        ]
        link = entries[("links", f"link:drift-ds#{cams}/{touched['unlinked']}")]
        assert link["source"] == "main.yaml:22" and link["check"] == "links:drift-ds"
        assert doc["unmanaged"] == [
            {"address": "folder:/drift/hand-made", "root": "/drift", "items": 0}
        ]

        for name in ("JUnit.xsd", "jenkins-junit-10.xsd"):
            xmlschema.XMLSchema(str(DATA / name)).validate(str(junit))
        xml = junit.read_text()
        assert xml.count("<failure ") == 5 and 'type="drift.moved"' in xml

        # the audit changed nothing: the hand edits are all still there
        (root,) = [
            f
            for f in uc.find_storage_folders(search="drift")
            if f.parent_uuid is None and f.name == "drift"
        ]
        assert set(by_name(root.list_subfolders())) == {"archive-old", "cams", "hand-made"}

        text = drift(cfg, server)
        assert text.returncode == 2
        assert (
            "→ moved      folder:/drift/archive (live at folder:/drift/archive-old)" in text.stdout
        )
        assert "? folder:/drift/hand-made (under /drift)" in text.stdout

        markdown = drift(cfg, server, "--format", "markdown")
        assert markdown.returncode == 2 and len(markdown.stdout) <= 65_536
        assert "**5 drifted**" in markdown.stdout

        only = drift(cfg, server, "--only", "link:**", "--format", "json")
        assert only.returncode == 2
        assert [d["kind"] for d in json.loads(only.stdout)["drift"]] == ["links"]
        unmanaged_only = drift(cfg, server, "--only", "folder:/drift/hand-made")
        assert unmanaged_only.returncode == 0, unmanaged_only.stdout  # unmanaged is not drift
        assert "folder:/drift/hand-made" in unmanaged_only.stdout

        fixed = run_cli("apply", str(cfg), "--auto-approve", *flags(server))
        assert fixed.returncode == 0, fixed.stdout + fixed.stderr
        after = drift(cfg, server)
        assert after.returncode == 0, after.stdout + after.stderr
        assert "In sync" in after.stdout and "folder:/drift/hand-made" in after.stdout


# --- errors: one line, exit 1 --------------------------------------------------------------


def test_usage_errors_exit_1_not_2(tmp_path: Path) -> None:
    result = run_cli("drift", str(config(tmp_path)), "--format", "yaml")
    assert result.returncode == 1
    assert "Invalid value for '--format'" in result.stderr
    result = run_cli("drift", "--no-such-flag")
    assert result.returncode == 1 and "No such option" in result.stderr


def test_a_missing_config_directory_is_one_line(tmp_path: Path) -> None:
    result = run_cli("drift", str(tmp_path / "nowhere"))
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        f"Error: {tmp_path / 'nowhere'}: no such file or directory; pass the config directory"
    ]


def test_an_invalid_config_lists_file_line_col(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    (cfg / "main.yaml").write_text("folders:\n  /drift:\n    descriptionn: typo\n")
    result = run_cli("drift", ".", cwd=cfg)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.startswith("Error: main.yaml:3:5: ")
    assert "Traceback" not in result.stderr


def test_a_bad_glob_is_one_line(tmp_path: Path) -> None:
    result = run_cli("drift", str(config(tmp_path)), "--only", "folder:/[abc")
    assert result.returncode == 1
    assert (
        result.stderr.strip() == "Error: --only 'folder:/[abc': unclosed '[' in glob 'folder:/[abc'"
    )


@pytest.mark.slow
def test_an_unreachable_target_is_one_line(tmp_path: Path) -> None:
    key = tmp_path / "k"
    init = run_cli("sandbox", "init", "--db", str(tmp_path / "s.sqlite"), "--key-out", str(key))
    assert init.returncode == 0, init.stderr
    cfg = config(tmp_path / "cfg")
    result = run_cli(
        "drift", str(cfg), "--domain", "http://127.0.0.1:9", "--ssh-key-file", str(key)
    )
    assert result.returncode == 1 and result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("Error: cannot read the organisation at http://127.0.0.1:9: ")


def test_an_unwritable_junit_file_is_one_line_and_exit_1(tmp_path: Path) -> None:
    cfg = config(tmp_path / "cfg")
    result = run_cli(
        "drift", str(cfg), "--sandbox", str(tmp_path / "s.sqlite"),
        "--junit", str(tmp_path / "no" / "such" / "dir.xml"),
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.strip().startswith("Error: cannot write the JUnit report to ")


def test_help_says_unmanaged_is_not_drift_and_gives_the_exit_codes() -> None:
    result = run_cli("drift", "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    assert "they are not drift and do not change the exit code" in text
    assert "Exit code 0 in sync, 2 drift, 1 error" in text


@pytest.mark.slow
def test_a_withheld_change_is_a_refusal_and_exits_1_with_the_report(tmp_path: Path) -> None:
    """A leftover folder of ours under ``policy.protect``: prune may not delete it, so the
    plan withholds the delete; drift cannot call that in sync, nor fix it by apply."""
    cfg = config(tmp_path / "cfg")
    db = tmp_path / "s.sqlite"
    (cfg / "extra.yaml").write_text("folders:\n  /drift/leftover: {description: soon gone}\n")
    first = run_cli("apply", str(cfg), "--auto-approve", "--sandbox", str(db))
    assert first.returncode == 0, first.stdout + first.stderr
    (cfg / "extra.yaml").unlink()
    (cfg / "reconciler.yaml").write_text(SETTINGS + "policy: {protect: [/drift/leftover/**]}\n")
    result = run_cli("drift", str(cfg), "--sandbox", str(db))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "! [protected, withheld]" in result.stdout
    assert "the plan withholds changes (1 refusal, listed above)" in result.stderr
