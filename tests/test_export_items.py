"""Item metadata in an export: a rule for what every item of a folder (or subtree) shares, a
manifest row for the rest; ``manifest`` writes a row per item, ``none`` nothing. Whatever the
mode, the real config loader and planner find nothing to change."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.config import load_config
from reconciler.export import ExportOptions, ItemsMode, export_state, write
from reconciler.model.live import LiveFolder, LiveItem, LiveState
from reconciler.plan.diff import diff

TARGET = {"sandbox": {"path": "s.sqlite"}}


def _folder(uuid: str, parent: str | None, path: str) -> LiveFolder:
    return LiveFolder(uuid=uuid, parent=parent, name=path.rsplit("/", 1)[1], path=path)


def _state(folders: list[LiveFolder], items: list[LiveItem], **extra: Any) -> LiveState:
    return LiveState(
        target="sandbox:s.sqlite",
        scope=("/cur",),
        folders={f.uuid: f for f in folders},
        paths={f.path: f.uuid for f in folders},
        items={i.uuid: i for i in items},
        **extra,
    )


def _items(folder: LiveFolder, count: int, metadata: Any, **extra: Any) -> list[LiveItem]:
    """``count`` items; ``metadata`` is a mapping or a function of the item's number."""
    return [
        LiveItem(
            uuid=f"{folder.uuid}-{n}", parent=folder.uuid, folder_path=folder.path,
            name=f"{n:05}.jpg", item_type="image",
            metadata=metadata(n) if callable(metadata) else metadata, **extra,
        )
        for n in range(count)
    ]  # fmt: skip


ROOT = _folder("f-root", None, "/cur")
CAMS = _folder("f-cams", "f-root", "/cur/cams")
FRONT = _folder("f-front", "f-cams", "/cur/cams/front")
REAR = _folder("f-rear", "f-cams", "/cur/cams/rear")
TREE = [ROOT, CAMS, FRONT, REAR]


def _export(state: LiveState, mode: ItemsMode = "rules") -> dict[str, str]:
    return dict(
        export_state(state, ExportOptions(roots=("/cur",), target=TARGET, items=mode)).files
    )


def _rules(files: dict[str, str]) -> list[dict[str, Any]]:
    if "items.yaml" not in files:
        return []
    return [e for e in yaml.safe_load(files["items.yaml"])["items"] if "manifest" not in e]


def _rows(files: dict[str, str]) -> list[dict[str, Any]]:
    text = files.get("manifests/metadata.jsonl", "")
    return [json.loads(line) for line in text.splitlines()]


def test_thousands_of_items_with_one_metadata_become_one_rule() -> None:
    shared = {"sensor": "camera", "n": 1, "nested": {"a": [1, "b"]}}
    state = _state(TREE, _items(FRONT, 3000, shared) + _items(REAR, 2000, shared))
    files = _export(state)
    # the narrowest folder holding them all
    assert _rules(files) == [{"folder": "/cur/cams", "recursive": True, "metadata": shared}]
    assert _rows(files) == []
    assert "manifests/metadata.jsonl" not in files


def test_shared_keys_nest_and_rows_keep_only_what_is_particular() -> None:
    front = _items(FRONT, 4, lambda n: {"sensor": "camera", "pos": "front", "id": n})
    rear = _items(REAR, 3, {"sensor": "camera", "pos": "rear"})
    lone = _items(CAMS, 1, {"sensor": "camera", "calibration": True})
    top = _items(ROOT, 1, {"other": 1})
    files = _export(_state(TREE, front + rear + lone + top))
    assert _rules(files) == [
        {"folder": "/cur/cams", "recursive": True, "metadata": {"sensor": "camera"}},
        {"folder": "/cur/cams/front", "metadata": {"pos": "front"}},
        {"folder": "/cur/cams/rear", "metadata": {"pos": "rear"}},
    ]
    assert _rows(files) == [
        {"path": "/cur/00000.jpg", "metadata": {"other": 1}},
        {"path": "/cur/cams/00000.jpg", "metadata": {"calibration": True}},
        *({"path": f"/cur/cams/front/{n:05}.jpg", "metadata": {"id": n}} for n in range(4)),
    ]


def test_an_item_without_the_key_stops_the_rule() -> None:
    front = _items(FRONT, 5, {"sensor": "camera"})
    bare = _items(REAR, 1, {})  # in the same subtree as front: /cur and /cur/cams get no rule
    files = _export(_state(TREE, front + bare))
    assert _rules(files) == [{"folder": "/cur/cams/front", "metadata": {"sensor": "camera"}}]


