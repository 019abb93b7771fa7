"""``reconciler sandbox ...`` commands: outcomes, one-line errors, and the served server
(loopback socket, fault flags and env, persistence across a restart)."""

from __future__ import annotations

import json
import os
import re
import select
import signal
import socket
import stat
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from helpers import run_cli, running_sandbox

from reconciler.sandbox.store.db import Database
from reconciler.wire.base import dumps
from reconciler.wire.signing import load_private_key, sign_v2


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode in (1, 2), result
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines, result
    return lines[-1]


def call(url: str, key_text: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    """A signed v2 request over the socket (urllib: a client that is not ours)."""
    raw = b"" if body is None else dumps(body)
    headers = sign_v2(load_private_key(key_text), method, path, raw)
    if raw:
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(
        url + path, data=raw if method != "GET" else None, method=method, headers=headers
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            data = response.read()
            return response.status, json.loads(data) if data else None
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, json.loads(exc.read())


def test_init_writes_a_private_key_the_sdk_accepts(tmp_path: Path) -> None:
    db = tmp_path / "s.sqlite"
    result = run_cli("sandbox", "init", "--db", str(db))
    assert result.returncode == 0, result.stderr
    key_path = tmp_path / "s.sqlite.admin-key"
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    assert key_path.read_text() not in result.stdout + result.stderr  # keys are never printed
    from encord.user_client import EncordUserClient

    EncordUserClient.create_with_ssh_private_key(key_path.read_text(), domain="http://127.0.0.1:9")
    again = run_cli("sandbox", "init", "--db", str(db))
    assert "already exists" in one_error_line(again)


@pytest.mark.slow
def test_add_user_integration_and_seed(tmp_path: Path) -> None:
    db = tmp_path / "s.sqlite"
    assert (
        run_cli("sandbox", "init", "--db", str(db), "--key-out", str(tmp_path / "a.key")).returncode
        == 0
    )
    user = run_cli(
        "sandbox",
        "add-user",
        "--db",
        str(db),
        "--email",
        "m@example.com",
        "--key-out",
        str(tmp_path / "m.key"),
        "--token-out",
        str(tmp_path / "m.token"),
    )
    assert user.returncode == 0, user.stderr
    assert (tmp_path / "m.token").read_text().strip()
    assert stat.S_IMODE((tmp_path / "m.key").stat().st_mode) == 0o600
    promote = run_cli(
        "sandbox",
        "add-user",
        "--db",
        str(db),
        "--email",
        "m@example.com",
        "--org-role",
        "admin",
        "--key-out",
        str(tmp_path / "m2.key"),
    )
    assert promote.returncode == 0 and promote.stdout.startswith("updated")
    (tmp_path / "bucket").mkdir()
    integration = run_cli(
        "sandbox",
        "add-integration",
        "--db",
        str(db),
        "--title",
        "s3-prod",
        "--provider",
        "s3",
        "--root",
        str(tmp_path / "bucket"),
    )
    assert integration.returncode == 0, integration.stderr
    seeded = run_cli(
        "sandbox",
        "seed",
        "--db",
        str(db),
        "--under",
        "/bench/deep",
        "--folders",
        "3",
        "--items",
        "10",
    )
    assert seeded.returncode == 0, seeded.stderr
    db_handle = Database.open(db)
    try:
        with db_handle.read() as conn:
            users = {
                r["email"]: r["org_role"] for r in conn.execute("SELECT email, org_role FROM users")
            }
            keys = conn.execute("SELECT count(*) FROM user_keys").fetchone()[0]
            folders = conn.execute("SELECT count(*) FROM folders").fetchone()[0]
            items = conn.execute("SELECT count(*) FROM items").fetchone()[0]
            titles = [r["title"] for r in conn.execute("SELECT title FROM integrations")]
    finally:
        db_handle.close()
    assert users == {"admin@sandbox.local": "ADMIN", "m@example.com": "ADMIN"}
    assert (keys, folders, items, titles) == (3, 5, 10, ["s3-prod"])


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("sandbox", "serve", "--db", "{tmp}/missing.sqlite", "--port", "0"), "not found"),
        (
            ("sandbox", "serve", "--db", "{tmp}/corrupt.sqlite", "--port", "0"),
            "not a usable sandbox database",
        ),
        (
            ("sandbox", "serve", "--db", "{tmp}/other.sqlite", "--port", "0"),
            "not a reconciler sandbox database",
        ),
        (("sandbox", "seed", "--db", "{tmp}/missing.sqlite", "--under", "/x"), "not found"),
        (
            (
                "sandbox",
                "add-user",
                "--db",
                "{tmp}/missing.sqlite",
                "--email",
                "a@b.c",
                "--key-out",
                "{tmp}/k",
            ),
            "not found",
        ),
        (("sandbox", "add-user", "--db", "{tmp}/missing.sqlite", "--email", "a@b.c"), "--key-out"),
        (
            (
                "sandbox",
                "add-integration",
                "--db",
                "{tmp}/corrupt.sqlite",
                "--title",
                "t",
                "--provider",
                "s3",
                "--root",
                "{tmp}",
            ),
            "not a usable",
        ),
        (
            (
                "sandbox",
                "add-integration",
                "--db",
                "{tmp}/x",
                "--title",
                "t",
                "--provider",
                "ftp",
                "--root",
                "{tmp}",
            ),
            "ftp",
        ),
        (("sandbox", "serve", "--db", "{tmp}/x", "--error-rate", "2"), "2"),
        (("sandbox", "serve", "--db", "{tmp}/x", "--port", "99999"), "99999"),
        (("sandbox", "init", "--db", "{tmp}/nodir/x.sqlite"), "does not exist"),
    ],
)
def test_errors_are_one_line(tmp_path: Path, args: tuple[str, ...], expected: str) -> None:
    (tmp_path / "corrupt.sqlite").write_bytes(b"this is not sqlite at all" * 100)
    import sqlite3

    with sqlite3.connect(tmp_path / "other.sqlite") as conn:
        conn.execute("CREATE TABLE t (x)")
    conn.close()
    result = run_cli(*[a.format(tmp=tmp_path) for a in args])
    assert expected in one_error_line(result)


