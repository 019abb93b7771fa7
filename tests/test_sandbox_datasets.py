"""Datasets: v2 create/list/groups/users and the v1 envelope (get, rows, link, delete, users)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sandbox_data.harness import ADMIN, Harness, open_harness

from reconciler.wire.base import Page
from reconciler.wire.datasets import DataRow, DatasetWithUserRole, V1Dataset
from reconciler.wire.org import DatasetGroup
from reconciler.wire.signing import v1_authorization

MISSING = "7e88ed37-51c2-49a2-ae75-c91809824dd2"


@pytest.fixture
def sb(tmp_path: Path) -> Iterator[Harness]:
    with open_harness(tmp_path) as harness:
        yield harness


def create(
    sb: Harness, title: str, *, backing: bool = False, description: str | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"title": title, "createBackingFolder": backing, "legacyCall": False}
    if description is not None:
        body["description"] = description
    result: dict[str, Any] = sb.ok(sb.post("/datasets", body))
    return result


def rows(sb: Harness, dataset: str, **filters: Any) -> list[dict[str, Any]]:
    payload = {
        "title_eq": None,
        "title_like": None,
        "created_before": None,
        "created_after": None,
        "data_types": None,
        "dataset_access_settings": {"fetch_client_metadata": False, "fetch_rows": True},
        "data_hashes": None,
        **filters,
    }
    envelope = sb.v1("datarows", "GET", payload=payload, resource=dataset)
    assert envelope["status"] == 200, envelope
    result: list[dict[str, Any]] = envelope["response"]
    return result


def link(sb: Harness, dataset: str, items: list[str], behavior: str = "SKIP") -> dict[str, Any]:
    payload = {"item_uuids": items, "duplicates_behavior": behavior}
    return sb.v1("datasetlinkitems", "POST", uid=dataset, payload=payload, resource=dataset)


def test_create_plain_and_mirror_datasets(sb: Harness) -> None:
    plain = create(sb, "ds-one", description="first dataset")
    assert plain["backingFolderUuid"] is None
    mirror = create(sb, "ds-two", backing=True)
    folder = sb.ok(sb.get(f"/storage/folders/{mirror['backingFolderUuid']}"))
    assert folder["syncedDatasetHash"] == mirror["datasetUuid"] and folder["name"] == "ds-two"
    synced = sb.ok(sb.get("/storage/folders", query=[("datasetSynced", True)]))
    assert [f["uuid"] for f in synced["results"]] == [mirror["backingFolderUuid"]]
    listed = sb.ok(sb.get("/datasets/list", query=[("includeOrgAccess", False)]))["result"]
    for entry in listed:
        DatasetWithUserRole.model_validate(entry)
    assert [(d["title"], d["userRole"], d["description"]) for d in listed] == [
        ("ds-one", "admin", "first dataset"),
        ("ds-two", "admin", ""),
    ]
    assert sb.delete(f"/storage/folders/{mirror['backingFolderUuid']}").status_code == 400
    assert sb.post("/datasets", {"title": "", "createBackingFolder": False}).status_code == 400


def test_list_filters(sb: Harness) -> None:
    create(sb, "ds-one", description="first")
    create(sb, "other", description="second")

    def titles(query: list[tuple[str, Any]]) -> list[str]:
        return [d["title"] for d in sb.ok(sb.get("/datasets/list", query=query))["result"]]

    assert titles([("titleEq", "ds-one")]) == ["ds-one"]
    assert titles([("titleLike", "%ds%")]) == ["ds-one"]
    assert titles([("descriptionLike", "%sec%")]) == ["other"]
    assert titles([("descriptionEq", "first")]) == ["ds-one"]
    assert titles([("createdAfter", "2024-01-02T03:04:05Z")]) == ["ds-one", "other"]
    assert titles([("createdBefore", "2024-01-02T03:04:05Z")]) == []
    assert titles([("editedBefore", "2999-01-01T00:00:00Z")]) == ["ds-one", "other"]
    assert sb.get("/datasets/list", query=[("createdAfter", "yesterday")]).status_code == 400


def test_v1_get_dataset(sb: Harness) -> None:
    ds = create(sb, "ds", description="d")["datasetUuid"]
    payload = {"dataset_access_settings": {"fetch_client_metadata": False, "fetch_rows": True}}
    envelope = sb.v1("dataset", "GET", payload=payload, resource=ds)
    assert envelope["status"] == 200
    V1Dataset.model_validate(envelope["response"])
    assert envelope["response"] | {"data_rows": []} == {
        "dataset_hash": ds,
        "title": "ds",
        "description": "d",
        "dataset_type": "CORD_STORAGE",
        "backing_folder_uuid": None,
        "data_rows": [],
    }
    unknown = sb.v1("dataset", "GET", payload=payload, resource=MISSING)
    assert (unknown["status"], unknown["response"]) == (404, ["RESOURCE_NOT_FOUND_ERROR"])
    assert "no dataset" in unknown["payload"]


def test_link_skip_fail_duplicate_and_rows(sb: Harness) -> None:
    folder = sb.folder("f")
    a, b = sb.add_items(folder["uuid"], ["a.png", "b.png"])
    ds = create(sb, "ds")["datasetUuid"]
    first = link(sb, ds, [a])["response"]
    assert [r["backing_item_uuid"] for r in first] == [a]
    DataRow.model_validate(first[0])
    assert first[0]["data_title"] == "a.png" and first[0]["data_type"] == "IMAGE"
    assert first[0]["storage_location"] == 0 and first[0]["file_size"] == 100
    skipped = link(sb, ds, [a, b])["response"]
    assert [r["backing_item_uuid"] for r in skipped] == [b]
    failed = link(sb, ds, [a], "FAIL")
    assert (failed["status"], failed["response"]) == (409, ["RESOURCE_EXISTS_ERROR"])
    duplicated = link(sb, ds, [a], "DUPLICATE")["response"]
    assert len(duplicated) == 1 and duplicated[0]["data_hash"] != first[0]["data_hash"]
    listed = rows(sb, ds)
    assert [r["backing_item_uuid"] for r in listed] == [a, b, a]
    assert len({r["data_hash"] for r in listed}) == 3
    item = sb.ok(sb.get(f"/storage/items/{a}"))
    assert item["backedDataUnitsCount"] == 2
    unknown = link(sb, ds, [MISSING])
    assert unknown["response"] == ["RESOURCE_NOT_FOUND_ERROR"]
    summary = sb.ok(sb.get(f"/storage/folders/{folder['uuid']}/items/{a}/summary"))
    assert summary["usedInDatasets"] == 1
    assert sorted(summary["accessibleDatasets"][0]["dataHashes"]) == sorted(
        r["data_hash"] for r in listed if r["backing_item_uuid"] == a
    )


def test_row_filters(sb: Harness) -> None:
    folder = sb.folder("f")
    image, clip = sb.add_items(folder["uuid"], ["img-1.jpg", "clip.mp4"])
    sb.add_items(folder["uuid"], ["v.mp4"], item_type="video")
    ds = create(sb, "ds")["datasetUuid"]
    linked = link(sb, ds, [image, clip])["response"]
    assert [r["data_title"] for r in rows(sb, ds, title_eq="img-1.jpg")] == ["img-1.jpg"]
    assert [r["data_title"] for r in rows(sb, ds, title_like="%.mp4")] == ["clip.mp4"]
    assert rows(sb, ds, data_types=["VIDEO"]) == []
    assert len(rows(sb, ds, data_types=["IMAGE"])) == 2
    assert len(rows(sb, ds, created_after="2024-01-01T00:00:00+00:00")) == 2
    assert rows(sb, ds, created_before="2024-01-01T00:00:00+00:00") == []
    only = rows(sb, ds, data_hashes=[linked[1]["data_hash"]])
    assert [r["backing_item_uuid"] for r in only] == [clip]
    with_metadata = rows(
        sb, ds, dataset_access_settings={"fetch_client_metadata": True, "fetch_rows": True}
    )
    assert with_metadata[0]["client_metadata"] == {}
    bad = sb.v1("datarows", "GET", payload={"data_types": ["MOVIE"]}, resource=ds)
    assert bad["response"] == ["INVALID_ARGUMENTS_ERROR"]


def test_delete_rows_keeps_items_and_item_delete_removes_rows(sb: Harness) -> None:
    folder = sb.folder("f")
    a, b = sb.add_items(folder["uuid"], ["a", "b"])
    ds = create(sb, "ds")["datasetUuid"]
    ra, rb = link(sb, ds, [a, b])["response"]
    gone = sb.v1("video", "DELETE", uid=[ra["data_hash"]], resource=ds)
    assert gone["status"] == 200
    assert [r["backing_item_uuid"] for r in rows(sb, ds)] == [b]
    assert sb.ok(sb.get(f"/storage/items/{a}"))["backedDataUnitsCount"] == 0
    missing = sb.v1("video", "DELETE", uid=[rb["data_hash"], MISSING], resource=ds)
    assert missing["response"] == ["RESOURCE_NOT_FOUND_ERROR"]
    assert len(rows(sb, ds)) == 1  # nothing removed by the failed call
    sb.ok(
        sb.post(
            f"/storage/folders/{folder['uuid']}/items/delete",
            {"childUuids": [b], "removeUnusedFrames": True},
        )
    )
    assert rows(sb, ds) == []


def test_dataset_users(sb: Harness) -> None:
    for email in ("member@example.com", "tasker@example.com", "wfm@example.com"):
        sb.ok(
            sb.post(
                "/organisation/users",
                {"email": email, "roleMnemonicName": "MEMBER", "memberType": "internal"},
            )
        )
    ds = create(sb, "ds")["datasetUuid"]
    users = f"/datasets/{ds}/users"
    assert sb.ok(sb.get(users))["results"] == [
        {"datasetUuid": ds, "userEmail": ADMIN, "userRole": 0}
    ]
    added = sb.v1(
        "datasetusers",
        "POST",
        uid=ds,
        payload={"user_emails": ["member@example.com", "tasker@example.com"], "user_role": 1},
        resource=ds,
    )
    assert added["response"] == [
        {"user_email": "member@example.com", "user_role": 1, "dataset_hash": ds},
        {"user_email": "tasker@example.com", "user_role": 1, "dataset_hash": ds},
    ]
    again = sb.v1(
        "datasetusers",
        "POST",
        uid=ds,
        payload={"user_emails": ["member@example.com", "wfm@example.com"], "user_role": 0},
        resource=ds,
    )
    assert [(r["user_email"], r["user_role"]) for r in again["response"]] == [
        ("member@example.com", 1),
        ("wfm@example.com", 0),
    ]
    outsider = sb.v1(
        "datasetusers",
        "POST",
        uid=ds,
        payload={"user_emails": ["nobody@example.com"], "user_role": 1},
        resource=ds,
    )
    assert outsider["response"] == ["AUTHORISATION_ERROR"]
    assert (
        sb.post(
            f"{users}/bulk-delete", {"userEmails": ["tasker@example.com", "nobody@example.com"]}
        ).status_code
        == 204
    )
    listed = [(u["userEmail"], u["userRole"]) for u in sb.ok(sb.get(users))["results"]]
    assert listed == [(ADMIN, 0), ("member@example.com", 1), ("wfm@example.com", 0)]


def test_dataset_groups_have_integer_roles(sb: Harness) -> None:
    ds = create(sb, "ds")["datasetUuid"]
    group = sb.group("g")
    groups = f"/datasets/{ds}/groups"
    assert sb.post(groups, {"groupHashList": [group], "userRole": 0}).status_code == 204
    listed = sb.ok(sb.get(groups))
    Page[DatasetGroup].model_validate(listed)
    assert [(g["groupHash"], g["userRole"]) for g in listed["results"]] == [(group, 0)]
    assert sb.post(groups, {"groupHashList": [group], "userRole": 1}).status_code == 204
    assert [g["userRole"] for g in sb.ok(sb.get(groups))["results"]] == [1]
    assert sb.post(groups, {"groupHashList": [group], "userRole": "admin"}).status_code == 400
    assert sb.delete(groups, query=[("groupHashList", [group])]).status_code == 204
    assert sb.ok(sb.get(groups))["results"] == []
    assert sb.get(f"/datasets/{MISSING}/groups").status_code == 404


def test_dataset_last_edited_moves_on_links(sb: Harness) -> None:
    folder = sb.folder("f")
    [a] = sb.add_items(folder["uuid"], ["a"])
    ds = create(sb, "ds")["datasetUuid"]
    before = sb.ok(sb.get("/datasets/list"))["result"][0]["lastEditedAt"]
    link(sb, ds, [a])
    after = sb.ok(sb.get("/datasets/list"))["result"][0]["lastEditedAt"]
    assert after > before


def test_unsupported_v1_queries(sb: Harness) -> None:
    envelope = sb.v1("label", "GET", uid="x")
    assert envelope["response"] == ["METHOD_NOT_ALLOWED_ERROR"]
    body = b"not json"
    response = sb.client.post(
        "/public", content=body, headers={"Authorization": v1_authorization(sb.keys[ADMIN], body)}
    )
    assert response.json()["response"] == ["INVALID_ARGUMENTS_ERROR"]


def test_mirror_dataset_follows_item_moves(sb: Harness) -> None:
    mirror = create(sb, "mirror", backing=True)
    ds, backing = mirror["datasetUuid"], mirror["backingFolderUuid"]
    outside = sb.folder("outside")
    a, b = sb.add_items(outside["uuid"], ["a", "b"])
    move_in = {"itemUuids": [a, b], "newParentUuid": backing, "allowSyncedDatasetMove": False}
    assert sb.post(f"/storage/folders/{outside['uuid']}/items/move", move_in).status_code == 204
    assert sorted(r["backing_item_uuid"] for r in rows(sb, ds)) == sorted([a, b])
    move_out = {"itemUuids": [a], "newParentUuid": outside["uuid"], "allowSyncedDatasetMove": False}
    refused = sb.post(f"/storage/folders/{backing}/items/move", move_out)
    assert refused.status_code == 400 and "allowSyncedDatasetMove" in refused.json()["message"]
    assert sb.ok(sb.get(f"/storage/items/{a}"))["parent"] == backing
    allowed = {**move_out, "allowSyncedDatasetMove": True}
    assert sb.post(f"/storage/folders/{backing}/items/move", allowed).status_code == 204
    assert [r["backing_item_uuid"] for r in rows(sb, ds)] == [b]
    assert sb.ok(sb.get(f"/storage/items/{a}"))["parent"] == outside["uuid"]


def test_mirror_dataset_follows_folder_moves(sb: Harness) -> None:
    mirror = create(sb, "mirror", backing=True)
    ds, backing = mirror["datasetUuid"], mirror["backingFolderUuid"]
    box = sb.folder("box")
    [item] = sb.add_items(box["uuid"], ["x"])
    into = {"folderUuids": [box["uuid"]], "newParentUuid": backing}
    assert sb.post("/storage/folders/move", into).status_code == 204
    assert [r["backing_item_uuid"] for r in rows(sb, ds)] == [item]
    out = sb.post("/storage/folders/move", {"folderUuids": [box["uuid"]]})
    assert out.status_code == 400
    assert sb.ok(sb.get(f"/storage/folders/{box['uuid']}"))["parent"] == backing
    holder = sb.folder("holder")
    carried = {"folderUuids": [backing], "newParentUuid": holder["uuid"]}
    assert sb.post("/storage/folders/move", carried).status_code == 204
    assert [r["backing_item_uuid"] for r in rows(sb, ds)] == [item]  # moved together: unchanged
