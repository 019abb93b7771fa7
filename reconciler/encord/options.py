"""How a client is built: one keyword-only frozen options object, no hidden globals."""

from __future__ import annotations

import platform
from dataclasses import dataclass, field

import httpx

from reconciler import __version__
from reconciler.encord.auth import Auth

DEFAULT_DOMAIN = "https://api.encord.com"
PAGE_SIZE = 1000  # the API's maximum page size: listing N objects costs ceil(N / 1000) requests
BUNDLE_SIZE = 1000  # the SDK's STORAGE_BUNDLE_CREATE_LIMIT, used for every bulk body we send
# A page of 1000 items is about 1 MB of JSON; 32 KB an item leaves room for rich metadata. A
# larger answer (once decompressed: a gzip bomb) is refused before it is held in memory.
MAX_RESPONSE_BYTES = 32 * 2**20
DEFAULT_RETRY_SECONDS = 180.0  # rides out a minute-long outage with room to spare


def default_user_agent() -> str:
    return f"reconciler/{__version__} python/{platform.python_version()} httpx/{httpx.__version__}"


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryOptions:
    """Retries of 429, 5xx and transport failures: exponential backoff with full jitter.

    A failed attempt is retried after ``uniform(0, min(cap, base * 2**(n-1)))`` seconds, or
    after ``Retry-After`` when the server sends one (whichever is longer). Retrying stops when
    the next attempt could not start within ``max_total_seconds`` of the first (and after
    ``max_attempts`` attempts, when set). The budget is time, not a count: a server restarting
    for a minute must not fail a run that a counted six attempts would give up on in seconds.
    Until the server has answered once, a connection that cannot be made is retried only for
    ``first_contact_seconds``: a host never reached is more likely wrong than restarting.
    """

    max_attempts: int | None = None
    max_total_seconds: float = DEFAULT_RETRY_SECONDS
    first_contact_seconds: float = 10.0
    base_backoff_seconds: float = 0.5
    cap_backoff_seconds: float = 15.0

    def __post_init__(self) -> None:
        if self.max_attempts is not None and self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.max_total_seconds < 0 or self.base_backoff_seconds < 0:
            raise ValueError("retry times must not be negative")


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientOptions:
    """Everything an ``EncordClient`` needs.

    ``transport`` replaces the network: ``httpx.ASGITransport(app=...)`` for the embedded
    sandbox, ``httpx.MockTransport`` in tests. ``concurrency`` bounds requests in flight for
    the whole client (one semaphore), whatever the number of tasks using it.
    """

    domain: str = DEFAULT_DOMAIN
    auth: Auth = field(repr=False)
    transport: httpx.AsyncBaseTransport | None = field(default=None, repr=False)
    concurrency: int = 16
    timeout_seconds: float = 180.0  # the SDK's connect and read timeouts
    retry: RetryOptions = RetryOptions()
    user_agent: str = field(default_factory=default_user_agent)
    label: str = ""  # how plans and logs name the target; the domain when empty
    max_response_bytes: int = MAX_RESPONSE_BYTES

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if not self.domain.startswith(("http://", "https://")):
            raise ValueError(f"domain must start with http:// or https://, got {self.domain!r}")
