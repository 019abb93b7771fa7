"""Servers and subprocesses: one place, so every test starts servers the same way.

``running_sandbox`` starts the real ``reconciler sandbox serve`` in a subprocess on a loopback
port chosen by the OS (``--port 0``; the server prints the URL it bound), and stops it when the
``with`` block ends. Tests talk to it over a real socket with our client or the official SDK.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from encord.user_client import EncordUserClient

STARTUP_TIMEOUT_S = 90.0  # generous: a loaded CI machine can be slow to start a Python server
# The API contract beside the project (``../shared``), or wherever RECONCILER_SHARED points.
SHARED = Path(
    os.environ.get("RECONCILER_SHARED") or Path(__file__).resolve().parents[2].parent / "shared"
)
CAPTURES = SHARED / "encord-api" / "captures.jsonl"


def run_cli(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m reconciler ARGS`` and capture its output (never raises on exit code)."""
    return subprocess.run(
        [sys.executable, "-m", "reconciler", *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@dataclass
class SandboxServer:
    url: str
    db_path: Path
    key_path: Path
    admin_email: str
    process: subprocess.Popen[str]
    command: list[str] = field(default_factory=list)
    errors: IO[str] | None = None

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1].rstrip("/"))

    def restart(self, pause: float) -> None:
        """Stop the server, wait ``pause`` seconds, serve the same database on the SAME port
        (what a deploy or a crash-and-restart looks like to a client holding the URL)."""
        _stop(self.process)
        time.sleep(pause)
        command = [*self.command]
        command[command.index("--port") + 1] = str(self.port)
        assert self.errors is not None
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=self.errors, text=True
        )
        _wait_for_url(self.process, self.errors)

    @property
    def key_text(self) -> str:
        return self.key_path.read_text()

    def control(self, method: str, path: str, body: Any = None) -> Any:
        """Call a loopback-only control route such as ``/_sandbox/stats``."""
        return control(self.url, method, path, body)

    def stats(self) -> dict[str, Any]:
        return self.control("GET", "/_sandbox/stats")  # type: ignore[no-any-return]

    def reset_stats(self) -> None:
        self.control("POST", "/_sandbox/stats/reset")

    def set_faults(self, **faults: Any) -> None:
        self.control("POST", "/_sandbox/faults", faults)


@contextlib.contextmanager
def running_sandbox(
    tmp_path: Path,
    *,
    admin_email: str = "admin@example.com",
    serve_args: tuple[str, ...] = (),
    init: bool = True,
    seeds: tuple[tuple[str, int], ...] = (),
) -> Iterator[SandboxServer]:
    """Serve a sandbox database in ``tmp_path`` (made by ``sandbox init`` unless ``init`` is
    false), with ``seeds`` (folder, item count) put in by ``sandbox seed`` before it starts."""
    db_path = tmp_path / "sandbox.sqlite"
    key_path = tmp_path / "admin.key"
    if init:
        result = run_cli(
            "sandbox",
            "init",
            "--db",
            str(db_path),
            "--admin-email",
            admin_email,
            "--key-out",
            str(key_path),
        )
        assert result.returncode == 0, result.stderr
    for under, items in seeds:
        seeded = run_cli(
            "sandbox", "seed", "--db", str(db_path), "--under", under, "--items", str(items)
        )
        assert seeded.returncode == 0, seeded.stderr
    command = [sys.executable, "-m", "reconciler", "sandbox", "serve", "--db", str(db_path)]
    command += ["--host", "127.0.0.1", "--port", "0", *serve_args]
    # stderr goes to a file, not a pipe: nobody drains it while the server runs, and a full
    # pipe would block the server on its next log line.
    with tempfile.TemporaryFile(mode="w+") as errors:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, text=True)
        server = None
        try:
            url = _wait_for_url(process, errors)
            server = SandboxServer(url, db_path, key_path, admin_email, process, command, errors)
            yield server
        finally:
            _stop(server.process if server else process)


def control(url: str, method: str, path: str, body: Any = None, *, timeout: float = 10) -> Any:
    """Call the control route ``path`` of the sandbox at ``url``; its JSON answer, or None."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url + path, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=timeout) as response:
        raw = response.read()
    return json.loads(raw) if raw else None


def flags(server: SandboxServer, key: Path | None = None) -> tuple[str, ...]:
    """The CLI flags that point ``plan``/``apply`` at ``server`` as its admin (or as the
    holder of ``key``)."""
    return ("--domain", server.url, "--ssh-key-file", str(key or server.key_path))


def sdk(server: SandboxServer) -> EncordUserClient:
    """The official SDK, signed in to ``server`` as its admin."""
    # Imported here: the SDK is slow to import and most tests never use it.
    from encord.user_client import EncordUserClient

    return EncordUserClient.create_with_ssh_private_key(server.key_text, domain=server.url)


def write_config(
    directory: Path, body: str, settings: str, files: Mapping[str, str] | None = None
) -> Path:
    """A configuration directory: ``settings`` in reconciler.yaml, ``body`` in main.yaml, and
    ``files`` (name: text) beside them."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "reconciler.yaml").write_text(settings)
    (directory / "main.yaml").write_text(body)
    for name, text in (files or {}).items():
        (directory / name).write_text(text)
    return directory


def _stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
    if process.stdout:
        process.stdout.close()


def _wait_for_url(process: subprocess.Popen[str], errors: IO[str]) -> str:
    """Read the ``listening on http://127.0.0.1:PORT`` line the server prints once bound.

    Bounded in time even if the server hangs before printing: ``select`` waits for a line with
    a timeout instead of blocking in ``readline``.
    """
    assert process.stdout is not None
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while (left := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([process.stdout], [], [], min(left, 1.0))
        line = process.stdout.readline() if ready else ""
        if not line:
            if process.poll() is not None:
                errors.seek(0)
                raise RuntimeError(f"sandbox exited with {process.returncode}: {errors.read()}")
            continue
        if "listening on " in line:
            return line.rsplit("listening on ", 1)[1].strip()
    raise RuntimeError(f"sandbox did not report its URL within {STARTUP_TIMEOUT_S:.0f} s")
