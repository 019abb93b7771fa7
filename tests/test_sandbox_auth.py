"""Authentication: v2 signatures, v1 Authorization, bearer tokens. Rejected requests change
nothing."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sandbox_data.harness import ADMIN, Harness, open_harness

from reconciler.sandbox.options import SandboxOptions
from reconciler.sandbox.provision import add_user
from reconciler.wire.base import dumps
from reconciler.wire.signing import generate_private_key, sign_v2, v1_authorization

FOLDERS = "/v2/public/storage/folders"
BODY = dumps({"name": "intruder"})


@pytest.fixture
def sb(tmp_path: Path) -> Iterator[Harness]:
    with open_harness(tmp_path) as harness:
        yield harness


def send(sb: Harness, headers: dict[str, str], body: bytes = BODY, target: str = FOLDERS) -> int:
    response = sb.client.request("POST", target, content=body, headers=headers)
    if response.status_code == 401:
        assert response.json()["message"].startswith(("authentication failed", "key id", "bearer"))
    return response.status_code


def folder_names(sb: Harness) -> list[str]:
    return [f["name"] for f in sb.ok(sb.get("/storage/folders"))["results"]]


def test_a_correct_signature_is_accepted(sb: Harness) -> None:
    assert send(sb, sign_v2(sb.keys[ADMIN], "POST", FOLDERS, BODY)) == 200
    assert folder_names(sb) == ["intruder"]


def test_unsigned_forged_stale_and_tampered_requests_are_rejected(sb: Harness) -> None:
    key = sb.keys[ADMIN]
    now = int(time.time())
    good = sign_v2(key, "POST", FOLDERS, BODY)
    forged_sig = dict(good, Signature="encord-sig=:" + "A" * 86 + "==:")
    cases = {
        "unsigned": {},
        "unregistered key": sign_v2(generate_private_key(), "POST", FOLDERS, BODY),
        "forged signature": forged_sig,
        "stale": sign_v2(key, "POST", FOLDERS, BODY, created=now - 1000),
        "from the future": sign_v2(key, "POST", FOLDERS, BODY, created=now + 1000),
        "signed for another body": sign_v2(key, "POST", FOLDERS, b'{"name": "x"}'),
        "signed for another path": sign_v2(key, "POST", FOLDERS + "/move", BODY),
        "signed for another method": sign_v2(key, "PATCH", FOLDERS, BODY),
        "missing digest": {k: v for k, v in good.items() if k != "Content-Digest"},
        "garbled input": dict(good, **{"Signature-Input": "encord-sig=nonsense"}),
    }
    for name, headers in cases.items():
        assert send(sb, headers) == 401, name
    # The digest header alone can lie: recomputed from the body it no longer matches.
    tampered = dict(good)
    assert send(sb, tampered, body=dumps({"name": "other"})) == 401
    assert folder_names(sb) == []


def test_the_sdk_clock_offset_is_inside_the_window(sb: Harness) -> None:
    headers = sign_v2(sb.keys[ADMIN], "POST", FOLDERS, BODY, created=int(time.time()) - 30)
    assert send(sb, headers) == 200


def test_skew_window_is_configurable(tmp_path: Path) -> None:
    with open_harness(tmp_path, options=SandboxOptions(max_skew_seconds=5)) as sb:
        key = sb.keys[ADMIN]
        assert send(sb, sign_v2(key, "POST", FOLDERS, BODY, created=int(time.time()) - 30)) == 401
        assert send(sb, sign_v2(key, "POST", FOLDERS, BODY, created=int(time.time()))) == 200


def test_query_string_is_part_of_the_signed_target(sb: Harness) -> None:
    signed = sign_v2(sb.keys[ADMIN], "GET", FOLDERS + "?pageSize=1", b"")
    assert sb.client.request("GET", FOLDERS + "?pageSize=1", headers=signed).status_code == 200
    assert sb.client.request("GET", FOLDERS + "?pageSize=2", headers=signed).status_code == 401


def test_bearer_tokens(sb: Harness, tmp_path: Path) -> None:
    added = add_user(sb.db_path, email="bot@example.com", with_key=False, with_token=True)
    assert added.token
    ok = send(sb, {"Authorization": f"Bearer {added.token}", "Content-Type": "application/json"})
    assert ok == 200
    assert send(sb, {"Authorization": "Bearer not-a-token"}) == 401
    assert send(sb, {"Authorization": "Bearer "}) == 401
    minted = sb.ok(sb.get("/user/bearer-token"))["token"]
    everything = FOLDERS + "?includeOrgAccess=True"  # the admin owns none of them
    listing = sb.client.request("GET", everything, headers={"Authorization": f"Bearer {minted}"})
    assert listing.status_code == 200
    assert [f["owner"] for f in listing.json()["results"]] == ["bot@example.com"]


def test_removed_members_cannot_authenticate(sb: Harness) -> None:
    email = sb.as_member("leaver@example.com")
    assert sb.get("/storage/folders", who=email).status_code == 200
    sb.ok(sb.delete("/organisation/users/leaver%40example.com"))
    assert sb.get("/storage/folders", who=email).status_code == 401


def test_v1_authorization(sb: Harness) -> None:
    body = dumps(
        {"query_type": "dataset", "query_method": "GET", "values": {"uid": None, "payload": None}}
    )
    forged = v1_authorization(generate_private_key(), body)
    good = v1_authorization(sb.keys[ADMIN], body)
    flipped = good[:-1] + ("0" if good[-1] != "0" else "1")
    for header in ("", forged, flipped, "Bearer nope", "garbage"):
        response = sb.client.post(
            "/public", content=body, headers={"Authorization": header} if header else {}
        )
        assert response.status_code == 200
        assert response.json()["status"] == 401
        assert response.json()["response"] == ["AUTHENTICATION_ERROR"]
    tampered = body.replace(b"GET", b"PUT")
    envelope = sb.client.post("/public", content=tampered, headers={"Authorization": good}).json()
    assert envelope["response"] == ["AUTHENTICATION_ERROR"]
    valid = sb.client.post(
        "/public", content=body, headers={"Authorization": good, "ResourceID": ""}
    )
    assert valid.json()["response"] == ["INVALID_ARGUMENTS_ERROR"]  # authenticated, no dataset


def test_email_path_segment_is_verified_on_the_raw_target(sb: Harness) -> None:
    sb.ok(
        sb.post(
            "/organisation/users",
            {"email": "a+b/c@example.com", "roleMnemonicName": "MEMBER", "memberType": "external"},
        )
    )
    removed = sb.delete("/organisation/users/a%2Bb%2Fc%40example.com")
    assert removed.status_code == 204
    emails = [u["email"] for u in sb.ok(sb.get("/organisation/users"))["results"]]
    assert emails == [ADMIN]
    assert sb.delete("/organisation/users/a%2Bb%2Fc%40example.com").status_code == 404
