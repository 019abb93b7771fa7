"""Settings of one sandbox server: fault injection at start, auth window, long-poll cap.

The fault fields are also the JSON body of ``POST /_sandbox/faults`` (``FAULT_FIELDS``), so a
test can change them while the server runs.
"""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True, kw_only=True)
class FaultSettings:
    """What the sandbox does to API requests on purpose.

    * ``latency_ms``: sleep before handling each request (async: requests overlap).
    * ``error_rate``: share of requests answered 500/502/503 before anything happens.
    * ``error_after_rate``: share of requests that are carried out and committed, then answered
      502 (the ambiguous failure a client must not blindly retry).
    * ``storm_requests``: the next N requests are answered 429 with ``Retry-After``.
    * ``storm_rate``: share of requests answered 429 with ``Retry-After``.
    * ``storm_retry_after``: the ``Retry-After`` seconds of those 429s.
    * ``seed``: seed of the random stream that picks faulted requests (None: unseeded).
    * ``writes_allowed``: when set, the next N write requests are handled, and every write
      after them is answered 503 before anything happens (until it is set again): a client
      that stopped after exactly N writes, at a boundary a test can enumerate.
    * ``refuse_body``: when set, every v2 write whose body contains this text is answered
      503 without being carried out (one kind of request failing for good, e.g. a rename).
    * ``forbid_reads``: when set, every v2 read whose request target (path and query) contains
      this text is answered 403 (a key that lost access to part of the organisation: the
      read of that part comes back incomplete).
    * ``hang_write``: when set to N, the next N writes are handled and the one after them
      hangs: it gets no answer until the setting is changed (or ``HANG_CAP_SECONDS``), and
      then answers 503 without being carried out, or, with ``hang_after``, is carried out
      and committed first and answered normally once released. What a client sees when a
      server or the network stops mid-request; a test kills the client while it waits, at
      a boundary it can enumerate (``GET /_sandbox/faults`` says ``hanging``).
    """

    latency_ms: float = 0.0
    error_rate: float = 0.0
    error_after_rate: float = 0.0
    storm_requests: int = 0
    storm_rate: float = 0.0
    storm_retry_after: int = 1
    seed: int | None = None
    writes_allowed: int | None = None
    refuse_body: str | None = None
    forbid_reads: str | None = None
    hang_write: int | None = None
    hang_after: bool = False

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first setting out of range."""
        for name in ("error_rate", "error_after_rate", "storm_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {value}")
        for name in (
            "latency_ms",
            "storm_requests",
            "storm_retry_after",
            "writes_allowed",
            "hang_write",
        ):
            if (getattr(self, name) or 0) < 0:
                raise ValueError(f"{name} must not be negative, got {getattr(self, name)}")


FAULT_FIELDS = tuple(f.name for f in fields(FaultSettings))


@dataclass(frozen=True, kw_only=True)
class SandboxOptions(FaultSettings):
    """Everything ``create_app`` needs besides the database path.

    ``max_skew_seconds`` bounds how far a v2 signature's ``created`` may be from the server
    clock; ``max_body_bytes`` bounds a request body (413 past it, refused before it is all read);
    ``long_poll_cap_seconds`` bounds one sync or data-upload long-poll; control routes
    answer only loopback peers unless ``allow_remote_control``. A data-upload job takes
    ``upload_unit_ms`` per unit (a real server fetches each object's headers), and
    ``upload_workers`` jobs run at once.
    """

    max_skew_seconds: int = 300
    max_body_bytes: int = 32 * 2**20  # a bundle of 1000 items with rich metadata fits easily
    long_poll_cap_seconds: float = 55.0
    allow_remote_control: bool = False
    upload_unit_ms: float = 0.5
    upload_workers: int = 4

    def faults(self) -> FaultSettings:
        return FaultSettings(**{name: getattr(self, name) for name in FAULT_FIELDS})


DEFAULT_OPTIONS = SandboxOptions()
