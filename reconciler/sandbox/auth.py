"""Who is calling: v2 message signatures, the v1 ``Authorization`` header, bearer tokens.

Verification is pure (``reconciler.wire.signing``) and happens before anything else; mapping
the key id or token to an organisation member needs the store and happens inside the
request's transaction (``resolve``). Every failure is a 401 whose message says what was wrong,
never what the key is.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.sandbox.errors import ApiError
from reconciler.sandbox.store.common import Caller
from reconciler.sandbox.store.org import caller_for_key, caller_for_token
from reconciler.wire.errors import SignatureError
from reconciler.wire.signing import check_content_digest, verify_v1, verify_v2_headers

BEARER = "bearer "


@dataclass(frozen=True, slots=True)
class Credential:
    """A verified claim: a registered key id (``key``) or a bearer token (``token``)."""

    kind: str
    value: str


def request_target(scope: Mapping[str, Any]) -> str:
    """``@request-target`` as the client signed it: the raw path plus ``?query`` as sent.

    Never rebuilt from the decoded path: ``a%2Bb%40x`` must stay encoded. Some ASGI servers
    leave the query in ``raw_path``; it is split off so it is not counted twice.
    """
    raw = scope.get("raw_path") or scope["path"].encode()
    raw_path = raw.decode("latin-1").split("?", 1)[0]
    query = scope.get("query_string", b"").decode("latin-1")
    return f"{raw_path}?{query}" if query else raw_path


def v2_credential(
    method: str,
    target: str,
    headers: Mapping[str, str],
    *,
    max_skew_seconds: int,
) -> Credential:
    """The caller's credential from the headers alone, before the body is read."""
    token = _bearer(headers)
    if token is not None:
        return Credential("token", token)
    try:
        verified = verify_v2_headers(
            method, target, dict(headers), now=time.time(), max_skew_seconds=max_skew_seconds
        )
    except SignatureError as exc:
        raise ApiError(401, f"authentication failed: {exc}") from None
    return Credential("key", verified.keyid)


def check_v2_body(credential: Credential, headers: Mapping[str, str], body: bytes) -> None:
    """A signed request's body is the one its signed digest names (tokens sign nothing)."""
    if credential.kind != "key":
        return
    try:
        check_content_digest(dict(headers), body)
    except SignatureError as exc:
        raise ApiError(401, f"authentication failed: {exc}") from None


def require_v1_authorization(headers: Mapping[str, str]) -> None:
    """Refuse a v1 call with no credential at all before its body is read."""
    if _bearer(headers) is None and not headers.get("authorization"):
        raise ApiError(401, "authentication failed: missing Authorization header")


def v1_credential(body: bytes, headers: Mapping[str, str]) -> Credential:
    token = _bearer(headers)
    if token is not None:
        return Credential("token", token)
    authorization = headers.get("authorization")
    if not authorization:
        raise ApiError(401, "authentication failed: missing Authorization header")
    try:
        return Credential("key", verify_v1(authorization, body))
    except SignatureError as exc:
        raise ApiError(401, f"authentication failed: {exc}") from None


def _bearer(headers: Mapping[str, str]) -> str | None:
    authorization = headers.get("authorization", "")
    if authorization[: len(BEARER)].lower() != BEARER:
        return None
    token = authorization[len(BEARER) :].strip()
    if not token:
        raise ApiError(401, "authentication failed: empty bearer token")
    return token


def resolve(conn: sqlite3.Connection, credential: Credential) -> Caller:
    """The organisation member behind a credential; 401 when there is none."""
    if credential.kind == "token":
        return caller_for_token(conn, credential.value)
    return caller_for_key(conn, credential.value)
