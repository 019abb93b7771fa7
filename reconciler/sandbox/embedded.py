"""The embedded sandbox: what ``reconciler apply`` talks to when no Encord account is configured.

``open_embedded(target)`` makes sure the database at ``target.path`` exists (creating it with an
organisation and the admin ``admin@sandbox.local``, whose key is kept beside it as
``<db>.admin-key``, mode 0600), that the target's fixture integrations and users exist as
declared, and returns the app to drive in-process through ``httpx.ASGITransport``, signed with
the admin key. ``close()`` it when done (ASGITransport sends no lifespan events).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from starlette.applications import Starlette

from reconciler.model.desired import SandboxTarget
from reconciler.sandbox.app import close_app, create_app
from reconciler.sandbox.errors import ApiError, ProvisionError
from reconciler.sandbox.options import DEFAULT_OPTIONS, SandboxOptions
from reconciler.sandbox.provision import (
    DEFAULT_ADMIN_EMAIL,
    default_key_path,
    init_database,
    write_secret,
)
from reconciler.sandbox.store import org, sync
from reconciler.sandbox.store.db import Database
from reconciler.wire.errors import UnusableKeyError
from reconciler.wire.signing import (
    generate_private_key,
    key_id,
    load_private_key,
    private_key_to_openssh,
)


@dataclass(frozen=True)
class EmbeddedSandbox:
    """An in-process sandbox app and the admin credentials to sign requests with."""

    app: Starlette
    private_key: Ed25519PrivateKey
    admin_email: str
    db_path: Path

    def close(self) -> None:
        close_app(self.app)

    def __enter__(self) -> EmbeddedSandbox:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def open_embedded(
    target: SandboxTarget, *, options: SandboxOptions = DEFAULT_OPTIONS
) -> EmbeddedSandbox:
    db_path = Path(target.path)
    key_path = default_key_path(db_path)
    known: Ed25519PrivateKey | None
    if not db_path.exists():
        db_path.parent.mkdir(parents=True, exist_ok=True)
        known = init_database(db_path, admin_email=DEFAULT_ADMIN_EMAIL, key_out=key_path)
    else:
        known = _admin_key(key_path)
    admin_email, key = _ensure_fixtures(db_path, target, known)
    return EmbeddedSandbox(create_app(db_path, options=options), key, admin_email, db_path)


def _admin_key(key_path: Path) -> Ed25519PrivateKey | None:
    if not key_path.exists():
        return None
    try:
        return load_private_key(key_path.read_text())
    except UnusableKeyError as exc:
        raise ProvisionError(f"{key_path}: {exc}") from None


def _ensure_fixtures(
    db_path: Path, target: SandboxTarget, key: Ed25519PrivateKey | None
) -> tuple[str, Ed25519PrivateKey]:
    """Integrations and users as declared, and an admin that ``key`` signs for."""
    db = Database.open(db_path)
    try:
        with db.write() as conn:
            for integration in target.integrations:
                root = str(Path(integration.root).resolve())
                sync.ensure_integration(conn, integration.title, integration.provider, root)
            for user in target.users:
                row = org.user_by_email(conn, user.email)
                if row is None:
                    org.add_user(conn, user.email, user.role)
                else:
                    org.set_org_role(conn, int(row["id"]), user.role)
            return _ensure_admin_key(conn, default_key_path(db_path), key)
    except ApiError as exc:
        raise ProvisionError(f"{db_path}: {exc.message}") from None
    finally:
        db.close()


def _ensure_admin_key(
    conn: sqlite3.Connection, key_path: Path, key: Ed25519PrivateKey | None
) -> tuple[str, Ed25519PrivateKey]:
    """The admin email ``key`` signs for; a key file that is missing or registered to nobody
    (say, a database made by ``sandbox init --key-out elsewhere``) is given to the first admin."""
    if key is not None:
        row = conn.execute(
            "SELECT u.email FROM user_keys k JOIN users u ON u.id = k.user_id "
            "WHERE k.keyid = ? AND u.active = 1 AND u.org_role = 'ADMIN'",
            (key_id(key),),
        ).fetchone()
        if row is not None:
            return str(row["email"]), key
    admin = org.first_admin(conn)
    if admin is None:
        raise ProvisionError(f"{key_path.parent}: the sandbox has no organisation admin")
    if key is None:
        key = generate_private_key()
        write_secret(key_path, private_key_to_openssh(key))
    org.add_key(conn, int(admin["id"]), key_id(key))
    return str(admin["email"]), key
