"""Wire DTOs as the client returns them: the shared models, plus the ``lastEditedAt`` text.

Fingerprints must be the ``lastEditedAt`` string exactly as the API sent it (the format of a
real server is not known, and re-formatting a parsed datetime could change it), so the models
the client parses responses into keep that text next to the parsed value, in a field that is
read from the same key and never dumped.
"""

from __future__ import annotations

import re
from datetime import datetime
from operator import itemgetter
from typing import Annotated, Any, Literal, NamedTuple, NotRequired

from pydantic import AliasChoices, ConfigDict, Field, StringConstraints, TypeAdapter
from typing_extensions import TypedDict

from reconciler.wire.base import MAX_PAGE_RESULTS, WireModel, format_datetime
from reconciler.wire.datasets import DatasetWithUserRole
from reconciler.wire.enums import StorageItemType
from reconciler.wire.storage import StorageFolder, StorageItem

_EDITED = AliasChoices("lastEditedAt", "last_edited_at")


class _EditedText(WireModel):
    # str when parsed from JSON; a datetime (or nothing) when the model was built in Python.
    edited_raw: str | datetime | None = Field(default=None, validation_alias=_EDITED, exclude=True)

    @property
    def last_edited_text(self) -> str:
        """``lastEditedAt`` as the API wrote it (formatted from the datetime if built locally)."""
        if isinstance(self.edited_raw, str):
            return self.edited_raw
        edited = getattr(self, "last_edited_at", None)
        return format_datetime(edited) if edited is not None else ""


class Folder(StorageFolder, _EditedText):
    """A storage folder as listed or fetched; ``metadata()`` parses ``clientMetadata``."""


class Item(StorageItem, _EditedText):
    """A storage item as listed or fetched; ``metadata()`` parses ``clientMetadata``."""


class Dataset(DatasetWithUserRole, _EditedText):
    """A dataset row of ``datasets/list`` (``userRole`` is the caller's role, a string)."""


class ItemBrief(NamedTuple):
    """What the live read keeps of a listed item: the fields the planner uses, UUIDs as their
    canonical text. A tuple, not a model: a listing of millions is converted as each page
    arrives, and the 31-field model cost about 4 KB an item."""

    uuid: str
    parent: str
    item_type: str
    name: str
    description: str
    client_metadata: str
    last_edited_at: str  # as the API wrote it (see ``_EditedText``)
    is_tombstone: bool
    is_placeholder: bool
    url: str | None

    @classmethod
    def of(cls, item: Item) -> ItemBrief:
        return cls(
            str(item.uuid),
            str(item.parent),
            item.item_type.value,
            item.name,
            item.description,
            item.client_metadata,
            item.last_edited_text,
            item.is_tombstone,
            item.is_placeholder,
            item.url,
        )


# The keys ``StorageItem`` requires, camelCase as the API sends them. A row without one of them
# (or in snake_case, which the model also accepts) takes the model's path.
_REQUIRED = frozenset(
    f.alias or name for name, f in StorageItem.model_fields.items() if f.is_required()
)
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_ITEM_TYPES = {t.value: t.value for t in StorageItemType}


def fast_briefs(rows: Any) -> list[ItemBrief] | None:
    """The briefs of a page's ``results`` when every row is in the plain form the API sends
    (camelCase keys, canonical UUIDs, JSON types exact); None otherwise, and the caller then
    validates the page with the model (same values, same errors). Only the fields kept are
    checked: nothing reads the others (owner, sizes, dates of creation, ...)."""
    if type(rows) is not list or len(rows) > MAX_PAGE_RESULTS:
        return None
    out: list[ItemBrief] = []
    uuid_text = _CANONICAL_UUID.fullmatch
    for row in rows:
        if type(row) is not dict or not row.keys() >= _REQUIRED:
            return None
        uuid, parent, name = row["uuid"], row["parent"], row["name"]
        kind = _ITEM_TYPES.get(row["itemType"]) if type(row["itemType"]) is str else None
        description = row.get("description", "")
        metadata, edited, url = row["clientMetadata"], row["lastEditedAt"], row["url"]
        tombstone = row.get("isTombstone", False)
        placeholder = row.get("isPlaceholder", False)
        if (
            kind is None
            or type(uuid) is not str
            or type(parent) is not str
            or uuid_text(uuid) is None
            or uuid_text(parent) is None
            or type(name) is not str
            or type(description) is not str
            or type(metadata) is not str
            or type(edited) is not str
            or type(tombstone) is not bool
            or type(placeholder) is not bool
            or (url is not None and type(url) is not str)
        ):
            return None
        out.append(
            ItemBrief(
                uuid, parent, kind, name, description, metadata, edited, tombstone, placeholder, url
            )
        )
    return out


# The same page read by pydantic-core straight from the bytes (no Python object for a key or
# value it does not keep): the plain form ``fast_briefs`` takes, and nothing else. Strict
# types, canonical UUIDs, known item types, every key the model requires present (the
# ones not kept only present: ``Any``), the page's token under either spelling. The row's
# keys are computed, so the types are made at run time (``typed_dict``).
_Uuid = Annotated[str, StringConstraints(pattern=f"^{_CANONICAL_UUID.pattern}$")]
_KEPT: dict[str, Any] = {
    "uuid": _Uuid,
    "parent": _Uuid,
    "itemType": Literal[tuple(_ITEM_TYPES)],
    "name": str,
    "description": NotRequired[Annotated[str, Field(default="")]],
    "clientMetadata": str,
    "lastEditedAt": str,
    "isTombstone": NotRequired[Annotated[bool, Field(default=False)]],
    "isPlaceholder": NotRequired[Annotated[bool, Field(default=False)]],
    "url": str | None,
}
# The kept values of a row in ``ItemBrief``'s order (the optional keys are filled in).
_BRIEF = itemgetter(
    "uuid", "parent", "itemType", "name", "description", "clientMetadata", "lastEditedAt",
    "isTombstone", "isPlaceholder", "url",
)  # fmt: skip


def _typed_dict(name: str, keys: dict[str, Any]) -> Any:
    make: Any = TypedDict  # mypy checks TypedDicts written out, not made
    made = make(name, keys)
    made.__pydantic_config__ = ConfigDict(strict=True, extra="ignore")
    return made


_ROW = _typed_dict("_Row", {**{k: Any for k in sorted(_REQUIRED - _KEPT.keys())}, **_KEPT})
_PAGE: TypeAdapter[dict[str, Any]] = TypeAdapter(
    _typed_dict(
        "_Page",
        {
            "results": Annotated[list[_ROW], Field(max_length=MAX_PAGE_RESULTS)],  # type: ignore[valid-type]
            "nextPageToken": NotRequired[str | None],
            "next_page_token": NotRequired[str | None],
        },
    )
)


def page_briefs(content: bytes) -> tuple[list[ItemBrief], str | None] | None:
    """A page's briefs and its next page token (as the page object gives it), read from the
    page's bytes when the page is in the plain form ``fast_briefs`` takes (about a third
    of the CPU of ``json.loads`` and ``fast_briefs``); None for anything else, which the
    caller then reads as before (same values, same errors): this reader only ever accepts
    a page the other would, and gives what it would."""
    try:
        page = _PAGE.validate_json(content)
    except ValueError:  # ValidationError, and not JSON at all
        return None
    brief, new = _BRIEF, tuple.__new__  # a tuple made in C, not through ``ItemBrief(...)``
    briefs = [new(ItemBrief, brief(row)) for row in page["results"]]
    return briefs, page.get("nextPageToken", page.get("next_page_token"))
