"""Exceptions of the sandbox.

    ReconcilerError (reconciler.errors)
     └── SandboxError              base of everything below; the message is one line for a user
          ├── StoreError           the database file cannot be used
          │    ├── DatabaseMissingError    no file at the path
          │    ├── DatabaseExistsError     ``init`` on a path that is already taken
          │    └── CorruptDatabaseError    not SQLite, not a sandbox, or a newer schema
          ├── ProvisionError       ``init``/``add-user``/``add-integration``/``seed`` refused
          └── ApiError             an HTTP answer other than success: status and message

``ApiError`` is raised by store functions and handlers alike; the request pipeline rolls the
transaction back and turns it into ``{"message": ...}`` (v2) or the v1 error envelope, so a
request that fails half way changes nothing.
"""

from __future__ import annotations

from reconciler.errors import ReconcilerError


class SandboxError(ReconcilerError):
    """Base of every sandbox error; ``str(error)`` is one line fit for a user."""


class StoreError(SandboxError):
    """The database file cannot be used."""


class DatabaseMissingError(StoreError):
    pass


class DatabaseExistsError(StoreError):
    pass


class CorruptDatabaseError(StoreError):
    pass


class ProvisionError(SandboxError):
    """A set-up command was refused (bad input, duplicate, missing object)."""


# v1 envelope codes for each HTTP status an ApiError can carry.
V1_CODES = {
    400: "INVALID_ARGUMENTS_ERROR",
    401: "AUTHENTICATION_ERROR",
    403: "AUTHORISATION_ERROR",
    404: "RESOURCE_NOT_FOUND_ERROR",
    405: "METHOD_NOT_ALLOWED_ERROR",
    409: "RESOURCE_EXISTS_ERROR",
}


class ApiError(SandboxError):
    """An error answer: ``status`` (400/401/403/404/405/409/...) and a message for the client."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    @property
    def v1_code(self) -> str:
        return V1_CODES.get(self.status, "UNKNOWN_ERROR")


def bad_request(message: str) -> ApiError:
    return ApiError(400, message)


def forbidden(message: str) -> ApiError:
    return ApiError(403, message)


def not_found(message: str) -> ApiError:
    return ApiError(404, message)


def conflict(message: str) -> ApiError:
    return ApiError(409, message)
