"""What every part of the diff shares: inputs, options, the projected tree, and the outputs
collected so far. Internal to ``reconciler.plan``; the public entry point is ``diff``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler import __version__
from reconciler.errors import Diagnostic
from reconciler.model.desired import OWNER_KEY, DesiredState
from reconciler.model.live import LiveFolder, LiveItem, LiveState, content_fingerprint
from reconciler.plan.model import Change, Deferral, Refusal, RefusalCode
from reconciler.plan.resolve import Resolved
from reconciler.plan.tree import Tree


@dataclass(frozen=True, slots=True, kw_only=True)
class DiffOptions:
    """How to plan.

    * ``force``: record that refusals were overridden (``can_apply`` then allows the plan);
      withheld changes stay out regardless.
    * ``only``: address globs; keep matching changes and what they depend on.
    * ``item_roots``: plan item-level changes (metadata, item moves, links, unlinks) only for
      items under these folders. Apply uses it to re-plan what a cloud sync created.
    * ``created_at``: timestamp recorded in the plan (the planner reads no clock).
    * ``in_flight``: ``(uuid, address)`` of steps a stopped run sent and never acknowledged
      (its journal's intents): a folder moving to a declared path is known by its UUID
      wherever it is now, and is never pruned.
    """

    force: bool = False
    only: tuple[str, ...] = ()
    item_roots: tuple[str, ...] | None = None
    created_at: str | None = None
    in_flight: tuple[tuple[str, str], ...] = ()
    tool_version: str = __version__


@dataclass(slots=True)
class Context:
    desired: DesiredState
    live: LiveState
    resolved: Resolved
    options: DiffOptions
    tree: Tree
    roots: tuple[str, ...]
    changes: list[Change] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)
    deferred: list[Deferral] = field(default_factory=list)
    unmanaged: list[str] = field(default_factory=list)
    problems: list[Diagnostic] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # one line each, in the plan as is
    blocked: dict[str, tuple[RefusalCode, str]] = field(default_factory=dict)  # subtree -> why
    synced_on_create: list[str] = field(default_factory=list)  # folder paths
    replaced: dict[str, str] = field(default_factory=dict)  # desired path -> old folder uuid
    resumed_moves: dict[str, str] = field(default_factory=dict)  # half-moved uuid -> previously
    desired_meta: dict[str, Mapping[str, Any]] = field(default_factory=dict)  # item uuid -> md
    items_by_parent: dict[str, list[LiveItem]] = field(default_factory=dict)  # folder uuid ->
    _link_counts: dict[str, int] | None = None

    def links_to(self, item_uuids: Iterable[str | None]) -> int:
        """How many dataset rows are backed by these items (what deleting them loses)."""
        if self._link_counts is None:
            counts: dict[str, int] = {}
            for ds in self.live.datasets.values():
                for row in ds.rows:
                    if row.item_uuid is not None:
                        counts[row.item_uuid] = counts.get(row.item_uuid, 0) + 1
            self._link_counts = counts
        return sum(self._link_counts.get(u, 0) for u in item_uuids if u is not None)

    @property
    def owner(self) -> str:
        return self.desired.ownership.id

    def folder_owner(self, folder: LiveFolder) -> str | None:
        value = folder.metadata.get(OWNER_KEY)
        return value if isinstance(value, str) else None


def fingerprint_of(last_edited_at: str, view: Any) -> str:
    """``lastEditedAt`` when the API gave one, else a hash of what was read."""
    return last_edited_at or content_fingerprint(view)
