"""``LiveItem`` stores its time, URL and flags compactly (``model/compact.py``) and reads
back exactly what it was given: same values, same equality, same dataclass behaviour."""

from __future__ import annotations

import copy
import dataclasses
import gc
import pickle
import tracemalloc
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.model.live import LiveItem

P = "f0000000-0000-4000-8000-000000000001"
TIMES = [
    "2026-11-23T14:47:45+00:00",  # the API's form (seconds)
    "2026-01-05T03:17:42.123456+00:00",  # with microseconds
    "1969-12-31T23:59:59.999999+00:00",  # before the epoch
    "2286-01-01T00:00:00.000001+00:00",  # beyond what a float holds to the microsecond
    "9999-12-31T23:59:59.999999+00:00",
    "2026-01-05T03:17:42.000000+00:00",  # would format without the fraction: kept as text
    "2026-01-05T03:17:42.5+00:00",  # would format as .500000: kept as text
    "2026-01-05T03:17:42Z",
    "2026-01-05T24:00:00+00:00",  # hour 24: some Pythons read it as the next day
    "2026-13-05T03:17:42+00:00",
    "２０２６-01-05T03:17:42+00:00",  # digits, but not ASCII ones
    "2026-01-05T03:17:42+02:00",
    "2026-01-05 03:17:42+00:00",
    "not a time at all, twenty-five+00:00",
    "",
]


def _item(n: int = 0, **fields: object) -> LiveItem:
    given: dict[str, object] = {
        "uuid": f"{n:08x}-1111-4000-8000-000000000001",
        "parent": P,
        "folder_path": "/a",
        "name": f"{n:08d}.jpg",
        "item_type": "image",
    }
    return LiveItem(**{**given, **fields})  # type: ignore[arg-type]


@pytest.mark.parametrize("text", TIMES)
def test_last_edited_at_reads_back_exactly(text: str) -> None:
    assert _item(last_edited_at=text).last_edited_at == text


@settings(max_examples=300)
@given(
    st.from_regex(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{6})?\+00:00\Z")
    | st.datetimes(timezones=st.just(UTC)).map(datetime.isoformat)
)
def test_any_time_in_the_apis_form_reads_back_exactly(text: str) -> None:
    """Valid or not (month 13, hour 99), in the form the API writes or not."""
    assert _item(last_edited_at=text).last_edited_at == text


@pytest.mark.parametrize(
    ("name", "url"),
    [
        ("a.jpg", "s3://b/dir/a.jpg"),
        ("a.jpg", "s3://b/dir/other.jpg"),
        ("a.jpg", "a.jpg"),
        ("a.jpg", None),
        ("", "s3://b/dir/"),
        ("a.jpg", ""),
    ],
)
def test_url_reads_back_exactly(name: str, url: str | None) -> None:
    assert _item(name=name, url=url).url == url


def test_flags_read_back_each_alone() -> None:
    flags = ("is_tombstone", "is_placeholder", "metadata_unreadable")
    for on in flags:
        item = _item(**{on: True})
        assert {f: getattr(item, f) for f in flags} == {f: f == on for f in flags}


def test_equal_by_value_frozen_and_a_dataclass_to_asdict_and_replace() -> None:
    item = _item(
        last_edited_at=TIMES[1], url="s3://b/00000000.jpg", metadata={"k": 1}, is_tombstone=True
    )
    same = _item(
        last_edited_at=TIMES[1], url="s3://b/00000000.jpg", metadata={"k": 1}, is_tombstone=True
    )
    assert item == same and item != _item(last_edited_at=TIMES[0])
    assert item.path == "/a/00000000.jpg"
    with pytest.raises(dataclasses.FrozenInstanceError):
        item.name = "b.jpg"
    with pytest.raises(dataclasses.FrozenInstanceError):
        del item.url
    assert item != (item.uuid,) and _item() != None  # noqa: E711 (the comparison is the test)
    with pytest.raises(TypeError):  # as the frozen dataclass: its metadata dict is unhashable
        hash(item)
    as_dict = dataclasses.asdict(item)
    assert as_dict == {
        "uuid": item.uuid,
        "parent": P,
        "folder_path": "/a",
        "name": "00000000.jpg",
        "item_type": "image",
        "description": "",
        "metadata": {"k": 1},
        "last_edited_at": TIMES[1],
        "is_tombstone": True,
        "is_placeholder": False,
        "metadata_unreadable": False,
        "url": "s3://b/00000000.jpg",
    }
    assert LiveItem(**as_dict) == item  # from_json's way
    changed = dataclasses.replace(item, metadata_unreadable=True)
    assert changed.metadata_unreadable and dataclasses.asdict(changed) == {
        **as_dict,
        "metadata_unreadable": True,
    }
    assert copy.deepcopy(item) == item and pickle.loads(pickle.dumps(item)) == item
    assert repr(item).startswith("LiveItem(uuid='00000000-") and "url='s3://b/00000000" in repr(
        item
    )


def test_an_item_holds_under_350_bytes_with_its_uuid_and_name() -> None:
    """What a listed item keeps once the page is gone. The dataclass it replaces held 128
    bytes of slots, 88 of time text and about 96 of URL text beside its UUID and name: over
    500 bytes in all (517 measured here; 330 now)."""
    n = 2000
    metadata = {"split": "train"}
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        names = [f"{i:08d}.jpg" for i in range(n)]
        page = [
            (
                f"{i:08x}-1111-4000-8000-000000000001",
                f"2026-01-05T03:17:{i % 60:02d}.{i + 1:06d}+00:00",
                f"s3://bench-bucket/raw/f00001/{names[i]}",
            )
            for i in range(n)
        ]
        items = [
            LiveItem(
                uuid=uuid,
                parent=P,
                folder_path="/a",
                name=name,
                item_type="image",
                metadata=metadata,
                last_edited_at=edited,
                url=url,
            )
            for name, (uuid, edited, url) in zip(names, page, strict=True)
        ]
        del names, page
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert items[7].last_edited_at == "2026-01-05T03:17:07.000008+00:00"
    assert items[7].url == "s3://bench-bucket/raw/f00001/00000007.jpg"
    assert held / n < 350, held / n


def test_what_items_share_goes_with_them() -> None:
    """The folder, type and flags an item holds are shared with its neighbours, and not kept
    once no item holds them (a process may read many organisations): a second read of as
    many other folders leaves no more behind than the first (the table's own size)."""
    left = []
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for read in range(2):
            folders = [f"/r{read}/f{n:04d}" for n in range(1000)]
            items = [_item(n, folder_path=folder) for n, folder in enumerate(folders)]
            assert {i.folder_path for i in items} == set(folders)
            del items, folders
            gc.collect()
            left.append(tracemalloc.get_traced_memory()[0] - before)
    finally:
        tracemalloc.stop()
    assert left[1] - left[0] < 5_000, left
