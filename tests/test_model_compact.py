"""``LiveItem`` stores its time, URL and flags compactly (``model/compact.py``) and reads
back exactly what it was given: same values, same equality, same dataclass behaviour."""

from __future__ import annotations

import copy
import dataclasses
import gc
import pickle
import re
import tracemalloc
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.model.compact import compact_edited, edited_text, item_maker
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


_ISO_UTC = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{6})?\+00:00")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _compact_by_regex(text: str) -> float | str:
    """``compact_edited`` as it was (a regular expression for the form): the reference."""
    if not _ISO_UTC.fullmatch(text) or text[11:13] == "24":
        return text
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return text
    if len(text) == 32 and not when.microsecond:
        return text
    micros = (when - _EPOCH) // timedelta(microseconds=1)
    return float(micros) if -(2**53) < micros < 2**53 else text


# Strings near the API's form: its fields with any digits, and single characters swapped for
# ones ``fromisoformat`` also takes (other separators, ``Z``, a comma, non-ASCII digits, ...).
_NEAR = st.tuples(
    st.from_regex(
        r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,7})?\+00:00\Z"
    )
    | st.datetimes(timezones=st.just(UTC)).map(datetime.isoformat),
    st.integers(0, 31),
    st.sampled_from(["", " ", ",", ".", "Z", "+", "-", ":", "T", "0", "٣", "２", "+01:00", "00"]),
).map(lambda t: t[0][: t[1]] + t[2] + t[0][t[1] + (1 if t[2] else 0) :] if t[1] else t[0])


@settings(max_examples=300)
@given(_NEAR)
def test_the_time_is_stored_compactly_exactly_when_the_regular_expression_said_so(
    text: str,
) -> None:
    stored = compact_edited(text)
    assert stored == _compact_by_regex(text) and type(stored) is type(_compact_by_regex(text))
    assert edited_text(stored) == text


@pytest.mark.parametrize("text", TIMES)
def test_the_listed_times_are_stored_as_the_regular_expression_said(text: str) -> None:
    assert compact_edited(text) == _compact_by_regex(text)
    assert isinstance(compact_edited(text), float) == (text in TIMES[:3])  # the rest as text


_FIELDS = st.tuples(
    st.sampled_from([f"{n:08x}-1111-4000-8000-000000000001" for n in range(3)]),
    st.sampled_from([P, "f0000000-0000-4000-8000-000000000002"]),
    st.sampled_from(["/a", "/b/c"]),
    st.sampled_from(["a.jpg", "b.png", ""]),
    st.sampled_from(["image", "video"]),
    st.sampled_from(["", "a description"]),
    st.sampled_from([{}, {"split": "train"}]),
    st.sampled_from(TIMES),
    st.booleans(),
    st.booleans(),
    st.booleans(),
    st.sampled_from([None, "", "s3://b/dir/a.jpg", "s3://b/dir/b.png", "a.jpg", "s3://b/x/"]),
)


@settings(max_examples=100)
@given(st.lists(_FIELDS, min_size=1, max_size=8))
def test_a_maker_makes_what_the_class_makes_and_stores_it_alike(
    rows: list[tuple[Any, ...]],
) -> None:
    """One after the other, as a read makes them: neighbours in the same folder or not, with
    flags that differ or not (the maker reuses the place of the item before when it may)."""
    make = item_maker(LiveItem)
    made = [make(*row) for row in rows]
    for row, item in zip(rows, made, strict=True):
        expected = LiveItem(*row)
        assert type(item) is LiveItem and item == expected
        stored = ("_edited", "_url", "description", "metadata", "name", "uuid")
        assert [getattr(item, s) for s in stored] == [getattr(expected, s) for s in stored]
        assert item._place is expected._place  # the one shared place of its kind
        with pytest.raises(dataclasses.FrozenInstanceError):
            item.name = "x"
