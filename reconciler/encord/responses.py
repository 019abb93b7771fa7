"""Turning HTTP answers into JSON values or typed errors, for v2 and the v1 envelope.

v2: only 200 (with a JSON body) and 204 are success; the message of an error is the body's
``message`` or ``detail``. v1: the HTTP status is not the verdict, the envelope's ``status``
is; error codes arrive as a one-element list.
"""

from __future__ import annotations

import json
import time
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from reconciler.encord.calls import Call, V1Call
from reconciler.encord.errors import (
    AuthenticationError,
    ConflictError,
    EncordError,
    ForbiddenError,
    InvalidRequestError,
    NotFoundError,
    RateLimitedError,
    ResponseError,
    ServerError,
)

_V1_CODES: dict[str, type[EncordError]] = {
    "AUTHENTICATION_ERROR": AuthenticationError,
    "SSH_KEY_NOT_FOUND_ERROR": AuthenticationError,
    "AUTHORISATION_ERROR": ForbiddenError,
    "RESOURCE_NOT_FOUND_ERROR": NotFoundError,
    "INVALID_ARGUMENTS_ERROR": InvalidRequestError,
    "OPERATION_NOT_ALLOWED": InvalidRequestError,
    "METHOD_NOT_ALLOWED_ERROR": InvalidRequestError,
    "RESOURCE_EXISTS_ERROR": ConflictError,
    "DUPLICATE_SSH_KEY_ERROR": ConflictError,
    "RATE_LIMIT_ERROR": RateLimitedError,
    "UNKNOWN_ERROR": ServerError,
}
_MAX_MESSAGE = 300


class RawJSON:
    """A 200 body not parsed yet: typed parsers validate the bytes directly (pydantic's JSON
    parser is faster than ``json.loads`` and then validating the objects); others call
    ``value()``."""

    __slots__ = ("content", "route")

    def __init__(self, content: bytes, route: str) -> None:
        self.content = content
        self.route = route

    def value(self) -> Any:
        try:
            return json.loads(self.content)
        except ValueError:
            raise ResponseError(f"{self.route}: the answer is not JSON") from None
        except RecursionError:  # a broken or hostile server: "[[[[…" without end
            raise ResponseError(f"{self.route}: the answer is JSON nested too deeply") from None


def json_value(answer: Any) -> Any:
    """The JSON value of an answer, parsing it if it is still raw."""
    return answer.value() if isinstance(answer, RawJSON) else answer


def decode_v2(call: Call, response: httpx.Response, identity: str) -> Any:
    status = response.status_code
    if status == 204:
        return None
    if status == 200:
        if not response.content:
            raise ResponseError(f"{call.route}: empty body in a 200 answer")
        return RawJSON(response.content, call.route)
    raise v2_error(call, response, identity)


def decode_v1(call: V1Call, response: httpx.Response, identity: str) -> Any:
    if response.status_code == 429:
        raise _rate_limited(response)
    try:
        envelope = json.loads(response.content)
    except (ValueError, RecursionError):
        envelope = None
    if not isinstance(envelope, dict) or not isinstance(envelope.get("status"), int):
        if response.status_code == 200:
            raise ResponseError(f"{call.route}: the answer is not a v1 envelope with a status")
        raise v2_error(call, response, identity)
    if envelope["status"] == 200:
        return envelope.get("response")
    raise v1_error(call, envelope, identity)


def v2_error(call: Call, response: httpx.Response, identity: str) -> EncordError:
    status = response.status_code
    said = _server_message(response)
    if status == 401:
        return _authentication(identity)
    if status == 403:
        return ForbiddenError(_forbidden(call, said))
    if status == 404:
        return NotFoundError(f"not found: {call.subject or call.route}")
    if status == 409:
        return ConflictError(
            f"conflict on {call.subject or call.route}: {said or 'already exists'}"
        )
    if status == 429:
        return _rate_limited(response)
    if status in (400, 405, 413, 422):
        what = "request too large" if status == 413 else "invalid request"
        return InvalidRequestError(
            f"{what} for {call.subject or call.route}: {said or f'HTTP {status}'}", status=status
        )
    if status >= 500:
        return ServerError(
            f"Encord server error {status} on {call.route}" + (f": {said}" if said else ""),
            status=status,
        )
    return ResponseError(f"unexpected HTTP {status} from {call.route}", status=status)


def v1_error(call: V1Call, envelope: dict[str, Any], identity: str) -> EncordError:
    codes = envelope.get("response")
    code = codes[0] if isinstance(codes, list) and len(codes) == 1 else None
    payload = envelope.get("payload")
    said = _one_line(payload) if isinstance(payload, str) else ""
    kind = _V1_CODES.get(code) if isinstance(code, str) else None
    if kind is AuthenticationError:
        return _authentication(identity)
    if kind is ForbiddenError:
        return ForbiddenError(_forbidden(call, said))
    if kind is NotFoundError:
        return NotFoundError(f"not found: {call.subject or call.route}")
    if kind is RateLimitedError:
        return RateLimitedError("rate limited by Encord" + (f": {said}" if said else ""))
    if kind is ServerError:
        return ServerError(f"Encord server error on {call.route}" + (f": {said}" if said else ""))
    if kind is ConflictError:
        return ConflictError(f"conflict on {call.subject or call.route}: {said or code}")
    detail = said or (code if isinstance(code, str) else f"status {envelope.get('status')}")
    return InvalidRequestError(f"Encord refused {call.route} on {call.subject}: {detail}")


def retry_after_seconds(response: httpx.Response) -> float | None:
    """``Retry-After`` as seconds from now: delta-seconds or an HTTP date; None if absent."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _rate_limited(response: httpx.Response) -> RateLimitedError:
    after = retry_after_seconds(response)
    hint = f" (Retry-After: {after:g} s)" if after is not None else ""
    return RateLimitedError(f"rate limited by Encord{hint}", retry_after=after)


def _authentication(identity: str) -> AuthenticationError:
    what = "key registered with" if identity.startswith("key id") else "token valid for"
    return AuthenticationError(
        f"authentication failed for {identity}: is the {what} this organisation?"
    )


def _forbidden(call: Call, said: str) -> str:
    subject = call.subject or call.route
    text = f"forbidden: you need {call.needs} {subject}"
    return text + (f" (Encord said: {said})" if said else "")


def _server_message(response: httpx.Response) -> str:
    try:
        body = json.loads(response.content)
    except (ValueError, RecursionError):
        return ""
    if isinstance(body, dict):
        for key in ("message", "detail"):
            if isinstance(body.get(key), str):
                return _one_line(body[key])
    return ""


def _one_line(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _MAX_MESSAGE else flat[: _MAX_MESSAGE - 1] + "…"
