"""The one list of filters, and the one place they are applied (``screen``)."""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.model.globs import compile_glob
from reconciler.plan.model import Change, Refusal
from reconciler.plan.order import only
from reconciler.plan.safety.admins import withhold_lost_admin
from reconciler.plan.safety.ambiguity import withhold_ambiguous
from reconciler.plan.safety.indexed_folders import withhold_folders_with_collections
from reconciler.plan.safety.invisible import refuse_invisible_roots
from reconciler.plan.safety.listing import withhold_unsafe_listing
from reconciler.plan.safety.ownership import withhold_foreign
from reconciler.plan.safety.protect import withhold_protected
from reconciler.plan.safety.replacements import refuse_replacements
from reconciler.plan.safety.selectors import withhold_selector_unlinks
from reconciler.plan.safety.takeover import withhold_takeover
from reconciler.plan.safety.thresholds import refuse_thresholds
from reconciler.plan.safety.unlinks import refuse_unlinks
from reconciler.plan.safety.unreadable import withhold_unreadable_metadata
from reconciler.plan.safety.unsupported import withhold_unsupported
from reconciler.plan.safety.users import (
    refuse_reroles,
    refuse_user_removals,
    withhold_min_admins,
    withhold_self,
)
from reconciler.plan.safety.verdicts import Facts, Filter, Withholding

# In order. A change withheld by an earlier filter is not seen by a later one (so the first
# reason explains it); the ownership filter precedes ``unsupported`` so that a foreign
# dataset is explained as foreign; ``takeover`` precedes it, so that an adoption without
# --takeover says how to take the object over; ``min-admins`` precedes ``require-self``,
# which withholds every admin's removal when the caller's email is unknown (where
# ``user/current`` is not served and there are several admins). Withholding filters all run before refusing ones.
FILTERS: tuple[Filter, ...] = (
    Filter("selector-unlinks", "withhold", withhold_selector_unlinks),
    Filter("ambiguous", "withhold", withhold_ambiguous),
    Filter("takeover", "withhold", withhold_takeover),
    Filter("foreign", "withhold", withhold_foreign),
    Filter("protected", "withhold", withhold_protected),
    Filter("collections-inside", "withhold", withhold_folders_with_collections),
    Filter("unsupported", "withhold", withhold_unsupported),
    Filter("unreadable-metadata", "withhold", withhold_unreadable_metadata),
    Filter("lost-admin", "withhold", withhold_lost_admin),
    Filter("min-admins", "withhold", withhold_min_admins),
    Filter("require-self", "withhold", withhold_self),
    Filter("unsafe-listing", "withhold", withhold_unsafe_listing),
    Filter("replacements", "refuse", refuse_replacements),
    Filter("thresholds", "refuse", refuse_thresholds),
    Filter("unlinks", "refuse", refuse_unlinks),
    Filter("invisible-roots", "refuse", refuse_invisible_roots),
    Filter("user-removals", "refuse", refuse_user_removals),
    Filter("user-rerole", "refuse", refuse_reroles),
)


def screen(
    facts: Facts, changes: Sequence[Change], patterns: tuple[str, ...] = ()
) -> tuple[list[Change], list[Refusal]]:
    """The changes that stay in the plan, and every refusal, in filter order.

    Withholding filters see the whole plan, so a withheld change takes everything that
    depends on it along, whatever ``--only`` (``patterns``) keeps; refusing filters see
    what ``--only`` keeps, so thresholds count what apply would do.
    """
    held = Withholding()
    left = changes  # made again only when something was withheld (a pass over every change)
    for f in FILTERS:
        if f.verb == "withhold":
            before = len(held.reasons)
            for verdict in f(facts, left):
                held.add(verdict.refusal, verdict.withholds)
            if len(held.reasons) > before:
                held.cascade(changes)
                left = held.left(changes)
    left, refusals = held.finish(changes)
    kept = only(left, patterns)
    refusals = relevant(refusals, kept, patterns)
    for f in FILTERS:
        if f.verb == "refuse":
            refusals += [verdict.refusal for verdict in f(facts, kept)]
    return kept, refusals


def relevant(
    refusals: list[Refusal], kept: Sequence[Change], patterns: tuple[str, ...]
) -> list[Refusal]:
    """With ``--only``, keep the refusals about what is left (and the global ones)."""
    if not patterns:
        return refusals
    globs = [compile_glob(p) for p in patterns]
    addresses = {c.address for c in kept}
    return [
        r
        for r in refusals
        if not r.addresses
        or any(a in addresses or any(g.match(a) for g in globs) for a in r.addresses)
    ]
