"""Base of every v2 wire model: camelCase on the wire, snake_case in Python.

Mirrors the SDK's ``BaseDTO``: ``alias_generator`` to camelCase (digits are word breaks, so
``s3_compatible`` becomes ``s3Compatible``), ``populate_by_name`` so snake_case input is also
accepted, unknown keys ignored. Requests are dumped with ``exclude_none`` (the SDK omits
``None``); responses are dumped with every key present, because the SDK requires each
``Optional`` field without a default to be present, if only as ``null``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field


def snake_to_camel(name: str) -> str:
    words = name.split("_")
    return words[0] + "".join(word[:1].upper() + word[1:] for word in words[1:])


class WireModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=snake_to_camel,
        populate_by_name=True,
        extra="ignore",
        frozen=True,
    )

    def to_request(self) -> dict[str, Any]:
        """The JSON object a request carries: camelCase, ``None`` left out."""
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")

    def to_response(self) -> dict[str, Any]:
        """The JSON object a response carries: camelCase, every key present."""
        return self.model_dump(by_alias=True, mode="json")


T = TypeVar("T")

# The API answers at most 1000 results a page. A page claiming far more is refused while it is
# validated, before millions of results become Python objects (a hostile 30 MB page of "{}"s
# took 5.8 GB; refused here it peaks near 1.6 GB).
MAX_PAGE_RESULTS = 10_000


class Page(WireModel, Generic[T]):
    """``{"results": [...], "nextPageToken": ...}``; the end of the list is a null token."""

    results: list[T] = Field(max_length=MAX_PAGE_RESULTS)
    next_page_token: str | None = None


class ResultList(WireModel, Generic[T]):
    """The unpaged ``{"result": [...]}`` of ``datasets/list`` and ``cloud-integrations``."""

    result: list[T] = Field(default_factory=list)


def dumps(obj: Any) -> bytes:
    """JSON exactly as the SDK's ``requests`` sends it: default separators, ASCII-escaped."""
    return json.dumps(obj).encode("ascii")


def utc_now() -> datetime:
    return datetime.now(UTC)


def format_datetime(value: datetime) -> str:
    """ISO 8601 with offset and microseconds, the form the sandbox emits."""
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat(timespec="microseconds")
