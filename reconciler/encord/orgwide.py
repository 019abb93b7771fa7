"""Organisation-wide listings: ``includeOrgAccess=True`` when the caller may ask for it.

The root folder listing, folder search and the dataset list show an organisation admin only
what it owns or was granted unless it sends ``includeOrgAccess=True``; anyone else gets 403
for asking. A reconciler run must see every folder and dataset it may touch (a root it cannot
see would be created a second time), so these lookups ask for organisation access, and a 403
settles, for the rest of the client's life, that this caller cannot have it on that route.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Literal, TypeVar

from reconciler.encord.errors import ForbiddenError
from reconciler.encord.session import Session

T = TypeVar("T")

AUTO: Literal["auto"] = "auto"
OrgAccess = bool | None | Literal["auto"]  # None: parameter left out (the SDK's default)


async def org_wide(
    session: Session,
    include: OrgAccess,
    route: str,
    attempt: Callable[[bool | None], Awaitable[T]],
) -> T:
    """Run ``attempt`` with ``includeOrgAccess`` as given, or, for ``AUTO``, with True unless
    this caller has been refused it on ``route`` (then False). Endpoints differ, so what a
    403 teaches is remembered per route."""
    if include != AUTO:
        return await attempt(include)
    if session.org_wide.get(route) is not False:
        try:
            return await attempt(True)
        except ForbiddenError:
            session.org_wide[route] = False
    return await attempt(False)


async def probe_org_wide(session: Session, first_page: Callable[[], Awaitable[object]]) -> bool:
    """Whether this caller may list the storage root organisation-wide (organisation admins
    only): one ``storage/folders`` page of one folder with ``includeOrgAccess=True``. A 403
    is remembered, so the reads that follow do not ask again."""
    if session.org_wide.get(_ROOT) is False:
        return False
    try:
        await first_page()
    except ForbiddenError:
        session.org_wide[_ROOT] = False
        return False
    return True


_ROOT = "storage/folders"
