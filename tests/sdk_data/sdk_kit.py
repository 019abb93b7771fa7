"""Builders for the official-SDK conformance suite (``tests/test_sandbox_sdk_*.py``).

Every test there drives the real ``encord`` SDK against ``reconciler sandbox serve`` on a loopback
socket. This module only prepares the sandbox through its CLI (users, integrations, seeds,
"bucket" directories) and builds SDK clients; everything a test asserts is read back through the
SDK. Retries are off (``max_retries=0``) so that an error response surfaces exactly once instead
of being hidden by urllib3's retry loop.
"""

from __future__ import annotations

import contextlib
import logging
import math
import re
import struct
import zlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from uuid import UUID, uuid4

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from encord.http.constants import RequestsSettings
from encord.orm.storage import (
    CloudSyncedFolderParams,
    SyncPrivateDataWithCloudSyncedFolderGetResultResponse,
)
from encord.storage import StorageFolder, StorageItem
from encord.user_client import EncordUserClient
from helpers import SandboxServer, run_cli, running_sandbox

NO_RETRIES = RequestsSettings(max_retries=0)
SYNC_TIMEOUT_S = 30


# --- clients ---------------------------------------------------------------------------------


def ssh_client(key_text: str, url: str) -> EncordUserClient:
    return EncordUserClient.create_with_ssh_private_key(
        key_text, requests_settings=NO_RETRIES, domain=url
    )


def bearer_client(token: str, url: str) -> EncordUserClient:
    return EncordUserClient.create_with_bearer_token(
        token, requests_settings=NO_RETRIES, domain=url
    )


def folder_as(client: EncordUserClient, folder: StorageFolder) -> StorageFolder:
    """The same folder, held by another user's client.

    A user without access cannot GET the folder to obtain an SDK object for it; this hands them
    the admin's copy so that the SDK's own update/move/delete code sends their request.
    """
    return StorageFolder(client._api_client, folder._orm_folder)


def item_as(client: EncordUserClient, item: StorageItem) -> StorageItem:
    """The same item, held by another user's client (see ``folder_as``)."""
    return StorageItem(client._api_client, item._orm_item)


def unregistered_key_text() -> str:
    """A valid OpenSSH Ed25519 private key that no sandbox user holds."""
    key = Ed25519PrivateKey.generate()
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    ).decode("ascii")


# --- preparing a sandbox through its CLI --------------------------------------------------------


def cli_ok(*args: str) -> str:
    """Run a ``reconciler`` CLI command that must succeed; return its stdout."""
    result = run_cli(*args)
    assert result.returncode == 0, f"reconciler {' '.join(args)} failed:\n{result.stderr}"
    return result.stdout


@dataclass(frozen=True)
class Account:
    """A sandbox user created with ``reconciler sandbox add-user``."""

    email: str
    key_text: str
    token: str | None = None


@dataclass(frozen=True)
class UserSpec:
    email: str
    org_role: str = "member"
    token: bool = False


@dataclass(frozen=True)
class IntegrationSpec:
    title: str
    provider: str = "s3"


@dataclass
class Sandbox:
    """A served sandbox plus what was prepared in it before it started."""

    server: SandboxServer
    workdir: Path
    accounts: dict[str, Account] = field(default_factory=dict)
    bucket_roots: dict[str, Path] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.server.url

    def admin(self) -> EncordUserClient:
        return ssh_client(self.server.key_text, self.server.url)

    def client(self, email: str) -> EncordUserClient:
        return ssh_client(self.accounts[email].key_text, self.server.url)


def init_db(workdir: Path, admin_email: str = "admin@example.com") -> Path:
    """``sandbox init`` with the paths ``running_sandbox(..., init=False)`` expects."""
    db = workdir / "sandbox.sqlite"
    cli_ok(
        "sandbox",
        "init",
        "--db",
        str(db),
        "--admin-email",
        admin_email,
        "--key-out",
        str(workdir / "admin.key"),
    )
    return db


def add_user(db: Path, workdir: Path, spec: UserSpec) -> Account:
    slug = re.sub(r"[^a-z0-9]+", "_", spec.email.lower())
    key_path = workdir / f"{slug}.key"
    args = ["sandbox", "add-user", "--db", str(db), "--email", spec.email]
    args += ["--key-out", str(key_path), "--org-role", spec.org_role]
    token_path = workdir / f"{slug}.token"
    if spec.token:
        args += ["--token-out", str(token_path)]
    cli_ok(*args)
    token = token_path.read_text().strip() if spec.token else None
    return Account(spec.email, key_path.read_text(), token)


def add_integration(db: Path, root: Path, spec: IntegrationSpec) -> None:
    root.mkdir(parents=True, exist_ok=True)
    cli_ok(
        "sandbox",
        "add-integration",
        "--db",
        str(db),
        "--title",
        spec.title,
        "--provider",
        spec.provider,
        "--root",
        str(root),
    )


