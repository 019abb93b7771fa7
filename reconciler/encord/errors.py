"""Every error the Encord client raises, one tree:

    EncordError                    anything that went wrong talking to Encord
     ├── AuthenticationError       401 / v1 AUTHENTICATION_ERROR: key or token not accepted
     ├── ForbiddenError            403 / v1 AUTHORISATION_ERROR: not allowed on that object
     ├── NotFoundError             404 / v1 RESOURCE_NOT_FOUND_ERROR
     ├── InvalidRequestError       400, 405, 413 / v1 INVALID_ARGUMENTS_ERROR, OPERATION_NOT_ALLOWED
     ├── ConflictError             409 / v1 RESOURCE_EXISTS_ERROR
     ├── RateLimitedError          429 / v1 RATE_LIMIT_ERROR, still refused after every retry
     ├── ServerError               5xx, v1 UNKNOWN_ERROR and unknown codes
     ├── TransportError            no usable HTTP exchange (connect, timeout, dropped connection)
     ├── ResponseError             an answer the contract does not allow (bad JSON, wrong shape)
     │    └── AnswerTooLargeError  an answer larger than the client's cap (--max-answer-mib)
     ├── AmbiguousOperationError   a non-idempotent call failed after it was sent and its outcome
     │                             cannot be learned by reading (sync start)
     └── UnusableCredentialsError  no key/token found, or one that cannot sign

Messages are one line a user can act on, and never contain key material: the only part of a
key that ever appears is the first four hex digits of its public key id.
"""

from __future__ import annotations

from reconciler.errors import ReconcilerError


class EncordError(ReconcilerError):
    """Base of every client error. ``status`` is the HTTP (or v1 envelope) status, if any."""

    status: int | None = None

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        if status is not None:
            self.status = status

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""


class AuthenticationError(EncordError):
    status = 401


class ForbiddenError(EncordError):
    status = 403


class NotFoundError(EncordError):
    status = 404


class InvalidRequestError(EncordError):
    status = 400


class ConflictError(EncordError):
    status = 409


class RateLimitedError(EncordError):
    status = 429

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ServerError(EncordError):
    status = 500


class TransportError(EncordError):
    """The request may or may not have reached the server; ``sent`` says whether it could have."""

    def __init__(self, message: str, *, sent: bool) -> None:
        super().__init__(message)
        self.sent = sent


class ResponseError(EncordError):
    """The server answered, but not in a shape the Encord contract allows."""


class AnswerTooLargeError(ResponseError):
    """An answer larger than ``ClientOptions.max_response_bytes`` once decompressed; callers
    that can ask for less (the data rows of a dataset, by link time) catch it and do."""


class AmbiguousOperationError(EncordError):
    """A non-idempotent call failed after being sent, and no read can tell whether it happened."""


class UnusableCredentialsError(EncordError):
    """No key or token was found, or the one found cannot be used to sign requests."""
