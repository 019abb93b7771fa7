"""A listing read from both ends remembers only the objects near where the ends are
(``encord.window.ReadWindow``), and gives what remembering every object gave: the same pages,
each object once, the same requests, for listings with names that repeat, ends that break
ties their own way, a server that ignores ``desc``, and pages that shift while read."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.encord import window
from reconciler.encord.paging import both_ends
from reconciler.encord.window import WINDOW_PAGES, ReadWindow

Row = tuple[int, str]  # identity, name


@dataclass
class Listing:
    """A server listing ``names`` (identity -> name) by offset, ``size`` a page, ascending or
    descending by name; within a name each end's own order (``ties``: a rank per identity and
    end). ``edits[k]`` is applied just before the k-th page request (of either end): each
    edit adds a new object (a name) or removes the i-th object still listed (an int)."""

    names: dict[int, str]
    size: int
    ties: dict[tuple[int, bool], int]
    ignores_desc: bool = False
    edits: list[list[str | int]] = field(default_factory=list)
    asked: list[tuple[bool, int]] = field(default_factory=list)

    def end(self, desc: bool) -> AsyncGenerator[list[Row]]:
        async def pages() -> AsyncGenerator[list[Row]]:
            offset = 0
            while True:
                await asyncio.sleep(0)
                self._edit()
                self.asked.append((desc, offset))
                rows = self._ordered(desc and not self.ignores_desc)
                yield rows[offset : offset + self.size]
                if offset + self.size >= len(rows):
                    return
                offset += self.size

        return pages()

    def _ordered(self, desc: bool) -> list[Row]:
        rows = sorted(self.names.items(), key=lambda r: (r[1], self.ties.get((r[0], desc), r[0])))
        if desc:  # names descending, each name's objects in this end's own tie order
            rows = sorted(rows, key=lambda r: r[1], reverse=True)
        return rows

    def _edit(self) -> None:
        batch = self.edits[len(self.asked)] if len(self.asked) < len(self.edits) else []
        for edit in batch:
            if isinstance(edit, str):
                self.names[max(self.names, default=-1) + 1] = edit
            elif self.names:
                del self.names[sorted(self.names)[edit % len(self.names)]]


async def _read(listing: Listing) -> list[list[int]]:
    read = both_ends(
        listing.end(False),
        lambda: listing.end(True),
        identity=lambda row: row[0],
        name=lambda row: row[1],
        full=listing.size,
    )
    return [[row[0] for row in page] async for page in read]


def _fresh_listing(make: dict[str, object]) -> Listing:
    return Listing(**{**make, "names": dict(make["names"])})  # type: ignore[call-overload]


def _both(make: dict[str, object]) -> None:
    """Read a fresh ``Listing(**make)`` with the window and with every object remembered:
    the same pages and the same requests."""
    windowed = _fresh_listing(make)
    got = asyncio.run(_read(windowed))
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(window, "WINDOW_PAGES", 10**9)  # never forgets: the rule before
        everything = _fresh_listing(make)
        expected = asyncio.run(_read(everything))
    assert got == expected
    assert windowed.asked == everything.asked
    ids = [n for page in got for n in page]
    assert len(ids) == len(set(ids))


@st.composite
def listings(draw: st.DrawFn, *, edits: bool) -> dict[str, object]:
    size = draw(st.integers(1, 6))
    count = draw(st.integers(0, 12 * size))
    # few names (long runs of one name) or many (mostly unique)
    alphabet = draw(st.integers(1, max(1, count)))
    names = {n: f"n{draw(st.integers(0, alphabet)):03d}" for n in range(count)}
    ties = {(n, desc): draw(st.integers(0, 3)) for n in range(count) for desc in (False, True)}
    make: dict[str, object] = {
        "names": names,
        "size": size,
        "ties": ties,
        "ignores_desc": draw(st.booleans()),
    }
    if edits:
        # at most (size - 1) // 2 edits before each request: a round (two requests) shifts
        # an end by under one page
        batch = st.lists(
            st.one_of(st.integers(0, 10**6), st.integers(0, alphabet).map(lambda a: f"n{a:03d}")),
            max_size=(size - 1) // 2,
        )
        make["edits"] = draw(st.lists(batch, max_size=40))
    return make


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(make=st.one_of(listings(edits=False), listings(edits=True)))
def test_the_window_gives_what_remembering_everything_gave(make: dict[str, object]) -> None:
    """Listings that hold still, and listings whose pages shift while read."""
    _both(make)


def _window(page: int) -> ReadWindow[Row]:
    return ReadWindow(lambda row: row[0], lambda row: row[1], page)


def test_a_long_listing_remembers_a_few_pages_of_each_end() -> None:
    """200 pages of 50 distinct names read from both ends: at most ``WINDOW_PAGES`` pages of
    each end are remembered at any time, and where the ends meet the overlap is found."""
    rows = [(n, f"{n:05d}") for n in range(10_000)]
    seen = _window(50)
    most = 0
    for start in range(0, 5_000, 50):
        up, crossed_up = seen.fresh(rows[start : start + 50], 0)
        down, crossed_down = seen.fresh(rows[::-1][start : start + 50], 1)
        assert len(up) == len(down) == 50 and not crossed_up and not crossed_down
        most = max(most, len(seen))
    assert most == 2 * WINDOW_PAGES * 50
    # one page more from each end: everything comes from the other end's last pages
    assert seen.fresh(rows[5_000:5_050], 0) == ([], True)
    assert seen.fresh(rows[::-1][5_000:5_050], 1) == ([], True)


def test_the_objects_of_one_name_are_remembered_together_however_many() -> None:
    """A name held by more objects than the window counts (the ends may walk through it in
    any order) is remembered whole while it is among the last names read."""
    run = [(n, "same") for n in range(1_000)]
    seen = _window(10)
    for start in range(0, 1_000, 10):
        assert seen.fresh(run[start : start + 10], 0)[0] == run[start : start + 10]
    assert len(seen) == 1_000
    assert seen.fresh([(999, "same"), (0, "same")], 1) == ([], True)
    # ... and forgotten with its name once 3 pages' worth of other names came after it
    for n in range(30):
        seen.fresh([(2_000 + n, f"other{n:02d}")], 0)
    assert seen.first_end((5, "same")) is None
    assert seen.first_end((0, "same")) == 0  # end 1 read it too, and holds it
    assert len(seen) == 30 + 2


def test_an_object_read_by_both_ends_is_forgotten_only_when_both_forget_it() -> None:
    seen = _window(1)
    seen.fresh([(1, "a")], 0)
    assert seen.fresh([(1, "a")], 1) == ([], True)
    for n in range(3):  # end 0 forgets "a"; end 1 still holds it
        seen.fresh([(10 + n, f"b{n}")], 0)
    assert seen.first_end((1, "a")) == 0
    assert seen.fresh([(1, "a")], 1) == ([], True)  # a repeat from end 1: still once
    for n in range(3):
        seen.fresh([(20 + n, f"c{n}")], 1)
    assert seen.first_end((1, "a")) is None


def test_a_page_larger_than_asked_widens_the_window() -> None:
    """A server that answers more objects a page than asked for: the window counts pages of
    the size it answers."""
    seen = _window(1)
    seen.fresh([(n, f"{n:02d}") for n in range(10)], 0)
    assert len(seen) == 10  # 3 pages of 10 names may be remembered, not 3 names
    seen.fresh([(n, f"{n:02d}") for n in range(10, 35)], 0)
    assert len(seen) == 35


def test_a_name_read_again_is_remembered_as_newest() -> None:
    """An object of a name read before (added while the listing is read) brings the name's
    objects back to the newest place: they are forgotten after the names in between."""
    seen = _window(1)  # 3 names
    for row in [(1, "a"), (2, "b"), (3, "a"), (4, "c"), (5, "d")]:
        seen.fresh([row], 0)
    assert [seen.first_end((n, "")) for n in range(1, 6)] == [0, None, 0, 0, 0]


def test_an_object_or_a_name_twice_in_one_page_is_read_one_by_one() -> None:
    """A page of new objects under new names is recorded at once; one that holds an object
    twice gives it once, and one that holds a name twice keeps both its objects."""
    seen = _window(4)
    assert seen.fresh([(1, "a"), (2, "b"), (1, "a")], 0) == ([(1, "a"), (2, "b")], False)
    assert seen.fresh([(3, "c"), (4, "c")], 0) == ([(3, "c"), (4, "c")], False)
    assert seen.fresh([(4, "c"), (5, "d")], 1) == ([(5, "d")], True)
    assert seen.fresh([(6, "e"), (6, "f")], 1) == ([(6, "e")], False)  # renamed meanwhile
    assert len(seen) == 6
