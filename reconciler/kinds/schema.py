"""The organisation's metadata schema: one shared object, written first (the API checks
metadata values against it)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from reconciler.kinds.actions import Action
from reconciler.kinds.payload import Payload
from reconciler.kinds.phase import Phase
from reconciler.kinds.spec import BundleKey, KindSpec, PhaseWork
from reconciler.model.addresses import Kind

if TYPE_CHECKING:
    from reconciler.apply.executor import Operation
    from reconciler.apply.phases import Step
    from reconciler.plan.model import Change


@dataclass(frozen=True, slots=True)
class SchemaPayload(Payload):
    """The whole schema: key -> canonical descriptor, sorted by key (the API replaces the
    schema as one object, so ``after`` is the live schema with our keys set)."""

    descriptors: Mapping[str, Any]

    def encode(self) -> dict[str, Any]:
        return dict(self.descriptors)

    @classmethod
    def decode(cls, value: Mapping[str, Any]) -> SchemaPayload:
        return cls(dict(value))

    @classmethod
    def of(cls, value: Mapping[str, Any] | None) -> SchemaPayload | None:
        if value is None or isinstance(value, SchemaPayload):
            return value
        return cls.decode(value)


def phases(change: Change, replaced: bool) -> list[PhaseWork]:
    return [(Phase.SCHEMA, change.actions)]


def operations() -> Mapping[Phase, Callable[[], Operation]]:
    from reconciler.apply.ops_org import SetSchema

    return {Phase.SCHEMA: SetSchema}


def bundle_key(step: Step) -> BundleKey | None:
    return None


SHAPES = frozenset({(Action.CREATE,), (Action.PATCH,)})

SPEC = KindSpec(
    kind=Kind.METADATA_SCHEMA,
    display_rank=0,
    delete_rank=3,
    phases=phases,
    operations=operations,
    bundle_key=bundle_key,
    shapes=SHAPES,
    decode=SchemaPayload.decode,
)
