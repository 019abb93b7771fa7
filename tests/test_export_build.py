"""The export of a live snapshot (pure): every declared value is the live value, selectors
select exactly the linked items, and what cannot be declared exactly is left out with a
warning. Files are parsed back and compared whole."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from reconciler.export import Export, ExportError, ExportOptions, export_state
from reconciler.model.live import (
    LiveCollection,
    LiveDataRow,
    LiveDataset,
    LiveFolder,
    LiveGroup,
    LiveIntegration,
    LiveItem,
    LiveState,
    LiveUser,
)

TARGET = {"sandbox": {"path": "/tmp/s.sqlite"}}


def _folder(uuid: str, parent: str | None, path: str, **extra: Any) -> LiveFolder:
    return LiveFolder(uuid=uuid, parent=parent, name=path.rsplit("/", 1)[1], path=path, **extra)


def _item(uuid: str, folder: LiveFolder, name: str, **extra: Any) -> LiveItem:
    return LiveItem(
        uuid=uuid,
        parent=folder.uuid,
        folder_path=folder.path,
        name=name,
        item_type="image",
        **extra,
    )


ROOT = _folder("f-root", None, "/cur", description="Curated ${HOME}", metadata={"b": 1, "a": True})
A = _folder("f-a", "f-root", "/cur/a")
A1 = _folder("f-a1", "f-a", "/cur/a/one")
B = _folder("f-b", "f-root", "/cur/b")
CAMS = _folder(
    "f-cams", "f-root", "/cur/cams", folder_type="cloudLinked", integration_uuid="int-1",
    remote_url="s3://raw/cams/",
)  # fmt: skip
NIGHT = _folder("f-night", "f-cams", "/cur/cams/night")  # made by the sync, nothing declared
DAY = _folder("f-day", "f-cams", "/cur/cams/day")  # made by the sync, but granted
OUTSIDE = _folder("f-out", None, "/elsewhere")
ITEMS = [
    _item("i-r1", ROOT, "r1.jpg"),
    _item("i-a1", A, "x.jpg", metadata={"split": "train"}),
    _item("i-a2", A, "y.jpg"),
    _item("i-o1", A1, "deep.jpg"),
    _item("i-b1", B, "b1.jpg"),
    _item("i-b2", B, "b2.jpg", is_tombstone=True),
    _item("i-n1", NIGHT, "n.png", metadata={"q": 0.5}),
    _item("i-out", OUTSIDE, "far.jpg", metadata={"k": 1}),
]


def _state(**overrides: Any) -> LiveState:
    folders = {f.uuid: f for f in (ROOT, A, A1, B, CAMS, NIGHT, DAY, OUTSIDE)}
    base: dict[str, Any] = {
        "target": "sandbox:/tmp/s.sqlite",
        "scope": ("/cur",),
        "folders": folders,
        "paths": {f.path: f.uuid for f in folders.values()},
        "items": {i.uuid: i for i in ITEMS},
        "folder_groups": {"f-root": {"g-1": "user"}, "f-a": {"g-1": "admin"}, "f-day": {"g-2": "user"}},
        "groups": {
            "g-1": LiveGroup("g-1", "annotators", "People", ("a@x.io", "b@x.io")),
            "g-2": LiveGroup("g-2", "reviewers", "", ("c@x.io",)),
            "g-3": LiveGroup("g-3", "unrelated", "", ()),
        },
        "integrations": {"int-1": LiveIntegration("int-1", "s3-raw")},
        "datasets": {
            "d-1": LiveDataset(
                uuid="d-1", title="train", description="Training", user_role="admin",
                groups={"g-1": "user"}, users={"a@x.io": "admin"},
                rows=tuple(
                    LiveDataRow(f"h-{u}", u)
                    for u in ("i-a1", "i-a2", "i-o1", "i-b1", "i-out", "i-n1")
                ),
            ),
            "d-2": LiveDataset(uuid="d-2", title="far", rows=(LiveDataRow("h-x", "i-out"),)),
        },
        "metadata_schema": {"split": {"ty": "enum", "values": ["train", "val"]}, "q": {"ty": "number", "format": "F64"}},
        "listing_counts": {"/cur": 15},
    }  # fmt: skip
    base.update(overrides)
    return LiveState(**base)


def _export(state: LiveState, **options: Any) -> Export:
    return export_state(state, ExportOptions(roots=("/cur",), target=TARGET, **options))


def _load(files: dict[str, str], name: str) -> Any:
    text = files[name]
    if name.endswith(".jsonl"):
        return [json.loads(line) for line in text.splitlines()]
    return yaml.safe_load(text)


def test_folders_groups_and_cloud_sync_are_the_live_values() -> None:
    files = dict(_export(_state()).files)
    assert _load(files, "folders.yaml") == {
        "folders": {
            "/cur": {
                "description": "Curated $${HOME}",  # read back as "Curated ${HOME}"
                "metadata": {"a": True, "b": 1},
                "groups": {"annotators": "user"},
            },
            "/cur/a": {"groups": {"annotators": "admin"}},
            "/cur/a/one": {},
            "/cur/b": {},
            "/cur/cams": {
                "cloud_sync": {
                    "integration": "s3-raw",
                    "remote_url": "s3://raw/cams/",
                    "sync": "never",
                }
            },
            "/cur/cams/day": {"groups": {"reviewers": "user"}},
        }
    }
    assert _load(files, "groups.yaml") == {
        "groups": {
            "annotators": {"description": "People", "members": ["a@x.io", "b@x.io"]},
            "reviewers": {"members": ["c@x.io"]},
        }
    }
    assert _load(files, "reconciler.yaml") == {
        "version": 1,
        "target": TARGET,
        "ownership": {"id": "change-me"},
        "policy": {"prune": "never"},
    }


def test_dataset_links_become_folder_selectors_or_a_path_manifest() -> None:
    export = _export(_state())
    files = dict(export.files)
    # /cur/a: x, y and the whole of /cur/a/one linked -> recursive; /cur/b has an unlinked
    # tombstone -> b1 by path; all of /cur/cams (its one item is in night) -> recursive.
    assert _load(files, "datasets.yaml") == {
        "datasets": {
            "train": {
                "description": "Training",
                "groups": {"annotators": "user"},
                "users": {"a@x.io": "admin"},
                "items": [
                    {"folder": "/cur/a", "recursive": True},
                    {"folder": "/cur/cams", "recursive": True},
                    {"manifest": "manifests/links-train.jsonl"},
                ],
                "unlink": "never",
            }
        }
    }
    assert _load(files, "manifests/links-train.jsonl") == [{"path": "/cur/b/b1.jpg"}]
    assert "far" not in files["datasets.yaml"]  # it links nothing under the root


def test_direct_items_alone_give_a_non_recursive_selector() -> None:
    rows = tuple(LiveDataRow(f"h-{u}", u) for u in ("i-a1", "i-a2"))
    state = _state(datasets={"d-1": LiveDataset(uuid="d-1", title="t", rows=rows)})
    docs = _load(dict(_export(state).files), "datasets.yaml")
    assert docs["datasets"]["t"]["items"] == [{"folder": "/cur/a"}]


def test_item_metadata_goes_to_a_manifest_and_the_schema_is_spelled_for_the_config() -> None:
    files = dict(_export(_state()).files)
    assert _load(files, "items.yaml") == {"items": [{"manifest": "manifests/metadata.jsonl"}]}
    assert _load(files, "manifests/metadata.jsonl") == [
        {"path": "/cur/a/x.jpg", "metadata": {"split": "train"}},
        {"path": "/cur/cams/night/n.png", "metadata": {"q": 0.5}},
    ]
    assert _load(files, "metadata_schema.yaml") == {
        "metadata_schema": {"q": "number", "split": {"type": "enum", "values": ["train", "val"]}}
    }


def test_a_schema_the_config_cannot_spell_is_left_out_whole() -> None:
    schema = {"split": {"ty": "text"}, "f": {"ty": "number", "format": "F32"}}
    export = _export(_state(metadata_schema=schema))
    assert "metadata_schema.yaml" not in export.files
    assert any("metadata schema left out" in w and "F32" in w for w in export.warnings)


def test_ambiguous_paths_and_duplicate_names_are_left_out_with_warnings() -> None:
    twin = _folder("f-a-twin", "f-root", "/cur/a")
    folders = {**_state().folders, twin.uuid: twin}
    groups = {**_state().groups, "g-4": LiveGroup("g-4", "annotators", "", ())}
    state = _state(folders=folders, ambiguous={"/cur/a": ("f-a", "f-a-twin")}, groups=groups)
    export = _export(state)
    files = dict(export.files)
    folder_paths = set(_load(files, "folders.yaml")["folders"])
    assert not {"/cur/a", "/cur/a/one"} & folder_paths
    items = _load(files, "datasets.yaml")["datasets"]["train"]["items"]
    assert {"folder": "/cur/a", "recursive": True} not in items
    assert all("/cur/a/" not in row["path"] for row in _load(files, "manifests/metadata.jsonl"))
    assert "groups" not in _load(files, "folders.yaml")["folders"]["/cur"]
    assert any(w.startswith("/cur/a names 2 folders") for w in export.warnings)
    assert any("2 groups are named 'annotators'" in w for w in export.warnings)
    assert "folder /cur: grants left unmanaged; group g-1 has no unique name" in export.warnings


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"missing_roots": ("/cur",)}, "no folder at /cur in sandbox:/tmp/s.sqlite"),
        ({"ambiguous": {"/cur": ("f-root", "f-x")}}, "/cur names several folders"),
    ],
)
def test_a_missing_or_ambiguous_root_stops_the_export(overrides: Any, message: str) -> None:
    with pytest.raises(ExportError, match=message):
        _export(_state(**overrides))


@pytest.mark.parametrize(
    "text",
    ["1e3", "0o17", "-.5", "1e-3", "yes", "NO", "on", "~", "", "true", "0x1F", "12:30", "${X}"],
)
def test_strings_read_back_as_the_same_strings_by_the_config_loader(text: str) -> None:
    """The loader reads YAML 1.2 and interpolates ${...}; every exported string survives it."""
    from reconciler.config.yamlread import parse_yaml

    folder = _folder("f-root", None, "/cur", description=text, metadata={text or "k": text})
    state = _state(folders={"f-root": folder}, items={}, datasets={}, folder_groups={})
    files = dict(_export(state).files)
    doc, problems = parse_yaml(files["folders.yaml"].encode(), "folders.yaml", {"X": "set"})
    assert problems == [] and doc is not None
    declared = {"description": text} if text else {}  # "" is the default: not declared
    assert doc.data["folders"]["/cur"] == {**declared, "metadata": {text or "k": text}}


# --- reconciler's own marks -------------------------------------------------------------------

TAG = " [managed by reconciler: acme]"


def _managed_state(**overrides: Any) -> LiveState:
    """The state after reconciler (ownership id ``acme``) created the folders, a group and a
    dataset: the marker in folder metadata, the tag in descriptions."""
    root = _folder(
        "f-root", None, "/cur", description="Curated", metadata={"reconciler.owner": "acme", "t": 1}
    )
    only_marker = _folder("f-a", "f-root", "/cur/a", metadata={"reconciler.owner": "acme"})
    folders = {f.uuid: f for f in (root, only_marker)}
    base: dict[str, Any] = {
        "folders": folders,
        "paths": {f.path: f.uuid for f in folders.values()},
        "items": {"i-1": _item("i-1", only_marker, "x.jpg")},
        "folder_groups": {"f-root": {"g-1": "user"}, "f-a": {"g-2": "admin"}},
        "groups": {
            "g-1": LiveGroup("g-1", "annotators", "People" + TAG, ("a@x.io",)),
            "g-2": LiveGroup("g-2", "leads", TAG.strip(), ("b@x.io",)),
        },
        "datasets": {
            "d-1": LiveDataset(
                uuid="d-1", title="train", description="Training" + TAG,
                rows=(LiveDataRow("h-1", "i-1"),),
            ),
        },
        "metadata_schema": None,
    }  # fmt: skip
    base.update(overrides)
    return _state(**base)


def test_ownership_marks_are_not_declared_and_the_id_goes_to_reconciler_yaml() -> None:
    export = _export(_managed_state())
    files = dict(export.files)
    assert _load(files, "folders.yaml")["folders"] == {
        "/cur": {"description": "Curated", "metadata": {"t": 1}, "groups": {"annotators": "user"}},
        "/cur/a": {"groups": {"leads": "admin"}},  # no empty ``metadata:`` left behind
    }
    assert _load(files, "groups.yaml")["groups"] == {
        "annotators": {"description": "People", "members": ["a@x.io"]},
        "leads": {"members": ["b@x.io"]},
    }
    assert _load(files, "datasets.yaml")["datasets"]["train"]["description"] == "Training"
    assert _load(files, "reconciler.yaml")["ownership"] == {"id": "acme"}
    assert export.ownership_id == "acme" and export.warnings == ()
    assert "managed by reconciler" not in "".join(files.values())
    assert "reconciler.owner" not in "".join(
        v for k, v in files.items() if k != "config.schema.json"
    )


def test_several_ownership_ids_are_refused_unless_one_is_chosen() -> None:
    state = _managed_state()
    beta = _folder("f-b", "f-root", "/cur/b", metadata={"reconciler.owner": "beta"})
    folders = {**state.folders, beta.uuid: beta}
    state = _managed_state(folders=folders, paths={f.path: f.uuid for f in folders.values()})
    with pytest.raises(ExportError) as refused:
        _export(state)
    message = str(refused.value)
    assert "\n" not in message
    assert "acme (5 objects), beta (1 object)" in message and "--ownership-id" in message

    chosen = _export(state, ownership_id="beta")
    assert _load(dict(chosen.files), "reconciler.yaml")["ownership"] == {"id": "beta"}
    assert chosen.warnings == (
        "5 objects exported carry ownership id 'acme', not 'beta': "
        "plans from this config never change them",
    )
    assert "metadata" not in _load(dict(chosen.files), "folders.yaml")["folders"]["/cur/b"]


def test_no_mark_found_leaves_the_placeholder_or_takes_the_chosen_id() -> None:
    assert _load(dict(_export(_state()).files), "reconciler.yaml")["ownership"] == {
        "id": "change-me"
    }
    chosen = _export(_state(), ownership_id="team-a")
    assert chosen.ownership_id == "team-a"
    assert _load(dict(chosen.files), "reconciler.yaml")["ownership"] == {"id": "team-a"}


# --- what makes the directory usable in git and in an editor -------------------------------------


def test_schema_reference_resolves_to_the_packaged_schema_and_reconciler_is_ignored() -> None:
    from reconciler.config.schema import config_schema

    files = dict(_export(_state()).files)
    assert json.loads(files["config.schema.json"]) == config_schema()
    for name, text in files.items():
        if name.endswith(".yaml"):
            assert text.splitlines()[0] == "# yaml-language-server: $schema=config.schema.json"
            assert "/" not in name  # so the relative reference resolves from the file
    assert files[".gitignore"].splitlines() == [".reconciler/"]


def test_no_file_names_the_target_of_this_machine() -> None:
    files = dict(_export(_state(target="sandbox:/home/me/secret-place/s.sqlite")).files)
    assert not any("/home/me" in text for text in files.values())


def test_collections_are_declared_by_selectors_that_reproduce_their_members() -> None:
    tag = "[managed by reconciler: acme]"
    collections = {
        "c-1": LiveCollection("c-1", "/cur", "picked", f"Picked {tag}", "t", ("i-a1", "i-r1")),
        "c-2": LiveCollection("c-2", "/cur", "empty", "", "t", ()),
        "c-3": LiveCollection("c-3", "/cur", "theirs", "[managed by reconciler: other]", "t", ()),
        "c-4": LiveCollection("c-4", "/cur", "twice", "", "t", ()),
        "c-5": LiveCollection("c-5", "/cur", "twice", "", "t", ()),
        "c-6": LiveCollection("c-6", "/cur", "bad\nname", "", "t", ()),
        "c-7": LiveCollection("c-7", "/elsewhere", "far", "", "t", ("i-out",)),
    }  # fmt: skip
    result = _export(_state(collections=collections), ownership_id="acme")
    files = dict(result.files)
    assert _load(files, "collections.yaml") == {
        "collections": {
            "empty": {"folder": "/cur", "items": [], "remove": "never"},
            "picked": {
                "folder": "/cur",
                "description": "Picked",
                "items": [{"folder": "/cur"}, {"manifest": "manifests/collection-picked.jsonl"}],
                "remove": "never",
            },
        }
    }
    assert _load(files, "manifests/collection-picked.jsonl") == [{"path": "/cur/a/x.jpg"}]
    warned = "\n".join(result.warnings)
    assert "collection 'theirs' carries ownership id 'other', not 'acme': left out" in warned
    assert "2 collections in /cur are named 'twice': left out" in warned
    assert "a config cannot hold its name" in warned
    assert result.counts["collections"] == 2


def test_users_are_declared_as_live_and_what_cannot_be_is_left_out() -> None:
    users = {
        "Ann@example.com": LiveUser("Ann@example.com", "ADMIN", "internal"),
        "bob@example.com": LiveUser("bob@example.com", "TASKER", "external"),
        "cid@example.com": LiveUser("cid@example.com", "BILLING_ADMIN", "internal"),
    }
    result = _export(_state(users=users))
    assert _load(dict(result.files), "users.yaml")["users"] == {
        "Ann@example.com": "admin",
        "bob@example.com": {"role": "tasker", "type": "external"},
    }
    assert any("user cid@example.com is left out" in w for w in result.warnings)
    unread = _export(_state(users={}, users_complete=False))
    assert "users.yaml" not in unread.files
    assert any("users listing could not be read" in w for w in unread.warnings)
