"""What the two ends of a listing read lately: enough to give each object once where the
ends meet, without remembering every object of a listing of millions (``paging.both_ends``).

Two ends read one listing, ascending and descending by name, until they meet. An object can
come twice only where the ends overlap: each end remembers the objects of the last ``limit``
distinct names it read (``limit``: ``WINDOW_PAGES`` pages' worth; a name read again moves
to the newest place), all objects of those
names, and forgets older ones. Why that is enough, for a listing that holds still (names
compared only for equality: the server's collation is unknown):

* Each round starts with the ends apart (no object read by both: then the ascending end's
  last name sorts at or before the descending end's) or inside one name (the same last name,
  which keeps both reading; any other state ends the listing). So an end's next page of
  ``s`` objects reaches, past the other end's position, at most the names in that page, and
  the other end's objects of those names were read in its last distinct names: the names of
  one page of each end plus the one name they may share, ``2 * s + 1``.
* Objects of one name may come in any order from each end, and a name may hold any number of
  objects: the window counts names, not objects, and keeps each name's objects whole.
* Pages that shift while read (objects added or removed below an end's offset) repeat or
  skip objects next to where the end was: a repeat is caught while the shift is under
  ``limit - 2 * s - 1`` objects a round (``WINDOW_PAGES`` makes that about one page).

Beyond that (a burst of more than a page of edits between two pages, an object renamed to a
name the other end has yet to reach) an object can come twice, as from a listing read from
one end, which remembers nothing: the live read keeps items by UUID, so it holds one.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from itertools import chain
from typing import Generic, TypeVar

T = TypeVar("T")
# Distinct names each end remembers, in pages of the listing: two for the ends' overlap (a
# page of each end and a shared name), one for pages that shift while read (see above).
WINDOW_PAGES = 3

Group = tuple[Hashable, ...] | list[Hashable]
_FIRST = 1  # bit of a remembered object's flags: which end read it first (0 or 1)
_HELD = (2, 4)  # bits: end 0's window holds it, end 1's


class ReadWindow(Generic[T]):
    """The objects each end read among its last ``WINDOW_PAGES`` pages' worth of distinct
    names (``page``: the objects a full page holds, or the largest page seen if larger), and
    which end read each first. ``fresh`` gives what a record of every object read would give,
    for the listings the module docstring describes."""

    def __init__(
        self, identity: Callable[[T], Hashable], name: Callable[[T], str], page: int
    ) -> None:
        self._identity = identity
        self._name = name
        self._page = max(1, page)
        self._flags: dict[Hashable, int] = {}  # identity -> _FIRST and _HELD bits
        # per end: name -> its objects (a tuple, a list once a second comes), oldest first
        self._names: tuple[OrderedDict[str, Group], ...] = (OrderedDict(), OrderedDict())

    def __len__(self) -> int:
        """Objects remembered (for tests: the bound)."""
        return len(self._flags)

    def first_end(self, entry: T) -> int | None:
        """The end that read ``entry`` first, if it is remembered."""
        flags = self._flags.get(self._identity(entry))
        return None if flags is None else flags & _FIRST

    def fresh(self, page: list[T], end: int) -> tuple[list[T], bool]:
        """The objects of ``page`` (read by ``end``) not read before, and whether one of the
        others had been read first by the other end."""
        self._page = max(self._page, len(page))
        keys = list(map(self._identity, page))
        labels = list(map(self._name, page))
        if not self._all_new(keys, labels, end):
            return self._one_by_one(page, keys, labels, end)
        self._forget(end)
        return list(page), False

    def _all_new(self, keys: list[Hashable], labels: list[str], end: int) -> bool:
        """Record a page of new objects under new names, each once (the usual page: a few
        C-level passes, not a loop over its objects); False, recording nothing, otherwise."""
        flags, names = self._flags, self._names[end]
        added = dict.fromkeys(keys, end | _HELD[end])
        if len(added) < len(keys) or not flags.keys().isdisjoint(added):
            return False
        if len(set(labels)) < len(labels) or not names.keys().isdisjoint(labels):
            return False
        flags.update(added)
        names.update(zip(labels, zip(keys, strict=True), strict=True))  # 1-tuples
        return True

    def _one_by_one(
        self, page: list[T], keys: list[Hashable], labels: list[str], end: int
    ) -> tuple[list[T], bool]:
        flags, names, held = self._flags, self._names[end], _HELD[end]
        fresh: list[T] = []
        crossed = False
        for entry, key, label in zip(page, keys, labels, strict=True):
            came = flags.get(key)
            if came is None:
                flags[key] = end | held
                fresh.append(entry)
            else:
                crossed = crossed or (came & _FIRST) != end
                if came & held:
                    continue  # this end's window has it under its name already
                flags[key] = came | held
            group = names.get(label)
            if group is None:
                names[label] = (key,)
                continue
            names.move_to_end(label)
            if isinstance(group, tuple):
                names[label] = group = list(group)
            group.append(key)
        self._forget(end)
        return fresh, crossed

    def _forget(self, end: int) -> None:
        """Drop the oldest names of ``end``'s window beyond the limit; an object leaves the
        record when neither end's window holds it."""
        flags, names = self._flags, self._names[end]
        over = len(names) - WINDOW_PAGES * self._page
        if over <= 0:
            return
        popitem = names.popitem
        keys = list(chain.from_iterable([popitem(last=False)[1] for _ in range(over)]))
        values = list(map(flags.pop, keys))
        other = _HELD[1 - end]
        if any(map(other.__and__, values)):  # some are the other end's too: they stay
            for key, value in zip(keys, values, strict=True):
                if value & other:
                    flags[key] = value & ~_HELD[end]
