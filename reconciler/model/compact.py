"""The storage of ``LiveItem``: ten million items must fit in a few GB.

What an item keeps per item beyond its UUID and name is stored compactly, and reads back as
exactly the value given (the planner, renderings, export and apply see no difference):

* ``last_edited_at``: the API's UTC text (``2026-11-23T14:47:45+00:00``, with or without
  microseconds) as microseconds since the epoch in a float (24 bytes, not 88; an int of that
  size takes 32; a float holds every whole number below 2**53, about the year 2255), when
  formatting that number gives the same text back; any other text is kept as it is.
* ``url``: an object URL usually ends with the item's name (``s3://bucket/dir/a.jpg`` for
  ``a.jpg``): then only the part before the name is kept, one string shared by every item
  under that prefix (``sys.intern``: it goes away with its last item).
* the folder (UUID and path), the item type, the three flags and whether ``url`` is stored
  as a prefix: one ``_Place`` shared by the items that have them alike (usually one or two a
  folder), not four slots an item.

Frozen and equal by value as the dataclass it replaces (``model/live.py``).
"""

from __future__ import annotations

import sys
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import FrozenInstanceError
from datetime import UTC, datetime, timedelta
from operator import attrgetter
from typing import Any, TypeVar

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_EXACT = 2**53  # whole numbers a float holds exactly
_EPOCH_DAY = _EPOCH.toordinal()
_from_iso = datetime.fromisoformat
# The characters at 4, 7, 10, 13, 16 and 19 of the two forms ``isoformat`` writes in UTC.
_SEPARATORS_WHOLE, _SEPARATORS_FRACTION = "--T::+", "--T::."
_TOMBSTONE, _PLACEHOLDER, _UNREADABLE, _URL_PREFIX = 1, 2, 4, 8
_PUBLIC = (
    "uuid",
    "parent",
    "folder_path",
    "name",
    "item_type",
    "description",
    "metadata",
    "last_edited_at",
    "is_tombstone",
    "is_placeholder",
    "metadata_unreadable",
    "url",
)


def compact_edited(text: str) -> float | str:
    """Microseconds since the epoch when they format back to ``text``; else ``text``."""
    # Exactly the form ``isoformat`` writes for UTC (checked so, not by formatting: that cost
    # 1-2 µs an item, 10-20 s at ten million; nor by a regular expression: 0.5-0.8 µs). Its
    # parse checked digits and ranges (no month 13, hour 24 or second 60); the length, the
    # separators at their fixed places (``-`` ``-`` ``T`` ``:`` ``:``, then ``.`` or ``+``),
    # ASCII, the fraction's six digits and the ``+00:00`` then leave only the one form.
    try:
        when = _from_iso(text)
    except ValueError:  # e.g. month 13, and "" (not a UTC time)
        return text
    size = len(text)
    if size == 25:
        form = _SEPARATORS_WHOLE
    elif size == 32 and when.microsecond:  # ".000000" is written back without it
        form = _SEPARATORS_FRACTION
    else:
        return text
    if text[4:20:3] != form or not text.endswith("+00:00") or not text.isascii():
        return text
    if size == 32 and not text[20:26].isdigit():  # 3.11 refuses these itself; a later one?
        return text
    seconds = (when.toordinal() - _EPOCH_DAY) * 86_400 + when.hour * 3_600
    micros = (seconds + when.minute * 60 + when.second) * 1_000_000 + when.microsecond
    return float(micros) if -_EXACT < micros < _EXACT else text


def edited_text(stored: float | str) -> str:
    if isinstance(stored, str):
        return stored
    return (_EPOCH + stored * _MICROSECOND).isoformat()


_Key = tuple[str, str, str, int]  # parent, folder path, item type, flags
_Item = TypeVar("_Item", bound="CompactItem")
_new = object.__new__


class _Place:
    """What the items of a folder have in common: their folder, type and flags (one object
    for all of them, found in ``_PLACES``; gone with its last item). Not the description: a
    text per item would make a place per item."""

    __slots__ = ("__weakref__", "flags", "folder_path", "item_type", "parent")

    def __init__(self, key: _Key) -> None:
        self.parent, self.folder_path, self.item_type, self.flags = key


# Each place by what it holds, while some item holds it: a weak reference, so the places of
# a live state go with it (a process may read many).
_PLACES: dict[_Key, weakref.ref[_Place]] = {}


def _place(key: _Key) -> _Place:
    ref = _PLACES.get(key)
    found = None if ref is None else ref()
    if found is None:
        found = _Place(key)
        _PLACES[key] = weakref.ref(found, lambda _, key=key: _forget(key))  # type: ignore[misc]
    return found


def _forget(key: _Key) -> None:
    ref = _PLACES.get(key)
    if ref is not None and ref() is None:  # not a newer place for the same key
        del _PLACES[key]


def _stored(
    name: str, url: str | None, tombstone: bool, placeholder: bool, unreadable: bool
) -> tuple[int, str | None]:
    """An item's flags and its URL as stored: the part before the name when the URL ends
    with it (one interned string per folder prefix). One rule for ``CompactItem`` and
    ``item_maker``, which must store an item alike."""
    flags = (
        (_TOMBSTONE if tombstone else 0)
        | (_PLACEHOLDER if placeholder else 0)
        | (_UNREADABLE if unreadable else 0)
    )
    if url is not None and name and url.endswith(name):
        return flags | _URL_PREFIX, sys.intern(url[: len(url) - len(name)])
    return flags, url


