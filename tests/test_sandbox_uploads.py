"""Data-upload jobs and sidecars in the sandbox, in process through reconciler's client: the
item kinds the SDK conformance tests do not register (image groups, DICOM series, time
series, scenes), metadata the organisation's schema refuses, bad requests, a server stopped
mid-job, and sidecars that are not JSON objects."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from encord_data.kit import INTEGRATION, Sandboxed, embedded
from sandbox_data.harness import open_harness

from reconciler.encord import InvalidRequestError
from reconciler.sandbox.options import SandboxOptions
from reconciler.wire.storage import CloudSyncedFolderParams
from reconciler.wire.uploads import (
    DataUploadItems,
    DicomFile,
    GroupImage,
    MetadataIngestion,
    UploadDicomSeries,
    UploadImage,
    UploadImageGroup,
    UploadJobResult,
    UploadJobStatus,
    UploadTimeSeries,
)

RAW = "s3://acme-raw/"


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[Sandboxed]:
    for name, data in {
        "x/1.dcm": b"D",
        "x/2.dcm": b"DD",
        "x/t.csv": b"a,b\n",
        "x/u.bin": b"?",
    }.items():
        path = tmp_path / "buckets" / "acme-raw" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    async with embedded(tmp_path, options=SandboxOptions(upload_unit_ms=0)) as sandboxed:
        yield sandboxed


async def integration(s: Sandboxed) -> str:
    (found,) = await s.client.integrations.list_all(titles=[INTEGRATION])
    return str(found.integration_uuid)


async def run(s: Sandboxed, folder: str, items: DataUploadItems, **kw: Any) -> UploadJobResult:
    job = await s.client.uploads.start(folder, items, integration=await integration(s), **kw)
    return await s.client.uploads.wait(folder, job, timeout_seconds=30)


async def items_of(s: Sandboxed, folder: str) -> dict[str, Any]:
    return {i.name: i async for i in s.client.items.list_direct(folder)}


@pytest.mark.anyio
async def test_groups_series_and_time_series_are_registered_or_fail_per_unit(
    sandbox: Sandboxed,
) -> None:
    folder = str((await sandbox.client.folders.create("kinds")).uuid)
    items = DataUploadItems(
        image_groups=[
            UploadImageGroup(images=[GroupImage(url=f"{RAW}cams/a.jpg"), GroupImage(url=f"{RAW}cams/b.jpg")], title="pair"),
            UploadImageGroup(images=[GroupImage(url=f"{RAW}cams/a.jpg")], title=None),
            UploadImageGroup(images=[], title="empty"),
            UploadImageGroup(images=[GroupImage(url=f"{RAW}cams/nope.jpg")], title="gone"),
        ],
        dicom_series=[
            UploadDicomSeries(dicom_files=[DicomFile(url=f"{RAW}x/1.dcm", title="1"), DicomFile(url=f"{RAW}x/2.dcm", title="2")], title="scan"),
            UploadDicomSeries(dicom_files=[DicomFile(url=f"{RAW}cams/a.jpg", title="a")], title="not-dicom"),
        ],
        time_series=[UploadTimeSeries(object_url=f"{RAW}x/t.csv"), UploadTimeSeries(object_url=f"{RAW}x/u.bin")],
        scenes=[{"title": "s", "scene": {}, "clientMetadata": {}, "externalFileType": "SCENE"}],
    )  # fmt: skip
    result = await run(sandbox, folder, items, ignore_errors=True)

    assert result.status == UploadJobStatus.DONE
    assert (result.units_done_count, result.units_error_count) == (4, 5)
    made = await items_of(sandbox, folder)
    assert sorted(made) == ["pair", "scan", "t.csv", "u.bin"]
    assert made["pair"].item_type == "imageGroup" and made["pair"].url is None
    assert made["scan"].item_type == "dicomSeries" and made["scan"].file_size == 3
    assert made["t.csv"].item_type == "timeseries" and made["t.csv"].mime_type == "text/csv"
    assert made["u.bin"].mime_type == "application/octet-stream"
    errors = sorted(f"{e.action_description}: {e.error}" for e in result.unit_errors)
    assert [e.split(": ", 1)[0] for e in errors] == [
        "Uploading DICOM series",
        "Uploading image group",
        "Uploading image group",
        "Uploading image group",
        "Uploading scenes",
    ]
    text = "\n".join(errors)
    for expected in (
        "object s3://acme-raw/cams/a.jpg is a image file, not dicomFile",
        "a imageGroup registered from a cloud integration needs a title",
        "imageGroup 'empty' has no files",
        "object s3://acme-raw/cams/nope.jpg does not exist in the bucket",
        "scenes are not supported by the sandbox",
    ):
        assert expected in text


@pytest.mark.anyio
async def test_metadata_the_schema_refuses_fails_its_unit(sandbox: Sandboxed) -> None:
    await sandbox.client.metadata_schema.set({"split": {"ty": "enum", "values": ["train"]}})
    folder = str((await sandbox.client.folders.create("schema")).uuid)
    items = DataUploadItems(
        images=[
            UploadImage(object_url=f"{RAW}cams/a.jpg", client_metadata={"split": "train"}),
            UploadImage(object_url=f"{RAW}cams/b.jpg", client_metadata={"split": "test"}),
        ]
    )
    result = await run(sandbox, folder, items, ignore_errors=True)
    (error,) = result.unit_errors
    assert error.object_urls == [f"{RAW}cams/b.jpg"] and "split" in error.error
    assert list(await items_of(sandbox, folder)) == ["a.jpg"]


@pytest.mark.anyio
async def test_without_an_integration_the_start_is_refused(sandbox: Sandboxed) -> None:
    folder = str((await sandbox.client.folders.create("bad")).uuid)
    with pytest.raises(InvalidRequestError, match="integrationHash is required"):
        await sandbox.client.uploads.start(folder, DataUploadItems(), integration=None)


def test_bodies_the_client_never_sends_get_one_clear_400(tmp_path: Path) -> None:
    with open_harness(tmp_path) as sb:
        folder = sb.folder("raw")["uuid"]
        jobs = f"/storage/folders/{folder}/data-upload-jobs"
        answers = [
            sb.post(jobs, {"ignoreErrors": False}),
            sb.post(jobs, {"externalFiles": {"images": [{"title": "no url"}]}}),
            sb.post(f"/storage/folders/{folder}/folder-config", {"metadataIngestion": {"matcher": {"suffix": ""}}}),
        ]  # fmt: skip
    messages = [(a.status_code, a.json()["message"]) for a in answers]
    assert [status for status, _ in messages] == [400, 400, 400]
    assert "needs dataItems or externalFiles" in messages[0][1]
    assert "not in the JSON upload format" in messages[1][1]
    assert "metadataIngestion.matcher.suffix" in messages[2][1]
    assert all("\n" not in m for _, m in messages)


@pytest.mark.anyio
async def test_a_job_cut_short_by_a_stop_fails_at_the_next_start(tmp_path: Path) -> None:
    rows = [UploadImage(object_url=f"{RAW}cams/a.jpg") for _ in range(300)]
    async with embedded(tmp_path, options=SandboxOptions(upload_unit_ms=50)) as first:
        folder = str((await first.client.folders.create("cut")).uuid)
        job = await first.client.uploads.start(
            folder, DataUploadItems(images=rows), integration=await integration(first)
        )
    async with embedded(tmp_path) as second:
        result = await second.client.uploads.poll(folder, job, timeout_seconds=1)
    assert result.status == UploadJobStatus.ERROR
    assert result.errors == ["the job was cut short by a server stop"]


@pytest.mark.anyio
async def test_sidecars_that_are_not_json_objects_are_not_attached(
    sandbox: Sandboxed, tmp_path: Path
) -> None:
    side = tmp_path / "buckets" / "acme-raw" / "side"
    side.mkdir()
    for name, data in {
        "a.txt": b"a",
        "a.txt.meta": b"[1]",
        "b.txt": b"b",
        "b.txt.meta": b"{",
        "c.txt": b"c",
        "c.txt.meta": b'{"k": 1}',
    }.items():
        (side / name).write_bytes(data)  # fmt: skip
    params = CloudSyncedFolderParams(
        integration_uuid=await integration(sandbox), remote_url=f"{RAW}side/"
    )
    folder = str((await sandbox.client.folders.create("side", cloud_sync=params)).uuid)
    await sandbox.client.uploads.set_ingestion(
        folder, MetadataIngestion.model_validate({"matcher": {"suffix": ".meta"}})
    )
    job = await sandbox.client.folders.start_sync(folder)
    await sandbox.client.folders.wait_for_sync(folder, job, timeout_seconds=30)  # fmt: skip
    made = {name: item.metadata() for name, item in (await items_of(sandbox, folder)).items()}
    assert made == {"a.txt": {}, "b.txt": {}, "c.txt": {"k": 1}}
    assert (
        json.loads(
            (await sandbox.client.uploads.get_config(folder)).model_dump_json(by_alias=True)
        )["metadataIngestion"]["matcher"]["suffix"]
        == ".meta"
    )
