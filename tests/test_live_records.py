"""Listed items as compact records: ``fast_briefs`` (the page read without the model) holds
what the model holds, anything else takes the model's path, and ``ItemRecords`` shares what
repeats without changing what the planner sees."""

from __future__ import annotations

import copy
import json
import logging
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from reconciler.encord import (
    ClientOptions,
    EncordClient,
    Item,
    ItemBrief,
    KeyAuth,
    ResponseError,
    RetryOptions,
)
from reconciler.encord.dto import fast_briefs, page_briefs
from reconciler.live import records as records_module
from reconciler.live.records import MAX_SHARED_STRING_LENGTH, ItemRecords, Placing
from reconciler.model.desired import (
    DesiredFolder,
    DesiredState,
    MetadataRule,
    Ownership,
    Source,
    Target,
)
from reconciler.model.live import LiveFolder, LiveItem, LiveState
from reconciler.plan import DiffOptions, diff
from reconciler.plan.document import plan_document
from reconciler.wire.base import MAX_PAGE_RESULTS, format_datetime, utc_now

P = "7b6b3c4e-1a2b-4c3d-8e9f-0a1b2c3d4e5f"
U = [f"abcdef00-0000-4000-8000-{n:012d}" for n in range(6)]


def item_json(uuid: str, parent: str) -> dict[str, Any]:
    """An item as the API lists it: every key the model requires (media fields null)."""
    now = format_datetime(utc_now())
    row: dict[str, Any] = {f.alias: None for f in Item.model_fields.values() if f.alias}
    row |= {
        "uuid": uuid, "parent": parent, "itemType": "image", "name": "a.jpg",
        "clientMetadata": "{}", "owner": "a@x", "createdAt": now, "lastEditedAt": now,
        "backedDataUnitsCount": 0, "storageLocation": "encord", "isTombstone": False,
        "isPlaceholder": False, "description": "",
    }  # fmt: skip
    return row


async def run(handler: Any, op: Any) -> Any:
    options = ClientOptions(
        domain="https://api.test",
        transport=httpx.MockTransport(handler),
        auth=KeyAuth(Ed25519PrivateKey.generate()),
        retry=RetryOptions(max_attempts=1),
    )
    async with EncordClient(options) as c:
        return await op(c)


def _rows() -> list[dict[str, Any]]:
    rows = [item_json(u, P) for u in U]
    rows[1] |= {"clientMetadata": '{"split": "train", "n": 1}', "description": "d"}
    rows[2] |= {"isTombstone": True, "isPlaceholder": False, "url": "s3://b/k.jpg"}
    rows[3] |= {"clientMetadata": "[1]", "itemType": "video", "name": "v.mp4"}
    rows[4] |= {"clientMetadata": "", "isPlaceholder": True}
    rows[5] |= {"description": "", "isTombstone": False}  # others take the defaults
    return rows


def test_a_plain_page_is_read_as_the_model_reads_it() -> None:
    rows = _rows()
    assert fast_briefs(rows) == [ItemBrief.of(Item.model_validate(r)) for r in rows]


@pytest.mark.parametrize(
    "change",
    [
        {"uuid": U[0].upper()},  # the model makes it canonical
        {"parent": U[0].replace("-", "")},
        {"itemType": "hologram"},
        {"itemType": 3},
        {"isTombstone": "true"},
        {"name": None},
        {"url": 5},
        {"clientMetadata": {"a": 1}},
        {"lastEditedAt": 0},
        {"uuid": 7},
    ],
)
def test_a_row_not_in_the_plain_form_takes_the_models_path(change: dict[str, Any]) -> None:
    rows = _rows()
    rows[2] |= change
    assert fast_briefs(rows) is None


def test_a_row_missing_a_required_key_or_a_page_not_a_list_takes_the_models_path() -> None:
    rows = _rows()
    del rows[0]["owner"]
    assert fast_briefs(rows) is None
    assert fast_briefs([*_rows()[:1], "x"]) is None
    assert fast_briefs({"0": _rows()[0]}) is None
    assert fast_briefs(None) is None


def _page(rows: Any, **page: Any) -> bytes:
    return json.dumps({"results": rows, **page}).encode()


