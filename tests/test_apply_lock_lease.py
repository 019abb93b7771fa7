"""``Lease``: when a lease read from a lock folder is no obstacle."""

from __future__ import annotations

from datetime import UTC, datetime

from reconciler.apply.lock import Lease


def test_a_lease_past_its_expiry_or_with_an_unreadable_expiry_is_expired() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)

    def lease(expires: str) -> Lease:
        return Lease(run="r", holder="someone", since="", expires=expires)

    assert not lease("2026-01-01T00:02:00+00:00").expired(now)
    assert lease("2025-12-31T23:58:00+00:00").expired(now)
    assert lease("soon").expired(now)
    assert lease("2999-01-01").expired(now)  # no time zone (edited by hand): was a traceback