def test_seed_and_add_user_refuse_bad_input(tmp_path: Path) -> None:
    db = tmp_path / "s.sqlite"
    run_cli("sandbox", "init", "--db", str(db))
    assert "absolute folder path" in one_error_line(
        run_cli("sandbox", "seed", "--db", str(db), "--under", "relative")
    )
    (tmp_path / "taken.key").write_text("x")
    taken = run_cli(
        "sandbox",
        "add-user",
        "--db",
        str(db),
        "--email",
        "a@example.com",
        "--key-out",
        str(tmp_path / "taken.key"),
    )
    assert "already exists" in one_error_line(taken)
    assert (tmp_path / "taken.key").read_text() == "x"
    bad_email = run_cli(
        "sandbox",
        "add-user",
        "--db",
        str(db),
        "--email",
        "not-an-email",
        "--key-out",
        str(tmp_path / "n.key"),
    )
    assert "email" in one_error_line(bad_email)
    assert not (tmp_path / "n.key").exists()


def test_serve_binds_loopback_and_answers_the_api(tmp_path: Path) -> None:
    with running_sandbox(tmp_path) as server:
        assert server.url.startswith("http://127.0.0.1:")
        status, folder = call(
            server.url, server.key_text, "POST", "/v2/public/storage/folders", {"name": "over-tcp"}
        )
        assert status == 200 and folder["name"] == "over-tcp"
        unsigned = urllib.request.Request(server.url + "/v2/public/storage/folders")
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(unsigned, timeout=10)
        assert caught.value.code == 401
        caught.value.close()
        assert server.stats()["POST /v2/public/storage/folders"] == 1
        server.set_faults(storm_requests=1, storm_retry_after=2)
        status, _ = call(server.url, server.key_text, "GET", "/v2/public/storage/folders")
        assert status == 429
        server.reset_stats()
        assert server.stats() == {"total": 0}


def test_fault_flags_and_environment(tmp_path: Path) -> None:
    env_before = os.environ.get("RECONCILER_SANDBOX_STORM_REQUESTS")
    os.environ["RECONCILER_SANDBOX_STORM_REQUESTS"] = "2"
    try:
        with running_sandbox(
            tmp_path, serve_args=("--latency-ms", "5", "--storm-retry-after", "4")
        ) as server:
            faults = server.control("GET", "/_sandbox/faults")
            assert (
                faults["storm_requests"],
                faults["latency_ms"],
                faults["storm_retry_after"],
            ) == (2, 5.0, 4)
            statuses = [
                call(server.url, server.key_text, "GET", "/v2/public/storage/folders")[0]
                for _ in range(3)
            ]
            assert statuses == [429, 429, 200]
    finally:
        if env_before is None:
            del os.environ["RECONCILER_SANDBOX_STORM_REQUESTS"]
        else:
            os.environ["RECONCILER_SANDBOX_STORM_REQUESTS"] = env_before


