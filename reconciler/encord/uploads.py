"""Registering cloud objects into folders (data-upload jobs) and folder configs.

A job is started with the objects it registers, long-polled until it is no longer
``PENDING``, and can be cancelled. Starting is not idempotent: without
``skipDuplicateUrls`` a second job would make every item twice, so an ambiguous start is
resent only when the job skips duplicate URLs (then a second job is harmless). A folder
config is written whole, so ``set_ingestion`` reads it first and writes back every key it
does not model.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from uuid import UUID

from reconciler.encord.calls import V2Call, json_body, uuid_text
from reconciler.encord.paging import ignore, parser, uuid_parser
from reconciler.encord.session import Session
from reconciler.wire.uploads import (
    CancelUploadJobResponse,
    DataUploadItems,
    FolderConfig,
    MetadataIngestion,
    PostUploadJobParams,
    UploadJobResult,
    UploadJobStatus,
)

_ADMIN = "admin on"
_JOBS = "storage/folders/{uuid}/data-upload-jobs"
# A poll whose server holds it up to its cap (60 s advised) must not time out on our side.
_POLL_SLACK_SECONDS = 30.0
_POLL_HOLD_CAP_SECONDS = 120


class UploadsAPI:
    def __init__(self, session: Session) -> None:
        self._session = session

    async def start(
        self,
        folder: UUID | str,
        items: DataUploadItems,
        *,
        integration: UUID | str | None,
        ignore_errors: bool = False,
        subject: str | None = None,
    ) -> UUID:
        """Start a job registering ``items`` into ``folder``; returns the job UUID."""
        fid = uuid_text(folder)
        payload = PostUploadJobParams(
            data_items=items,
            integration_hash=UUID(uuid_text(integration)) if integration is not None else None,
            ignore_errors=ignore_errors,
        )
        call = V2Call(
            "POST",
            f"storage/folders/{fid}/data-upload-jobs",
            _JOBS,
            body=json_body(payload.to_request()),
            subject=subject or f"folder {fid}",
            needs=_ADMIN,
            idempotent=False,
            resend_if_ambiguous=items.skip_duplicate_urls,
        )
        return await self._session.call(call, uuid_parser(call.route))

    async def poll(
        self, folder: UUID | str, job: UUID | str, *, timeout_seconds: int
    ) -> UploadJobResult:
        """One long poll: answered when the job ends or the server's wait cap is reached."""
        fid, jid = uuid_text(folder), uuid_text(job)
        call = V2Call(
            "GET",
            f"storage/folders/{fid}/data-upload-jobs/{jid}",
            _JOBS + "/{job_uuid}",
            query=(("timeoutSeconds", timeout_seconds),),
            subject=f"folder {fid}",
            timeout_seconds=min(timeout_seconds, _POLL_HOLD_CAP_SECONDS) + _POLL_SLACK_SECONDS,
        )
        return await self._session.call(call, parser(UploadJobResult, call.route))

    async def wait(
        self,
        folder: UUID | str,
        job: UUID | str,
        *,
        timeout_seconds: int = 3600,
        on_progress: Callable[[UploadJobResult], None] | None = None,
    ) -> UploadJobResult:
        """Poll until the job is no longer pending or ``timeout_seconds`` have passed;
        ``on_progress`` sees every answer."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_seconds
        while True:
            left = max(1, int(deadline - loop.time()))
            result = await self.poll(folder, job, timeout_seconds=left)
            if on_progress is not None:
                on_progress(result)
            if result.status != UploadJobStatus.PENDING or loop.time() >= deadline:
                return result

    async def cancel(self, folder: UUID | str, job: UUID | str) -> int:
        """Cancel a job's units not yet done; returns how many were cancelled. Cancelling
        twice cancels nothing more, so it is resent freely."""
        fid, jid = uuid_text(folder), uuid_text(job)
        call = V2Call(
            "POST",
            f"storage/folders/{fid}/data-upload-jobs/{jid}/cancel",
            _JOBS + "/{job_uuid}/cancel",
            body=b"",
            subject=f"folder {fid}",
            needs=_ADMIN,
        )
        answer = await self._session.call(call, parser(CancelUploadJobResponse, call.route))
        return answer.units_cancelled_count

    async def get_config(self, folder: UUID | str, *, subject: str | None = None) -> FolderConfig:
        fid = uuid_text(folder)
        call = V2Call(
            "GET",
            f"storage/folders/{fid}/folder-config",
            "storage/folders/{uuid}/folder-config",
            subject=subject or f"folder {fid}",
        )
        return await self._session.call(call, parser(FolderConfig, call.route))

    async def set_config(
        self, folder: UUID | str, config: FolderConfig, *, subject: str | None = None
    ) -> None:
        """Write the whole config (what is left out is removed on the server)."""
        fid = uuid_text(folder)
        call = V2Call(
            "POST",
            f"storage/folders/{fid}/folder-config",
            "storage/folders/{uuid}/folder-config",
            body=json_body(config.to_request()),
            subject=subject or f"folder {fid}",
            needs=_ADMIN,
        )
        await self._session.call(call, ignore)

    async def set_ingestion(
        self, folder: UUID | str, ingestion: MetadataIngestion, *, subject: str | None = None
    ) -> FolderConfig:
        """Set sidecar ingestion, keeping every other key of the config; returns what was
        written."""
        config = (await self.get_config(folder, subject=subject)).with_ingestion(ingestion)
        await self.set_config(folder, config, subject=subject)
        return config
