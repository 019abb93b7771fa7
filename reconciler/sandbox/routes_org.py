"""v2 organisation routes: groups and members, organisation users, cloud integrations,
bearer tokens and the client-metadata schema (v2 and legacy). Organisation tags are in
``routes_tags``."""

from __future__ import annotations

from urllib.parse import unquote
from uuid import NAMESPACE_URL, uuid5

from reconciler.sandbox import metadata
from reconciler.sandbox.errors import forbidden
from reconciler.sandbox.pipeline import Call, Routes
from reconciler.sandbox.reply import NO_CONTENT, Reply
from reconciler.sandbox.serialize import group_json, org_user_json, page
from reconciler.sandbox.store import groups, org, sync
from reconciler.wire.org import (
    AddOrganisationUserPayload,
    CreateGroupPayload,
    GroupUsersPayload,
    UpdateGroupPayload,
)

routes = Routes()
GROUPS = "/v2/public/organisation/groups"
USERS = "/v2/public/organisation/users"
SCHEMA = "/v2/public/organisation/client-metadata-schema"


def _require_org_admin(call: Call, what: str) -> None:
    if not call.caller.is_admin:
        raise forbidden(f"{what} needs the organisation admin role")


@routes.get("/v2/public/user/current")
def current_user(call: Call) -> Reply:
    """Who the key acts as; the hash is stable per user (the store has no user hashes)."""
    user_hash = uuid5(NAMESPACE_URL, f"sandbox-user:{call.caller.user_id}").hex
    return Reply(200, {"userEmail": call.caller.email, "userHash": user_hash})


# --- groups ----------------------------------------------------------------------------------


@routes.get("/v2/public/user/current-organisation/groups")
def list_groups(call: Call) -> Reply:
    return Reply(200, page([group_json(row) for row in groups.list_groups(call.conn)], None))


@routes.post(GROUPS)
def create_group(call: Call) -> Reply:
    body = call.payload(CreateGroupPayload)
    group_uuid = groups.create_group(call.conn, call.caller, body.name, body.description)
    return Reply(200, group_json(groups.get_group(call.conn, group_uuid)))


@routes.get(f"{GROUPS}/{{group_hash}}")
def get_group(call: Call) -> Reply:
    return Reply(200, group_json(groups.get_group(call.conn, call.path_params["group_hash"])))


@routes.patch(f"{GROUPS}/{{group_hash}}")
def update_group(call: Call) -> Reply:
    group = groups.get_group(call.conn, call.path_params["group_hash"])
    groups.require_group_manager(call.conn, call.caller, group)
    body = call.payload(UpdateGroupPayload)
    groups.update_group(call.conn, group, body.name, body.description)
    return Reply(200, group_json(groups.get_group(call.conn, group["uuid"])))


@routes.delete(f"{GROUPS}/{{group_hash}}")
def delete_group(call: Call) -> Reply:
    group = groups.get_group(call.conn, call.path_params["group_hash"])
    groups.require_group_manager(call.conn, call.caller, group)
    groups.delete_group(call.conn, group)
    return NO_CONTENT


@routes.get(f"{GROUPS}/{{group_hash}}/users")
def list_group_users(call: Call) -> Reply:
    group = groups.get_group(call.conn, call.path_params["group_hash"])
    return Reply(200, _members_page(call, group["id"]))


def _members_page(call: Call, group_id: int) -> dict[str, object]:
    emails = groups.member_emails(call.conn, group_id)
    return page([{"userEmail": email} for email in emails], None)


@routes.post(f"{GROUPS}/{{group_hash}}/users")
def add_group_users(call: Call) -> Reply:
    group = groups.get_group(call.conn, call.path_params["group_hash"])
    groups.require_group_manager(call.conn, call.caller, group)
    groups.add_members(call.conn, group, call.payload(GroupUsersPayload).user_emails)
    return Reply(200, _members_page(call, group["id"]))


@routes.post(f"{GROUPS}/{{group_hash}}/users/bulk-delete")
def remove_group_users(call: Call) -> Reply:
    group = groups.get_group(call.conn, call.path_params["group_hash"])
    groups.require_group_manager(call.conn, call.caller, group)
    groups.remove_members(call.conn, group, call.payload(GroupUsersPayload).user_emails)
    return NO_CONTENT


# --- organisation users ----------------------------------------------------------------------


@routes.get(USERS)
def list_org_users(call: Call) -> Reply:
    return Reply(200, page([org_user_json(row) for row in org.list_users(call.conn)], None))


@routes.post(USERS)
def add_org_user(call: Call) -> Reply:
    _require_org_admin(call, "adding organisation users")
    body = call.payload(AddOrganisationUserPayload)
    org.add_user(call.conn, body.email, body.role_mnemonic_name, body.member_type)
    return NO_CONTENT


@routes.delete(f"{USERS}/{{email:path}}")
def remove_org_user(call: Call) -> Reply:
    _require_org_admin(call, "removing organisation users")
    # The raw path keeps %2F inside an email encoded; percent-decode it once, never form-decode.
    email = unquote(call.raw_path.rsplit("/", 1)[1]) if call.raw_path else call.path_params["email"]
    org.remove_user(call.conn, email)
    return NO_CONTENT


@routes.get("/v2/public/user/bearer-token", write=True)
def bearer_token(call: Call) -> Reply:
    return Reply(200, {"token": org.new_token(call.conn, call.caller.user_id)})


# --- cloud integrations ----------------------------------------------------------------------


@routes.get("/v2/public/cloud-integrations")
def list_integrations(call: Call) -> Reply:
    rows = sync.list_integrations(
        call.conn, call.q_list("filterIntegrationUuids"), call.q_list("filterIntegrationTitles")
    )
    result = [{"integrationUuid": row["uuid"], "title": row["title"]} for row in rows]
    return Reply(200, {"result": result})


# --- metadata schema -------------------------------------------------------------------------


@routes.get(f"{SCHEMA}-v2")
def get_schema(call: Call) -> Reply:
    return Reply(200, org.metadata_schema(call.conn))


@routes.post(f"{SCHEMA}-v2")
def set_schema(call: Call) -> Reply:
    _require_org_admin(call, "setting the metadata schema")
    org.set_metadata_schema(call.conn, metadata.validate_schema(call.json()))
    return NO_CONTENT


@routes.get(SCHEMA)
def get_legacy_schema(call: Call) -> Reply:
    schema = org.metadata_schema(call.conn)
    if schema is None:
        return Reply(200, None)
    row = org.organisation(call.conn)
    return Reply(
        200,
        {
            "uuid": row["metadata_schema_uuid"],
            "metadataSchema": metadata.legacy_types(schema),
            "organisationId": row["id"],
            "createdAt": row["metadata_schema_created_at"],
            "updatedAt": row["metadata_schema_updated_at"],
        },
    )


@routes.post(SCHEMA)
def set_legacy_schema(call: Call) -> Reply:
    _require_org_admin(call, "setting the metadata schema")
    org.set_metadata_schema(call.conn, metadata.from_legacy(call.json()))
    return NO_CONTENT
