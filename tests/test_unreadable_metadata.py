"""Live clientMetadata that is not a JSON object is unknown, never empty.

A broken or hostile server may answer a folder's or an item's ``clientMetadata`` with text
that does not parse, or parses to something other than an object. The reader marks such
objects; the planner withholds every change that would write their metadata (one refusal,
one line) instead of diffing against ``{}``; apply's re-read judges a step on such an object
stale instead of comparing with ``{}``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from encord_data.kit import embedded, sandbox_target

from reconciler.apply.freshness import metadata_field
from reconciler.apply.ops_items import observe
from reconciler.config import load_config
from reconciler.encord import ClientOptions, EncordClient, ItemBrief, KeyAuth
from reconciler.live import Scope, read_live
from reconciler.model.live import LiveFolder, LiveItem, LiveState
from reconciler.plan import diff
from reconciler.sandbox.embedded import open_embedded

BROKEN = ("{not json", "[1, 2]", '"text"', "null-ish", "1" * 5000)


class _Garble(httpx.AsyncBaseTransport):
    """The real sandbox, except that clientMetadata holding ``"BREAK"`` comes back as
    ``broken`` (what a broken or hostile server might send)."""

    def __init__(self, inner: httpx.AsyncBaseTransport, broken: str) -> None:
        self._inner = inner
        self._broken = broken

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        if request.method != "GET":
            return response
        body = await response.aread()  # decoded: drop what described the encoded body
        drop = ("content-length", "content-encoding")
        headers = {k: v for k, v in response.headers.items() if k.lower() not in drop}
        if b"BREAK" not in body:
            return httpx.Response(response.status_code, headers=headers, content=body)
        garbled = self._garble(json.loads(body))
        return httpx.Response(response.status_code, headers=headers, json=garbled)

    def _garble(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {
                k: self._broken
                if k == "clientMetadata" and isinstance(v, str) and "BREAK" in v
                else self._garble(v)
                for k, v in value.items()
            }
        if isinstance(value, list):
            return [self._garble(v) for v in value]
        return value


@pytest.mark.anyio
@pytest.mark.parametrize("broken", BROKEN[:3])
async def test_the_reader_marks_unreadable_metadata_instead_of_reading_it_as_empty(
    tmp_path: Path, broken: str
) -> None:
    async def go() -> LiveState:
        async with embedded(tmp_path) as s:
            top = await s.client.folders.create("p", metadata={"BREAK": 1})
            await s.client.folders.create("ok", parent=top.uuid, metadata={"team": "ml"})
        sandbox = open_embedded(sandbox_target(tmp_path))
        transport = _Garble(httpx.ASGITransport(app=sandbox.app), broken)
        options = ClientOptions(
            domain="http://sandbox.local", auth=KeyAuth(sandbox.private_key), transport=transport
        )
        try:
            async with EncordClient(options) as client:
                return await read_live(client, Scope(roots=("/p",)))
        finally:
            sandbox.close()

    live = await go()
    p, ok = live.folders[live.paths["/p"]], live.folders[live.paths["/p/ok"]]
    assert p.metadata_unreadable and p.metadata == {}
    assert not ok.metadata_unreadable and ok.metadata == {"team": "ml"}
    assert live.complete  # the listing itself is whole


SETTINGS = "version: 1\ntarget: {encord: {domain: https://api.encord.com}}\nownership: {id: acme}\n"
RESOURCES = """\
folders:
  /team:
    description: Team space
    metadata: {team: ml}
  /team/fine:
    metadata: {team: ml}
items:
  - folder: /team
    metadata: {split: train}
"""


def _live() -> LiveState:
    folders = {
        "f-team": LiveFolder(
            uuid="f-team", parent=None, name="team", path="/team", description="Team space",
            metadata_unreadable=True,
        ),
        "f-fine": LiveFolder(uuid="f-fine", parent="f-team", name="fine", path="/team/fine"),
    }  # fmt: skip
    items = {
        uuid: LiveItem(
            uuid=uuid,
            parent="f-team",
            folder_path="/team",
            name=f"{uuid}.jpg",
            item_type="IMAGE",
            metadata_unreadable=uuid == "bad",
        )
        for uuid in ("bad", "good")
    }
    return LiveState(
        target="https://api.encord.com",
        scope=("/team",),
        folders=folders,
        paths={f.path: u for u, f in folders.items()},
        items=items,
        listing_counts={"/team": 4},
    )


def test_the_plan_withholds_metadata_writes_to_objects_whose_metadata_is_unreadable(
    tmp_path: Path,
) -> None:
    (tmp_path / "reconciler.yaml").write_text(SETTINGS)
    (tmp_path / "resources.yaml").write_text(RESOURCES)
    plan = diff(load_config(tmp_path), _live())
    addresses = {c.address for c in plan.changes}
    assert "item:/team/good.jpg" in addresses  # readable objects are planned as ever
    assert "folder:/team/fine" in addresses
    assert "item:/team/bad.jpg" not in addresses and "folder:/team" not in addresses
    [refusal] = plan.refusals
    assert refusal.code == "unreadable-metadata" and refusal.withheld
    assert set(refusal.addresses) == {"item:/team/bad.jpg", "folder:/team"}
    assert "\n" not in refusal.message and "not a JSON object" in refusal.message


@pytest.mark.parametrize("broken", BROKEN)
def test_apply_never_judges_unreadable_live_metadata_as_empty(broken: str) -> None:
    assert metadata_field(broken, "item x") == {}  # absent: the step is stale, not fresh
    assert metadata_field('{"a": 1}', "item x") == {"metadata": {"a": 1}}
    assert metadata_field("", "item x") == {"metadata": {}}


@pytest.mark.parametrize("broken", BROKEN)
def test_a_rechecked_item_without_readable_metadata_has_no_metadata_field(broken: str) -> None:
    """The fields a re-check compares (made when first asked for): unreadable metadata is
    absent, so a step that looks at metadata is stale, never judged against ``{}``."""
    parent = "0b6a4c1e-7d0e-4c8e-9a57-3c1f2b9e4d10"
    brief = ItemBrief(
        "5f1b7a52-0c4e-4f4e-8a39-6d2c9a1b3e77", parent, "image", "a.jpg", "", broken,
        "2026-12-02T10:00:00+00:00", False, False, None,
    )  # fmt: skip
    fields = observe(brief).fields
    assert len(fields) == 2 and dict(fields) == {"parent": parent, "name": "a.jpg"}
    readable = observe(brief._replace(client_metadata='{"a": [1]}')).fields
    assert sorted(readable) == ["metadata", "name", "parent"]
    assert readable["metadata"] == {"a": [1]}
