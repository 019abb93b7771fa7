"""The sandbox served on a loopback port, for benchmarks that measure over a real socket."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def control(url: str, method: str, path: str) -> Any:
    """Call a sandbox control route (``/_sandbox/stats``, ``/_sandbox/stats/reset``)."""
    request = urllib.request.Request(
        url + path, method=method, data=b"" if method == "POST" else None
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        raw = response.read()
    return json.loads(raw) if raw else None


def cpu_seconds(pid: int) -> float | None:
    """User and system CPU seconds a process has used so far (Linux ``/proc``; else None)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cli(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "reconciler", *args], check=True, capture_output=True)


def free_port() -> int:
    """A loopback port free now, for a server that must come back on the same one."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start(db: Path, latency_ms: float, port: int = 0) -> tuple[subprocess.Popen[str], str]:
    """Start ``reconciler sandbox serve`` (``port`` 0: any free one); the process and its URL."""
    command = [sys.executable, "-m", "reconciler", "sandbox", "serve", "--db", str(db),
               "--port", str(port), "--latency-ms", str(latency_ms)]  # fmt: skip
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    assert process.stdout is not None
    for line in process.stdout:
        if "listening on " in line:
            return process, line.rsplit("listening on ", 1)[1].strip()
    stop(process)
    raise RuntimeError("the sandbox did not start")


def stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    process.wait(timeout=10)
    if process.stdout:
        process.stdout.close()


@contextmanager
def serve(db: Path, latency_ms: float, port: int = 0) -> Iterator[str]:
    """``reconciler sandbox serve`` with latency injected; yields its URL."""
    process, url = start(db, latency_ms, port)
    try:
        yield url
    finally:
        stop(process)
