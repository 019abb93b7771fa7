"""A hostile or broken server cannot exhaust the client's memory: answers are read up to a
bound once decompressed, pages claiming far more results than the API serves are refused,
and each failure is one ``ResponseError`` line (no traceback, no retry storm).

The server is a real HTTP server on a loopback port that answers every request the same way.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import threading
import time
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from helpers import run_cli

from reconciler.encord import ClientOptions, EncordClient, KeyAuth
from reconciler.encord.errors import ResponseError

FOLDER = "adba34d6-829d-427b-bcab-1ddee5134713"


@contextlib.contextmanager
def answering(body: bytes, *, encoding: str | None = None) -> Iterator[str]:
    """A loopback server answering every request 200 with ``body``; yields its URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            if encoding:
                self.send_header("Content-Encoding", encoding)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(body)

        def do_POST(self) -> None:  # v1 calls: the same answer
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.do_GET()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@contextlib.contextmanager
def paging_forever() -> Iterator[tuple[str, list[int]]]:
    """A loopback server whose every page is empty and names a new next page; yields its URL
    and the count of pages it served."""
    served = [0]

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            served[0] += 1
            body = json.dumps({"results": [], "nextPageToken": f"t{served[0]}"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", served
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


async def get_folder(url: str) -> ResponseError:
    async def go() -> None:
        options = ClientOptions(domain=url, auth=KeyAuth(Ed25519PrivateKey.generate()))
        async with EncordClient(options) as client:
            await client.folders.get(FOLDER)

    with pytest.raises(ResponseError) as info:
        await go()
    return info.value


async def list_groups(url: str) -> ResponseError:
    async def go() -> None:
        options = ClientOptions(domain=url, auth=KeyAuth(Ed25519PrivateKey.generate()))
        async with EncordClient(options) as client:
            await client.groups.list_all()

    with pytest.raises(ResponseError) as info:
        await go()
    return info.value


def gzip_bomb(size: int) -> bytes:
    """``size`` bytes of JSON whitespace, gzipped to about a thousandth of that."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: a gzip container
    chunk = b" " * 2**20
    parts = [packer.compress(b"{")]
    parts += [packer.compress(chunk) for _ in range(size // len(chunk))]
    parts += [packer.compress(b"}"), packer.flush()]
    return b"".join(parts)


@pytest.mark.anyio
async def test_a_gzip_bomb_is_refused_before_it_is_held_in_memory() -> None:
    bomb = gzip_bomb(256 * 2**20)  # 256 MiB once decompressed
    assert len(bomb) < 2**20
    with answering(bomb, encoding="gzip") as url:
        error = await get_folder(url)
    assert "larger than 32 MiB once decompressed" in str(error)
    assert "\n" not in str(error)


@pytest.mark.anyio
async def test_a_body_that_does_not_decompress_is_one_line() -> None:
    with answering(b"this is not gzip", encoding="gzip") as url:
        error = await get_folder(url)
    assert "cannot be decoded" in str(error)


@pytest.mark.anyio
async def test_a_page_claiming_far_more_results_than_the_api_serves_is_refused() -> None:
    group = {
        "groupHash": FOLDER,
        "name": "g",
        "description": "",
        "createdAt": "2026-01-01T00:00:00",
    }
    page = {"results": [group] * 200_000, "nextPageToken": None}  # valid, but 200x a page
    with answering(gzip.compress(json.dumps(page).encode()), encoding="gzip") as url:
        error = await list_groups(url)
    assert "results" in str(error)
    assert "\n" not in str(error)


@pytest.mark.anyio
async def test_an_ordinary_gzipped_answer_still_reads() -> None:
    page: dict[str, object] = {"results": [], "nextPageToken": None}

    async def go() -> int:
        options = ClientOptions(domain=url, auth=KeyAuth(Ed25519PrivateKey.generate()))
        async with EncordClient(options) as client:
            return len(await client.groups.list_all())

    with answering(gzip.compress(json.dumps(page).encode()), encoding="gzip") as url:
        assert await go() == 0


@pytest.mark.anyio
async def test_a_page_nested_without_end_is_one_line() -> None:
    # "RecursionError" escaped the client before: only ValueError was caught.
    page = b'{"results": ' + b"[" * 100_000 + b"]" * 100_000 + b', "nextPageToken": null}'
    with answering(page) as url:
        error = await list_groups(url)
    assert "nested too deeply" in str(error)
    assert "\n" not in str(error)


HOSTILE_ANSWERS = {
    "gzip bomb": (gzip_bomb(256 * 2**20), "gzip"),
    "nested without end": (b"[" * 200_000 + b"]" * 200_000, None),
    "40 MB of JSON": (b'{"results": [], "pad": "' + b"x" * (40 * 2**20) + b'"}', None),
    "200,000 results": (
        gzip.compress(
            json.dumps(
                {"results": [{"groupHash": FOLDER, "name": "g"}] * 200_000, "nextPageToken": None}
            ).encode()
        ),
        "gzip",
    ),
}


@pytest.mark.parametrize("case", sorted(HOSTILE_ANSWERS))
def test_the_cli_meets_a_hostile_server_with_one_line_within_30_s(
    tmp_path: Path, case: str
) -> None:
    """Through the CLI, as a user meets such a server: exit 1, one error line, no traceback."""
    key = tmp_path / "key"
    key.write_bytes(
        Ed25519PrivateKey.generate().private_bytes(
            Encoding.PEM, PrivateFormat.OpenSSH, NoEncryption()
        )
    )
    body, encoding = HOSTILE_ANSWERS[case]
    with answering(body, encoding=encoding) as url:
        started = time.monotonic()
        result = run_cli("whoami", "--domain", url, "--ssh-key-file", str(key), timeout=60)
        seconds = time.monotonic() - started
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert [line for line in result.stderr.splitlines() if line.startswith("Error:")] == [
        result.stderr.strip()
    ], result.stderr
    assert seconds < 30, seconds


@pytest.mark.anyio
async def test_a_listing_that_never_ends_is_refused() -> None:
    # Looped for as long as the server kept answering before: every token was new.
    with paging_forever() as (url, served):
        error = await list_groups(url)
    assert "empty pages in a row" in str(error) and "\n" not in str(error)
    assert served[0] <= 102  # the bound, and at most one page asked for ahead