class _Slots:
    """The storage of ``CompactItem``, not yet frozen: ``item_maker`` fills one as any object
    is filled (the fastest way CPython has), then makes it the frozen class it stands for."""

    __slots__ = ("_edited", "_place", "_url", "description", "metadata", "name", "uuid")
    uuid: str
    name: str
    description: str
    metadata: Mapping[str, Any]
    _edited: float | str
    _url: str | None
    _place: _Place


class CompactItem(_Slots):
    """Slots for ``LiveItem``: 7, not 12 (the folder, type and flags in a shared ``_Place``),
    and smaller values in two of them."""

    __slots__ = ()

    def __init__(
        self,
        uuid: str,
        parent: str,
        folder_path: str,
        name: str,
        item_type: str,
        description: str = "",
        metadata: Mapping[str, Any] | None = None,
        last_edited_at: str = "",
        is_tombstone: bool = False,
        is_placeholder: bool = False,
        metadata_unreadable: bool = False,
        url: str | None = None,
    ) -> None:
        put = object.__setattr__
        put(self, "uuid", uuid)
        put(self, "name", name)
        put(self, "description", description)
        put(self, "metadata", {} if metadata is None else metadata)
        put(self, "_edited", compact_edited(last_edited_at))
        flags, url = _stored(name, url, is_tombstone, is_placeholder, metadata_unreadable)
        put(self, "_url", url)
        put(self, "_place", _place((parent, folder_path, item_type, flags)))

    @property
    def parent(self) -> str:  # folder UUID
        return self._place.parent

    @property
    def folder_path(self) -> str:
        return self._place.folder_path

    @property
    def item_type(self) -> str:
        return self._place.item_type

    @property
    def last_edited_at(self) -> str:
        return edited_text(self._edited)

    @property
    def url(self) -> str | None:
        url = self._url
        return url + self.name if self._place.flags & _URL_PREFIX and url is not None else url

    @property
    def is_tombstone(self) -> bool:
        return bool(self._place.flags & _TOMBSTONE)

    @property
    def is_placeholder(self) -> bool:
        return bool(self._place.flags & _PLACEHOLDER)

    @property
    def metadata_unreadable(self) -> bool:
        return bool(self._place.flags & _UNREADABLE)

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in _PUBLIC)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, CompactItem)
        return self._values() == other._values()

    def __hash__(self) -> int:  # as a frozen dataclass: unhashable while metadata is a dict
        return hash(self._values())

    def __repr__(self) -> str:
        inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in _PUBLIC)
        return f"{type(self).__qualname__}({inner})"

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:  # copy, deepcopy, pickle
        return type(self), self._values()

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")


# The fields an item reads from its ``_Place``, read from the place itself.
_PLACE_FIELDS: dict[str, Callable[[_Place], Any]] = {
    "parent": attrgetter("parent"),
    "folder_path": attrgetter("folder_path"),
    "item_type": attrgetter("item_type"),
    "is_tombstone": lambda p: bool(p.flags & _TOMBSTONE),
    "is_placeholder": lambda p: bool(p.flags & _PLACEHOLDER),
    "metadata_unreadable": lambda p: bool(p.flags & _UNREADABLE),
}
_PLACE_OF = attrgetter("_place")


def place_column(items: Sequence[CompactItem], name: str) -> list[Any]:
    """``getattr(item, name)`` of each item, for a field its place holds (folder, type,
    flags): read once per distinct place (usually one a folder), not through a property per
    item (a Python call each: about 0.2 s a column at a million items)."""
    places = list(map(_PLACE_OF, items))
    read = _PLACE_FIELDS[name]
    values = {place: read(place) for place in set(places)}
    if len(values) == 1:
        return [next(iter(values.values()))] * len(places)
    return list(map(values.__getitem__, places))


def place_values(items: Iterable[CompactItem], name: str) -> set[Any]:
    """The distinct values of a field its place holds among ``items`` (``True in
    place_values(items, "is_tombstone")``: is any a tombstone), one read per place."""
    read = _PLACE_FIELDS[name]
    return {read(place) for place in set(map(_PLACE_OF, items))}


def item_maker(cls: type[_Item]) -> Callable[..., _Item]:
    """``make(...)`` is ``cls(...)`` (the same arguments in the same order, all given; an equal
    item stored alike) at about 60 % of the CPU, for a read making millions of items one after
    the other: no keyword arguments, the slots filled before the item is frozen, and the place
    of the item before reused while the items come folder by folder (as a listing's pages do)."""
    last: list[Any] = [None, None]  # the key and place of the item made before

    def make(
        uuid: str,
        parent: str,
        folder_path: str,
        name: str,
        item_type: str,
        description: str,
        metadata: Mapping[str, Any],
        last_edited_at: str,
        is_tombstone: bool,
        is_placeholder: bool,
        metadata_unreadable: bool,
        url: str | None,
    ) -> _Item:
        flags, url = _stored(name, url, is_tombstone, is_placeholder, metadata_unreadable)
        key = (parent, folder_path, item_type, flags)
        if key != last[0]:
            last[:] = key, _place(key)
        item = _new(_Slots)
        item.uuid = uuid
        item.name = name
        item.description = description
        item.metadata = metadata
        item._edited = compact_edited(last_edited_at)
        item._url = url
        item._place = last[1]
        item.__class__ = cls  # frozen from here on (the same slots: only the class changes)
        return item  # type: ignore[return-value]

    return make
