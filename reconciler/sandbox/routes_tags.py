"""v2 organisation-tag routes: list (every tag on one page, as the SDK reads only the first),
create (admins only; 409 on a taken name) and delete (admins only).

The listing also answers each tag's ``description``: the SDK ignores it, reconciler reads
its ownership marker there."""

from __future__ import annotations

import sqlite3
from typing import Any

from reconciler.sandbox.errors import forbidden
from reconciler.sandbox.pipeline import Call, Routes
from reconciler.sandbox.reply import NO_CONTENT, Reply
from reconciler.sandbox.serialize import page
from reconciler.sandbox.store import tags
from reconciler.wire.tags import CreateOrganisationTagPayload

routes = Routes()
TAGS = "/v2/public/organisation/organisation-tags"


def tag_json(row: sqlite3.Row) -> dict[str, Any]:
    return {"uuid": row["uuid"], "name": row["name"], "description": row["description"]}


def _require_admin(call: Call, what: str) -> None:
    if not call.caller.is_admin:
        raise forbidden(f"{what} needs the organisation admin role (tags.manage)")


@routes.get(TAGS)
def list_tags(call: Call) -> Reply:
    return Reply(200, page([tag_json(row) for row in tags.list_tags(call.conn)], None))


@routes.post(TAGS)
def create_tag(call: Call) -> Reply:
    _require_admin(call, "creating organisation tags")
    body = call.payload(CreateOrganisationTagPayload)
    return Reply(200, tag_json(tags.create_tag(call.conn, body.name, body.description)))


@routes.delete(f"{TAGS}/{{tag_uuid}}")
def delete_tag(call: Call) -> Reply:
    _require_admin(call, "deleting organisation tags")
    tags.delete_tag(call.conn, call.path_params["tag_uuid"])
    return NO_CONTENT
