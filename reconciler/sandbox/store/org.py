"""The organisation and its users: membership, Ed25519 key ids, bearer tokens, metadata schema.

A removed user keeps its row (folders still name it as owner) with ``active = 0``: it cannot
authenticate, is in no group and no dataset, and adding the email again re-activates it.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
import uuid
from typing import Any

from reconciler.sandbox.errors import ApiError, bad_request, conflict, forbidden, not_found
from reconciler.sandbox.store.common import Caller, new_uuid, now_text
from reconciler.wire.enums import MEMBER_TYPES, ORGANISATION_ROLES

# A fixed UUID per organisation role, as the recorder did: the SDK requires one, never null.
_ROLE_NAMESPACE = uuid.UUID("6f1d3c52-8a43-4c1e-9f2a-5d7e0b8c9a10")


def role_uuid(role: str) -> str:
    return str(uuid.uuid5(_ROLE_NAMESPACE, role))


def create_organisation(conn: sqlite3.Connection, name: str) -> None:
    conn.execute(
        "INSERT INTO organisation (id, uuid, name, created_at) VALUES (1, ?, ?, ?)",
        (new_uuid(), name, now_text()),
    )


def organisation(conn: sqlite3.Connection) -> sqlite3.Row:
    row: sqlite3.Row = conn.execute("SELECT * FROM organisation WHERE id = 1").fetchone()
    return row


# --- users ---------------------------------------------------------------------------------


def add_user(
    conn: sqlite3.Connection, email: str, org_role: str, member_type: str = "internal"
) -> int:
    """Add a member (or re-activate a removed one); 409 when already a member."""
    _check_membership(email, org_role, member_type)
    row = conn.execute("SELECT id, active FROM users WHERE email = ?", (email,)).fetchone()
    now = now_text()
    if row is not None and row["active"]:
        raise conflict(f"{email} is already a member of the organisation")
    if row is not None:
        conn.execute(
            "UPDATE users SET active = 1, org_role = ?, member_type = ?, last_edited_at = ? "
            "WHERE id = ?",
            (org_role, member_type, now, row["id"]),
        )
        return int(row["id"])
    cursor = conn.execute(
        "INSERT INTO users (email, org_role, member_type, created_at, last_edited_at) "
        "VALUES (?, ?, ?, ?, ?)",
        (email, org_role, member_type, now, now),
    )
    return int(cursor.lastrowid or 0)


def _check_membership(email: str, org_role: str, member_type: str) -> None:
    if "@" not in email or email != email.strip():
        raise bad_request(f"not an email address: {email!r}")
    if org_role not in ORGANISATION_ROLES:
        raise bad_request(f"roleMnemonicName must be one of {', '.join(ORGANISATION_ROLES)}")
    if member_type not in MEMBER_TYPES:
        raise bad_request(f"memberType must be one of {', '.join(MEMBER_TYPES)}")
    if org_role == "ADMIN" and member_type != "internal":
        raise bad_request("only internal members can be organisation admins")


def set_org_role(conn: sqlite3.Connection, user_id: int, org_role: str) -> None:
    if org_role not in ORGANISATION_ROLES:
        raise bad_request(f"organisation role must be one of {', '.join(ORGANISATION_ROLES)}")
    conn.execute(
        "UPDATE users SET org_role = ?, last_edited_at = ? WHERE id = ? AND org_role != ?",
        (org_role, now_text(), user_id, org_role),
    )


def user_by_email(conn: sqlite3.Connection, email: str) -> sqlite3.Row | None:
    """The active member with this email, or None."""
    row: sqlite3.Row | None = conn.execute(
        "SELECT * FROM users WHERE email = ? AND active = 1", (email,)
    ).fetchone()
    return row


def list_users(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    return conn.execute("SELECT * FROM users WHERE active = 1 ORDER BY id").fetchall()


def first_admin(conn: sqlite3.Connection) -> sqlite3.Row | None:
    row: sqlite3.Row | None = conn.execute(
        "SELECT * FROM users WHERE active = 1 AND org_role = 'ADMIN' ORDER BY id LIMIT 1"
    ).fetchone()
    return row


def members_by_email(conn: sqlite3.Connection, emails: list[str]) -> dict[str, int]:
    """User ids of these emails; 403 naming those that are not organisation members."""
    found: dict[str, int] = {}
    for email in dict.fromkeys(emails):
        row = user_by_email(conn, email)
        if row is not None:
            found[email] = int(row["id"])
    missing = [email for email in emails if email not in found]
    if missing:
        raise forbidden(f"not members of the organisation: {', '.join(sorted(set(missing)))}")
    return found


def remove_user(conn: sqlite3.Connection, email: str) -> None:
    """Remove a member and every group and dataset membership it held; 404 if unknown."""
    row = user_by_email(conn, email)
    if row is None:
        raise not_found(f"no organisation member {email}")
    if row["org_role"] == "ADMIN":
        admins = conn.execute(
            "SELECT count(*) FROM users WHERE active = 1 AND org_role = 'ADMIN'"
        ).fetchone()[0]
        if admins == 1:
            raise bad_request(f"{email} is the last organisation admin and cannot be removed")
    conn.execute("DELETE FROM group_members WHERE user_id = ?", (row["id"],))
    conn.execute("DELETE FROM dataset_users WHERE user_id = ?", (row["id"],))
    conn.execute("DELETE FROM user_tokens WHERE user_id = ?", (row["id"],))
    conn.execute(
        "UPDATE users SET active = 0, last_edited_at = ? WHERE id = ?", (now_text(), row["id"])
    )


# --- credentials ---------------------------------------------------------------------------


def add_key(conn: sqlite3.Connection, user_id: int, keyid: str) -> None:
    taken = conn.execute("SELECT user_id FROM user_keys WHERE keyid = ?", (keyid,)).fetchone()
    if taken is not None:
        raise conflict("this public key is already registered")
    conn.execute(
        "INSERT INTO user_keys (keyid, user_id, created_at) VALUES (?, ?, ?)",
        (keyid, user_id, now_text()),
    )


def new_token(conn: sqlite3.Connection, user_id: int) -> str:
    """Mint a bearer token; only its SHA-256 is stored."""
    token = secrets.token_urlsafe(32)
    conn.execute(
        "INSERT INTO user_tokens (token_sha256, user_id, created_at) VALUES (?, ?, ?)",
        (_token_hash(token), user_id, now_text()),
    )
    return token


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def caller_for_key(conn: sqlite3.Connection, keyid: str) -> Caller:
    row = conn.execute(
        "SELECT u.id, u.email, u.org_role FROM user_keys k JOIN users u ON u.id = k.user_id "
        "WHERE k.keyid = ? AND u.active = 1",
        (keyid,),
    ).fetchone()
    if row is None:
        raise ApiError(
            401,
            f"key id {keyid} is not registered with this organisation "
            "(add it with `reconciler sandbox add-user`)",
        )
    return Caller(int(row["id"]), row["email"], row["org_role"])


def caller_for_token(conn: sqlite3.Connection, token: str) -> Caller:
    row = conn.execute(
        "SELECT u.id, u.email, u.org_role FROM user_tokens t JOIN users u ON u.id = t.user_id "
        "WHERE t.token_sha256 = ? AND u.active = 1",
        (_token_hash(token),),
    ).fetchone()
    if row is None:
        raise ApiError(401, "bearer token is not valid for this organisation")
    return Caller(int(row["id"]), row["email"], row["org_role"])


# --- metadata schema -----------------------------------------------------------------------


def metadata_schema(conn: sqlite3.Connection) -> dict[str, Any] | None:
    text = organisation(conn)["metadata_schema"]
    return None if text is None else dict(json.loads(text))


def set_metadata_schema(conn: sqlite3.Connection, schema: dict[str, Any]) -> None:
    now = now_text()
    conn.execute(
        "UPDATE organisation SET metadata_schema = ?, metadata_schema_updated_at = ?, "
        "metadata_schema_created_at = coalesce(metadata_schema_created_at, ?), "
        "metadata_schema_uuid = coalesce(metadata_schema_uuid, ?) WHERE id = 1",
        (json.dumps(schema), now, now, new_uuid()),
    )
