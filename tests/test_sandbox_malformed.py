"""Malformed input is the client's fault: every endpoint answers it with a 4xx, never a 5xx.

Each endpoint gets signed requests with broken path parameters, bodies of every JSON shape
(and bytes that are not JSON) and nonsense query values: a bounded sweep of a few thousand
requests, in process.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sandbox_data.harness import ADMIN, open_harness

from reconciler.sandbox.app import ENDPOINTS
from reconciler.wire.query import encode_query
from reconciler.wire.signing import sign_v2

PARAMS = ("not-a-uuid", "00000000-0000-0000-0000-000000000000")
BODIES = (
    b"x",
    b"\xff\xfe",
    b"[]",
    b"null",
    b"1",
    b'"s"',
    b"{}",
    b'{"name": 5, "parent": "zz"}',
    b'{"itemUuids": ["x"], "uuids": "x", "items": [1]}',
    b'{"metadataSchema": {"k": ["text"]}, "users": {}}',
)
QUERIES = ((), (("pageSize", "x"), ("isRecursive", "maybe")), (("pageToken", "zz"),))


@pytest.mark.slow
def test_no_malformed_request_gets_a_server_error(tmp_path: Path) -> None:
    failures: list[str] = []
    with open_harness(tmp_path) as sb:
        for endpoint in ENDPOINTS:
            for param in PARAMS:
                path = re.sub(r"{\w+}", param, endpoint.path)
                for body in BODIES if endpoint.method != "GET" else (b"",):
                    for query in QUERIES:
                        encoded = encode_query(query)
                        target = f"{path}?{encoded}" if encoded else path
                        headers = sign_v2(sb.keys[ADMIN], endpoint.method, target, body)
                        answer = sb.client.request(
                            endpoint.method, target, content=body, headers=headers
                        )
                        if answer.status_code >= 500:
                            failures.append(f"{endpoint.method} {target} {body!r}")
    assert failures == []
