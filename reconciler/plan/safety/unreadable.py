"""``unreadable-metadata``: objects whose live metadata could not be read are never given
new metadata. Withholds.

A server may answer a folder's or an item's ``clientMetadata`` with text that is not a JSON
object (broken, truncated, hostile). Read as empty, a rule would diff against ``{}`` and its
patch would replace the whole object with only the declared keys, and the ownership marker
would read as absent. So the live reader marks such objects (``metadata_unreadable``) and
every change that writes their metadata is withheld, all under one refusal.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import compress

from reconciler.model import addresses as addr
from reconciler.model.compact import place_column, place_values
from reconciler.plan.context import Context
from reconciler.plan.model import Change, Refusal
from reconciler.plan.safety.verdicts import Facts, Verdict
from reconciler.printable import printable
from reconciler.words import plural

_SHOWN = 3


def _unreadable(ctx: Context) -> frozenset[str]:
    folders = (u for u, f in ctx.live.folders.items() if f.metadata_unreadable)
    live = ctx.live.items
    # Asked of the items' places first (a handful), as this runs at the plan's peak: the
    # columns below are two lists of a million entries (24 bytes an item) when built.
    if True not in place_values(live.values(), "metadata_unreadable"):
        return frozenset(folders)
    items = list(live.values())
    flags = place_column(items, "metadata_unreadable")  # not a property call per item
    return frozenset((*folders, *compress(live, flags)))  # keys: the uuids


def _writes_metadata(change: Change) -> bool:
    if change.kind not in (addr.Kind.FOLDER, addr.Kind.ITEM) or change.before is None:
        return False
    return "metadata" in change.changed_fields()


def withhold_unreadable_metadata(facts: Facts, changes: Sequence[Change]) -> list[Verdict]:
    unreadable = _unreadable(facts.ctx)
    if not unreadable:
        return []
    hits = [c.address for c in changes if c.refs.uuid in unreadable and _writes_metadata(c)]
    if not hits:
        return []
    shown = ", ".join(printable(a) for a in hits[:_SHOWN])
    more = f" and {len(hits) - _SHOWN} more" if len(hits) > _SHOWN else ""
    refusal = Refusal(
        code="unreadable-metadata",
        message=(
            f"{plural(len(hits), 'metadata change')} held back ({shown}{more}): Encord "
            "returned clientMetadata that is not a JSON object for these objects, and "
            "writing would replace what could not be read; fix or clear their metadata "
            "in Encord and plan again"
        ),
        addresses=tuple(hits),
        count=len(hits),
    )
    return [Verdict(refusal, tuple(hits))]
