"""The Encord API client: the only package that speaks HTTP (and the only one importing httpx).

Public surface (pinned by ``tests/test_encord_client.py``): the client and its options,
credentials, the error tree, the DTOs the client returns, and the stats snapshot.
"""

from reconciler.encord.auth import (
    Auth,
    BearerAuth,
    KeyAuth,
    bearer_auth_from_file,
    key_auth_from_file,
    key_auth_from_text,
)
from reconciler.encord.client import EncordClient
from reconciler.encord.dto import Dataset, Folder, Item, ItemBrief
from reconciler.encord.errors import (
    AmbiguousOperationError,
    AnswerTooLargeError,
    AuthenticationError,
    ConflictError,
    EncordError,
    ForbiddenError,
    InvalidRequestError,
    NotFoundError,
    RateLimitedError,
    ResponseError,
    ServerError,
    TransportError,
    UnusableCredentialsError,
)
from reconciler.encord.options import (
    BUNDLE_SIZE,
    DEFAULT_DOMAIN,
    PAGE_SIZE,
    ClientOptions,
    RetryOptions,
)
from reconciler.encord.stats import StatsSnapshot

__all__ = [
    "BUNDLE_SIZE",
    "DEFAULT_DOMAIN",
    "PAGE_SIZE",
    "AmbiguousOperationError",
    "AnswerTooLargeError",
    "Auth",
    "AuthenticationError",
    "BearerAuth",
    "ClientOptions",
    "ConflictError",
    "Dataset",
    "EncordClient",
    "EncordError",
    "Folder",
    "ForbiddenError",
    "InvalidRequestError",
    "Item",
    "ItemBrief",
    "KeyAuth",
    "NotFoundError",
    "RateLimitedError",
    "ResponseError",
    "RetryOptions",
    "ServerError",
    "StatsSnapshot",
    "TransportError",
    "UnusableCredentialsError",
    "bearer_auth_from_file",
    "key_auth_from_file",
    "key_auth_from_text",
]
