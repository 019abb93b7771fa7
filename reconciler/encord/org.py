"""Organisation-level objects: groups and their members, organisation users, cloud
integrations and the client-metadata schema.

Creating a group and adding an organisation user are not idempotent (a resent create makes a
second group of the same name; a resent add answers 409). After an ambiguous failure the
client reads the groups or users to learn whether the first attempt took effect.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote
from uuid import UUID

from reconciler.encord.calls import Done, Recovery, V2Call, json_body, uuid_text
from reconciler.encord.errors import NotFoundError, ResponseError
from reconciler.encord.orgwide import OrgAccess, org_wide
from reconciler.encord.paging import collect, ignore, one_page, parser
from reconciler.encord.responses import json_value
from reconciler.encord.session import Session
from reconciler.wire.base import ResultList
from reconciler.wire.enums import MEMBER_TYPES, ORGANISATION_ROLES
from reconciler.wire.org import (
    AddOrganisationUserPayload,
    CloudIntegration,
    CreateGroupPayload,
    CurrentUser,
    Group,
    GroupUser,
    GroupUsersPayload,
    MetadataSchemaV2,
    OrganisationUser,
    UpdateGroupPayload,
)

CLOCK_TOLERANCE = timedelta(minutes=5)
_ADMIN = "admin on"
_ORG = "the organisation"

Check = Callable[[], Awaitable[Done[None] | None]]


class GroupsAPI:
    def __init__(self, session: Session) -> None:
        self._session = session

    async def list_all(self) -> list[Group]:
        """The organisation's groups (``GET user/current-organisation/groups``)."""

        def make(token: str | None) -> V2Call:
            route = "user/current-organisation/groups"
            return V2Call("GET", route, route, query=(("pageToken", token),), subject=_ORG)

        return await collect(self._session, make, Group)

    async def create(self, name: str, description: str = "") -> Group:
        """Create a group; ``description`` is always sent (``""`` by default, as the SDK)."""
        call = V2Call(
            "POST",
            "organisation/groups",
            "organisation/groups",
            body=json_body(CreateGroupPayload(name=name, description=description).to_request()),
            subject=_ORG,
            needs=_ADMIN,
            idempotent=False,
        )
        since = datetime.now(UTC) - CLOCK_TOLERANCE

        async def check() -> Done[Group] | None:
            fresh = [g for g in await self.list_all() if g.name == name and g.created_at >= since]
            newest = max(fresh, key=lambda g: g.created_at, default=None)
            return Done(newest) if newest is not None else None

        recovery = Recovery(check, before_resend=True)
        return await self._session.call(call, parser(Group, call.route), recovery=recovery)

    async def get(self, group: UUID | str) -> Group:
        gid = uuid_text(group)
        call = V2Call(
            "GET",
            f"organisation/groups/{gid}",
            "organisation/groups/{group_hash}",
            subject=f"group {gid}",
        )
        return await self._session.call(call, parser(Group, call.route))

    async def update(
        self, group: UUID | str, *, name: str | None = None, description: str | None = None
    ) -> Group:
        """Change name and/or description (a field left None is not sent, so never cleared)."""
        if name is None and description is None:
            raise ValueError("update needs a name or a description")
        gid = uuid_text(group)
        call = V2Call(
            "PATCH",
            f"organisation/groups/{gid}",
            "organisation/groups/{group_hash}",
            body=json_body(UpdateGroupPayload(name=name, description=description).to_request()),
            subject=f"group {gid}",
            needs=_ADMIN,
        )
        return await self._session.call(call, parser(Group, call.route))

    async def delete(self, group: UUID | str) -> None:
        gid = uuid_text(group)
        call = V2Call(
            "DELETE",
            f"organisation/groups/{gid}",
            "organisation/groups/{group_hash}",
            body=b"",
            subject=f"group {gid}",
            needs=_ADMIN,
        )
        recovery = Recovery(self._gone(gid), before_resend=False)
        await self._session.call(call, ignore, recovery=recovery)

    def _gone(self, gid: str) -> Check:
        async def check() -> Done[None] | None:
            try:
                await self.get(gid)
            except NotFoundError:
                return Done(None)
            return None

        return check

    async def list_members(self, group: UUID | str) -> list[str]:
        gid = uuid_text(group)

        def make(token: str | None) -> V2Call:
            return V2Call(
                "GET",
                f"organisation/groups/{gid}/users",
                "organisation/groups/{group_hash}/users",
                query=(("pageToken", token),),
                subject=f"group {gid}",
            )

        return [u.user_email for u in await collect(self._session, make, GroupUser)]

    async def add_members(self, group: UUID | str, emails: Iterable[str]) -> list[str]:
        """Add organisation members to a group; returns the whole membership afterwards."""
        gid = uuid_text(group)
        call = V2Call(
            "POST",
            f"organisation/groups/{gid}/users",
            "organisation/groups/{group_hash}/users",
            body=json_body(GroupUsersPayload(user_emails=list(emails)).to_request()),
            subject=f"group {gid}",
            needs=_ADMIN,
        )
        return [u.user_email for u in await one_page(self._session, call, GroupUser)]

    async def remove_members(self, group: UUID | str, emails: Iterable[str]) -> None:
        """Remove members; emails not in the group are ignored by the server."""
        gid = uuid_text(group)
        call = V2Call(
            "POST",
            f"organisation/groups/{gid}/users/bulk-delete",
            "organisation/groups/{group_hash}/users/bulk-delete",
            body=json_body(GroupUsersPayload(user_emails=list(emails)).to_request()),
            subject=f"group {gid}",
            needs=_ADMIN,
        )
        await self._session.call(call, ignore)


