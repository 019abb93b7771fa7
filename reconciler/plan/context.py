"""What every stage of the diff reads: the inputs and the options, never a stage's output.
Internal to ``reconciler.plan``; the public entry point is ``diff``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler import __version__
from reconciler.model.compact import place_column
from reconciler.model.desired import OWNER_KEY, DesiredState
from reconciler.model.live import LiveFolder, LiveItem, LiveState, content_fingerprint
from reconciler.plan.resolve import Resolved, resolve


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
    * ``unsynced``: addresses of folders a stopped run created (or was creating) and never
      saw the cloud sync of started: a declared ``sync: on_create`` folder among them is
      synced now (else it would stay without its items for good).
    * ``sync_always``: plan the re-sync of every existing ``sync: always`` folder. Verify
      and drift plan without it: a routine re-sync is neither unfinished work nor drift.
    * ``takeover``: ``adopt: true`` may take an object from another ownership id
      (``reconciler.plan.safety.takeover``); recorded in the plan.
    * ``seal``: compute the plan's checksum. Plans nobody applies or saves (verification,
      a saved plan's re-check) skip it: at 100,000 changes it is a third of the planning CPU.
      Their ``checksum`` is ``""``.
    """

    force: bool = False
    only: tuple[str, ...] = ()
    item_roots: tuple[str, ...] | None = None
    created_at: str | None = None
    in_flight: tuple[tuple[str, str], ...] = ()
    unsynced: tuple[str, ...] = ()
    sync_always: bool = True
    takeover: bool = False
    tool_version: str = __version__
    seal: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class Context:
    """The planner's read-only inputs, shared by every stage.

    Stages never write here: each returns what it planned (``FolderPlan``, ``PrunePlan``,
    ...) and ``diff`` hands later stages what they need, so the data flow is in the
    signatures. ``items_by_parent`` is derived from ``live`` once (a million items).
    """

    desired: DesiredState
    live: LiveState
    resolved: Resolved
    options: DiffOptions
    roots: tuple[str, ...]
    items_by_parent: Mapping[str, list[LiveItem]] = field(default_factory=dict)  # folder uuid ->
    _link_counts: dict[str, int] = field(default_factory=dict)  # a cache, filled on first use

    @classmethod
    def build(cls, desired: DesiredState, live: LiveState, options: DiffOptions) -> Context:
        return cls(
            desired=desired,
            live=live,
            resolved=resolve(desired, live),
            options=options,
            roots=desired.roots(),
            items_by_parent=_items_by_parent(live),
        )

    def links_to(self, item_uuids: Iterable[str | None]) -> int:
        """How many dataset rows are backed by these items (what deleting them loses)."""
        counts = self._link_counts
        if not counts:
            for ds in self.live.datasets.values():
                for row in ds.rows:
                    if row.item_uuid is not None:
                        counts[row.item_uuid] = counts.get(row.item_uuid, 0) + 1
            counts[""] = 0  # no item has this UUID: marks the cache filled
        return sum(counts.get(u, 0) for u in item_uuids if u is not None)

    @property
    def owner(self) -> str:
        return self.desired.ownership.id

    def folder_owner(self, folder: LiveFolder) -> str | None:
        value = folder.metadata.get(OWNER_KEY)
        return value if isinstance(value, str) else None


def _items_by_parent(live: LiveState) -> dict[str, list[LiveItem]]:
    out: dict[str, list[LiveItem]] = {}
    items = list(live.items.values())
    # The parents a column at a time (one read per shared place, not a property per item)
    for item, parent in zip(items, place_column(items, "parent"), strict=True):
        bucket = out.get(parent)
        if bucket is None:
            out[parent] = [item]
        else:
            bucket.append(item)
    return out


def fingerprint_of(last_edited_at: str, view: Any) -> str:
    """``lastEditedAt`` when the API gave one, else a hash of what was read."""
    return last_edited_at or content_fingerprint(view)