def _read_as_before(content: bytes) -> tuple[list[ItemBrief] | None, Any]:
    """What the listing read from a page before ``page_briefs``: ``json.loads``, the page's
    token under either spelling, ``fast_briefs`` on its results."""
    data = json.loads(content)
    token = data.get("nextPageToken", data.get("next_page_token"))
    return fast_briefs(data.get("results")), token


def _snake(row: dict[str, Any]) -> dict[str, Any]:
    return {"item_type" if k == "itemType" else k: v for k, v in row.items()}


OPTIONAL = ("description", "isTombstone", "isPlaceholder")
PLAIN_PAGES = {
    "plain": _page(_rows(), nextPageToken="t1"),
    "last page": _page(_rows(), nextPageToken=None),
    "no token": _page(_rows()),
    "other spelling": _page(_rows(), next_page_token="t2"),
    "null token first": _page(_rows(), nextPageToken=None, next_page_token="t2"),
    "empty": _page([], nextPageToken=""),
    "extra keys": _page([{**r, "newField": [1, {"a": None}]} for r in _rows()], total=6),
    "a key twice": _page(_rows()).replace(b'"name": "a.jpg"', b'"name": "x", "name": "a.jpg"'),
    "optional keys left out": _page(
        [{k: v for k, v in r.items() if k not in OPTIONAL} for r in _rows()]
    ),
    "escapes": _page([{**r, "name": 'a\u00e9\n"b\u0000'} for r in _rows()]),
}
ODD_PAGES = {
    **{
        f"row {change}": _page([*_rows()[:2], {**_rows()[2], **change}])
        for change in (
            {"uuid": U[0].upper()},
            {"parent": U[0].replace("-", "")},
            {"parent": U[0] + "\n"},
            {"itemType": "hologram"},
            {"isTombstone": "true"},
            {"isPlaceholder": None},
            {"description": None},
            {"name": None},
            {"url": 5},
            {"clientMetadata": {"a": 1}},
            {"lastEditedAt": 0},
        )
    },
    "snake_case": _page([_snake(r) for r in _rows()]),
    "missing owner": _page([{k: v for k, v in r.items() if k != "owner"} for r in _rows()]),
    "a row not an object": _page([*_rows()[:1], "x"]),
    "results not a list": _page({"0": _rows()[0]}),
    "no results": json.dumps({"nextPageToken": "t"}).encode(),
    "too many results": _page([_rows()[0]] * (MAX_PAGE_RESULTS + 1)),
    "token a number": _page(_rows(), nextPageToken=5),
    "a list": json.dumps(_rows()).encode(),
    "a lone surrogate": _page([{**r, "name": "a\ud800"} for r in _rows()]),
    "a byte order mark": b"\xef\xbb\xbf" + _page(_rows()),
}


@pytest.mark.parametrize("name", list(PLAIN_PAGES))
def test_a_plain_page_is_read_from_its_bytes_as_before(name: str) -> None:
    content = PLAIN_PAGES[name]
    briefs, token = _read_as_before(content)
    assert briefs is not None
    assert page_briefs(content) == (briefs, token)


@pytest.mark.parametrize("name", list(ODD_PAGES))
def test_a_page_not_plain_is_left_to_the_json_path(name: str) -> None:
    """None: the listing then reads the page as before (``fast_briefs``, else the model)."""
    assert page_briefs(ODD_PAGES[name]) is None
    assert page_briefs(b"not json") is None


@pytest.mark.anyio
async def test_a_listing_read_from_bytes_follows_either_token_spelling() -> None:
    rows = _rows()
    pages = {None: _page(rows[:3], next_page_token="p2"), "p2": _page(rows[3:])}

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=pages[request.url.params.get("pageToken")])

    async def op(c: EncordClient) -> list[list[ItemBrief]]:
        return [page async for page in c.items.list_briefs(P)]

    assert await run(handler, op) == [
        [ItemBrief.of(Item.model_validate(r)) for r in rows[:3]],
        [ItemBrief.of(Item.model_validate(r)) for r in rows[3:]],
    ]


