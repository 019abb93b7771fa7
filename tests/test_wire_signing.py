"""The signing recipe against the spec's test vectors and every captured SDK request."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from helpers import CAPTURES

from reconciler.wire import signing
from reconciler.wire.errors import SignatureError, UnusableKeyError

VECTOR_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
VECTOR_KEYID = "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8"


def test_key_id_is_raw_public_key_hex() -> None:
    assert signing.key_id(VECTOR_KEY) == VECTOR_KEYID


def test_v2_get_vector() -> None:
    headers = signing.sign_v2(
        VECTOR_KEY,
        "GET",
        "/v2/public/storage/folders?order=name&desc=False&pageSize=100",
        b"",
        created=1700000000,
    )
    assert headers["Content-Digest"] == signing.EMPTY_BODY_DIGEST
    assert headers["Signature"] == (
        "encord-sig=:VzamwJJckhbskNagpuv0YpmGW4OiEogMQv3f+4t+3ABS0Ec8HfXNJGnz2vBUomrRB5X2fYzmQJcrrw4VmpxbBA==:"
    )


def test_v2_post_vector() -> None:
    headers = signing.sign_v2(
        VECTOR_KEY, "POST", "/v2/public/storage/folders", b'{"name": "n"}', created=1700000000
    )
    assert headers["Content-Digest"] == "sha-256=:w0QDaHkE+IHOyXXBtCj89mXgOvOM16Z6RzbySbWW+yg=:"
    assert headers["Signature"] == (
        "encord-sig=:vseFPMbMJYMGrlpHta0Xg4b2yY7MH/6hEd3Fn/pVMXX35UJE67QFbyCcW4H9uGgVaI1VBg/7H6ud/uJGxfr5Bw==:"
    )
    assert headers["Signature-Input"] == (
        'encord-sig=("@method" "@request-target" "content-digest");created=1700000000;'
        f'keyid="{VECTOR_KEYID}";alg="ed25519"'
    )


def test_v1_vector() -> None:
    body = b'{"query_type": "dataset", "query_method": "GET", "values": {"uid": null, "payload": null}}'
    header = signing.v1_authorization(VECTOR_KEY, body)
    assert header == (
        f"{VECTOR_KEYID}:ef4ad9b3d0b3418b7d9dab0a37518bb0bb20ff8b47692c129c61f93869e058bb"
        "e1b9b2b8cdb386fef4a21b32f29ba4090f3f9264f83d7b224d6f57c16dc1c406"
    )
    assert signing.verify_v1(header, body) == VECTOR_KEYID


def _captures() -> list[dict[str, Any]]:
    return [json.loads(line) for line in CAPTURES.read_text().splitlines() if line.strip()]


def test_every_captured_v2_signature_verifies() -> None:
    checked = 0
    for capture in _captures():
        headers = {k.lower(): v for k, v in capture["headers"].items()}
        if capture["api"] != "v2" or "signature" not in headers:
            continue
        body = (capture["body_raw"] or "").encode()
        created = int(headers["signature-input"].split("created=")[1].split(";")[0])
        verified = signing.verify_v2(
            str(capture["method"]), str(capture["path"]), body, headers, now=created
        )
        assert verified.keyid == "30c70ab502573dd438db89731e55e6e48f7e745705f1c601e236106b52231e3d"
        checked += 1
    assert checked >= 190


def test_every_captured_v1_signature_verifies() -> None:
    checked = 0
    for capture in _captures():
        auth = capture["headers"].get("Authorization", "")
        if capture["api"] != "v1" or auth.startswith("Bearer"):
            continue
        signing.verify_v1(auth, str(capture["body_raw"]).encode())
        checked += 1
    assert checked >= 30


def _signed(method: str, target: str, body: bytes) -> dict[str, str]:
    return {k.lower(): v for k, v in signing.sign_v2(VECTOR_KEY, method, target, body).items()}


def test_verify_rejects_wrong_digest() -> None:
    headers = _signed("POST", "/v2/public/storage/folders", b'{"name": "a"}')
    with pytest.raises(SignatureError, match="Content-Digest"):
        signing.verify_v2("POST", "/v2/public/storage/folders", b'{"name": "b"}', headers)


def test_verify_rejects_stale_and_future() -> None:
    headers = _signed("GET", "/v2/public/storage/folders", b"")
    created = int(headers["signature-input"].split("created=")[1].split(";")[0])
    with pytest.raises(SignatureError, match="window"):
        signing.verify_v2("GET", "/v2/public/storage/folders", b"", headers, now=created + 3600)
    with pytest.raises(SignatureError, match="window"):
        signing.verify_v2("GET", "/v2/public/storage/folders", b"", headers, now=created - 3600)


def test_verify_rejects_other_target_and_forgery() -> None:
    headers = _signed("GET", "/v2/public/storage/folders", b"")
    with pytest.raises(SignatureError, match="verify"):
        signing.verify_v2("GET", "/v2/public/storage/folders?x=1", b"", headers)
    other = Ed25519PrivateKey.generate()
    forged = {k.lower(): v for k, v in signing.sign_v2(other, "GET", "/v2/x", b"").items()}
    forged["signature-input"] = headers["signature-input"]
    with pytest.raises(SignatureError):
        signing.verify_v2("GET", "/v2/x", b"", forged)


def test_verify_rejects_missing_headers() -> None:
    with pytest.raises(SignatureError, match="missing"):
        signing.verify_v2("GET", "/v2/x", b"", {})


def test_openssh_round_trip_and_non_ed25519_rejected() -> None:
    text = signing.private_key_to_openssh(VECTOR_KEY)
    assert text.startswith("-----BEGIN OPENSSH PRIVATE KEY-----")
    assert signing.key_id(signing.load_private_key(text)) == VECTOR_KEYID
    with pytest.raises(UnusableKeyError):
        signing.load_private_key("not a key")
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    ecdsa = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    )
    with pytest.raises(UnusableKeyError, match="Ed25519"):
        signing.load_private_key(ecdsa)