class UsersAPI:
    """Organisation members. There is no role update: remove, then add."""

    def __init__(self, session: Session) -> None:
        self._session = session

    async def list_all(self) -> list[OrganisationUser]:
        def make(token: str | None) -> V2Call:
            route = "organisation/users"
            return V2Call("GET", route, route, query=(("pageToken", token),), subject=_ORG)

        return await collect(self._session, make, OrganisationUser)

    async def current(self) -> CurrentUser:
        """The user these credentials act as (``GET user/current``)."""
        call = V2Call("GET", "user/current", "user/current", subject="the caller")
        return await self._session.call(call, parser(CurrentUser, call.route))

    async def add(self, email: str, *, role: str, member_type: str = "internal") -> None:
        """Add a member (409 ``ConflictError`` when already one)."""
        if role not in ORGANISATION_ROLES or member_type not in MEMBER_TYPES:
            raise ValueError(
                f"role must be one of {ORGANISATION_ROLES}, type one of {MEMBER_TYPES}"
            )
        payload = AddOrganisationUserPayload(
            email=email, role_mnemonic_name=role, member_type=member_type
        )
        call = V2Call(
            "POST",
            "organisation/users",
            "organisation/users",
            body=json_body(payload.to_request()),
            subject=_ORG,
            needs=_ADMIN,
            idempotent=False,
        )
        recovery = Recovery(self._present(email, present=True), before_resend=True)
        await self._session.call(call, ignore, recovery=recovery)

    async def remove(self, email: str) -> None:
        """Remove a member; the email is one percent-encoded path segment (``safe=""``)."""
        call = V2Call(
            "DELETE",
            f"organisation/users/{quote(email, safe='')}",
            "organisation/users/{email:path}",
            body=b"",
            subject=f"user {email}",
            needs=_ADMIN,
        )
        recovery = Recovery(self._present(email, present=False), before_resend=False)
        await self._session.call(call, ignore, recovery=recovery)

    def _present(self, email: str, *, present: bool) -> Check:
        async def check() -> Done[None] | None:
            emails = {u.email.lower() for u in await self.list_all()}
            return Done(None) if (email.lower() in emails) == present else None

        return check


class IntegrationsAPI:
    def __init__(self, session: Session) -> None:
        self._session = session

    async def list_all(
        self,
        *,
        uuids: Iterable[UUID | str] = (),
        titles: Iterable[str] = (),
        include_org_access: OrgAccess = False,
    ) -> list[CloudIntegration]:
        """Cloud integrations (an unpaged ``{"result": [...]}`` answer)."""
        ids, names = [uuid_text(u) for u in uuids], list(titles)

        async def listed(org: bool | None) -> list[CloudIntegration]:
            query = (
                ("filterIntegrationUuids", ids),
                ("filterIntegrationTitles", names),
                ("includeOrgAccess", org),
            )
            route = "cloud-integrations"
            call = V2Call("GET", route, route, query=query, subject=_ORG)
            answer = await self._session.call(call, parser(ResultList[CloudIntegration], route))
            return answer.result

        return await org_wide(self._session, include_org_access, "cloud-integrations", listed)


class MetadataSchemaAPI:
    """The organisation's client-metadata schema (v2): key → snake_case descriptor."""

    def __init__(self, session: Session) -> None:
        self._session = session

    async def get(self) -> MetadataSchemaV2 | None:
        """The schema, or None when the organisation has none."""
        route = "organisation/client-metadata-schema-v2"
        call = V2Call("GET", route, route, subject=_ORG)
        return await self._session.call(call, _schema(route))

    async def set(self, schema: Mapping[str, Mapping[str, Any]]) -> None:
        """Replace the whole schema (keys left out are dropped by the server)."""
        route = "organisation/client-metadata-schema-v2"
        body = {key: dict(descriptor) for key, descriptor in schema.items()}
        call = V2Call("POST", route, route, body=json_body(body), subject=_ORG, needs=_ADMIN)
        await self._session.call(call, ignore)


def _schema(route: str) -> Callable[[Any], MetadataSchemaV2 | None]:
    def parse(value: Any) -> MetadataSchemaV2 | None:
        value = json_value(value)
        if value is None:
            return None
        if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
            raise ResponseError(f"{route}: expected a map of key to descriptor")
        return value

    return parse
