"""The caller's view: a key that cannot see a folder must not read as "nothing is there".

A member key without grants lists no folders and no datasets, so every declared object looks
missing and a plan would create the organisation's tree a second time. The organisation-wide
listing (organisation admins only) is the one read that sees everything, so:

* a caller that is not an organisation admin is warned about, and so is each declared root
  not found while that listing is unavailable (it may exist, out of this key's sight);
* creating a top-level folder that such a caller does not see is refused unless ``--force``
  (``invisible-root``, in ``safety.invisible``): the folder may well exist, and apply would
  make a second one.

A plan whose caller is unknown (a live state read without one) gets neither.
"""

from __future__ import annotations

from reconciler.plan.context import Context


def limited(ctx: Context) -> bool:
    """The caller is known and is not an organisation admin."""
    caller = ctx.live.caller
    return caller is not None and caller.admin is False


def caller_warnings(ctx: Context) -> list[str]:
    caller = ctx.live.caller
    if caller is None or not limited(ctx):
        return []
    out = [
        f"the caller {caller.text()} is not an organisation admin: folders and datasets "
        "it has no access to are invisible to it and plan as missing"
    ]
    out += [
        f"declared root {root} is not visible to this caller, and the organisation-wide "
        "listing is not available to it: it may exist out of this key's sight"
        for root in ctx.live.missing_roots
    ]
    return out
