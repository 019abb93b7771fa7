"""What a filter sees (``Facts``, the changes still in the plan), what it says (``Verdict``),
and how withheld changes take what depends on them along (``Withholding``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from reconciler.plan.actions import Action
from reconciler.plan.context import Context
from reconciler.plan.folder_moves import Withheld
from reconciler.plan.model import Change, Refusal
from reconciler.plan.tree import Tree

Verb = Literal["withhold", "refuse"]


@dataclass(frozen=True, slots=True)
class EmptySelectors:
    """A dataset (or, with ``kind`` collection, an Index collection) whose selectors
    (``sources``) match no item: its unlinks (its removals) are withheld."""

    title: str
    sources: tuple[str, ...]
    kind: str = "dataset"


@dataclass(frozen=True, slots=True)
class Facts:
    """What the filters judge the changes by: the inputs and the stages' outputs.

    * ``tree``: the projected folder tree (``FolderPlan.tree``).
    * ``subtrees``: subtrees the folder stage withheld (``FolderPlan.withheld``).
    * ``replaced``: desired path -> UUID of the folder replaced (``FolderPlan.replaced``).
    * ``deleted``: live folders the plan deletes (folder and prune stages).
    * ``empty_selectors``: datasets with a selector matching nothing (``check_selectors``).
    """

    ctx: Context
    tree: Tree
    subtrees: tuple[Withheld, ...] = ()
    replaced: Mapping[str, str] = field(default_factory=dict)
    deleted: frozenset[str] = frozenset()
    empty_selectors: tuple[EmptySelectors, ...] = ()


@dataclass(frozen=True, slots=True)
class Verdict:
    """One filter's finding: a refusal, and the addresses it withholds. A withholding
    filter's refusal has ``withheld=True`` (and may name no address: the explanation of
    what a stage did not plan); a refusing filter's has ``withheld=False`` and withholds
    nothing."""

    refusal: Refusal
    withholds: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Filter:
    """A named check over the changes still in the plan; ``verb`` says what its verdicts do."""

    name: str
    verb: Verb
    check: Callable[[Facts, Sequence[Change]], list[Verdict]]

    def __call__(self, facts: Facts, changes: Sequence[Change]) -> list[Verdict]:
        verdicts = self.check(facts, changes)
        for v in verdicts:
            if v.refusal.withheld != (self.verb == "withhold") or (
                v.withholds and not v.refusal.withheld
            ):
                raise AssertionError(f"safety filter {self.name} gave a verdict it may not give")
        return verdicts


@dataclass(slots=True)
class Withholding:
    """Withheld addresses, each mapped to the index of the refusal that explains it."""

    refusals: list[Refusal] = field(default_factory=list)
    reasons: dict[str, int] = field(default_factory=dict)

    def add(self, refusal: Refusal, addresses: Iterable[str]) -> None:
        self.refusals.append(refusal)
        index = len(self.refusals) - 1
        for address in addresses:
            self.reasons.setdefault(address, index)

    def left(self, changes: Sequence[Change]) -> Sequence[Change]:
        """The changes not withheld."""
        if not self.reasons:
            return changes
        return [c for c in changes if c.address not in self.reasons]

    def cascade(self, changes: Sequence[Change]) -> None:
        """Withhold what depends on a withheld change, and the content deletes of a withheld
        delete or replacement (a folder's subtree is deleted as one unit or not at all)."""
        by_address = {c.address: c for c in changes}
        grew = True
        while grew:
            grew = False
            for change in changes:
                index = self.reasons.get(change.address)
                if index is None:
                    for dep in change.depends_on:
                        if dep in self.reasons:
                            self.reasons[change.address] = self.reasons[dep]
                            grew = True
                            break
                elif Action.DELETE in change.actions:
                    for dep in change.depends_on:
                        found = by_address.get(dep)
                        if found is not None and found.is_delete and dep not in self.reasons:
                            self.reasons[dep] = index
                            grew = True

    def finish(self, changes: Sequence[Change]) -> tuple[list[Change], list[Refusal]]:
        """The changes left, and each refusal naming everything it withheld."""
        named: dict[int, list[str]] = {}
        for address, index in self.reasons.items():
            named.setdefault(index, []).append(address)
        out = []
        for index, refusal in enumerate(self.refusals):
            withheld = sorted(named.get(index, ()))
            shown = [a for a in withheld if not a.startswith("item:")] or withheld
            out.append(
                replace(
                    refusal,
                    addresses=tuple(sorted(set(refusal.addresses) | set(shown))),
                    count=len(withheld),
                )
            )
        return [c for c in changes if c.address not in self.reasons], out