async def _briefs(results: Any) -> list[list[ItemBrief]]:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"results": results, "nextPageToken": None})

    async def op(c: EncordClient) -> list[list[ItemBrief]]:
        return [page async for page in c.items.list_briefs(P)]

    out: list[list[ItemBrief]] = await run(handler, op)
    return out


@pytest.mark.anyio
async def test_the_models_path_gives_canonical_values_and_the_models_errors() -> None:
    rows = _rows()
    rows[0]["uuid"] = U[0].upper()
    assert await _briefs(rows) == [[ItemBrief.of(Item.model_validate(r)) for r in rows]]
    assert (await _briefs(rows))[0][0].uuid == U[0]
    rows[0]["uuid"] = "not-a-uuid"
    with pytest.raises(ResponseError, match=r"unexpected answer at results\.0\.uuid"):
        await _briefs(rows)
    with pytest.raises(ResponseError, match="unexpected answer at results"):
        await _briefs(None)


def _old_live_item(item: Item, folder_path: str) -> LiveItem:
    """What the read made of an item before records (the model's fields, one by one)."""
    text = item.client_metadata
    try:
        parsed = json.loads(text) if text and text != "{}" else {}
    except ValueError:
        parsed = None
    metadata = parsed if isinstance(parsed, dict) else None
    return LiveItem(
        uuid=str(item.uuid),
        parent=str(item.parent),
        folder_path=folder_path,
        name=item.name,
        item_type=item.item_type.value,
        description=item.description,
        metadata=metadata or {},
        metadata_unreadable=metadata is None,
        last_edited_at=item.last_edited_text,
        is_tombstone=item.is_tombstone,
        is_placeholder=item.is_placeholder,
        url=item.url,
    )


def test_records_are_what_the_read_made_before(caplog: pytest.LogCaptureFixture) -> None:
    rows = _rows()
    rows[0]["clientMetadata"] = "[1]"  # two unreadable texts alike: each still said
    rows[5]["clientMetadata"] = '{"a": '  # not JSON at all
    records = ItemRecords()
    with caplog.at_level(logging.INFO):
        made = [records.live_item(b, "/a", P) for b in fast_briefs(rows) or []]
    assert made == [_old_live_item(Item.model_validate(r), "/a") for r in rows]
    assert [m.metadata_unreadable for m in made] == [True, False, False, True, False, True]
    unreadable = [r.getMessage() for r in caplog.records if "not a JSON object" in r.message]
    assert unreadable == [f"item /a/{made[n].name}: {_SAID}" for n in (0, 3, 5)]


_SAID = "clientMetadata is not a JSON object; its metadata is left alone"


