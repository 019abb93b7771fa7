"""Encord request authentication, both directions: the client signs, the sandbox verifies.

Two schemes, byte-for-byte as in ``../shared/encord-api/README.md`` section 2:

* v2 (``/v2/public/...``): an early draft of HTTP Message Signatures. The signed base is four
  lines (method, request target with query, content digest, signature params), signed whole
  with Ed25519. ``created`` is the client clock minus 30 s; ``keyid`` is the raw public key hex.
* v1 (``POST /public``): ``Authorization: <keyid>:<hex(Ed25519(SHA-256(body)))>``. The key
  signs the 32-byte digest, not the body.

Both sides build the signature base with the same function, so a disagreement between our
client and our sandbox cannot hide a disagreement with the real protocol: the test vectors
from the spec pin ``signature_base`` and ``sign_v2`` down.
"""

from __future__ import annotations

import base64
import hashlib
import re
import time
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from reconciler.wire.errors import SignatureError, UnusableKeyError

SIGNATURE_LABEL = "encord-sig"
COVERED_COMPONENTS = '("@method" "@request-target" "content-digest")'
CREATED_OFFSET_SECONDS = 30
EMPTY_BODY_DIGEST = "sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:"

_PARAMS_RE = re.compile(
    r'^\("@method" "@request-target" "content-digest"\);created=(?P<created>-?\d+);'
    r'keyid="(?P<keyid>[0-9a-f]{64})";alg="ed25519"$'
)
_SIGNATURE_RE = re.compile(r"^encord-sig=:(?P<sig>[A-Za-z0-9+/=]+):$")
_V1_AUTH_RE = re.compile(r"^(?P<keyid>[0-9a-f]{64}):(?P<sig>[0-9a-f]{128})$")


def load_private_key(text: str | bytes, password: str | None = None) -> Ed25519PrivateKey:
    """Load an OpenSSH-format Ed25519 private key, as the official SDK accepts it."""
    data = text.encode() if isinstance(text, str) else text
    try:
        key = serialization.load_ssh_private_key(
            data, password=password.encode() if password else None
        )
    except (ValueError, TypeError) as exc:
        # The message of the underlying error never echoes key material, but keep ours fixed
        # anyway: key text must never reach a log line.
        raise UnusableKeyError(
            "not a readable OpenSSH private key (wrong format or passphrase)"
        ) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise UnusableKeyError("the key is not Ed25519; Encord accepts Ed25519 keys only")
    return key


def generate_private_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def private_key_to_openssh(key: Ed25519PrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    ).decode()


def public_key_to_openssh(key: Ed25519PublicKey, comment: str = "") -> str:
    line = key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return (line.decode() + (" " + comment if comment else "")).strip()


def key_id(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """Lowercase hex of the raw 32-byte public key: the ``keyid`` Encord expects."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


def public_key_from_id(keyid: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(bytes.fromhex(keyid))


def content_digest(body: bytes) -> str:
    return "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode() + ":"


def signature_params(created: int, keyid: str) -> str:
    return f'{COVERED_COMPONENTS};created={created};keyid="{keyid}";alg="ed25519"'


def signature_base(method: str, target: str, digest: str, params: str) -> str:
    """The exact text that is signed; four lines, no trailing newline."""
    return "\n".join(
        (
            f'"@method": {method.upper()}',
            f'"@request-target": {target}',
            f'"content-digest": {digest}',
            f'"@signature-params": {params}',
        )
    )


def sign_v2(
    key: Ed25519PrivateKey,
    method: str,
    target: str,
    body: bytes,
    *,
    created: int | None = None,
) -> dict[str, str]:
    """Headers that authenticate one v2 request. ``target`` is the path plus ``?query`` as sent."""
    if created is None:
        created = int(time.time()) - CREATED_OFFSET_SECONDS
    digest = content_digest(body)
    params = signature_params(created, key_id(key))
    signature = key.sign(signature_base(method, target, digest, params).encode("utf-8"))
    return {
        "Content-Digest": digest,
        "Signature-Input": f"{SIGNATURE_LABEL}={params}",
        "Signature": f"{SIGNATURE_LABEL}=:{base64.b64encode(signature).decode()}:",
    }


def v1_authorization(key: Ed25519PrivateKey, body: bytes) -> str:
    signature = key.sign(hashlib.sha256(body).digest())
    return f"{key_id(key)}:{signature.hex()}"


@dataclass(frozen=True, slots=True)
class VerifiedSignature:
    keyid: str
    created: int


def verify_v2(
    method: str,
    target: str,
    body: bytes,
    headers: dict[str, str],
    *,
    now: float | None = None,
    max_skew_seconds: int = 300,
) -> VerifiedSignature:
    """Check digest, freshness and signature of one v2 request; raise ``SignatureError``."""
    verified = verify_v2_headers(
        method, target, headers, now=now, max_skew_seconds=max_skew_seconds
    )
    check_content_digest(headers, body)
    return verified


def check_content_digest(headers: dict[str, str], body: bytes) -> None:
    """The body is the one the signed ``Content-Digest`` names; raise ``SignatureError``."""
    if headers.get("content-digest") != content_digest(body):
        raise SignatureError("Content-Digest does not match the request body")


def verify_v2_headers(
    method: str,
    target: str,
    headers: dict[str, str],
    *,
    now: float | None = None,
    max_skew_seconds: int = 300,
) -> VerifiedSignature:
    """Check freshness and signature of one v2 request, without its body.

    The signature covers the ``Content-Digest`` header, not the body, so a server can refuse
    an unsigned or forged request before reading a byte of its body (then it checks the body
    against the digest with ``check_content_digest``)."""
    signature_input = headers.get("signature-input")
    signature_header = headers.get("signature")
    digest = headers.get("content-digest")
    if not signature_input or not signature_header or not digest:
        raise SignatureError("missing Signature, Signature-Input or Content-Digest header")
    label, _, params = signature_input.partition("=")
    match = _PARAMS_RE.match(params)
    if label != SIGNATURE_LABEL or not match:
        raise SignatureError("malformed Signature-Input header")
    created = int(match["created"])
    clock = time.time() if now is None else now
    if abs(clock - created) > max_skew_seconds:
        raise SignatureError("signature 'created' timestamp is outside the accepted window")
    sig_match = _SIGNATURE_RE.match(signature_header)
    if not sig_match:
        raise SignatureError("malformed Signature header")
    keyid = match["keyid"]
    base = signature_base(method, target, digest, params)
    try:
        public_key_from_id(keyid).verify(base64.b64decode(sig_match["sig"]), base.encode("utf-8"))
    except (InvalidSignature, ValueError) as exc:
        raise SignatureError("signature does not verify") from exc
    return VerifiedSignature(keyid=keyid, created=created)


def verify_v1(authorization: str, body: bytes) -> str:
    """Check a v1 ``Authorization`` header; return the key id."""
    match = _V1_AUTH_RE.match(authorization)
    if not match:
        raise SignatureError("malformed Authorization header")
    try:
        public_key_from_id(match["keyid"]).verify(
            bytes.fromhex(match["sig"]), hashlib.sha256(body).digest()
        )
    except (InvalidSignature, ValueError) as exc:
        raise SignatureError("signature does not verify") from exc
    return match["keyid"]
