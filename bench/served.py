"""The sandbox served on a loopback port, for benchmarks that measure over a real socket."""

from __future__ import annotations

import json
import os
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


def cli(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "reconciler", *args], check=True, capture_output=True)


@contextmanager
def serve(db: Path, latency_ms: float) -> Iterator[str]:
    """``reconciler sandbox serve`` on a free port with latency injected; yields its URL."""
    command = [sys.executable, "-m", "reconciler", "sandbox", "serve", "--db", str(db),
               "--port", "0", "--latency-ms", str(latency_ms)]  # fmt: skip
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if "listening on " in line:
                yield line.rsplit("listening on ", 1)[1].strip()
                break
        else:
            raise RuntimeError("the sandbox did not start")
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout:
            process.stdout.close()
