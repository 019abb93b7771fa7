"""The sandbox as a trustworthy stand-in: who is calling is checked before a body is read,
bodies are bounded, and the loopback control routes refuse foreign hosts and origins.

Requests are written by hand on a real socket, so a test can declare a body it never sends:
a server that waited for it before checking the credential would time out the test.
"""

from __future__ import annotations

import socket
from pathlib import Path
from urllib.parse import urlsplit

from helpers import SandboxServer, running_sandbox

from reconciler.wire.signing import load_private_key, sign_v2

FOLDERS = "/v2/public/storage/folders"


def exchange(server: SandboxServer, head: str, body: bytes = b"") -> tuple[int, bytes]:
    """Send ``head`` (request line and headers) and ``body``; the status and the answer."""
    url = urlsplit(server.url)
    with socket.create_connection((url.hostname, url.port), timeout=20) as conn:
        conn.sendall(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = conn.recv(65536)
            if not chunk:
                break
            answer += chunk
    status_line, _, rest = answer.partition(b"\r\n")
    return int(status_line.split()[1]), rest


def host(server: SandboxServer) -> str:
    return urlsplit(server.url).netloc


def test_an_unsigned_request_is_refused_before_its_body_is_read(tmp_path: Path) -> None:
    with running_sandbox(tmp_path) as server:
        head = (
            f"POST {FOLDERS} HTTP/1.1\nHost: {host(server)}\n"
            "Content-Type: application/json\nContent-Length: 100000000\n"
        )
        status, _ = exchange(server, head)  # the 100 MB body is never sent
        assert status == 401


def test_a_signed_request_with_a_huge_body_is_refused_before_it_is_read(tmp_path: Path) -> None:
    with running_sandbox(tmp_path) as server:
        key = load_private_key(server.key_text)
        signed = sign_v2(key, "POST", FOLDERS, b"{}")
        headers = "".join(f"{name}: {value}\n" for name, value in signed.items())
        head = (
            f"POST {FOLDERS} HTTP/1.1\nHost: {host(server)}\n{headers}"
            "Content-Type: application/json\nContent-Length: 100000000\n"
        )
        status, _ = exchange(server, head)
        assert status == 413


def test_a_signed_body_that_is_not_the_one_signed_is_refused(tmp_path: Path) -> None:
    with running_sandbox(tmp_path) as server:
        key = load_private_key(server.key_text)
        signed = sign_v2(key, "POST", FOLDERS, b'{"name": "a"}')
        body = b'{"name": "b"}'
        headers = "".join(f"{name}: {value}\n" for name, value in signed.items())
        head = (
            f"POST {FOLDERS} HTTP/1.1\nHost: {host(server)}\n{headers}"
            f"Content-Type: application/json\nContent-Length: {len(body)}\n"
        )
        status, _ = exchange(server, head, body)
        assert status == 401


def test_control_routes_refuse_foreign_hosts_and_cross_origin_requests(tmp_path: Path) -> None:
    with running_sandbox(tmp_path) as server:
        here = host(server)
        ok, _ = exchange(server, f"GET /_sandbox/stats HTTP/1.1\nHost: {here}\n")
        assert ok == 200
        rebound, _ = exchange(server, "GET /_sandbox/stats HTTP/1.1\nHost: evil.example:80\n")
        assert rebound == 403
        post = (
            f"POST /_sandbox/faults HTTP/1.1\nHost: {here}\nOrigin: http://evil.example\n"
            "Content-Type: application/json\nContent-Length: 2\n"
        )
        cross, _ = exchange(server, post, b"{}")
        assert cross == 403
        same = post.replace("http://evil.example", f"http://{here}")
        assert exchange(server, same, b"{}")[0] == 200
        assert server.control("GET", "/_sandbox/faults")  # our own client still works