@contextlib.contextmanager
def prepared_sandbox(
    workdir: Path,
    *,
    users: Iterable[UserSpec] = (),
    integrations: Iterable[IntegrationSpec] = (),
    seed_args: Iterable[tuple[str, ...]] = (),
    serve_args: tuple[str, ...] = (),
) -> Iterator[Sandbox]:
    """Init a database, add users / integrations / seeds through the CLI, then serve it."""
    db = init_db(workdir)
    accounts = {spec.email: add_user(db, workdir, spec) for spec in users}
    roots: dict[str, Path] = {}
    for spec in integrations:
        roots[spec.title] = workdir / f"bucket-root-{len(roots)}"
        add_integration(db, roots[spec.title], spec)
    for args in seed_args:
        cli_ok("sandbox", "seed", "--db", str(db), *args)
    with running_sandbox(workdir, init=False, serve_args=serve_args) as server:
        yield Sandbox(server, workdir, accounts, roots)


# --- "bucket" contents ----------------------------------------------------------------------


def png_bytes(width: int = 2, height: int = 3) -> bytes:
    """A real, decodable RGB PNG (so size, MIME type and dimensions are all honest)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\x80\x40\x20" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


# JFIF SOI + APP0 header + EOI: enough for anything that sniffs magic bytes.
JPEG_BYTES = (
    b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    + b"\x00" * 32
    + b"\xff\xd9"
)
# An ISO-BMFF ``ftyp`` box: the first bytes of any MP4 file.
MP4_BYTES = struct.pack(">I", 24) + b"ftypisom" + b"\x00\x00\x02\x00" + b"isomiso2" + b"\x00" * 40


def write_files(base: Path, files: Mapping[str, bytes]) -> None:
    for relative, data in files.items():
        path = base / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def bucket_dir(root: Path, remote_url: str) -> Path:
    """Where an integration rooted at ``root`` keeps ``s3://bucket/prefix/`` (or ``gs://``)."""
    without_scheme = remote_url.split("://", 1)[1]
    return root / without_scheme.strip("/")


def synced_folder(
    uc: EncordUserClient,
    sandbox: Sandbox,
    integration_title: str,
    remote_url: str,
    files: Mapping[str, bytes],
) -> tuple[StorageFolder, Path]:
    """Write ``files`` under ``remote_url`` in the integration's directory and create a
    cloud-synced folder on it (not yet synced). Returns the folder and the bucket directory."""
    (integration,) = uc.get_cloud_integrations(filter_integration_titles=[integration_title])
    bucket = bucket_dir(sandbox.bucket_roots[integration_title], remote_url)
    write_files(bucket, files)
    params = CloudSyncedFolderParams(integration_uuid=UUID(integration.id), remote_url=remote_url)
    folder = uc.create_storage_folder(unique("synced"), cloud_synced_folder_params=params)
    return folder, bucket


def sync(folder: StorageFolder) -> SyncPrivateDataWithCloudSyncedFolderGetResultResponse:
    """Start a cloud sync of ``folder`` and long-poll it to its end (bounded)."""
    job = folder.sync_private_data_with_cloud_synced_folder_start()
    return folder.sync_private_data_with_cloud_synced_folder_get_result(
        job, timeout_seconds=SYNC_TIMEOUT_S
    )


# --- observing the wire -----------------------------------------------------------------------

_REQUEST_LINE = re.compile(r'"([A-Z]+) (\S+) HTTP/[0-9.]+" (\d+)')


@dataclass(frozen=True)
class SeenRequest:
    method: str
    target: str  # path plus query, exactly as sent
    status: int

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]


class WireLog:
    """The request lines urllib3 logged for SDK calls (method, target, status), in order.

    urllib3 logs one DEBUG line per response it receives; reading it lets a test count requests
    (pages, bundles) without touching the SDK or the server.
    """

    def __init__(self, caplog: pytest.LogCaptureFixture) -> None:
        self._caplog = caplog
        caplog.set_level(logging.DEBUG, logger="urllib3.connectionpool")
        self._start = len(caplog.records)

    def mark(self) -> None:
        """Forget what was seen so far."""
        self._start = len(self._caplog.records)

    def requests(self) -> list[SeenRequest]:
        seen = []
        for record in self._caplog.records[self._start :]:
            if record.name != "urllib3.connectionpool":
                continue
            match = _REQUEST_LINE.search(record.getMessage())
            if match:
                seen.append(SeenRequest(match[1], match[2], int(match[3])))
        return seen

    def matching(self, method: str, path_suffix: str) -> list[SeenRequest]:
        return [r for r in self.requests() if r.method == method and r.path.endswith(path_suffix)]


def assert_paged(requests: list[SeenRequest], *, total: int, page_size: int) -> None:
    """The SDK walked ``total`` results in pages of ``page_size`` following ``nextPageToken``.

    A server may learn the end only from an empty page, so one extra request is allowed.
    """
    pages = max(1, math.ceil(total / page_size))
    assert pages <= len(requests) <= pages + 1, [r.target for r in requests]
    queries = [parse_qs(urlsplit(r.target).query) for r in requests]
    assert "pageToken" not in queries[0]
    assert all(q["pageSize"] == [str(page_size)] for q in queries)
    tokens = [q["pageToken"][0] for q in queries[1:]]
    assert len(set(tokens)) == len(tokens), tokens  # every page asked with a new token


def unique(prefix: str) -> str:
    """A lowercase name no other test in the module uses (tests share one sandbox)."""
    return f"{prefix}-{uuid4().hex[:8]}"
