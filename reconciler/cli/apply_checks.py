"""What apply re-checks on the live state it has just read, before it writes anything.

* An incomplete read (a 403 or 404 on part of the scope) makes missing objects look absent:
  a plan made from it creates what exists out of the key's sight, and a saved plan checked
  against it cannot be vouched for. ``plan`` exits 1 on such a read; apply refuses to run on
  one, both with a fresh plan and with a saved one, unless ``--force`` (and even then the
  ``listing-guard`` filter withholds every destructive change: forcing never brings those back).
* A saved plan may create a top-level folder that the key applying it cannot see
  (``invisible-root``): made by an admin, applied with a member's key, it would make a second
  folder of that name. The fresh plan's refusal covers it; the saved plan must not slip past.
"""

from __future__ import annotations

from reconciler.model.live import LiveState
from reconciler.plan import Plan
from reconciler.plan.actions import Action
from reconciler.printable import printable
from reconciler.words import plural

_SHOWN = 3  # problems named in the one line; the rest are counted


def incomplete_read_line(live: LiveState) -> str | None:
    """The one-line refusal for an incomplete read, or None when the read was complete."""
    if live.complete:
        return None
    shown = "; ".join(printable(p) for p in live.problems[:_SHOWN])
    more = len(live.problems) - _SHOWN
    if more > 0:
        shown += f" and {plural(more, 'more problem')}"
    why = shown or "a page or a subtree could not be read"
    return (
        f"the organisation could not be read completely ({why}): what could not be read may "
        "exist, so creating from this read could make duplicates; nothing was applied; check "
        "the key's access and run again, or pass --force to apply all but destructive changes"
    )


def invisible_creates(saved: Plan, fresh: Plan) -> list[str]:
    """Addresses ``saved`` creates that the fresh plan refuses as ``invisible-root``, unless
    the saved plan itself was forced past that same refusal (its reviewer accepted it)."""
    accepted = {
        a
        for r in saved.refusals
        if r.code == "invisible-root" and saved.forced
        for a in r.addresses
    }
    refused = {a for r in fresh.refusals if r.code == "invisible-root" for a in r.addresses}
    created = {c.address for c in saved.changes if Action.CREATE in c.actions}
    return sorted((created & refused) - accepted)


def invisible_creates_line(addresses: list[str], fresh: Plan) -> str:
    caller = fresh.caller.text() if fresh.caller is not None else "this key"
    shown = ", ".join(printable(a) for a in addresses[:_SHOWN])
    more = f" and {len(addresses) - _SHOWN} more" if len(addresses) > _SHOWN else ""
    return (
        f"the saved plan creates top-level folders that {caller} cannot see whether they "
        f"exist ({shown}{more}): it cannot list the whole organisation, and applying could "
        "make a second folder of that name; nothing was applied; apply with an organisation "
        "admin's key, or pass --force if the folders really do not exist"
    )
