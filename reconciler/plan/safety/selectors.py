"""``selector-unlink``: a selector that matches no item must not decide what is unlinked.
The unlinks of a dataset with such a selector (``Facts.empty_selectors``, found by
``check_selectors``) are withheld."""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.model import addresses as addr
from reconciler.plan.actions import Action
from reconciler.plan.model import Change, Refusal
from reconciler.plan.safety.verdicts import EmptySelectors, Facts, Verdict
from reconciler.words import plural


def withhold_selector_unlinks(facts: Facts, changes: Sequence[Change]) -> list[Verdict]:
    return [v for empty in facts.empty_selectors if (v := _verdict(empty, changes))]


def _verdict(empty: EmptySelectors, changes: Sequence[Change]) -> Verdict | None:
    collection = empty.kind == addr.Kind.COLLECTION
    prefix = (addr.collection_item if collection else addr.link)(empty.title, "")
    owner = (addr.collection if collection else addr.dataset)(empty.title)
    what = ("removal", "is removed", "items") if collection else ("unlink", "is unlinked", "links")
    unlinks = sorted(
        c.address for c in changes if c.actions == (Action.UNLINK,) and c.address.startswith(prefix)
    )
    if not unlinks:
        return None
    refusal = Refusal(
        code="selector-unlink",
        message=(
            f"{plural(len(unlinks), what[0])} from {owner} held back: a "
            f"selector that matches no item ({', '.join(empty.sources)}) must not decide what "
            f"{what[1]}. Fix the selector, or remove it if the {owner.split(':')[0]} should "
            f"really lose these {what[2]}"
        ),
        addresses=tuple(unlinks),
        count=len(unlinks),
    )
    return Verdict(refusal, tuple(unlinks))
