"""The drift report as a value: ``DriftKind``, ``Drift``, ``Unmanaged``, ``Check``, ``DriftReport``.

A drift report is a plan read as an audit: every difference between the live organisation and
the configuration, named by the declared object it concerns and the line that declares it.
Build it with ``reconciler.drift.audit``; render it with the ``render_*`` functions. Like the
plan, it is pure data (slotted frozen dataclasses) and never drives apply.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from reconciler.model.live import Caller
from reconciler.plan.actions import Action
from reconciler.plan.model import FieldDiff, Refusal
from reconciler.words import plural

FORMAT_VERSION = 1


class DriftKind(StrEnum):
    """What kind of difference one drift entry is.

    * ``extra``: a live object that is not declared and that prune would delete.
    * ``changed``: declared fields differ (description, metadata, cloud sync: a patch, or a
      replacement when the field cannot be patched).
    * ``missing``: declared, not in Encord (apply would create it).
    * ``moved``: declared here, live at another path (renamed or moved by hand, or a
      declared ``previously:`` move not applied yet).
    * ``access``: a group or user role on a folder or dataset differs (grant, revoke).
    * ``membership``: a group's members differ, or a collection's items do, or an
      organisation user was added, removed or re-roled out of band.
    * ``links``: an item is linked into a dataset it should not be, or not linked where it
      should be.
    * ``metadata``: client metadata on items differs from the rules and manifests.
    """

    EXTRA = "extra"
    CHANGED = "changed"
    MISSING = "missing"
    MOVED = "moved"
    ACCESS = "access"
    MEMBERSHIP = "membership"
    LINKS = "links"
    METADATA = "metadata"


KIND_ORDER: tuple[DriftKind, ...] = tuple(DriftKind)

# Worst first: what loses data or access, then where things are, then what they say, and
# item-level detail last (there may be thousands of those).
_SEVERITY: dict[DriftKind, int] = {
    DriftKind.EXTRA: 0,
    DriftKind.ACCESS: 1,
    DriftKind.MEMBERSHIP: 1,
    DriftKind.MOVED: 2,
    DriftKind.CHANGED: 3,
    DriftKind.MISSING: 3,
    DriftKind.LINKS: 4,
    DriftKind.METADATA: 4,
}


@dataclass(frozen=True, slots=True)
class Drift:
    """One drifted object.

    * ``address``: the object that differs: the declared address, or for ``extra`` the live
      object's address. ``live_address`` is where a ``moved`` object is live now.
    * ``check``: the id of the declared object (``Check.id``) this entry fails; for
      ``extra`` that is the prune policy in ``reconciler.yaml``.
    * ``source``: ``file:line`` of the declaration (None only when nothing in the config
      names the object, e.g. an undeclared parent folder that is missing).
    * ``fields``: what differs, field by field; ``FieldDiff.before`` is the LIVE value and
      ``FieldDiff.after`` the DECLARED one.
    * ``actions``: what apply would do about it (display only).
    * ``related``: addresses of planned changes folded into this entry (the items inside
      an extra folder, the consequences of a folder renamed by hand).
    """

    kind: DriftKind
    address: str
    check: str
    source: str | None
    fields: tuple[FieldDiff, ...]
    actions: tuple[Action, ...]
    summary: str
    live_address: str | None = None
    related: tuple[str, ...] = ()

    @property
    def is_destructive_fix(self) -> bool:
        """Apply would delete or replace something to fix it."""
        return Action.DELETE in self.actions

    @property
    def severity(self) -> int:
        return 0 if self.is_destructive_fix else _SEVERITY[self.kind]


def drift_order(entry: Drift) -> tuple[int, int, str]:
    return (entry.severity, KIND_ORDER.index(entry.kind), entry.address)


@dataclass(frozen=True, slots=True)
class Unmanaged:
    """A live object the config does not declare and that prune would not delete (not ours,
    or ``prune: never``): a folder under a declared root (``root``, with the ``items`` it
    holds), or a group, dataset, tag, ... (``root`` empty: they are organisation-wide).
    Reported, never counted as drift."""

    address: str
    root: str
    items: int = 0


@dataclass(frozen=True, slots=True)
class Check:
    """One declared object, as a JUnit test case: it passes when nothing about it drifted.

    ``id`` is its address (``folder:/a``, ``folder-group:/a#g``, ``dataset:t``, …) or, for
    things without one, ``links:<dataset>``, ``rule:<folder>``, ``manifest:<file>`` and
    ``policy:prune`` (the undeclared objects prune would delete). ``kind`` is the address
    kind or ``links``/``rule``/``manifest``/``policy``.
    """

    id: str
    kind: str
    source: str | None
    title: str = ""


@dataclass(frozen=True, slots=True)
class DriftReport:
    """The audit of one organisation against one configuration.

    Invariants: ``drift`` is sorted worst first (``drift_order``); every ``Drift.check`` is
    the id of one of ``checks``; ``unmanaged`` never names an object that is in ``drift``;
    ``refusals`` are the plan's, kept so that what could not be planned is not silently
    missing from the audit.
    """

    tool_version: str
    target: str
    ownership_id: str
    config_dir: str
    checked_at: str | None
    only: tuple[str, ...]
    drift: tuple[Drift, ...]
    unmanaged: tuple[Unmanaged, ...]
    refusals: tuple[Refusal, ...]
    checks: tuple[Check, ...]
    problems: tuple[str, ...] = ()
    format_version: int = FORMAT_VERSION
    caller: Caller | None = None  # who read the organisation (the plan's caller)
    warnings: tuple[str, ...] = ()  # the plan's warnings (selectors matching nothing, …)
    environment: str | None = None  # of reconciler.yaml's environments:, when it has them

    @property
    def in_sync(self) -> bool:
        """Nothing differs: no drift, no difference withheld from the plan by a refusal, and
        a complete read (otherwise the audit cannot vouch for "in sync")."""
        return not self.drift and not self.withheld and not self.problems

    @property
    def withheld(self) -> tuple[Refusal, ...]:
        """Refusals whose changes are not in the plan: part of the difference is unplanned."""
        return tuple(r for r in self.refusals if r.withheld)

    def counts(self) -> dict[str, int]:
        out = {kind.value: 0 for kind in KIND_ORDER}
        for entry in self.drift:
            out[entry.kind.value] += 1
        return out

    def summary_line(self) -> str:
        """The one verdict, consistent with ``reconciler drift``'s exit code (0 in sync, 2
        drift, 1 when a refusal or an incomplete read leaves part of it unknown)."""
        if self.drift:
            parts = ", ".join(f"{n} {k}" for k, n in self.counts().items() if n)
            head = (
                f"Drift: {plural(len(self.drift), 'object differs', 'objects differ')} ({parts})."
            )
        elif self.problems:
            head = "Not verified: the organisation could not be read completely."
        elif self.withheld:
            count = plural(len(self.withheld), "refusal withholds", "refusals withhold")
            head = f"Not in sync: {count} changes that the plan cannot make."
        elif self.only:
            head = "In sync: no drift in what --only selects."
        else:
            head = "In sync: no drift."
        tail = f" {len(self.unmanaged)} unmanaged (not drift)." if self.unmanaged else ""
        return head + tail

    def no_drift_line(self) -> str:
        """The first line of a report without drift entries (``summary_line`` says why)."""
        if self.problems:
            return "No drift found in what could be read; the read was incomplete (see below)."
        if self.withheld:
            return "No drift that the plan can fix; refusals withhold changes (see below)."
        if self.only:
            return "No drift in what --only selects; other objects may still differ."
        return "No drift. The organisation matches the configuration."
