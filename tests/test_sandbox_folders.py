"""Storage folder routes through HTTP: shapes, listing and paging, patch, move, delete."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sandbox_data.harness import ADMIN, Harness, open_harness

from reconciler.wire.base import Page
from reconciler.wire.storage import StorageFolder, StorageFolderSummary


@pytest.fixture
def sb(tmp_path: Path) -> Iterator[Harness]:
    with open_harness(tmp_path) as harness:
        yield harness


def names(page: dict[str, Any]) -> list[str]:
    return [f["name"] for f in page["results"]]


def test_create_returns_every_folder_key_and_reads_back(sb: Harness) -> None:
    root = sb.folder("root-a", description="first root", clientMetadata='{"k": 1}')
    child = sb.folder("child", root["uuid"])
    assert StorageFolder.model_validate(child).uuid.hex == child["uuid"].replace("-", "")
    assert list(child) == [
        "uuid", "parent", "name", "description", "clientMetadata", "owner", "createdAt",
        "lastEditedAt", "userRole", "syncedDatasetHash", "folderType", "integrationHash",
        "remoteUrl", "pathToRoot",
    ]  # fmt: skip
    assert child["parent"] == root["uuid"]
    assert child["owner"] == ADMIN and child["userRole"] == "admin"
    assert child["clientMetadata"] is None and child["description"] == ""
    assert [p["name"] for p in child["pathToRoot"]] == ["child", "root-a"]
    assert child["pathToRoot"][0]["parentUuid"] == root["uuid"]
    assert child["pathToRoot"][1]["parentUuid"] is None
    assert json.loads(root["clientMetadata"]) == {"k": 1}
    assert root["createdAt"].endswith("+00:00") and "." in root["createdAt"]
    again = sb.ok(sb.get(f"/storage/folders/{root['uuid']}"))
    assert again == root


def test_create_validates_input(sb: Harness) -> None:
    assert sb.post("/storage/folders", {"name": ""}).status_code == 400
    assert sb.post("/storage/folders", {"name": "a/b"}).status_code == 400
    assert sb.post("/storage/folders", {"description": "no name"}).status_code == 400
    bad_meta = sb.post("/storage/folders", {"name": "m", "clientMetadata": "[1]"})
    assert bad_meta.status_code == 400 and "object" in bad_meta.json()["message"]
    missing_parent = sb.post(
        "/storage/folders", {"name": "x", "parent": "7e88ed37-51c2-49a2-ae75-c91809824dd2"}
    )
    assert missing_parent.status_code == 404
    assert sb.ok(sb.get("/storage/folders"))["results"] == []


def test_unknown_and_malformed_uuids(sb: Harness) -> None:
    unknown = sb.get("/storage/folders/7e88ed37-51c2-49a2-ae75-c91809824dd2")
    assert unknown.status_code == 404 and "message" in unknown.json()
    assert sb.get("/storage/folders/not-a-uuid").status_code == 400
    assert sb.get("/storage/folders/7E88ED37-51C2-49A2-AE75-C91809824DD2").status_code == 404


def test_root_listing_pages_with_keyset_tokens(sb: Harness) -> None:
    for name in ["e", "b", "d", "a", "c"]:
        sb.folder(name)
    query: list[tuple[str, Any]] = [
        ("isRecursive", False), ("order", "name"), ("desc", False), ("pageSize", 2),
    ]  # fmt: skip
    first = sb.ok(sb.get("/storage/folders", query=query))
    assert names(first) == ["a", "b"] and first["nextPageToken"]
    second = sb.ok(
        sb.get("/storage/folders", query=[*query, ("pageToken", first["nextPageToken"])])
    )
    assert names(second) == ["c", "d"]
    third = sb.ok(
        sb.get("/storage/folders", query=[*query, ("pageToken", second["nextPageToken"])])
    )
    assert names(third) == ["e"] and third["nextPageToken"] is None
    Page[StorageFolder].model_validate(third)


def test_descending_and_created_order_and_lowercase_booleans(sb: Harness) -> None:
    for name in ["b", "a", "c"]:
        sb.folder(name)
    desc = sb.ok(sb.get("/storage/folders", query=[("order", "name"), ("desc", "true")]))
    assert names(desc) == ["c", "b", "a"]
    created = sb.ok(sb.get("/storage/folders", query=[("order", "createdAt"), ("desc", False)]))
    assert names(created) == ["b", "a", "c"]
    paged = sb.ok(
        sb.get("/storage/folders", query=[("order", "createdAt"), ("desc", True), ("pageSize", 2)])
    )
    rest = sb.ok(
        sb.get(
            "/storage/folders",
            query=[
                ("order", "createdAt"),
                ("desc", True),
                ("pageSize", 2),
                ("pageToken", paged["nextPageToken"]),
            ],
        )
    )
    assert names(paged) + names(rest) == ["c", "a", "b"]


def test_page_size_and_token_are_validated(sb: Harness) -> None:
    sb.folder("a")
    for size in (0, 1001, "x"):
        assert sb.get("/storage/folders", query=[("pageSize", size)]).status_code == 400
    assert sb.get("/storage/folders", query=[("pageSize", 1000)]).status_code == 200
    assert sb.get("/storage/folders", query=[("pageToken", "garbage!")]).status_code == 400
    assert sb.get("/storage/folders", query=[("order", "size")]).status_code == 400
    assert sb.get("/storage/folders", query=[("desc", "maybe")]).status_code == 400
    sb.folder("b")
    token = sb.ok(sb.get("/storage/folders", query=[("pageSize", 1)]))["nextPageToken"]
    other_order = sb.get("/storage/folders", query=[("order", "createdAt"), ("pageToken", token)])
    assert other_order.status_code == 400


def test_subfolders_recursive_and_search(sb: Harness) -> None:
    root = sb.folder("root")
    a = sb.folder("alpha", root["uuid"])
    sb.folder("beta", root["uuid"])
    deep = sb.folder("Alphabet", a["uuid"])
    sb.folder("elsewhere")
    base = f"/storage/folders/{root['uuid']}/folders"
    assert names(sb.ok(sb.get(base, query=[("isRecursive", False)]))) == ["alpha", "beta"]
    recursive = sb.ok(sb.get(base, query=[("isRecursive", True)]))
    assert sorted(names(recursive)) == ["Alphabet", "alpha", "beta"]
    found = sb.ok(sb.get(base, query=[("search", "ALPHA"), ("isRecursive", True)]))
    assert sorted(names(found)) == ["Alphabet", "alpha"]
    everywhere = sb.ok(
        sb.get("/storage/search/folders", query=[("search", "alpha"), ("isRecursive", False)])
    )
    assert sorted(names(everywhere)) == ["Alphabet", "alpha"]
    deep_read = sb.ok(sb.get(f"/storage/folders/{deep['uuid']}"))
    assert [p["name"] for p in deep_read["pathToRoot"]] == ["Alphabet", "alpha", "root"]
    assert names(sb.ok(sb.get("/storage/folders", query=[("datasetSynced", True)]))) == []
    assert (
        names(sb.ok(sb.get("/storage/folders", query=[("organisationTagNamesAllof", "t")]))) == []
    )


def test_siblings_may_share_a_name(sb: Harness) -> None:
    root = sb.folder("root")
    one = sb.folder("same", root["uuid"])
    two = sb.folder("same", root["uuid"])
    listed = sb.ok(sb.get(f"/storage/folders/{root['uuid']}/folders"))
    assert sorted(f["uuid"] for f in listed["results"]) == sorted([one["uuid"], two["uuid"]])


def test_patch_replaces_metadata_and_moves_last_edited(sb: Harness) -> None:
    folder = sb.folder("f", clientMetadata='{"a": 1, "b": 2}')
    patched = sb.ok(sb.patch(f"/storage/folders/{folder['uuid']}", {"clientMetadata": {"c": 3}}))
    assert json.loads(patched["clientMetadata"]) == {"c": 3}
    assert patched["name"] == "f" and patched["lastEditedAt"] > folder["lastEditedAt"]
    renamed = sb.ok(
        sb.patch(f"/storage/folders/{folder['uuid']}", {"name": "g", "description": "d"})
    )
    assert (renamed["name"], renamed["description"]) == ("g", "d")
    assert json.loads(renamed["clientMetadata"]) == {"c": 3}
    unchanged = sb.ok(sb.patch(f"/storage/folders/{folder['uuid']}", {}))
    assert unchanged["lastEditedAt"] == renamed["lastEditedAt"]
    assert sb.patch(f"/storage/folders/{folder['uuid']}", {"name": ""}).status_code == 400


def test_patch_bulk_is_all_or_nothing(sb: Harness) -> None:
    one, two = sb.folder("one"), sb.folder("two")
    body = {
        "folderPatches": {one["uuid"]: {"name": "uno"}, two["uuid"]: {"clientMetadata": {"x": 1}}}
    }
    result = sb.ok(sb.patch("/storage/folders/patch-bulk", body))
    assert {f["uuid"]: f["name"] for f in result["results"]} == {
        one["uuid"]: "uno",
        two["uuid"]: "two",
    }
    assert result["nextPageToken"] is None
    bad = {"folderPatches": {one["uuid"]: {"name": "changed"}, two["uuid"]: {"name": "bad/name"}}}
    assert sb.patch("/storage/folders/patch-bulk", bad).status_code == 400
    assert sb.ok(sb.get(f"/storage/folders/{one['uuid']}"))["name"] == "uno"
    missing = {
        "folderPatches": {one["uuid"]: {"name": "x"}, "7e88ed37-51c2-49a2-ae75-c91809824dd2": {}}
    }
    assert sb.patch("/storage/folders/patch-bulk", missing).status_code == 404
    assert sb.ok(sb.get(f"/storage/folders/{one['uuid']}"))["name"] == "uno"


def test_move_carries_the_subtree_and_refuses_cycles(sb: Harness) -> None:
    a, b = sb.folder("a"), sb.folder("b")
    child = sb.folder("child", a["uuid"])
    grandchild = sb.folder("grandchild", child["uuid"])
    assert (
        sb.post(
            "/storage/folders/move",
            {"folderUuids": [a["uuid"]], "newParentUuid": grandchild["uuid"]},
        ).status_code
        == 400
    )
    assert (
        sb.post(
            "/storage/folders/move", {"folderUuids": [a["uuid"]], "newParentUuid": a["uuid"]}
        ).status_code
        == 400
    )
    moved = sb.post(
        "/storage/folders/move", {"folderUuids": [child["uuid"]], "newParentUuid": b["uuid"]}
    )
    assert moved.status_code == 204
    read = sb.ok(sb.get(f"/storage/folders/{grandchild['uuid']}"))
    assert [p["name"] for p in read["pathToRoot"]] == ["grandchild", "child", "b"]
    moved_child = sb.ok(sb.get(f"/storage/folders/{child['uuid']}"))
    assert moved_child["lastEditedAt"] > child["lastEditedAt"]
    assert (
        names(sb.ok(sb.get(f"/storage/folders/{a['uuid']}/folders", query=[("isRecursive", True)])))
        == []
    )
    to_root = sb.post("/storage/folders/move", {"folderUuids": [child["uuid"]]})
    assert to_root.status_code == 204
    assert sb.ok(sb.get(f"/storage/folders/{child['uuid']}"))["parent"] is None
    assert sorted(names(sb.ok(sb.get("/storage/folders")))) == ["a", "b", "child"]


def test_delete_only_empty_folders(sb: Harness) -> None:
    parent = sb.folder("parent")
    child = sb.folder("child", parent["uuid"])
    refused = sb.delete(f"/storage/folders/{parent['uuid']}")
    assert refused.status_code == 400 and "not empty" in refused.json()["message"]
    assert sb.delete(f"/storage/folders/{child['uuid']}").status_code == 204
    assert sb.delete(f"/storage/folders/{parent['uuid']}").status_code == 204
    assert sb.get(f"/storage/folders/{parent['uuid']}").status_code == 404
    assert sb.delete(f"/storage/folders/{parent['uuid']}").status_code == 404


def test_summary_counts_direct_contents(sb: Harness) -> None:
    parent = sb.folder("parent")
    sb.folder("child", parent["uuid"])
    summary = sb.ok(sb.get(f"/storage/folders/{parent['uuid']}/summary"))
    StorageFolderSummary.model_validate(summary)
    assert summary["folders"] == 1 and summary["files"] == 0 and summary["totalSize"] == 0.0


def test_unknown_route_and_method_answer_json(sb: Harness) -> None:
    missing = sb.get("/storage/nothing-here")
    assert missing.status_code == 404 and missing.json()["message"].startswith("no such route")
    wrong = sb.request("PUT", "/storage/folders")
    assert wrong.status_code == 405 and "message" in wrong.json()
