"""Small helpers every store module shares: timestamps, UUIDs, materialised paths, roles."""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

from reconciler.sandbox.errors import bad_request
from reconciler.wire.base import format_datetime

_clock_lock = threading.Lock()
_last_now: datetime | None = None


def now_text() -> str:
    """The current time as stored and sent; strictly increasing within the process.

    ``lastEditedAt`` is the fingerprint clients use to detect concurrent changes, so two
    modifications must never share a timestamp, even within one microsecond.
    """
    global _last_now
    with _clock_lock:
        now = datetime.now(UTC)
        if _last_now is not None and now <= _last_now:
            now = _last_now + timedelta(microseconds=1)
        _last_now = now
    return format_datetime(now)


def stored_time(text: str, what: str) -> str:
    """A client's ISO 8601 datetime (``Z``, offset, or naive = UTC) in the stored form, so that
    it compares with stored timestamps as text; 400 when unreadable."""
    try:
        value = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        raise bad_request(f"{what} must be an ISO 8601 datetime, got {text!r}") from None
    return format_datetime(value if value.tzinfo else value.replace(tzinfo=UTC))


def new_uuid() -> str:
    return str(uuid.uuid4())


def canonical_uuid(text: str, what: str) -> str:
    """Lower-case hyphenated form of a UUID given by a client; 400 when malformed."""
    try:
        return str(UUID(str(text)))
    except (ValueError, TypeError, AttributeError):
        raise bad_request(f"{what} is not a valid UUID: {text!r}") from None


def path_end(path: str) -> str:
    """Exclusive upper bound of the subtree range of ``path`` (``/1/5/`` → ``/1/50``).

    Every path ends in ``/``; bumping that last character to ``0`` (the next code point) bounds
    exactly the strings that start with ``path``.
    """
    return path[:-1] + "0"


def path_ids(path: str) -> list[int]:
    """Row ids from the root down to the folder itself."""
    return [int(part) for part in path.strip("/").split("/")]


ROLE_RANK = {"user": 1, "admin": 2}
RANK_ROLE = {1: "user", 2: "admin"}

# Dataset roles are integers on the wire: 0 admin, 1 user.
DATASET_ADMIN = 0
DATASET_USER = 1


@dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated user of one request."""

    user_id: int
    email: str
    org_role: str

    @property
    def is_admin(self) -> bool:
        """Organisation admins see and may do everything."""
        return self.org_role == "ADMIN"
