"""Credentials: an Ed25519 SSH key (v2 message signatures, v1 ``Authorization``) or a bearer token.

An ``Auth`` only ever hands out per-request headers. Its ``repr`` and ``identity`` show at most
the first four hex digits of the public key id, so key material cannot leak through a log line,
an error message or a traceback of a dataclass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from reconciler.encord.errors import UnusableCredentialsError
from reconciler.wire import signing
from reconciler.wire.errors import UnusableKeyError


class Auth(Protocol):
    """What the client needs from credentials: headers for one request, and a safe name."""

    @property
    def identity(self) -> str:
        """How errors refer to the credentials, e.g. ``key id 03a1…``; never secret."""
        ...

    def v2_headers(self, method: str, target: str, body: bytes) -> dict[str, str]:
        """Headers authenticating a v2 request; ``target`` is the path and query as sent."""
        ...

    def v1_headers(self, body: bytes) -> dict[str, str]:
        """Headers authenticating a v1 ``POST /public`` request with this exact body."""
        ...


@dataclass(frozen=True, slots=True)
class KeyAuth:
    """An Ed25519 private key. ``created`` in signatures is the clock minus 30 s, as the SDK."""

    private_key: Ed25519PrivateKey = field(repr=False)
    key_id: str = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "key_id", signing.key_id(self.private_key))

    def __repr__(self) -> str:
        return f"KeyAuth({self.identity})"

    @property
    def identity(self) -> str:
        return f"key id {self.key_id[:4]}…"

    def v2_headers(self, method: str, target: str, body: bytes) -> dict[str, str]:
        return signing.sign_v2(self.private_key, method, target, body)

    def v1_headers(self, body: bytes) -> dict[str, str]:
        return {"Authorization": signing.v1_authorization(self.private_key, body)}


@dataclass(frozen=True, slots=True)
class BearerAuth:
    """A bearer token: ``Authorization: Bearer <token>`` on v2 and v1 alike, nothing signed."""

    token: str = field(repr=False)

    def __repr__(self) -> str:
        return "BearerAuth(<token>)"

    @property
    def identity(self) -> str:
        return "the bearer token"

    def v2_headers(self, method: str, target: str, body: bytes) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def v1_headers(self, body: bytes) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def key_auth_from_text(text: str, *, source: str, password: str | None = None) -> KeyAuth:
    """Parse OpenSSH Ed25519 key text. ``source`` names where it came from, for errors."""
    try:
        return KeyAuth(signing.load_private_key(text, password))
    except UnusableKeyError as exc:
        raise UnusableCredentialsError(f"SSH key from {source}: {exc}") from None


def key_auth_from_file(path: Path, *, password: str | None = None) -> KeyAuth:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise UnusableCredentialsError(f"cannot read SSH key file {path}: {reason}") from None
    except UnicodeDecodeError:
        raise UnusableCredentialsError(
            f"SSH key file {path} is not text: expected an OpenSSH Ed25519 private key"
        ) from None
    return key_auth_from_text(text, source=f"file {path}", password=password)


def bearer_auth_from_file(path: Path) -> BearerAuth:
    try:
        token = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        raise UnusableCredentialsError(f"cannot read bearer token file {path}") from None
    if not token or any(ch.isspace() for ch in token):
        raise UnusableCredentialsError(f"bearer token file {path} does not hold one token")
    return BearerAuth(token)
