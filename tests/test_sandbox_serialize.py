"""Every shape the sandbox answers, pinned to the shared wire models: all keys present, in the
SDK models' order, values that survive a round trip through ``reconciler.wire``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel
from sandbox_data.harness import Harness, open_harness

from reconciler.sandbox.provision import add_integration
from reconciler.wire.datasets import DataRow, DatasetUser, DatasetWithUserRole, V1Dataset
from reconciler.wire.org import (
    DatasetGroup,
    Group,
    GroupUser,
    OrganisationUser,
    StorageFolderGroup,
)
from reconciler.wire.storage import (
    StorageFolder,
    StorageFolderSummary,
    StorageItem,
    StorageItemSummary,
    SyncResult,
)


def normalised(value: Any) -> Any:
    """Datetimes compared as instants (pydantic writes ``Z``, the sandbox ``+00:00``)."""
    if isinstance(value, dict):
        return {k: normalised(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalised(v) for v in value]
    if isinstance(value, str) and len(value) >= 20 and value[10:11] == "T":
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    return value


def pinned(model: type[BaseModel], data: dict[str, Any]) -> None:
    aliases = [field.alias or name for name, field in model.model_fields.items()]
    assert list(data) == aliases, model.__name__
    dumped = model.model_validate(data).model_dump(by_alias=True, mode="json")
    assert normalised(dumped) == normalised(data), model.__name__


@pytest.fixture
def sb(tmp_path: Path) -> Iterator[Harness]:
    with open_harness(tmp_path) as harness:
        yield harness


def test_storage_shapes(sb: Harness, tmp_path: Path) -> None:
    root = sb.folder("root", description="d", clientMetadata='{"k": [1, null]}')
    child = sb.folder("child", root["uuid"])
    for folder in (root, child, sb.ok(sb.get("/storage/folders"))["results"][0]):
        pinned(StorageFolder, folder)
    [item_uuid] = sb.add_items(child["uuid"], ["a.png"])
    pinned(StorageItem, sb.ok(sb.get(f"/storage/items/{item_uuid}")))
    listed = sb.ok(sb.get(f"/storage/folders/{root['uuid']}/items", query=[("isRecursive", True)]))
    pinned(StorageItem, listed["results"][0])
    assert list(listed) == ["results", "nextPageToken"]
    pinned(StorageFolderSummary, sb.ok(sb.get(f"/storage/folders/{child['uuid']}/summary")))
    pinned(
        StorageItemSummary,
        sb.ok(sb.get(f"/storage/folders/{child['uuid']}/items/{item_uuid}/summary")),
    )


def test_organisation_shapes(sb: Harness) -> None:
    group = sb.group("g")
    pinned(Group, sb.ok(sb.get(f"/organisation/groups/{group}")))
    pinned(GroupUser, sb.ok(sb.get(f"/organisation/groups/{group}/users"))["results"][0])
    pinned(OrganisationUser, sb.ok(sb.get("/organisation/users"))["results"][0])
    folder = sb.folder("f")
    sb.grant(folder["uuid"], group, "user")
    pinned(
        StorageFolderGroup, sb.ok(sb.get(f"/storage/folders/{folder['uuid']}/groups"))["results"][0]
    )


def test_dataset_shapes(sb: Harness) -> None:
    ds = sb.ok(sb.post("/datasets", {"title": "ds", "createBackingFolder": True}))["datasetUuid"]
    pinned(DatasetWithUserRole, sb.ok(sb.get("/datasets/list"))["result"][0])
    pinned(DatasetUser, sb.ok(sb.get(f"/datasets/{ds}/users"))["results"][0])
    group = sb.group("g")
    sb.ok(sb.post(f"/datasets/{ds}/groups", {"groupHashList": [group], "userRole": 1}))
    pinned(DatasetGroup, sb.ok(sb.get(f"/datasets/{ds}/groups"))["results"][0])
    folder = sb.folder("f")
    [item] = sb.add_items(folder["uuid"], ["a.png"])
    sb.v1(
        "datasetlinkitems",
        "POST",
        uid=ds,
        payload={"item_uuids": [item], "duplicates_behavior": "SKIP"},
    )
    dataset = sb.v1(
        "dataset", "GET", payload={"dataset_access_settings": {"fetch_rows": True}}, resource=ds
    )
    pinned(V1Dataset, dataset["response"])
    pinned(DataRow, dataset["response"]["data_rows"][0])


def test_sync_result_shape(sb: Harness, tmp_path: Path) -> None:
    (tmp_path / "root" / "b").mkdir(parents=True)
    integration = add_integration(sb.db_path, title="i", provider="s3", root=tmp_path / "root")
    folder = sb.folder(
        "c", cloudSyncedFolderParams={"integrationUuid": integration, "remoteUrl": "s3://b/p/"}
    )
    job = sb.ok(sb.post(f"/storage/folders/{folder['uuid']}/cloud-synced-folder-syncs"))
    result = sb.ok(
        sb.get(f"/storage/folders/{folder['uuid']}/cloud-linked-folder-syncs/{job}/long-polling")
    )
    pinned(SyncResult, result)