def test_true_and_1_are_different_values_but_1_and_1_point_0_are_one() -> None:
    ones = _items(FRONT, 2, {"k": 1}) + _items(REAR, 2, {"k": 1.0})
    assert _rules(_export(_state(TREE, ones)))[0]["metadata"] == {"k": 1}
    mixed = _items(FRONT, 2, {"k": 1}) + _items(REAR, 2, {"k": True})
    assert [r["folder"] for r in _rules(_export(_state(TREE, mixed)))] == [
        "/cur/cams/front",
        "/cur/cams/rear",
    ]


def test_tombstones_placeholders_and_ambiguous_subtrees_get_no_say() -> None:
    dead = LiveItem(
        "dead", FRONT.uuid, FRONT.path, "dead.jpg", "image", metadata={"s": "other"},
        is_tombstone=True,
    )  # fmt: skip
    items = [*_items(FRONT, 3, {"s": "x"}), dead]
    assert _rules(_export(_state(TREE, items))) == [
        {"folder": "/cur/cams/front", "metadata": {"s": "x"}}
    ]
    twin = _folder("f-rear-2", "f-cams", "/cur/cams/rear")
    items = _items(FRONT, 3, {"s": "x"}) + _items(REAR, 3, {"s": "x"})
    state = _state([*TREE, twin], items, ambiguous={"/cur/cams/rear": ("f-rear", "f-rear-2")})
    # /cur/cams would select the ambiguous folder's items once it is renamed: no recursive rule
    assert _rules(_export(state)) == [{"folder": "/cur/cams/front", "metadata": {"s": "x"}}]


def test_manifest_mode_writes_a_row_per_item_and_none_writes_nothing() -> None:
    state = _state(TREE, _items(FRONT, 3, {"s": "x", "reconciler.owner": "acme"}))
    files = _export(state, "manifest")
    assert _rules(files) == []
    assert _rows(files) == [
        {"path": f"/cur/cams/front/{n:05}.jpg", "metadata": {"s": "x"}} for n in range(3)
    ]
    files = _export(state, "none")
    assert "items.yaml" not in files and "manifests/metadata.jsonl" not in files


@pytest.mark.parametrize("mode", ["rules", "manifest", "none"])
@pytest.mark.parametrize("seed", range(6))
def test_the_real_loader_and_planner_find_nothing_to_change(
    tmp_path: Path, mode: ItemsMode, seed: int
) -> None:
    """Random trees and metadata shapes: whatever the export declares, the plan is empty."""
    rng = random.Random(seed)
    shapes = [{}, {"a": 1}, {"a": 1.0, "b": "x"}, {"a": True}, {"b": "x", "c": [1, {"d": None}]}]
    folders, base = [ROOT], {ROOT.uuid: rng.choice(shapes)}
    for n in range(rng.randint(1, 12)):
        parent = rng.choice(folders)
        folders.append(_folder(f"f-{n}", parent.uuid, f"{parent.path}/d{n}"))
        # subtrees often share their parent's metadata, so rules nest
        base[f"f-{n}"] = base[parent.uuid] if rng.random() < 0.6 else rng.choice(shapes)
    extras: list[dict[str, object]] = [{}, {}, {"a": 2}, {"e": "particular"}]
    items: list[LiveItem] = []
    for folder in folders:
        shared = base[folder.uuid]
        count = rng.randint(0, 6)
        items += _items(folder, count, lambda n, s=shared: {**s, **rng.choice(extras)})
    state = _state(folders, items)
    files = _export(state, mode)
    if mode == "rules":
        assert _rules(files) or not items
    write(files, tmp_path, force=False)
    plan = diff(load_config(tmp_path), state)
    assert plan.changes == () and plan.refusals == ()


def test_a_root_inside_another_root_declares_nothing_twice() -> None:
    items = _items(FRONT, 3, lambda n: {"s": "x", "id": n})
    state = _state(TREE, items)
    options = ExportOptions(roots=("/cur", "/cur/cams"), target=TARGET)
    files = dict(export_state(state, options).files)
    assert _rules(files) == [{"folder": "/cur/cams/front", "metadata": {"s": "x"}}]
    assert len(_rows(files)) == 3
