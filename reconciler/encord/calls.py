"""What one API operation sends, as a value: built by the API modules, sent by the session.

A call carries what the wire needs (method, path, query pairs in the SDK's order, body bytes)
and what the session needs to behave well: a route template for stats, the subject for error
messages ("folder /a/b"), and whether resending it is safe.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from uuid import UUID

from reconciler.wire.base import dumps
from reconciler.wire.query import Query

T = TypeVar("T")

V2_PREFIX = "/v2/public/"
V1_PATH = "/public"


@dataclass(frozen=True, slots=True)
class V2Call:
    """One ``/v2/public/...`` request.

    ``path`` is relative to ``/v2/public/`` and already percent-encoded; ``route`` is its
    template (``storage/folders/{uuid}/items``). ``needs`` is the role a 403 means was missing
    ("admin on", "access to"). ``idempotent`` False means the session never resends after an
    ambiguous failure unless a ``Recovery`` proves the first attempt did not take effect, or
    ``resend_if_ambiguous`` says a second effect is harmless.
    """

    method: str
    path: str
    route: str
    query: Query = ()
    body: bytes | None = None
    subject: str = ""
    needs: str = "access to"
    idempotent: bool = True
    resend_if_ambiguous: bool = False
    timeout_seconds: float | None = None


@dataclass(frozen=True, slots=True)
class V1Call:
    """One legacy ``POST /public`` RPC on a dataset (``ResourceType: dataset``)."""

    query_type: str
    query_method: str
    dataset_hash: str
    uid: Any
    payload: Any
    subject: str = ""
    needs: str = "access to"
    idempotent: bool = True

    @property
    def route(self) -> str:
        return f"POST {V1_PATH} {self.query_type}"

    def body(self) -> bytes:
        """Byte-identical to the SDK: ``json.dumps`` of the envelope, nulls kept."""
        return dumps(
            {
                "query_type": self.query_type,
                "query_method": self.query_method,
                "values": {"uid": self.uid, "payload": self.payload},
            }
        )


Call = V2Call | V1Call


def stats_route(call: Call) -> str:
    """The key ``ClientStats`` counts ``call`` under (as the sandbox's ``/_sandbox/stats``)."""
    return call.route if isinstance(call, V1Call) else f"{call.method} {V2_PREFIX}{call.route}"


@dataclass(frozen=True, slots=True)
class Done(Generic[T]):
    """A recovery check's verdict that the call took effect, with the result to return."""

    value: T


@dataclass(frozen=True, slots=True)
class Recovery(Generic[T]):
    """How to learn, by reading, whether a call whose answer was lost took effect.

    ``check`` returns ``Done(result)`` when the effect is visible, else ``None``. With
    ``before_resend`` (non-idempotent calls: creates, links) the check runs after every
    ambiguous failure and the call is resent only when it returns ``None``. Without it
    (idempotent calls whose replay the server refuses, such as deleting what is already gone)
    the check runs when a resend after an ambiguous failure is refused, and turns that refusal
    into success when the effect is there.
    """

    check: Callable[[], Awaitable[Done[T] | None]]
    before_resend: bool


# The canonical text of a UUID: ids read from the API already have it, so a bulk call of
# 1000 items need not parse and print each one again (``UUID()`` costs ten times the match).
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def uuid_text(value: UUID | str) -> str:
    """Canonical lowercase hyphenated form, as the SDK puts UUIDs in paths and bodies."""
    if type(value) is str and _CANONICAL_UUID.fullmatch(value):
        return value
    return str(value if isinstance(value, UUID) else UUID(str(value)))


def json_body(value: Any) -> bytes:
    return dumps(value)
