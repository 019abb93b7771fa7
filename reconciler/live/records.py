"""Listed items as compact ``LiveItem``s, made as each page arrives.

A read of millions of items must not hold what it does not use: each page's briefs become
``LiveItem``s as soon as their folder's path is known, and the strings and metadata that
repeat across items are held once. Shared: folder UUIDs and paths (from the tree), item
types, metadata keys and short string values, and whole metadata objects whose
``clientMetadata`` text is identical. A shared metadata object is a plain dict that many
items point to: the live state is read-only (``model/live.py``), and nothing in reconciler
writes into a live item's metadata (``tests/test_live_records.py`` checks a plan leaves them
as read).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from reconciler.encord import ItemBrief
from reconciler.model.compact import item_maker
from reconciler.model.live import LiveItem

logger = logging.getLogger(__name__)

# Caps on what is remembered for sharing (each entry costs its text and a slot): beyond them
# new values are kept per item, as they would be without sharing. Metadata texts repeat when
# items are labelled alike; unique texts (a per-item id in the metadata) gain nothing.
MAX_SHARED_METADATA = 200_000
MAX_SHARED_STRINGS = 1_000_000
# Longer strings rarely repeat (ids, URLs) and would only fill the table.
MAX_SHARED_STRING_LENGTH = 40


class ItemRecords:
    """Makes ``LiveItem``s from briefs, sharing what repeats (one per read)."""

    def __init__(self) -> None:
        self._strings: dict[str, str] = {}
        self._metadata: dict[str, dict[str, Any] | None] = {"": {}, "{}": {}}
        # a read makes millions: ``LiveItem(...)`` at about 60 % of the CPU
        self._make = item_maker(LiveItem)

    def live_item(self, brief: ItemBrief, folder_path: str, parent: str) -> LiveItem:
        """``parent``: the folder UUID as the tree holds it (one string for all its items)."""
        items: dict[str, LiveItem] = {}
        self.add_page([brief], {brief.parent: (parent, folder_path)}, items)
        return items[brief.uuid]

    def add_page(
        self, page: list[ItemBrief], folders: dict[str, tuple[str, str]], items: dict[str, LiveItem]
    ) -> int:
        """Each brief as a live item into ``items`` when ``folders`` has its folder (UUID ->
        the tree's UUID and path); returns how many it did not have."""
        make, known, orphans = self._make, self._metadata, 0
        for uuid, parent, item_type, name, description, text, edited, tomb, holder, url in page:
            folder = folders.get(parent)
            if folder is None:
                orphans += 1
                continue
            metadata = known.get(text)  # None: not seen yet, or not readable
            if metadata is None:
                metadata = self.metadata(text, folder[1], name)
            items[uuid] = make(
                uuid,
                folder[0],
                folder[1],
                name,
                item_type,
                description or "",
                {} if metadata is None else metadata,
                edited,
                tomb,
                holder,
                metadata is None,
                url,
            )
        return orphans

    def share(self, text: str) -> str:
        """One string object for equal short strings (beyond the cap: ``text`` itself)."""
        strings = self._strings
        found = strings.get(text)
        if found is not None:
            return found
        if len(text) <= MAX_SHARED_STRING_LENGTH and len(strings) < MAX_SHARED_STRINGS:
            strings[text] = text
        return text

    def metadata(self, text: str, folder_path: str, name: str) -> dict[str, Any] | None:
        """``clientMetadata`` parsed (see ``parse_metadata``), one object per distinct text."""
        cache = self._metadata
        if text in cache:
            found = cache[text]
            if found is None:  # said once per item, as when each was parsed
                _unreadable(f"item {folder_path}/{name}")
            return found
        value = parse_metadata(text, f"item {folder_path}/{name}")
        if value:
            value = {self.share(k): self._value(v) for k, v in value.items()}
        if len(cache) < MAX_SHARED_METADATA:
            cache[text] = value
        return value

    def _value(self, value: Any) -> Any:
        return self.share(value) if type(value) is str else value


class Placing:
    """One listing's items: briefs wait until the folders are placed, then become live items
    in ``items`` (those of folders not placed are counted, not kept)."""

    def __init__(self, items: dict[str, LiveItem], records: ItemRecords) -> None:
        self._items = items
        self._records = records
        self._waiting: list[list[ItemBrief]] = []
        self._folders: dict[str, tuple[str, str]] | None = None
        self.listed = 0
        self.orphans = 0

    def add(self, page: list[ItemBrief]) -> None:
        self.listed += len(page)
        if self._folders is None:
            self._waiting.append(page)
        else:
            self._convert(page)

    def place(self, paths: dict[str, str]) -> None:
        """Folder UUID -> path, once known; converts what waited (later calls do nothing)."""
        if self._folders is not None:
            return
        # the tree's own strings: the items of a folder all point at the same two
        self._folders = {uuid: (uuid, path) for uuid, path in paths.items()}
        waiting, self._waiting = self._waiting, []
        for page in waiting:
            self._convert(page)

    def _convert(self, page: list[ItemBrief]) -> None:
        self.orphans += self._records.add_page(page, self._folders or {}, self._items)


def parse_metadata(text: str | None, where: str) -> dict[str, Any] | None:
    """``clientMetadata`` is JSON text on the wire; ``null`` and ``""`` mean no metadata.
    None when it is not a JSON object: unknown metadata, which is not the same as none (the
    planner withholds every metadata change of such an object, ``plan/safety/unreadable.py``)."""
    if not text or text == "{}":
        return {}
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        value = None
    if isinstance(value, dict):
        return value
    _unreadable(where)
    return None


def _unreadable(where: str) -> None:
    logger.info("%s: clientMetadata is not a JSON object; its metadata is left alone", where)
