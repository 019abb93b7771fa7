"""Who the credentials act as.

The API answers it directly: ``GET user/current`` gives the caller's email (the SDK's
generated ``api_user_get_current_user``). Two listings the API documents add the rest:

* the organisation-wide root listing (``includeOrgAccess=True``) is open to organisation
  admins only and answers 403 to anyone else, which settles whether the caller is an admin;
* the organisation users listing gives every member's email and role (the caller's role).

Where ``user/current`` is not served (a deployment older than the call), the caller is one
of the listed members whose role agrees with the first answer (``ADMIN`` when the wide
listing was granted, any other role when not). When exactly one member fits, that member is
the caller; otherwise the email stays unknown and is never guessed (an organisation with two
admins cannot tell them apart this way, and ``require-self`` then holds back every admin's
removal).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from reconciler.encord import EncordClient, ForbiddenError, NotFoundError
from reconciler.live.tasks import task_group
from reconciler.model.live import Caller, LiveUser

logger = logging.getLogger(__name__)

ADMIN_ROLE = "ADMIN"


async def read_caller(client: EncordClient) -> Caller:
    """The caller as far as the API lets it be known (see the module docstring)."""
    async with task_group() as group:
        probe = group.create_task(client.org_wide_listing())
        listing = group.create_task(_members(client))
        own = group.create_task(_own_email(client))
    return identify(probe.result(), listing.result(), own.result())


async def _own_email(client: EncordClient) -> str | None:
    try:
        return (await client.users.current()).user_email
    except (ForbiddenError, NotFoundError) as error:
        logger.info("caller: user/current was refused: %s", error)
        return None


async def _members(client: EncordClient) -> list[LiveUser] | None:
    try:
        listed = await client.users.list_all()
    except (ForbiddenError, NotFoundError) as error:
        logger.info("caller: the organisation users listing was refused: %s", error)
        return None
    return [LiveUser(email=u.email, role=u.role_mnemonic_name) for u in listed]


def identify(admin: bool, users: Iterable[LiveUser] | None, email: str | None = None) -> Caller:
    """The caller: ``email`` (from ``user/current``) with its listed role; without it, the
    one listed member whose role fits ``admin``, or a caller without an email."""
    if email is not None:
        roles = [u.role for u in users or () if u.email.lower() == email.lower()]
        role = roles[0] if roles else (ADMIN_ROLE if admin else None)
        return Caller(email=email, role=role, admin=admin)
    fits = [u for u in users or () if (u.role == ADMIN_ROLE) == admin]
    if len(fits) == 1:
        return Caller(email=fits[0].email, role=fits[0].role, admin=admin)
    return Caller(admin=admin, role=ADMIN_ROLE if admin else None)
