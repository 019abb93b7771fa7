"""Folder configs: metadata sidecar ingestion of cloud-synced folders.

A folder config is written whole, so each write reads it first and sets only
``metadataIngestion`` (``client.uploads.set_ingestion``): keys reconciler does not model
(index settings, whatever else the server keeps) go back as they were. Setting the same
ingestion twice changes nothing, so a write is safe to repeat on resume.
"""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.apply.context import RunContext
from reconciler.apply.executor import Calls
from reconciler.apply.freshness import Checked
from reconciler.apply.phases import Step
from reconciler.kinds.folder_config import FolderConfigPayload
from reconciler.kinds.refs import dependency
from reconciler.model import addresses as addr
from reconciler.wire.uploads import MetadataIngestion, SidecarMatcher


class FolderConfigs:
    splittable = False

    def calls(self, steps: Sequence[Step]) -> Calls:
        return Calls(writes=len(steps))

    async def check(self, ctx: RunContext, steps: Sequence[Step]) -> Checked:
        return Checked(fresh=list(steps))

    async def write(self, ctx: RunContext, steps: Sequence[Step]) -> None:
        for step in steps:
            change = step.change
            after = FolderConfigPayload.of(change.after)
            assert after is not None and after.suffix is not None
            folder = ctx.ref(
                change.refs.folder_uuid, dependency(change, addr.Kind.FOLDER), "folder"
            )
            ingestion = MetadataIngestion(
                matcher=SidecarMatcher(suffix=after.suffix), paused=after.paused
            )
            await ctx.client.uploads.set_ingestion(
                folder, ingestion, subject=f"folder {addr.key_of(change.address)}"
            )
