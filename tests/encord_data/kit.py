"""Builders for the client, live-reader and export tests against the real sandbox.

Two ways to reach a sandbox, one client code path: in-process (``open_embedded`` +
``httpx.ASGITransport``) and over a loopback socket (``helpers.running_sandbox``). Both are
prepared with the same fixtures: a fake S3 "bucket" directory behind the ``s3-raw``
integration, and two organisation members besides the admin.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from helpers import SandboxServer, run_cli, running_sandbox
from starlette.types import ASGIApp

from reconciler.encord import ClientOptions, EncordClient, KeyAuth, RetryOptions, key_auth_from_file
from reconciler.model.desired import SandboxIntegration, SandboxTarget, SandboxUser
from reconciler.sandbox.embedded import open_embedded
from reconciler.sandbox.options import SandboxOptions

FAST_RETRY = RetryOptions(max_attempts=8, base_backoff_seconds=0.01, cap_backoff_seconds=0.1)
INTEGRATION = "s3-raw"
MEMBERS = ("alice@example.com", "bob@example.com")
BUCKET_FILES = ("cams/a.jpg", "cams/b.jpg", "cams/night/c.png", "cams/night/d.txt")
TINY_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000100ffff03000006000557bfabd40000000049454e44ae426082"
)


def make_bucket(root: Path) -> Path:
    """``root/acme-raw/cams/...``: what ``s3://acme-raw/cams/`` syncs from."""
    for name in BUCKET_FILES:
        path = root / "acme-raw" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(TINY_PNG if name.endswith((".png", ".jpg")) else b"hello\n")
    return root


@dataclass
class Sandboxed:
    """A client on a sandbox, and the sandbox's control routes (stats, faults)."""

    client: EncordClient
    admin_email: str
    _control: httpx.AsyncClient | None = None
    _server: SandboxServer | None = None

    async def stats(self) -> dict[str, int]:
        if self._server is not None:
            return await asyncio.to_thread(self._server.stats)
        assert self._control is not None
        return (await self._control.get("/_sandbox/stats")).json()  # type: ignore[no-any-return]

    async def reset_stats(self) -> None:
        if self._server is not None:
            await asyncio.to_thread(self._server.reset_stats)
            return
        assert self._control is not None
        (await self._control.post("/_sandbox/stats/reset")).raise_for_status()

    async def set_faults(self, **faults: Any) -> None:
        if self._server is not None:
            await asyncio.to_thread(self._server.set_faults, **faults)
            return
        assert self._control is not None
        (await self._control.post("/_sandbox/faults", json=faults)).raise_for_status()


def sandbox_target(tmp_path: Path) -> SandboxTarget:
    return SandboxTarget(
        path=str(tmp_path / "embedded.sqlite"),
        integrations=(
            SandboxIntegration(
                title=INTEGRATION, provider="s3", root=str(make_bucket(tmp_path / "buckets"))
            ),
        ),
        users=tuple(SandboxUser(email=e, role="MEMBER") for e in MEMBERS),
    )


@contextlib.asynccontextmanager
async def embedded(
    tmp_path: Path,
    *,
    options: SandboxOptions | None = None,
    retry: RetryOptions = FAST_RETRY,
    concurrency: int = 16,
    wrap: Callable[[ASGIApp], ASGIApp] | None = None,
) -> AsyncIterator[Sandboxed]:
    """``wrap``: middleware around the sandbox app (to watch the requests it serves)."""
    sandbox = open_embedded(sandbox_target(tmp_path), options=options or SandboxOptions())
    transport = httpx.ASGITransport(app=wrap(sandbox.app) if wrap else sandbox.app)
    client = EncordClient(
        ClientOptions(
            domain="http://sandbox.local",
            auth=KeyAuth(sandbox.private_key),
            transport=transport,
            retry=retry,
            concurrency=concurrency,
        )
    )
    control = httpx.AsyncClient(transport=transport, base_url="http://sandbox.local")
    try:
        yield Sandboxed(client, sandbox.admin_email, _control=control)
    finally:
        await client.aclose()
        await control.aclose()
        sandbox.close()


@contextlib.contextmanager
def served(tmp_path: Path, *, serve_args: tuple[str, ...] = ()) -> Iterator[SandboxServer]:
    """``reconciler sandbox serve`` on a loopback port, with the same fixtures."""
    db, key = tmp_path / "sandbox.sqlite", tmp_path / "admin.key"
    steps = [
        ("init", "--db", str(db), "--admin-email", "admin@example.com", "--key-out", str(key)),
        ("add-integration", "--db", str(db), "--title", INTEGRATION, "--provider", "s3",
         "--root", str(make_bucket(tmp_path / "buckets"))),
        *[("add-user", "--db", str(db), "--email", e, "--key-out", str(tmp_path / f"{e}.key"))
          for e in MEMBERS],
    ]  # fmt: skip
    for step in steps:
        result = run_cli("sandbox", *step)
        assert result.returncode == 0, result.stderr
    with running_sandbox(tmp_path, init=False, serve_args=serve_args) as server:
        yield server


@contextlib.asynccontextmanager
async def over_socket(
    server: SandboxServer,
    *,
    key_path: Path | None = None,
    retry: RetryOptions = FAST_RETRY,
    concurrency: int = 16,
) -> AsyncIterator[Sandboxed]:
    auth = key_auth_from_file(key_path or server.key_path)
    options = ClientOptions(domain=server.url, auth=auth, retry=retry, concurrency=concurrency)
    async with EncordClient(options) as client:
        yield Sandboxed(client, server.admin_email, _server=server)


def seed(db: Path, under: str, *, folders: int, items: int) -> None:
    result = run_cli(
        "sandbox", "seed", "--db", str(db), "--under", under,
        "--folders", str(folders), "--items", str(items),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
