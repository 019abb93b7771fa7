"""Setting a sandbox up: create the database, add users (with keys or tokens), add integrations.

What the ``reconciler sandbox init|add-user|add-integration`` commands and the embedded
sandbox call. Private keys and tokens are written to new files with mode 0600 and are never
printed; an existing file is never overwritten.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from reconciler.sandbox.errors import ApiError, ProvisionError
from reconciler.sandbox.store import org, sync
from reconciler.sandbox.store.db import Database
from reconciler.wire.signing import generate_private_key, key_id, private_key_to_openssh

DEFAULT_ADMIN_EMAIL = "admin@sandbox.local"
ORGANISATION_NAME = "Sandbox organisation"


def default_key_path(db_path: Path) -> Path:
    """Where the admin key lives unless told otherwise: ``<db>.admin-key``."""
    return db_path.with_name(db_path.name + ".admin-key")


def write_secret(path: Path, text: str) -> None:
    """Write a new file readable by its owner only; refuse to replace an existing one."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise ProvisionError(f"{path} already exists; choose another file") from None
    except OSError as exc:
        raise ProvisionError(f"cannot write {path}: {exc.strerror}") from None
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


@contextlib.contextmanager
def _changing(db_path: Path) -> Iterator[Database]:
    db = Database.open(db_path)
    try:
        yield db
    except ApiError as exc:
        raise ProvisionError(exc.message) from None
    finally:
        db.close()


def init_database(
    db_path: Path, *, admin_email: str = DEFAULT_ADMIN_EMAIL, key_out: Path | None = None
) -> Ed25519PrivateKey:
    """Create the database with an organisation and an admin; write the admin's key."""
    key_out = key_out or default_key_path(db_path)
    if key_out.exists():
        raise ProvisionError(f"{key_out} already exists; choose another --key-out file")
    key = generate_private_key()
    db = Database.create(db_path)
    try:
        with db.write() as conn:
            org.create_organisation(conn, ORGANISATION_NAME)
            user_id = org.add_user(conn, admin_email, "ADMIN")
            org.add_key(conn, user_id, key_id(key))
    except ApiError as exc:
        db.close()
        db_path.unlink()
        raise ProvisionError(exc.message) from None
    db.close()
    write_secret(key_out, private_key_to_openssh(key))
    return key


@dataclass(frozen=True, slots=True)
class NewCredentials:
    created_user: bool
    key: Ed25519PrivateKey | None = None
    token: str | None = None


def add_user(
    db_path: Path,
    *,
    email: str,
    org_role: str | None = None,
    with_key: bool = True,
    with_token: bool = False,
) -> NewCredentials:
    """Add a member (or give an existing one new credentials, and ``org_role`` if given)."""
    key = generate_private_key() if with_key else None
    with _changing(db_path) as db, db.write() as conn:
        row = org.user_by_email(conn, email)
        if row is None:
            user_id = org.add_user(conn, email, org_role or "MEMBER")
        else:
            user_id = int(row["id"])
            if org_role is not None:
                org.set_org_role(conn, user_id, org_role)
        if key is not None:
            org.add_key(conn, user_id, key_id(key))
        token = org.new_token(conn, user_id) if with_token else None
    return NewCredentials(created_user=row is None, key=key, token=token)


def add_integration(db_path: Path, *, title: str, provider: str, root: Path) -> str:
    if provider not in sync.PROVIDERS:
        raise ProvisionError(f"provider must be one of {', '.join(sync.PROVIDERS)}")
    if not root.is_dir():
        raise ProvisionError(f"integration root {root} is not a directory")
    with _changing(db_path) as db, db.write() as conn:
        return sync.add_integration(conn, title, provider, str(root.resolve()))
