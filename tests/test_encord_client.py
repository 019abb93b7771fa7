"""The client's public surface and lifecycle."""

from __future__ import annotations

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import reconciler.encord as encord
from reconciler.encord import ClientOptions, EncordClient, KeyAuth


def test_public_names_are_pinned() -> None:
    assert sorted(encord.__all__) == [
        "AmbiguousOperationError", "AnswerTooLargeError", "Auth", "AuthenticationError", "BUNDLE_SIZE", "BearerAuth",
        "ClientOptions", "ConflictError", "DEFAULT_DOMAIN", "Dataset", "EncordClient",
        "EncordError", "Folder", "ForbiddenError", "InvalidRequestError", "Item", "ItemBrief",
        "KeyAuth",
        "NotFoundError", "PAGE_SIZE", "RateLimitedError", "ResponseError", "RetryOptions",
        "ServerError", "StatsSnapshot", "TransportError", "UnusableCredentialsError",
        "bearer_auth_from_file", "key_auth_from_file", "key_auth_from_text",
    ]  # fmt: skip
    for name in encord.__all__:
        assert hasattr(encord, name)


@pytest.mark.anyio
async def test_close_runs_callbacks_and_target_prefers_the_label() -> None:
    closed: list[str] = []

    async def close_async() -> None:
        closed.append("async")

    async def go() -> str:
        options = ClientOptions(
            domain="http://sandbox.local",
            auth=KeyAuth(Ed25519PrivateKey.generate()),
            transport=httpx.MockTransport(lambda r: httpx.Response(204)),
            label="sandbox:/tmp/x.sqlite",
        )
        async with EncordClient(options) as client:
            client.close_with(lambda: closed.append("sync"))
            client.close_with(close_async)
            return client.target

    assert await go() == "sandbox:/tmp/x.sqlite"
    assert closed == ["async", "sync"]


@pytest.mark.parametrize(
    ("given", "text"),
    [
        ("0b9a8d4b-a73c-404e-b8da-186ec4f3f438", "0b9a8d4b-a73c-404e-b8da-186ec4f3f438"),
        ("0B9A8D4B-A73C-404E-B8DA-186EC4F3F438", "0b9a8d4b-a73c-404e-b8da-186ec4f3f438"),
        ("0b9a8d4ba73c404eb8da186ec4f3f438", "0b9a8d4b-a73c-404e-b8da-186ec4f3f438"),
    ],
)
def test_uuid_text_is_the_canonical_form_whatever_the_spelling(given: str, text: str) -> None:
    from uuid import UUID

    from reconciler.encord.calls import uuid_text

    assert uuid_text(given) == text == uuid_text(UUID(given))


def test_uuid_text_refuses_what_is_not_a_uuid() -> None:
    from reconciler.encord.calls import uuid_text

    with pytest.raises(ValueError):
        uuid_text("0b9a8d4b-a73c-404e-b8da-186ec4f3f43")  # one digit short
