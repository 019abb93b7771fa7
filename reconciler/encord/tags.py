"""Organisation tags: list, create, delete (there is no update call).

Creating a tag is not idempotent and names are unique, so a resent create that took effect
answers 409: after an ambiguous failure the client lists the tags to learn whether the first
attempt made it.
"""

from __future__ import annotations

from uuid import UUID

from reconciler.encord.calls import Done, Recovery, V2Call, json_body, uuid_text
from reconciler.encord.paging import collect, ignore, parser
from reconciler.encord.session import Session
from reconciler.wire.tags import CreateOrganisationTagPayload, OrganisationTag

ROUTE = "organisation/organisation-tags"
_ORG = "the organisation"
_ADMIN = "admin on"


class TagsAPI:
    def __init__(self, session: Session) -> None:
        self._session = session

    async def list_all(self) -> list[OrganisationTag]:
        """Every tag of the organisation (the SDK reads one page; this follows the token)."""

        def make(token: str | None) -> V2Call:
            return V2Call("GET", ROUTE, ROUTE, query=(("pageToken", token),), subject=_ORG)

        return await collect(self._session, make, OrganisationTag)

    async def create(self, name: str, description: str | None = None) -> OrganisationTag:
        """Create a tag (organisation admins only; 409 ``ConflictError`` on a taken name)."""
        payload = CreateOrganisationTagPayload(name=name, description=description)
        call = V2Call(
            "POST",
            ROUTE,
            ROUTE,
            body=json_body(payload.to_request()),
            subject=f"organisation tag {name!r}",
            needs=_ADMIN,
            idempotent=False,
        )

        async def check() -> Done[OrganisationTag] | None:
            found = [t for t in await self.list_all() if t.name == name]
            return Done(found[0]) if found else None

        recovery = Recovery(check, before_resend=True)
        return await self._session.call(call, parser(OrganisationTag, ROUTE), recovery=recovery)

    async def delete(self, tag: UUID | str) -> None:
        """Delete a tag; it is detached from every project and folder that carries it."""
        tid = uuid_text(tag)
        call = V2Call(
            "DELETE",
            f"{ROUTE}/{tid}",
            f"{ROUTE}/{{tag_uuid}}",
            body=b"",
            subject=f"organisation tag {tid}",
            needs=_ADMIN,
        )

        async def gone() -> Done[None] | None:
            listed = {str(t.uuid) for t in await self.list_all()}
            return None if tid in listed else Done(None)

        await self._session.call(call, ignore, recovery=Recovery(gone, before_resend=False))
