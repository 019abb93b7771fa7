"""In-process driver for sandbox tests: the real app, real signatures, no socket.

``open_harness(tmp_path)`` creates a sandbox database (admin ``admin@example.com``), drives
``create_app`` through ``httpx.ASGITransport`` (as the embedded target does) on an event loop
in a helper thread, from a loopback client address, and signs every request exactly as the SDK
does (``reconciler.wire.signing``). ``as_member`` adds users
with their own keys, so role tests act as real, separately authenticated callers.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio.from_thread
import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from reconciler.sandbox.app import close_app, create_app
from reconciler.sandbox.options import SandboxOptions
from reconciler.sandbox.provision import add_user, init_database
from reconciler.sandbox.runtime import Runtime
from reconciler.sandbox.store import access
from reconciler.sandbox.store.common import now_text
from reconciler.sandbox.store.db import Database
from reconciler.sandbox.store.items import insert_items
from reconciler.wire.base import dumps
from reconciler.wire.query import Query, encode_query
from reconciler.wire.signing import sign_v2, v1_authorization

ADMIN = "admin@example.com"
V2 = "/v2/public"


class SyncClient:
    """A blocking face on an ``httpx.AsyncClient`` whose loop runs in a portal thread."""

    def __init__(self, portal: anyio.from_thread.BlockingPortal, client: httpx.AsyncClient) -> None:
        self._portal = portal
        self._client = client

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        async def send() -> httpx.Response:
            return await self._client.request(method, url, **kwargs)

        return self._portal.call(send)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def gather(self, requests: list[tuple[str, str, dict[str, Any]]]) -> list[httpx.Response]:
        """Send ``(method, url, kwargs)`` requests concurrently; answers in request order."""

        async def send_all() -> list[httpx.Response]:
            results: list[httpx.Response | None] = [None] * len(requests)

            async def one(index: int, method: str, url: str, kwargs: dict[str, Any]) -> None:
                results[index] = await self._client.request(method, url, **kwargs)

            async with anyio.create_task_group() as group:
                for index, (method, url, kwargs) in enumerate(requests):
                    group.start_soon(one, index, method, url, kwargs)
            return [r for r in results if r is not None]

        return self._portal.call(send_all)


@dataclass
class Harness:
    client: SyncClient
    db_path: Path
    keys: dict[str, Ed25519PrivateKey]
    runtime: Runtime

    def as_member(self, email: str, org_role: str = "MEMBER") -> str:
        """Add an organisation member with its own key; return the email (to pass as ``who``)."""
        added = add_user(self.db_path, email=email, org_role=org_role)
        assert added.key is not None
        self.keys[email] = added.key
        return email

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Query = (),
        body: Any = None,
        who: str = ADMIN,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """A signed v2 request to ``/v2/public`` + ``path``."""
        method, url, kwargs = self.signed(method, path, query=query, body=body, who=who)
        kwargs["headers"].update(headers or {})
        return self.client.request(method, url, **kwargs)

    def signed(
        self, method: str, path: str, *, query: Query = (), body: Any = None, who: str = ADMIN
    ) -> tuple[str, str, dict[str, Any]]:
        """A signed request, unsent: ``(method, url, kwargs)`` for ``client.request``/``gather``."""
        full = V2 + path
        encoded = encode_query(query)
        target = f"{full}?{encoded}" if encoded else full
        raw = b"" if body is None else dumps(body)
        headers = {**sign_v2(self.keys[who], method, target, raw)}
        if raw:
            headers["Content-Type"] = "application/json"
        return method, target, {"content": raw, "headers": headers}

    def get(self, path: str, *, query: Query = (), who: str = ADMIN) -> httpx.Response:
        return self.request("GET", path, query=query, who=who)

    def post(self, path: str, body: Any = None, *, who: str = ADMIN) -> httpx.Response:
        return self.request("POST", path, body=body, who=who)

    def patch(self, path: str, body: Any, *, who: str = ADMIN) -> httpx.Response:
        return self.request("PATCH", path, body=body, who=who)

    def delete(self, path: str, *, query: Query = (), who: str = ADMIN) -> httpx.Response:
        return self.request("DELETE", path, query=query, who=who)

    def ok(self, response: httpx.Response) -> Any:
        """The JSON of a successful answer (asserting 200 or 204)."""
        assert response.status_code in (200, 204), (response.status_code, response.text)
        return response.json() if response.status_code == 200 else None

    def v1(
        self,
        query_type: str,
        method: str,
        *,
        uid: Any = None,
        payload: Any = None,
        resource: str = "",
        who: str = ADMIN,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """A v1 RPC as the SDK sends it; returns the envelope."""
        body = dumps(
            {
                "query_type": query_type,
                "query_method": method,
                "values": {"uid": uid, "payload": payload},
            }
        )
        all_headers = {
            "Authorization": v1_authorization(self.keys[who], body),
            "Content-Type": "application/json",
            "ResourceType": "dataset",
            "ResourceID": resource,
            **(headers or {}),
        }
        response = self.client.post("/public", content=body, headers=all_headers)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = json.loads(response.content)
        return result

    # --- builders ---------------------------------------------------------------------------

    def folder(
        self, name: str, parent: str | None = None, *, who: str = ADMIN, **extra: Any
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"name": name, **extra}
        if parent is not None:
            body["parent"] = parent
        result: dict[str, Any] = self.ok(self.post("/storage/folders", body, who=who))
        return result

    def group(self, name: str, members: tuple[str, ...] = (), *, who: str = ADMIN) -> str:
        group = self.ok(
            self.post("/organisation/groups", {"name": name, "description": ""}, who=who)
        )
        if members:
            self.ok(
                self.post(
                    f"/organisation/groups/{group['groupHash']}/users",
                    {"userEmails": list(members)},
                    who=who,
                )
            )
        return str(group["groupHash"])

    def grant(self, folder_uuid: str, group_hash: str, role: str) -> None:
        body = {"groupHashList": [group_hash], "userRole": role}
        self.ok(self.post(f"/storage/folders/{folder_uuid}/groups", body))

    def add_items(
        self, folder_uuid: str, names: list[str], item_type: str = "image", size: int = 100
    ) -> list[str]:
        """Insert items straight into the store (the API has no plain item create)."""
        db = Database.open(self.db_path)
        try:
            with db.write() as conn:
                folder = access.folder_by_uuid(conn, folder_uuid)
                now = now_text()
                uuids = [str(uuid.uuid4()) for _ in names]
                insert_items(
                    conn,
                    [
                        (u, folder["id"], folder["path"], item_type, name, name.lower(), "", "{}",
                         folder["owner_id"], now, now, "encord", None, None, size, "image/png",
                         None, None, None)
                        for u, name in zip(uuids, names, strict=True)
                    ],
                )  # fmt: skip
        finally:
            db.close()
        return uuids

    def control(self, method: str, path: str, body: Any = None) -> Any:
        response = self.client.request(method, path, json=body)
        assert response.status_code in (200, 204), response.text
        return response.json() if response.status_code == 200 else None


@contextlib.contextmanager
def open_harness(
    tmp_path: Path, *, options: SandboxOptions | None = None, client_host: str = "127.0.0.1"
) -> Iterator[Harness]:
    db_path = tmp_path / "sandbox.sqlite"
    key = init_database(db_path, admin_email=ADMIN, key_out=tmp_path / "admin.key")
    app = create_app(db_path, options=options or SandboxOptions())
    transport = httpx.ASGITransport(app=app, client=(client_host, 50000))
    try:
        with anyio.from_thread.start_blocking_portal() as portal:
            # sandbox.local: the in-process name the control routes accept
            client = httpx.AsyncClient(transport=transport, base_url="http://sandbox.local")
            try:
                yield Harness(SyncClient(portal, client), db_path, {ADMIN: key}, app.state.runtime)
            finally:
                portal.call(client.aclose)
    finally:
        close_app(app)
