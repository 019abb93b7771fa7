"""Organisation tags on the wire (``organisation/organisation-tags``).

The SDK's ``OrganisationTag`` has only ``uuid`` and ``name`` and ignores other keys; a
server that also answers ``description`` lets the client read it (ownership lives there),
so it is optional here. There is no update route: a tag's name and description are set
when it is created.
"""

from __future__ import annotations

from uuid import UUID

from reconciler.wire.base import WireModel


class OrganisationTag(WireModel):
    uuid: UUID
    name: str
    description: str | None = None


class CreateOrganisationTagPayload(WireModel):
    name: str
    description: str | None = None  # the SDK leaves it out when None
