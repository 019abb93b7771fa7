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
    prefix = addr.link(empty.title, "")
    unlinks = sorted(
        c.address for c in changes if c.actions == (Action.UNLINK,) and c.address.startswith(prefix)
    )
    if not unlinks:
        return None
    refusal = Refusal(
        code="selector-unlink",
        message=(
            f"{plural(len(unlinks), 'unlink')} from {addr.dataset(empty.title)} held back: a "
            f"selector that matches no item ({', '.join(empty.sources)}) must not decide what "
            "is unlinked. Fix the selector, or remove it if the dataset should really lose "
            "these links"
        ),
        addresses=tuple(unlinks),
        count=len(unlinks),
    )
    return Verdict(refusal, tuple(unlinks))
