"""Keyset pagination: opaque page tokens that carry the last (sort key, uuid) of a page.

A token names a position, not an offset, so page N of a 100,000-item listing costs what page 1
costs, and concurrent inserts never make a page repeat or skip a row that stays in place.
The token also records the order it was made for; using it with another order is a 400.
"""

from __future__ import annotations

import base64
import binascii
import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.sandbox.errors import bad_request

SORT_COLUMNS = {"name": "name", "createdAt": "created_at"}
MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 100


@dataclass(frozen=True, slots=True)
class PageSpec:
    """Order, direction, size and start of one page request."""

    order: str = "name"
    desc: bool = False
    size: int = DEFAULT_PAGE_SIZE
    after: tuple[str, str] | None = None

    @property
    def column(self) -> str:
        return SORT_COLUMNS[self.order]

    def keyset(self, table: str) -> tuple[str, list[str]]:
        """SQL condition starting the page after ``after`` (always true on the first page)."""
        if self.after is None:
            return "1", []
        op = "<" if self.desc else ">"
        return f"({table}.{self.column}, {table}.uuid) {op} (?, ?)", list(self.after)

    def order_by(self, table: str) -> str:
        direction = "DESC" if self.desc else "ASC"
        return f"{table}.{self.column} {direction}, {table}.uuid {direction}"

    def token_after(self, sort_value: str, uuid: str) -> str:
        raw = json.dumps([self.order, self.desc, sort_value, uuid]).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def page_spec(*, order: str | None, desc: bool, size: int | None, token: str | None) -> PageSpec:
    """Validate listing parameters; 400 on a bad order, size or token."""
    order = order or "name"
    if order not in SORT_COLUMNS:
        raise bad_request(f"order must be one of {', '.join(SORT_COLUMNS)}, got {order!r}")
    size = DEFAULT_PAGE_SIZE if size is None else size
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise bad_request(f"pageSize must be between 1 and {MAX_PAGE_SIZE}, got {size}")
    after = _decode(token, order, desc) if token else None
    return PageSpec(order=order, desc=desc, size=size, after=after)


def _decode(token: str, order: str, desc: bool) -> tuple[str, str]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        token_order, token_desc, value, uuid = json.loads(raw)
    except (ValueError, TypeError, binascii.Error):
        raise bad_request("pageToken is not a token this server issued") from None
    if token_order != order or token_desc != desc:
        raise bad_request("pageToken belongs to a listing with another order or direction")
    return str(value), str(uuid)


def fetch_page(
    conn: sqlite3.Connection,
    head: str,
    where: Sequence[str],
    params: Sequence[Any],
    alias: str,
    spec: PageSpec,
) -> tuple[list[sqlite3.Row], str | None]:
    """One page of ``head WHERE where…`` (``head`` selects ``uuid`` and the sort column of
    table ``alias``) in ``spec``'s order, and the token of the next page (None at the end)."""
    keyset, keyset_params = spec.keyset(alias)
    sql = f"{head} WHERE {' AND '.join((*where, keyset))} ORDER BY {spec.order_by(alias)} LIMIT ?"
    rows = conn.execute(sql, (*params, *keyset_params, spec.size + 1)).fetchall()
    if len(rows) <= spec.size:
        return rows, None
    last = rows[spec.size - 1]
    return rows[: spec.size], spec.token_after(last[spec.column], last["uuid"])