@pytest.mark.slow
def test_state_survives_a_restart(tmp_path: Path) -> None:
    with running_sandbox(tmp_path) as server:
        _, folder = call(
            server.url,
            server.key_text,
            "POST",
            "/v2/public/storage/folders",
            {"name": "kept", "clientMetadata": '{"a": 1}'},
        )
        _, group = call(
            server.url,
            server.key_text,
            "POST",
            "/v2/public/organisation/groups",
            {"name": "g", "description": ""},
        )
        key_text = server.key_text
    with running_sandbox(tmp_path, init=False) as again:
        status, read = call(
            again.url, key_text, "GET", f"/v2/public/storage/folders/{folder['uuid']}"
        )
        assert status == 200 and read == folder
        _, groups = call(again.url, key_text, "GET", "/v2/public/user/current-organisation/groups")
        assert groups["results"] == [group]


@pytest.mark.slow
def test_port_in_use_is_one_line(tmp_path: Path) -> None:
    with running_sandbox(tmp_path) as server:
        port = server.url.rsplit(":", 1)[1]
        result = run_cli("sandbox", "serve", "--db", str(server.db_path), "--port", port)
        assert "cannot listen" in one_error_line(result)


def test_serve_stops_cleanly_on_interrupt(tmp_path: Path) -> None:
    db = tmp_path / "s.sqlite"
    run_cli("sandbox", "init", "--db", str(db))
    process = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "sandbox", "serve", "--db", str(db), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], 60)  # bounded start-up wait
        assert ready, "the server did not print its URL within 60 s"
        url = process.stdout.readline().rsplit("listening on ", 1)[1].strip()
        with urllib.request.urlopen(url + "/_sandbox/health", timeout=10) as response:
            assert json.loads(response.read()) == {"status": "ok"}
        process.send_signal(signal.SIGINT)  # as Ctrl-C
        _, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=10)
    assert "Traceback" not in err
    assert process.returncode == 0, err
    # Shut down through the lifespan: the last connection closed, so SQLite removed its WAL.
    assert not (tmp_path / "s.sqlite-wal").exists()


def test_helper_reports_why_a_server_did_not_start(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="not found"), running_sandbox(tmp_path, init=False):
        pass


def _hang_up(url: str, request: bytes, *, reset: bool = False) -> None:
    """Send ``request`` over a fresh loopback connection and close it without reading."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        if reset:  # close with RST, as a killed process does
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.sendall(request)
        time.sleep(0.2)


def test_a_client_hanging_up_is_one_log_line_not_a_traceback(tmp_path: Path) -> None:
    db = tmp_path / "s.sqlite"
    run_cli("sandbox", "init", "--db", str(db))
    serve = [sys.executable, "-m", "reconciler", "sandbox", "serve", "--db", str(db)]
    process = subprocess.Popen(
        [*serve, "--port", "0", "--latency-ms", "300"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], 60)  # bounded start-up wait
        assert ready, "the server did not print its URL within 60 s"
        url = process.stdout.readline().rsplit("listening on ", 1)[1].strip()
        # mid-request: the body is announced but never comes (v2 and v1 routes). A credential
        # is sent, since a request without one is refused before its body is read.
        partial = (
            b"Host: x\r\nAuthorization: Bearer some-token\r\nContent-Type: application/json\r\n"
            b"Content-Length: 999\r\n\r\n{"
        )
        _hang_up(url, b"POST /v2/public/storage/items/get-bulk HTTP/1.1\r\n" + partial)
        _hang_up(url, b"POST /public HTTP/1.1\r\n" + partial, reset=True)
        # mid-response: the answer is still being made (--latency-ms) when the client goes
        get = (
            b"GET /v2/public/storage/folders HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t\r\n\r\n"
        )
        _hang_up(url, get, reset=True)
        time.sleep(1)  # let the latency of the last request pass
        with urllib.request.urlopen(url + "/_sandbox/health", timeout=10) as response:
            assert json.loads(response.read()) == {"status": "ok"}  # still serving
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=10)
    assert "Traceback" not in err
    line = re.compile(
        r"WARNING reconciler\.sandbox\.app: 127\.0\.0\.1:\d+ hung up before its request was "
        r"answered: (?P<request>.+)"
    )
    found = [line.fullmatch(text) for text in err.splitlines()]  # one line a disconnect
    assert all(found), err
    assert sorted(m["request"] for m in found if m) == [
        "GET /v2/public/storage/folders",
        "POST /public",
        "POST /v2/public/storage/items/get-bulk",
    ]
