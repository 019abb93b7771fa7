"""The data-upload job and folder-config calls on the wire (``more-operations.md`` 1 and 2).

The captures hold no data-upload request, so each body is compared byte for byte with what
the SDK's own models serialise to (``json.dumps(dto.to_dict())``, which is what the SDK
sends), and each answer the SDK accepts is parsed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from uuid import UUID

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from encord.orm import storage as sdk
from encord.orm.dataset import LongPollingStatus

from reconciler.encord import (
    AmbiguousOperationError,
    ClientOptions,
    EncordClient,
    KeyAuth,
    ResponseError,
    RetryOptions,
)
from reconciler.encord import uploads as uploads_module
from reconciler.wire.uploads import (
    DataUploadItems,
    DicomFile,
    FolderConfig,
    GroupImage,
    MetadataIngestion,
    SidecarMatcher,
    UploadAudio,
    UploadDicomSeries,
    UploadImage,
    UploadImageGroup,
    UploadJobStatus,
    UploadNifti,
    UploadPdf,
    UploadText,
    UploadTimeSeries,
    UploadVideo,
)

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
FOLDER = "11111111-2222-4333-8444-555555555555"
JOB = "55555555-5555-4555-8555-555555555555"
INTEGRATION = "66666666-6666-4666-8666-666666666666"
SUBTASK = "77777777-7777-4777-8777-777777777777"
Handler = Callable[[httpx.Request], httpx.Response]


def client(handler: Handler, *, attempts: int = 1) -> EncordClient:
    return EncordClient(
        ClientOptions(
            domain="http://127.0.0.1:18765",
            auth=KeyAuth(KEY),
            transport=httpx.MockTransport(handler),
            retry=RetryOptions(max_attempts=attempts, base_backoff_seconds=0.0),
        )
    )


def recorder(*answers: httpx.Response) -> tuple[Handler, list[httpx.Request]]:
    seen: list[httpx.Request] = []
    queue = list(answers)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return queue.pop(0)

    return handler, seen


def result_json(status: str = "DONE", **counts: Any) -> dict[str, Any]:
    return {
        "status": status,
        "itemsWithNames": [{"itemUuid": JOB, "name": "a.jpg"}],
        "errors": [],
        "unitsPendingCount": counts.get("pending", 0),
        "unitsDoneCount": counts.get("done", 1),
        "unitsErrorCount": counts.get("error", 0),
        "unitsCancelledCount": 0,
        "unitErrors": [
            {
                "objectUrls": ["s3://b/x.jpg"],
                "error": "missing",
                "subtaskUuid": SUBTASK,
                "actionDescription": "Uploading image",
            }
        ],
    }


def every_type_ours() -> DataUploadItems:
    return DataUploadItems(
        videos=[UploadVideo(object_url="s3://acme-raw/cams/c.mp4")],
        image_groups=[
            UploadImageGroup(images=[GroupImage(url="s3://a/1.jpg")], title="g", create_video=False)
        ],
        dicom_series=[UploadDicomSeries(dicom_files=[DicomFile(url="s3://a/1.dcm", title="1")], title="s")],
        images=[
            UploadImage(object_url="s3://acme-raw/cams/a.jpg", title="a.jpg", client_metadata={"split": "train"})
        ],
        audio=[UploadAudio(object_url="s3://a/x.wav")],
        time_series=[UploadTimeSeries(object_url="s3://a/t.csv")],
        nifti=[UploadNifti(object_url="s3://a/n.nii")],
        text=[UploadText(object_url="s3://acme-raw/cams/d.txt")],
        pdf=[UploadPdf(object_url="s3://a/p.pdf", client_metadata={"k": [1, "é"]})],
        skip_duplicate_urls=True,
        upsert_metadata=True,
    )  # fmt: skip


def every_type_sdk() -> sdk.DataUploadItems:
    return sdk.DataUploadItems(
        videos=[sdk.DataUploadVideo(object_url="s3://acme-raw/cams/c.mp4")],
        image_groups=[
            sdk.DataUploadImageGroup(
                images=[sdk.DataUploadImageGroupImage(url="s3://a/1.jpg")], title="g"
            )
        ],
        dicom_series=[
            sdk.DataUploadDicomSeries(
                dicom_files=[sdk.DataUploadDicomSeriesDicomFile(url="s3://a/1.dcm", title="1")],
                title="s",
            )
        ],
        images=[
            sdk.DataUploadImage(
                object_url="s3://acme-raw/cams/a.jpg", title="a.jpg", client_metadata={"split": "train"}
            )
        ],
        audio=[sdk.DataUploadAudio(object_url="s3://a/x.wav")],
        time_series=[sdk.DataUploadTimeSeries(object_url="s3://a/t.csv")],
        nifti=[sdk.DataUploadNifti(object_url="s3://a/n.nii")],
        text=[sdk.DataUploadText(object_url="s3://acme-raw/cams/d.txt")],
        pdf=[sdk.DataUploadPDF(object_url="s3://a/p.pdf", client_metadata={"k": [1, "é"]})],
        skip_duplicate_urls=True,
        upsert_metadata=True,
    )  # fmt: skip


@pytest.mark.anyio
async def test_start_sends_the_sdk_body_and_returns_the_job() -> None:
    handler, seen = recorder(httpx.Response(200, json=JOB))
    async with client(handler) as c:
        job = await c.uploads.start(
            FOLDER, every_type_ours(), integration=INTEGRATION, ignore_errors=True
        )
    assert job == UUID(JOB)
    (request,) = seen
    assert (request.method, request.url.path) == (
        "POST",
        f"/v2/public/storage/folders/{FOLDER}/data-upload-jobs",
    )
    expected = sdk.PostUploadJobParams(
        data_items=every_type_sdk(), integration_hash=UUID(INTEGRATION), ignore_errors=True
    )
    assert request.content == json.dumps(expected.to_dict()).encode()
    assert json.loads(request.content)["dataItems"]["scenes"] == []  # every list is sent


@pytest.mark.anyio
async def test_a_lost_start_is_resent_only_when_duplicates_are_skipped() -> None:
    lost = httpx.Response(502, json={"message": "bad gateway"})
    handler, seen = recorder(lost, httpx.Response(200, json=JOB))
    async with client(handler, attempts=2) as c:
        job = await c.uploads.start(
            FOLDER, DataUploadItems(skip_duplicate_urls=True), integration=INTEGRATION
        )
    assert job == UUID(JOB) and len(seen) == 2

    handler, seen = recorder(lost, httpx.Response(200, json=JOB))
    async with client(handler, attempts=2) as c:
        with pytest.raises(AmbiguousOperationError):
            await c.uploads.start(FOLDER, DataUploadItems(), integration=None)
    assert len(seen) == 1
    assert "integrationHash" not in json.loads(seen[0].content)


@pytest.mark.anyio
async def test_poll_parses_what_the_sdk_accepts() -> None:
    body = result_json(done=1, error=1)
    handler, seen = recorder(httpx.Response(200, json=body))
    async with client(handler) as c:
        result = await c.uploads.poll(FOLDER, JOB, timeout_seconds=60)
    assert seen[0].url.raw_path.decode() == (
        f"/v2/public/storage/folders/{FOLDER}/data-upload-jobs/{JOB}?timeoutSeconds=60"
    )
    theirs = sdk.UploadLongPollingState.from_dict(body)
    assert theirs.status == LongPollingStatus.DONE
    assert result.status == UploadJobStatus.DONE
    assert [str(i.item_uuid) for i in result.items_with_names] == [JOB]
    assert result.unit_errors[0].object_urls == ["s3://b/x.jpg"]
    assert (result.units_done_count, result.units_error_count, result.file_name) == (1, 1, None)


@pytest.mark.anyio
async def test_poll_refuses_a_lower_case_status() -> None:
    handler, _ = recorder(httpx.Response(200, json=result_json("done")))
    async with client(handler) as c:
        with pytest.raises(ResponseError, match="status"):
            await c.uploads.poll(FOLDER, JOB, timeout_seconds=5)


@pytest.mark.anyio
async def test_wait_polls_while_pending_and_reports_each_answer() -> None:
    handler, seen = recorder(
        httpx.Response(200, json=result_json("PENDING", pending=2, done=0)),
        httpx.Response(200, json=result_json("PENDING", pending=1, done=1)),
        httpx.Response(200, json=result_json("CANCELLED", done=1)),
    )
    progress: list[int] = []
    async with client(handler) as c:
        result = await c.uploads.wait(
            FOLDER,
            JOB,
            timeout_seconds=600,
            on_progress=lambda r: progress.append(r.units_done_count),
        )
    assert result.status == UploadJobStatus.CANCELLED
    assert progress == [0, 1, 1] and len(seen) == 3


@pytest.mark.anyio
async def test_cancel_posts_an_empty_body() -> None:
    handler, seen = recorder(httpx.Response(200, json={"unitsCancelledCount": 7}))
    async with client(handler) as c:
        assert await c.uploads.cancel(FOLDER, JOB) == 7
    (request,) = seen
    assert request.url.path.endswith(f"/data-upload-jobs/{JOB}/cancel")
    assert request.content == b"" and request.headers["Content-Length"] == "0"


@pytest.mark.anyio
async def test_set_ingestion_keeps_the_keys_it_does_not_model() -> None:
    stored = {"metadataIngestion": None, "indexSettings": {"embeddings": True}}
    handler, seen = recorder(httpx.Response(200, json=stored), httpx.Response(204))
    ingestion = MetadataIngestion(matcher=SidecarMatcher(suffix=".meta.json"), paused=True)
    async with client(handler) as c:
        written = await c.uploads.set_ingestion(FOLDER, ingestion)
    get, post = seen
    assert (get.method, post.method) == ("GET", "POST")
    assert post.url.path == f"/v2/public/storage/folders/{FOLDER}/folder-config"
    theirs = sdk.StorageFolderConfig.from_dict(stored)
    theirs.metadata_ingestion = sdk.MetadataIngestionConfig(
        matcher=sdk.SidecarMatcherSuffix(suffix=".meta.json"), paused=True
    )
    assert post.content == json.dumps(theirs.to_dict()).encode()
    assert written.metadata_ingestion == ingestion


@pytest.mark.anyio
async def test_get_config_without_ingestion() -> None:
    handler, _ = recorder(httpx.Response(200, json={}))
    async with client(handler) as c:
        assert (await c.uploads.get_config(FOLDER)).metadata_ingestion is None


def test_every_uploads_call_is_tested_here() -> None:
    from pathlib import Path

    source = Path(__file__).read_text()
    public = [n for n in vars(uploads_module.UploadsAPI) if not n.startswith("_")]
    assert [n for n in public if f"uploads.{n}(" not in source] == []


def test_folder_config_round_trips_unknown_keys() -> None:
    config = FolderConfig.model_validate({"indexSettings": {"a": 1}, "other": [1]})
    ingestion = MetadataIngestion()
    assert config.with_ingestion(ingestion).to_request() == {
        "metadataIngestion": {"matcher": {"mode": "suffix", "suffix": ".metadata.json"}, "paused": False},
        "indexSettings": {"a": 1},
        "other": [1],
    }  # fmt: skip


@pytest.mark.anyio
async def test_set_config_sends_the_whole_config() -> None:
    handler, seen = recorder(httpx.Response(200, content=b"null"))
    config = FolderConfig.model_validate({"indexSettings": {"embeddings": False}})
    async with client(handler) as c:
        await c.uploads.set_config(FOLDER, config)
    assert json.loads(seen[0].content) == {"indexSettings": {"embeddings": False}}