def test_equal_texts_share_one_object_and_keys_and_short_values_are_shared(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    records = ItemRecords()
    brief = ItemBrief(U[0], P, "image", "a", "", '{"split": "train"}', "t", False, False, None)
    first = records.live_item(brief, "/a", P)
    second = records.live_item(brief._replace(uuid=U[1]), "/a", P)
    assert first.metadata is second.metadata
    other = records.live_item(brief._replace(client_metadata='{"split":"train","x":1}'), "/a", P)
    assert other.metadata == {"split": "train", "x": 1}
    assert other.metadata is not first.metadata
    assert next(iter(other.metadata)) is next(iter(first.metadata))  # the key, once
    assert other.metadata["split"] is first.metadata["split"]  # a short value, once
    monkeypatch.setattr(records_module, "MAX_SHARED_METADATA", 0)  # full: parsed per item
    late = records.live_item(brief._replace(client_metadata='{"late": 1}'), "/a", P)
    again = records.live_item(brief._replace(client_metadata='{"late": 1}'), "/a", P)
    assert late.metadata == again.metadata and late.metadata is not again.metadata
    long = "v" * (MAX_SHARED_STRING_LENGTH + 1)
    assert records.share(long) is not records.share("".join(["v"] * len(long)))


def _desired() -> DesiredState:
    source = Source(file="t.yaml", line=1)
    rule = MetadataRule(folder="/a", recursive=True, metadata={"qa": "done"}, source=source)
    return DesiredState(
        root_dir="/t",
        target=Target(),
        ownership=Ownership(id="t"),
        folders={"/a": DesiredFolder(path="/a", source=source)},
        rules=(rule,),
        source=source,
    )


def _live(items: list[LiveItem]) -> LiveState:
    folder = LiveFolder(uuid=P, parent=None, name="a", path="/a")
    return LiveState(
        scope=("/a",),
        folders={P: folder},
        paths={"/a": P},
        items={i.uuid: i for i in items},
        listing_counts={"/a": len(items) + 1},
    )


def test_a_plan_over_shared_metadata_is_the_plan_over_copies_and_leaves_it_as_read() -> None:
    records = ItemRecords()
    text = '{"split": "train", "qa": "todo"}'
    shared = [
        records.live_item(
            ItemBrief(u, P, "image", f"{n}.jpg", "", text, "t", False, False, None), "/a", P
        )
        for n, u in enumerate(U)
    ]
    assert len({id(i.metadata) for i in shared}) == 1
    copies = [copy.deepcopy(i) for i in shared]
    assert len({id(i.metadata) for i in copies}) == len(U)
    options = DiffOptions(created_at="t")
    planned = plan_document(diff(_desired(), _live(shared), options=options))
    assert planned == plan_document(diff(_desired(), _live(copies), options=options))
    assert len(planned["changes"]) == len(U)  # every item's qa is patched
    assert shared[0].metadata == {"split": "train", "qa": "todo"}  # as read


def test_items_wait_for_their_folders_and_those_of_folders_not_placed_are_counted() -> None:
    items: dict[str, LiveItem] = {}
    placing = Placing(items, ItemRecords())
    brief = ItemBrief(U[0], P, "image", "a.jpg", "", "{}", "t", False, False, None)
    placing.add([brief, brief._replace(uuid=U[1], parent=U[5])])
    assert items == {}  # no path yet
    folder = "".join(P)  # the tree's own string, not the brief's
    placing.place({folder: "/a"})
    placing.add([brief._replace(uuid=U[2], name="b.jpg")])
    placing.place({folder: "/elsewhere"})  # placed once
    assert [(i.uuid, i.path) for i in items.values()] == [(U[0], "/a/a.jpg"), (U[2], "/a/b.jpg")]
    assert all(i.parent is folder for i in items.values())
    assert (placing.listed, placing.orphans) == (3, 1)


@pytest.mark.anyio
async def test_a_page_only_json_loads_reads_is_read_as_before() -> None:
    """A lone surrogate in a name: pydantic-core refuses the page, ``json.loads`` and
    ``fast_briefs`` take it, and the listing gives what they give."""
    rows = _rows()
    rows[0]["name"] = "a\ud800"
    content = _page(rows)
    assert page_briefs(content) is None

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=content)

    async def op(c: EncordClient) -> list[list[ItemBrief]]:
        return [page async for page in c.items.list_briefs(P)]

    assert await run(handler, op) == [fast_briefs(rows)]


def test_a_page_of_several_folders_becomes_the_items_each_made_alone() -> None:
    """Items of two folders interleaved (the place of the item before is not theirs), a
    folder not known (counted), an unreadable text twice: as ``LiveItem(...)`` of each."""
    q = "7b6b3c4e-1a2b-4c3d-8e9f-000000000002"
    rows = _rows()
    rows[1]["parent"] = rows[3]["parent"] = q
    rows[5]["parent"] = U[0]  # not a folder of this read
    rows[4]["clientMetadata"] = "[1]"
    page = fast_briefs(rows) or []
    items: dict[str, LiveItem] = {}
    folders = {P: (P, "/a"), q: (q, "/b")}
    assert ItemRecords().add_page(page, folders, items) == 1
    alone = {
        b.uuid: LiveItem(
            b.uuid, b.parent, folders[b.parent][1], b.name, b.item_type, b.description,
            records_module.parse_metadata(b.client_metadata, "") or {}, b.last_edited_at,
            b.is_tombstone, b.is_placeholder, b.client_metadata == "[1]", b.url,
        )
        for b in page[:5]
    }  # fmt: skip
    assert items == alone and list(items) == U[:5]
    assert [i.folder_path for i in items.values()] == ["/a", "/b", "/a", "/b", "/a"]
