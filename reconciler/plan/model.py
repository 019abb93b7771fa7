"""The plan as a value: ``Change``, ``Refs``, ``Refusal``, ``Deferral``, ``Summary``, ``Plan``.

Slotted frozen dataclasses rather than pydantic: a plan over a million items may hold a
hundred thousand changes. Build plans with ``reconciler.plan.diff``; never construct or edit
one by hand and apply it (the checksum would not match what was reviewed).
"""

from __future__ import annotations

from collections.abc import ItemsView, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any, Literal

from reconciler.kinds.payload import Payload
from reconciler.model.addresses import Kind
from reconciler.model.live import Caller
from reconciler.plan.actions import Action, is_delete, is_replace
from reconciler.plan.cost import Cost
from reconciler.plan.refs import REF_FIELDS as REF_FIELDS
from reconciler.plan.refs import Refs as Refs

FORMAT_VERSION = 1
DiffOp = Literal["add", "remove", "change"]


@dataclass(frozen=True, slots=True)
class FieldDiff:
    """One field that differs. ``path`` is a list of keys (``("metadata", "qa.score")``);
    ``before`` is None for ``add`` and ``after`` is None for ``remove``."""

    path: tuple[str | int, ...]
    op: DiffOp
    before: Any = None
    after: Any = None


@dataclass(frozen=True, slots=True)
class Change:
    """One thing apply will do to one address.

    Invariants:

    * ``actions`` is non-empty and ordered as apply performs them: ``("move", "patch")``,
      ``("delete", "create", "sync")`` for a replacement, ``("revoke", "grant")`` for a role
      the API cannot update in place. A move is never an action on its own address pair:
      the change's ``address`` is the desired one and ``previous_address`` the live one.
    * ``before`` is the canonical live view (None for a create); ``after`` the canonical
      desired view (None for a delete); both are the kind's typed payload
      (``reconciler.kinds``: ``FolderPayload``, ``ItemPayload``, …), whose ``encode`` is
      the plan JSON. For a patch, ``after`` holds the COMPLETE value of each changed field
      (metadata included: the API replaces metadata wholesale), and ``diff`` names the
      changed fields; apply writes ``after``'s field ``f`` for each top-level field ``f`` in
      ``changed_fields()`` and nothing else.
    * ``fingerprint`` is what the live object looked like when read (``lastEditedAt`` or a
      content hash); apply refuses to touch the object if it no longer matches.
    * ``reason`` is display-only. Never branch on it.
    * ``source`` is the ``file:line`` that caused the change (``None`` for prune deletes of
      undeclared objects, which the policy in ``reconciler.yaml`` causes).
    * ``depends_on`` names changes that must succeed first, whatever their phase: parents
      are created before children, content is deleted before its folder, and anything placed
      under a moved folder waits for the move (so it is withheld with it).
    * Addresses are unique within a plan. Where two live objects would share one (items with
      one path inside a deleted folder, the old content of a replaced folder whose path is
      declared again) the address carries ``#<uuid>``.

    What apply does per kind (only ``actions``, ``refs``, ``after``/``before`` count):

    * folder ``move``: move to the parent in ``refs`` when it differs from
      ``from_parent_uuid``, and rename when ``after.name`` differs from ``before.name``.
    * group ``patch``: add ``after.members - before.members``, remove the reverse.
    * dataset ``create``: no backing folder; the API makes the creator an admin user.
    * item ``move``: move from ``from_parent_uuid`` to the parent in ``refs``, renaming when
      the last segment of ``after.path`` differs (``ItemPayload.name``).
    * ``("delete", "create"[, "sync"])``: delete ``refs.uuid`` (its content is in
      ``depends_on``), create the folder ``after`` describes, then start its sync.
    """

    address: str
    kind: Kind
    actions: tuple[Action, ...]
    previous_address: str | None = None
    before: Payload | None = None
    after: Payload | None = None
    diff: tuple[FieldDiff, ...] = ()
    source: str | None = None
    reason: str = ""
    fingerprint: str | None = None
    depends_on: tuple[str, ...] = ()
    refs: Refs = field(default_factory=Refs)

    @property
    def is_replace(self) -> bool:
        return is_replace(self.actions)

    @property
    def is_delete(self) -> bool:
        return is_delete(self.actions)

    @property
    def is_destructive(self) -> bool:
        return any(action.is_destructive for action in self.actions)

    @property
    def is_removal(self) -> bool:
        """Listed first, with deletes, in every rendering: a delete, a replacement, or a
        relation removed outright (unlink, revoke). A role change is not a removal, except
        an organisation user's: the API takes the user out of the organisation (and out of
        every group and dataset) before adding them again."""
        return (
            self.is_delete
            or self.is_replace
            or self.actions in ((Action.UNLINK,), (Action.REVOKE,))
            or (self.kind == Kind.USER and Action.REVOKE in self.actions)
        )

    def changed_fields(self) -> frozenset[str]:
        return frozenset(str(d.path[0]) for d in self.diff if d.path)


