"""The embedded sandbox: created on first use, fixtures ensured idempotently, driven in-process
through ``httpx.ASGITransport`` with the admin key kept beside the database."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.model.desired import (
    OrganisationRole,
    SandboxIntegration,
    SandboxTarget,
    SandboxUser,
)
from reconciler.sandbox.embedded import EmbeddedSandbox, open_embedded
from reconciler.sandbox.errors import ProvisionError
from reconciler.sandbox.provision import init_database
from reconciler.sandbox.store.db import Database
from reconciler.wire.signing import sign_v2


async def get(sandbox: EmbeddedSandbox, path: str) -> Any:
    """A signed GET through the in-process transport, as the CLI's client does it."""

    async def run() -> Any:
        transport = httpx.ASGITransport(app=sandbox.app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://sandbox.local"
        ) as client:
            headers = sign_v2(sandbox.private_key, "GET", path, b"")
            response = await client.get(path, headers=headers)
            assert response.status_code == 200, response.text
            return response.json()

    return await run()


def target(tmp_path: Path, root: Path, role: OrganisationRole = "MEMBER") -> SandboxTarget:
    return SandboxTarget(
        path=str(tmp_path / ".reconciler" / "sandbox.sqlite"),
        integrations=(SandboxIntegration(title="s3-prod", provider="s3", root=str(root)),),
        users=(SandboxUser(email="alice@example.com", role=role),),
    )


@pytest.mark.anyio
async def test_first_open_creates_everything(tmp_path: Path) -> None:
    (tmp_path / "bucket").mkdir()
    with open_embedded(target(tmp_path, tmp_path / "bucket")) as sandbox:
        assert sandbox.db_path.is_file() and sandbox.admin_email == "admin@sandbox.local"
        key_file = sandbox.db_path.with_name("sandbox.sqlite.admin-key")
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        integrations = (await get(sandbox, "/v2/public/cloud-integrations?includeOrgAccess=False"))[
            "result"
        ]
        assert [i["title"] for i in integrations] == ["s3-prod"]
        users = (await get(sandbox, "/v2/public/organisation/users"))["results"]
        assert {u["email"]: u["roleMnemonicName"] for u in users} == {
            "admin@sandbox.local": "ADMIN",
            "alice@example.com": "MEMBER",
        }


@pytest.mark.anyio
async def test_reopening_is_idempotent_and_follows_the_fixtures(tmp_path: Path) -> None:
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    with open_embedded(target(tmp_path, tmp_path / "one")) as first:
        key = first.private_key
    with open_embedded(target(tmp_path, tmp_path / "two", role="ADMIN")) as second:
        assert second.private_key.private_bytes_raw() == key.private_bytes_raw()
        assert len((await get(second, "/v2/public/cloud-integrations"))["result"]) == 1
        users = (await get(second, "/v2/public/organisation/users"))["results"]
        assert {u["email"]: u["roleMnemonicName"] for u in users}["alice@example.com"] == "ADMIN"
    db = first.db_path
    handle = Database.open(db)
    try:
        with handle.read() as conn:
            root = conn.execute("SELECT root FROM integrations").fetchone()["root"]
    finally:
        handle.close()
    assert root == str((tmp_path / "two").resolve())


@pytest.mark.anyio
async def test_a_database_made_by_init_gets_a_key_beside_it(tmp_path: Path) -> None:
    db = tmp_path / ".reconciler" / "sandbox.sqlite"
    db.parent.mkdir()
    init_database(db, admin_email="boss@example.com", key_out=tmp_path / "elsewhere.key")
    with open_embedded(SandboxTarget(path=str(db))) as sandbox:
        assert sandbox.admin_email == "boss@example.com"
        assert (await get(sandbox, "/v2/public/storage/folders"))["results"] == []
    assert db.with_name("sandbox.sqlite.admin-key").is_file()


def test_an_unreadable_key_file_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "bucket").mkdir()
    spec = target(tmp_path, tmp_path / "bucket")
    open_embedded(spec).close()
    Path(spec.path + ".admin-key").write_text("garbage")
    with pytest.raises(ProvisionError, match="admin-key"):
        open_embedded(spec)
