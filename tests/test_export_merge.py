"""``export --merge``: live objects the config does not declare are added to it; what is
written (entries, order, comments) stays byte for byte; the merged config plans to nothing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from helpers import run_cli

from reconciler.config import load_config
from reconciler.export.build import Documents
from reconciler.export.errors import ExportError
from reconciler.export.merge import merge

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SETTINGS = (
    "version: 1\ntarget:\n  encord: {domain: https://api.encord.com}\nownership: {id: merge-test}\n"
)
FOLDERS = """\
# hand-written, keep me
folders:
  /z:                 # last by name, first by hand
    description: zed
  /a: {}
# a trailing note
"""


def _config(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "reconciler.yaml").write_text(SETTINGS)
    for name, text in files.items():
        (root / name).write_text(text)
    return root


def _docs(**sections: object) -> Documents:
    docs = Documents(settings={})
    for name, value in sections.items():
        setattr(docs, name, value)
    return docs


def _lines_kept(before: str, after: str) -> bool:
    """Every line of ``before`` is in ``after``, in the same order."""
    rest = iter(after.splitlines())
    return all(line in rest for line in before.splitlines())


def test_new_entries_go_to_the_end_of_their_section_and_nothing_else_moves(tmp_path: Path) -> None:
    root = _config(tmp_path, {"folders.yaml": FOLDERS, "groups.yaml": "groups: {}\n"})
    docs = _docs(
        folders={"/a": {"description": "live differs"}, "/m": {"description": "new ${x}"}},
        groups={"crew": {"members": ["a@example.com"]}},
    )
    result = merge(load_config(root, env={}), docs, root)

    assert result.added == {"folders": ["/m"], "groups": ["crew"]}
    text = result.files["folders.yaml"]
    assert _lines_kept(FOLDERS, text)
    assert text.index("/a: {}") < text.index("/m:") < text.index("# a trailing note")
    assert "live differs" not in text  # a declared entry is never touched
    assert "groups.merged.yaml" in result.files  # flow style cannot take lines
    for rel, written in result.files.items():
        (root / rel).write_text(written)
    desired = load_config(root, env={})
    assert list(desired.folders) == ["/z", "/a", "/m"]
    assert desired.folders["/m"].description == "new ${x}"  # written as $${x}
    assert set(desired.groups) == {"crew"}


def test_a_file_without_the_section_gets_it_appended_and_org_wide_sections_opt_in(
    tmp_path: Path,
) -> None:
    root = _config(tmp_path, {"main.yaml": "# only a comment\n"})
    docs = _docs(
        folders={"/new": {}},
        organisation_tags={"night": "At night"},
        metadata_schema={"k": "text"},
    )
    result = merge(load_config(root, env={}), docs, root)
    assert result.added == {"folders": ["/new"]}  # tags and schema: not managed, not added
    assert result.files["folders.yaml"].endswith("folders:\n  /new: {}\n")

    (root / "tags.yaml").write_text("organisation_tags:\n  day: By day  # ours\n")
    result = merge(load_config(root, env={}), docs, root)
    assert result.files["tags.yaml"] == (
        "organisation_tags:\n  day: By day  # ours\n  night: At night\n"
    )


def test_a_new_datasets_link_manifest_is_written_but_never_over_a_file(tmp_path: Path) -> None:
    root = _config(tmp_path, {})
    name = "manifests/links-train.jsonl"
    docs = _docs(
        datasets={"train": {"items": [{"manifest": name}], "unlink": "never"}},
        link_manifests={name: ["/a/x.jpg"]},
    )
    result = merge(load_config(root, env={}), docs, root)
    assert [json.loads(line) for line in result.files[name].splitlines()] == [{"path": "/a/x.jpg"}]
    (root / "manifests").mkdir()
    (root / name).write_text("{}\n")
    with pytest.raises(ExportError, match="already exists"):
        merge(load_config(root, env={}), docs, root)


def test_export_merge_keeps_hand_written_content_and_plans_empty(tmp_path: Path) -> None:
    config = shutil.copytree(
        EXAMPLES / "quickstart", tmp_path / "cfg", ignore=shutil.ignore_patterns(".reconciler")
    )
    assert run_cli("apply", str(config), "--auto-approve").returncode == 0
    # Someone else (a second config with the same ownership id) adds a folder and a group.
    other = shutil.copytree(config, tmp_path / "other", ignore=shutil.ignore_patterns(".*"))
    settings = (other / "reconciler.yaml").read_text()
    (other / "reconciler.yaml").write_text(
        settings.replace("path: .reconciler/", f"path: {config}/.reconciler/")
    )
    (other / "extra.yaml").write_text(
        "folders:\n  /quickstart/extra: {description: made elsewhere, groups: {extra-team: user}}\n"
        "groups:\n  extra-team: {description: Extra people}\n"
    )
    made = run_cli("apply", str(other), "--auto-approve")
    assert made.returncode == 0, made.stdout + made.stderr
    before = {p.name: p.read_text() for p in config.glob("*.yaml")}

    merged = run_cli("export", "--merge", "--out", str(config))
    assert merged.returncode == 0, merged.stdout + merged.stderr
    assert "merged into" in merged.stdout and "1 folder, 1 group" in merged.stdout

    after = {p.name: p.read_text() for p in config.glob("*.yaml")}
    assert after["reconciler.yaml"] == before["reconciler.yaml"]
    assert _lines_kept(before["storage.yaml"], after["storage.yaml"])
    assert "# Every synced image says where it came from." in after["storage.yaml"]
    assert "/quickstart/extra:" in after["storage.yaml"] and "extra-team:" in after["storage.yaml"]
    planned = run_cli("plan", str(config), "--detailed-exitcode")
    assert planned.returncode == 0, planned.stdout + planned.stderr
    assert "No changes." in planned.stdout


def test_a_section_new_to_its_file_and_schema_keys_are_appended(tmp_path: Path) -> None:
    root = _config(
        tmp_path,
        {
            "folders.yaml": "groups:\n  crew: {}  # no folders here yet",  # no final newline
            "types.yaml": "metadata_schema:\n  k: text\n",
        },
    )
    docs = _docs(folders={"/n": {}}, metadata_schema={"k": "number", "new": "text"})
    result = merge(load_config(root, env={}), docs, root)
    assert result.files["folders.yaml"] == (
        "groups:\n  crew: {}  # no folders here yet\n\nfolders:\n  /n: {}\n"
    )
    assert result.files["types.yaml"] == "metadata_schema:\n  k: text\n  new: text\n"


def test_a_taken_merged_file_is_an_error_and_nothing_is_returned(tmp_path: Path) -> None:
    root = _config(tmp_path, {"g.yaml": "groups: {a: {}}\n", "groups.merged.yaml": "# x\n"})
    with pytest.raises(ExportError, match=r"groups\.merged\.yaml already exists"):
        merge(load_config(root, env={}), _docs(groups={"b": {}}), root)