RefusalCode = Literal[
    "ambiguous-path",
    "ambiguous-item",
    "foreign-owned",
    "protected",
    "not-prunable",
    "unsupported",
    "replace",
    "delete-threshold",
    "change-threshold",
    "listing-guard",
    "no-admin",
    "unlink-threshold",
    "invisible-root",
    "selector-unlink",
    "manifest-unmatched",
    "unreadable-metadata",
    "takeover",
    "ambiguous-collection",
    "collections-inside",
    "require-self",
    "min-admins",
    "user-removal-threshold",
    "user-rerole",
]


def dependencies(addresses: Iterable[str], by_address: Mapping[str, Change]) -> set[str]:
    """``addresses`` and everything their changes depend on, transitively; only addresses
    of changes in ``by_address`` (a dependency outside it is already live or left out)."""
    seen: set[str] = set()
    stack = list(addresses)
    while stack:
        address = stack.pop()
        if address in seen or address not in by_address:
            continue
        seen.add(address)
        stack.extend(by_address[address].depends_on)
    return seen


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why (part of) a plan must not be applied as is.

    ``withheld`` True (the change is *withheld*): the changes named in ``addresses`` are NOT
    in the plan and never will be by forcing (foreign-owned, protected, ambiguous, unsafe
    listing, last admin). ``withheld`` False (the plan is *refused*): the changes ARE in the
    plan and apply only with ``--force`` (thresholds, replacements). The filters that make
    both live in ``reconciler.plan.safety``. Either way a plan with refusals is applied only
    when forced (see ``can_apply``); ``count`` counts every affected change, items included,
    while ``addresses`` lists the non-item ones (and items when there are no others).
    """

    code: RefusalCode
    message: str
    addresses: tuple[str, ...] = ()
    withheld: bool = True
    count: int = 0


@dataclass(frozen=True, slots=True)
class Deferral:
    """Item-level planning that must wait for a cloud sync this plan starts.

    Apply, after the sync of ``folder`` finishes, reads live state again and calls
    ``diff(desired, live, options=DiffOptions(item_roots=(folder,)))`` for the items the
    sync created; ``rules`` and ``datasets`` say what will be evaluated then.
    """

    folder: str
    rules: tuple[str, ...] = ()
    datasets: tuple[str, ...] = ()


SUMMARY_KEYS = (
    "create",
    "change",
    "move",
    "delete",
    "replace",
    "link",
    "unlink",
    "grant",
    "revoke",
    "sync",
)


@dataclass(frozen=True, slots=True)
class Summary:
    create: int = 0
    change: int = 0
    move: int = 0
    delete: int = 0
    replace: int = 0
    link: int = 0
    unlink: int = 0
    grant: int = 0
    revoke: int = 0
    sync: int = 0

    def as_dict(self) -> dict[str, int]:
        return {key: getattr(self, key) for key in SUMMARY_KEYS}

    @property
    def total(self) -> int:
        return sum(v for k, v in self.as_dict().items() if k != "sync")

    def line(self) -> str:
        parts = ", ".join(f"{getattr(self, key)} to {key}" for key in SUMMARY_KEYS)
        return f"Plan: {parts}."


def category(change: Change) -> str:
    """The summary bucket of one change (see ``SUMMARY_KEYS``)."""
    acts = set(change.actions)
    if change.is_replace:
        return "replace"
    if Action.DELETE in acts:
        return "delete"
    if Action.CREATE in acts:
        return "create"
    if Action.MOVE in acts:
        return "move"
    if Action.LINK in acts:
        return "link"
    if Action.UNLINK in acts:
        return "unlink"
    if Action.GRANT in acts:
        return "change" if change.before is not None else "grant"
    if Action.REVOKE in acts:
        return "revoke"
    return "change"


def summarise(changes: tuple[Change, ...]) -> Summary:
    counts = dict.fromkeys(SUMMARY_KEYS, 0)
    # A change's buckets depend on its actions and whether it has a ``before`` alone
    # (``category``), and a plan holds a handful of those: each is judged once.
    seen: dict[tuple[tuple[Action, ...], bool], tuple[str, bool]] = {}
    for change in changes:
        key = (change.actions, change.before is None)
        found = seen.get(key)
        if found is None:
            found = seen[key] = (category(change), Action.SYNC in change.actions)
        counts[found[0]] += 1
        if found[1]:
            counts["sync"] += 1
    return Summary(**counts)


class Fingerprints(Mapping[str, str]):
    """``Plan.fingerprints`` of a plan just made: each change's fingerprint by its address,
    read from the changes rather than copied into a dict of its own (one entry a change,
    about 40 bytes each: 40 MB beside a million item changes). Addresses are unique within
    a plan, so it equals that dict. Looked up by address (rare: renderings iterate) it
    builds the dict then."""

    __slots__ = ("_changes", "_index")

    def __init__(self, changes: tuple[Change, ...]) -> None:
        self._changes = changes
        self._index: dict[str, str] | None = None

    def _with(self) -> Iterator[Change]:
        return (c for c in self._changes if c.fingerprint)

    def __getitem__(self, address: str) -> str:
        if self._index is None:
            self._index = dict(self.items())
        return self._index[address]

    def __iter__(self) -> Iterator[str]:
        return (c.address for c in self._with())

    def __len__(self) -> int:
        return sum(1 for _ in self._with())

    def items(self) -> ItemsView[str, str]:
        return _FingerprintItems(self)

    def sorted_items(self) -> Iterator[tuple[str, str]]:
        """``sorted(self.items())`` holding one reference a change, not a pair."""
        for change in sorted(self._with(), key=_ADDRESS):
            yield change.address, change.fingerprint  # type: ignore[misc]

    def __repr__(self) -> str:
        return f"Fingerprints({dict(self.items())!r})"


class _FingerprintItems(ItemsView[str, str]):
    _mapping: Fingerprints

    def __iter__(self) -> Iterator[tuple[str, str]]:
        for change in self._mapping._with():
            yield change.address, change.fingerprint  # type: ignore[misc]


_ADDRESS = attrgetter("address")


@dataclass(frozen=True, slots=True)
class Plan:
    """An ordered tuple of changes plus what apply needs to trust it.

    Invariants: ``changes`` are in the deterministic order of ``reconciler.plan.order``
    (deletes and replacements first, children before parents); every ``depends_on``
    address is the address of another change in the plan; ``summary`` counts ``changes``;
    ``checksum`` is ``sha256:`` over the canonical JSON of every other field, so a plan
    edited after review is refused by ``reconciler.plan.planfile.loads``. ``caller`` is who
    read the live state (None when unknown); ``warnings`` are one line each and never stop
    apply (what must stop it is a ``Refusal``). ``cost`` is what applying will cost
    (``reconciler.plan.cost``): display only, outside the checksum, None for an empty plan
    and for a plan nobody estimated.
    """

    tool_version: str
    target: str
    ownership_id: str
    changes: tuple[Change, ...]
    summary: Summary
    checksum: str
    format_version: int = FORMAT_VERSION
    created_at: str | None = None
    config_dir: str = ""
    environment: str | None = None  # of reconciler.yaml's environments:, when it has them
    forced: bool = False
    takeover: bool = False  # planned with --takeover (``reconciler.plan.safety.takeover``)
    only: tuple[str, ...] = ()
    item_roots: tuple[str, ...] | None = None
    fingerprints: Mapping[str, str] = field(default_factory=dict)
    refusals: tuple[Refusal, ...] = ()
    deferred: tuple[Deferral, ...] = ()
    unmanaged: tuple[str, ...] = ()
    caller: Caller | None = None
    warnings: tuple[str, ...] = ()
    cost: Cost | None = None

    @property
    def is_empty(self) -> bool:
        return not self.changes


def no_changes_line(plan: Plan) -> str:
    """What an empty plan says. "The organisation matches the configuration" only when that
    is true: nothing was left out by ``--only`` and nothing is held back by a refusal."""
    if plan.refusals:
        return "No changes."
    if plan.only:
        return "No changes to what --only selects; other objects may still differ."
    return "No changes. The organisation matches the configuration."


def cost_line(plan: Plan) -> str | None:
    """The one line on what applying will cost; None for an empty or unestimated plan."""
    if plan.cost is None or not plan.changes:
        return None
    if plan.deferred:  # not costed: what the syncs bring is unknown until they finish
        return plan.cost.line() + " The re-plan after the syncs and registrations comes on top."
    return plan.cost.line()


def can_apply(plan: Plan, *, force: bool = False) -> bool:
    """The one rule: a plan with refusals applies only when forced (now, or when planned).

    Forcing never brings back withheld changes; they are not in the plan.
    """
    return not plan.refusals or force or plan.forced
