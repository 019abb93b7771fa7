"""``KindSpec``: what one kind of object means to the planner, apply and drift.

One module per kind (``folder``, ``item``, ``group``, ``dataset``, ``access`` for the three
access relations, ``link``, ``schema``) defines its spec; ``reconciler.kinds.spec_of`` finds
it. Code elsewhere asks the spec instead of testing ``change.kind``.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from reconciler.kinds.payload import Payload
from reconciler.kinds.phase import Phase
from reconciler.model.addresses import Kind

if TYPE_CHECKING:
    from reconciler.apply.executor import Operation
    from reconciler.apply.phases import Step
    from reconciler.kinds.actions import Action
    from reconciler.model.desired import DesiredState
    from reconciler.model.live import LiveState
    from reconciler.plan.model import Change

PhaseWork = tuple[Phase, tuple["Action", ...]]
BundleKey = tuple[Hashable, ...]
Shape = tuple["Action", ...]
# How drift files a change of the kind that is neither a delete nor a move nor a create
# (values of ``reconciler.drift.model.DriftKind``; drift is not imported here, see
# ``reconciler.kinds``). None: by its actions alone (missing, changed).
DriftClass = Literal["links", "access", "metadata", "membership"]
# Which declared check a change of the kind fails when no check has its own address:
# the folder it hangs from, the dataset it belongs to, the dataset's links, the collection's
# members, the rule or manifest that placed the item, or the prune policy.
CheckRoute = Literal["folder", "dataset", "links", "members", "item", "policy"]
# The addresses of the live objects of a kind that no declaration names and that prune leaves
# alone (not ours, or ``prune: never``): the plan's and drift's "unmanaged" list.
UnmanagedLister = Callable[["DesiredState", "LiveState"], tuple[str, ...]]


def no_wave(step: Step) -> tuple[int, ...]:
    return ()


def one(step: Step) -> int:
    return 1


@dataclass(frozen=True, slots=True)
class KindSpec:
    """Everything decided per kind.

    * ``display_rank``: where the kind's changes sort in a plan (``reconciler.plan.order``);
      ``delete_rank``: where its deletes sort (contents before what holds them), and which
      kind's waves run first when kinds share a phase.
    * ``phases(change, replaced)``: the phases the change runs in, with the actions of each,
      in execution order; ``replaced`` says a delete is part of a replacement.
    * ``operations()``: the apply operation (a class, made once per run) for each phase the
      kind runs in. A function, imported on use: the operations talk to the API and import
      the whole of ``reconciler.apply``, which the planner must not need.
    * ``bundle_key(step)``: steps of one phase with equal keys share an API call (chunked
      by ``weight``, up to the bundle size); None: the step is a call of its own.
      ``wave(step)``: within a phase, steps run in waves by this key, ascending.
    * ``drift``, ``drift_field``, ``drift_split``: how drift files and words a change;
      ``check``: which declared check it fails (see ``DriftClass``, ``CheckRoute``).
    * ``shapes``: every tuple of actions a change of the kind may have (the planner emits no
      other, ``planfile.loads`` refuses any other; ``reconciler.plan.shapes``).
    * ``decode``: a ``before``/``after`` of the kind read from plan JSON: its typed payload
      (``reconciler.kinds.payload``; ``Payload.encode`` is the way back).
    * ``unmanaged``: lists the kind's live objects left alone (``UnmanagedLister``); None
      for kinds that list none that way (relations and items belong to their folder or
      dataset; folders are listed by ``plan.prune``, which knows the projected tree).
    """

    kind: Kind
    display_rank: int
    delete_rank: int
    phases: Callable[[Change, bool], list[PhaseWork]]
    operations: Callable[[], Mapping[Phase, Callable[[], Operation]]]
    bundle_key: Callable[[Step], BundleKey | None]
    decode: Callable[[Mapping[str, Any]], Payload]
    shapes: frozenset[Shape]
    wave: Callable[[Step], tuple[int, ...]] = no_wave
    weight: Callable[[Step], int] = one
    drift: DriftClass | None = None
    drift_field: str | None = None
    drift_split: str | None = None
    check: CheckRoute = "policy"
    unmanaged: UnmanagedLister | None = None
