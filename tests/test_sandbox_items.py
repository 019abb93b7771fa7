"""Storage item routes through HTTP: listing (recursive, filtered, paged), get, patch, move,
delete, summaries; all-or-nothing bulk calls."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sandbox_data.harness import Harness, open_harness

from reconciler.sandbox.seed import seed
from reconciler.wire.base import Page
from reconciler.wire.storage import StorageItem, StorageItemSummary

MISSING = "7e88ed37-51c2-49a2-ae75-c91809824dd2"


@pytest.fixture
def sb(tmp_path: Path) -> Iterator[Harness]:
    with open_harness(tmp_path) as harness:
        yield harness


def names(page: dict[str, Any]) -> list[str]:
    return [i["name"] for i in page["results"]]


def all_pages(sb: Harness, path: str, query: list[tuple[str, Any]]) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    token = None
    for _ in range(1000):
        page = sb.ok(sb.get(path, query=[*query, *([("pageToken", token)] if token else [])]))
        results.extend(page["results"])
        token = page["nextPageToken"]
        if token is None:
            return results
    raise AssertionError("listing did not end")


def test_item_shape_has_every_key(sb: Harness) -> None:
    folder = sb.folder("f")
    [item_uuid] = sb.add_items(folder["uuid"], ["a.png"])
    item = sb.ok(sb.get(f"/storage/items/{item_uuid}", query=[("signUrl", False)]))
    StorageItem.model_validate(item)
    assert set(item) == {field.alias for field in StorageItem.model_fields.values()}
    assert item["clientMetadata"] == "{}" and item["parent"] == folder["uuid"]
    assert item["isTombstone"] is False and item["backedDataUnitsCount"] == 0
    assert item["signedUrl"] is None and item["fileSize"] == 100


def test_recursive_listing_pages_through_the_whole_subtree(sb: Harness, tmp_path: Path) -> None:
    result = seed(sb.db_path, under="/data", folders=7, items=250)
    sb.folder("elsewhere")
    path = f"/storage/folders/{result.root_uuid}/items"
    query: list[tuple[str, Any]] = [("isRecursive", True), ("order", "name"), ("pageSize", 40)]
    listed = all_pages(sb, path, query)
    assert len(listed) == 250 and len({i["uuid"] for i in listed}) == 250
    assert [i["name"] for i in listed] == sorted(i["name"] for i in listed)
    desc = all_pages(sb, path, [("isRecursive", True), ("desc", True), ("pageSize", 33)])
    assert [i["uuid"] for i in desc] == [i["uuid"] for i in reversed(listed)]
    by_created = all_pages(
        sb, path, [("isRecursive", True), ("order", "createdAt"), ("pageSize", 100)]
    )
    assert sorted(i["uuid"] for i in by_created) == sorted(i["uuid"] for i in listed)
    direct = sb.ok(sb.get(path, query=[("isRecursive", False)]))
    assert direct["results"] == [] and direct["nextPageToken"] is None


def test_small_subtree_uses_the_same_answers(sb: Harness) -> None:
    """A subtree small against the tree is listed by another plan; the answer must not change."""
    result = seed(sb.db_path, under="/big", folders=60, items=600)
    first = sb.ok(sb.get(f"/storage/folders/{result.root_uuid}/folders", query=[("pageSize", 1)]))
    leaf = first["results"][0]
    sb.add_items(leaf["uuid"], ["zz-extra.png"])
    listed = all_pages(
        sb, f"/storage/folders/{leaf['uuid']}/items", [("isRecursive", True), ("pageSize", 3)]
    )
    assert names({"results": listed}) == sorted(i["name"] for i in listed)
    assert len(listed) == 11 and listed[-1]["name"] == "zz-extra.png"


def test_filters_search_types_and_dataset_membership(sb: Harness) -> None:
    folder = sb.folder("f")
    sub = sb.folder("sub", folder["uuid"])
    sb.add_items(folder["uuid"], ["Cat.png", "dog.png"])
    sb.add_items(sub["uuid"], ["cat.mp4"], item_type="video")
    base = f"/storage/folders/{folder['uuid']}/items"
    found = sb.ok(sb.get(base, query=[("search", "CAT"), ("isRecursive", True)]))
    assert sorted(names(found)) == ["Cat.png", "cat.mp4"]
    videos = sb.ok(sb.get(base, query=[("isRecursive", True), ("itemTypes", ["video", "audio"])]))
    assert names(videos) == ["cat.mp4"]
    assert sb.get(base, query=[("itemTypes", "movie")]).status_code == 400
    assert names(sb.ok(sb.get(base, query=[("isInDataset", True)]))) == []
    assert sorted(names(sb.ok(sb.get(base, query=[("isInDataset", False)])))) == [
        "Cat.png",
        "dog.png",
    ]
    searched = sb.ok(sb.get("/storage/search/items", query=[("search", "dog")]))
    assert names(searched) == ["dog.png"]
    no_metadata = sb.ok(sb.get(base, query=[("includeClientMetadata", False)]))
    assert {i["clientMetadata"] for i in no_metadata["results"]} == {"{}"}


def test_get_bulk_keeps_request_order_and_fails_whole_on_unknown(sb: Harness) -> None:
    folder = sb.folder("f")
    a, b, c = sb.add_items(folder["uuid"], ["a", "b", "c"])
    page = sb.ok(sb.post("/storage/items/get-bulk", {"itemUuids": [c, a, b], "signUrls": False}))
    Page[StorageItem].model_validate(page)
    assert [i["uuid"] for i in page["results"]] == [c, a, b]
    assert (
        sb.post(
            "/storage/items/get-bulk", {"itemUuids": [a, MISSING], "signUrls": False}
        ).status_code
        == 404
    )


def test_patch_item_replaces_metadata_and_validates_schema(sb: Harness) -> None:
    folder = sb.folder("f")
    [item_uuid] = sb.add_items(folder["uuid"], ["a.png"])
    path = f"/storage/folders/{folder['uuid']}/items/{item_uuid}"
    first = sb.ok(sb.patch(path, {"clientMetadata": {"split": "train", "n": 1}}))
    second = sb.ok(sb.patch(path, {"clientMetadata": {"n": 2}, "name": "b.png"}))
    assert json.loads(second["clientMetadata"]) == {"n": 2} and second["name"] == "b.png"
    assert second["lastEditedAt"] > first["lastEditedAt"]
    schema = {"split": {"ty": "enum", "values": ["train", "val"]}, "n": {"ty": "number"}}
    sb.ok(sb.post("/organisation/client-metadata-schema-v2", schema))
    bad = sb.patch(path, {"clientMetadata": {"split": "test"}})
    assert bad.status_code == 400 and "split" in bad.json()["message"]
    assert sb.patch(path, {"clientMetadata": {"n": "two"}}).status_code == 400
    free = sb.ok(sb.patch(path, {"clientMetadata": {"split": "val", "free": [1, {"x": None}]}}))
    assert json.loads(free["clientMetadata"]) == {"split": "val", "free": [1, {"x": None}]}
    assert sb.ok(sb.get(f"/storage/items/{item_uuid}"))["clientMetadata"] == free["clientMetadata"]


def test_patch_bulk_is_all_or_nothing(sb: Harness) -> None:
    folder = sb.folder("f")
    a, b = sb.add_items(folder["uuid"], ["a", "b"])
    sb.ok(sb.post("/organisation/client-metadata-schema-v2", {"n": {"ty": "number"}}))
    good = {"itemPatches": {a: {"clientMetadata": {"n": 1}}, b: {"description": "d"}}}
    page = sb.ok(sb.patch("/storage/items/patch-bulk", good))
    assert {i["uuid"]: (i["clientMetadata"], i["description"]) for i in page["results"]} == {
        a: ('{"n": 1}', ""),
        b: ("{}", "d"),
    }
    bad = {"itemPatches": {a: {"clientMetadata": {"n": 5}}, b: {"clientMetadata": {"n": "x"}}}}
    assert sb.patch("/storage/items/patch-bulk", bad).status_code == 400
    assert sb.ok(sb.get(f"/storage/items/{a}"))["clientMetadata"] == '{"n": 1}'
    too_many: dict[str, dict[str, dict[str, object]]] = {
        "itemPatches": {f"00000000-0000-4000-8000-{i:012d}": {} for i in range(1001)}
    }
    assert sb.patch("/storage/items/patch-bulk", too_many).status_code == 400


def test_move_items_requires_direct_children(sb: Harness) -> None:
    src, dst = sb.folder("src"), sb.folder("dst")
    sub = sb.folder("sub", src["uuid"])
    a, b = sb.add_items(src["uuid"], ["a", "b"])
    [deep] = sb.add_items(sub["uuid"], ["deep"])
    strays = {"itemUuids": [a, deep], "newParentUuid": dst["uuid"], "allowSyncedDatasetMove": False}
    assert sb.post(f"/storage/folders/{src['uuid']}/items/move", strays).status_code == 400
    assert sb.ok(sb.get(f"/storage/items/{a}"))["parent"] == src["uuid"]
    move = {"itemUuids": [a, b], "newParentUuid": dst["uuid"], "allowSyncedDatasetMove": False}
    assert sb.post(f"/storage/folders/{src['uuid']}/items/move", move).status_code == 204
    moved = sb.ok(sb.get(f"/storage/items/{a}"))
    assert moved["parent"] == dst["uuid"]
    assert sorted(names(sb.ok(sb.get(f"/storage/folders/{dst['uuid']}/items")))) == ["a", "b"]
    recursive = sb.ok(
        sb.get(f"/storage/folders/{src['uuid']}/items", query=[("isRecursive", True)])
    )
    assert names(recursive) == ["deep"]


def test_moving_a_folder_carries_its_items_for_recursive_listing(sb: Harness) -> None:
    a, b = sb.folder("a"), sb.folder("b")
    sub = sb.folder("sub", a["uuid"])
    [item] = sb.add_items(sub["uuid"], ["x"])
    sb.ok(
        sb.post("/storage/folders/move", {"folderUuids": [sub["uuid"]], "newParentUuid": b["uuid"]})
    )
    in_b = sb.ok(
        sb.get(
            f"/storage/folders/{b['uuid']}/items", query=[("isRecursive", True), ("search", "x")]
        )
    )
    assert [i["uuid"] for i in in_b["results"]] == [item]
    in_a = sb.ok(
        sb.get(
            f"/storage/folders/{a['uuid']}/items", query=[("isRecursive", True), ("search", "x")]
        )
    )
    assert in_a["results"] == []


def test_delete_items_then_folder(sb: Harness) -> None:
    folder = sb.folder("f")
    a, b = sb.add_items(folder["uuid"], ["a", "b"])
    assert sb.delete(f"/storage/folders/{folder['uuid']}").status_code == 400
    body = {"childUuids": [a, b], "removeUnusedFrames": True}
    result = sb.ok(sb.post(f"/storage/folders/{folder['uuid']}/items/delete", body))
    assert result == {"removedItemsCount": 2, "removedFoldersCount": 0}
    assert sb.get(f"/storage/items/{a}").status_code == 404
    assert sb.delete(f"/storage/folders/{folder['uuid']}").status_code == 204


def test_summaries_and_child_items(sb: Harness) -> None:
    folder = sb.folder("f")
    a, _ = sb.add_items(folder["uuid"], ["a", "b"], size=50)
    summary = sb.ok(sb.get(f"/storage/folders/{folder['uuid']}/summary"))
    assert (summary["files"], summary["images"], summary["totalSize"]) == (2, 2, 100.0)
    item_summary = sb.ok(
        sb.get(
            f"/storage/folders/{folder['uuid']}/items/{a}/summary",
            query=[("includeGroupLayout", True)],
        )
    )
    StorageItemSummary.model_validate(item_summary)
    assert item_summary["usedInDatasets"] == 0 and item_summary["accessibleDatasets"] == []
    children = sb.ok(
        sb.get(
            f"/storage/folders/{folder['uuid']}/items/{a}/child-items", query=[("signUrls", False)]
        )
    )
    assert children == {"results": [], "nextPageToken": None}
