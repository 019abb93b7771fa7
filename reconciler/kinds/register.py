"""Registered cloud data: objects of a private-cloud integration registered into a generic
folder from a manifest (``folders.<path>.register``).

One change per folder (address ``register:/folder``, action ``create``) carries every row
the folder does not hold yet; apply chunks it into data-upload jobs
(``reconciler.apply.ops_register``). Renderings show its counts by type and a sample of
names (its field diff); the plan JSON holds every row. Metadata updates of registered
items are ordinary item patches, and registered items no row lists any more are ordinary
item deletes (``reconciler.plan.register``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from reconciler.kinds.actions import Action
from reconciler.kinds.payload import Payload
from reconciler.kinds.phase import Phase
from reconciler.kinds.spec import BundleKey, KindSpec, PhaseWork
from reconciler.model.addresses import Kind
from reconciler.model.desired import RegisterRow

if TYPE_CHECKING:
    from reconciler.apply.executor import Operation
    from reconciler.apply.phases import Step
    from reconciler.plan.model import Change

SAMPLE = 5  # names shown in renderings; the JSON has them all


@dataclass(frozen=True, slots=True)
class RegisterPayload(Payload):
    """What a register change registers: the folder, the integration (title, or UUID when
    the title is unknown), whether the jobs upsert metadata, and the rows."""

    folder: str
    integration: str
    upsert_metadata: bool
    rows: tuple[RegisterRow, ...]

    def counts(self) -> dict[str, int]:
        return type_counts(self.rows)

    def encode(self) -> dict[str, Any]:
        return {
            "folder": self.folder,
            "integration": self.integration,
            "upsert_metadata": self.upsert_metadata,
            "counts": self.counts(),
            "rows": [_encode_row(r) for r in self.rows],
        }

    @classmethod
    def decode(cls, value: Mapping[str, Any]) -> RegisterPayload:
        rows = value["rows"]
        if not isinstance(rows, list):
            raise TypeError(f"a register change's rows are {type(rows).__name__}, not a list")
        return cls(
            str(value["folder"]),
            str(value["integration"]),
            bool(value["upsert_metadata"]),
            tuple(_decode_row(r) for r in rows),
        )

    @classmethod
    def of(cls, value: Mapping[str, Any] | None) -> RegisterPayload | None:
        if value is None or isinstance(value, RegisterPayload):
            return value
        return cls.decode(value)


def type_counts(rows: Iterable[RegisterRow]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.item_type] = counts.get(row.item_type, 0) + 1
    return dict(sorted(counts.items()))


def sample_text(names: list[str], total: int) -> str:
    """The first names and how many more: what every rendering shows of a register change."""
    shown = ", ".join(names[:SAMPLE])
    return shown if total <= SAMPLE else f"{shown}, … and {total - SAMPLE:,} more"


def _encode_row(row: RegisterRow) -> dict[str, Any]:
    return {
        "name": row.name,
        "url": row.url,
        "type": row.item_type,
        "title": row.title,
        "metadata": row.metadata if isinstance(row.metadata, dict) else dict(row.metadata),
        "source": row.source,
    }


def _decode_row(value: Mapping[str, Any]) -> RegisterRow:
    metadata = value["metadata"]
    if not isinstance(metadata, dict):
        raise TypeError(f"a register row's metadata is {type(metadata).__name__}, not an object")
    title = value["title"]
    return RegisterRow(
        str(value["url"]),
        str(value["type"]),
        None if title is None else str(title),
        metadata,
        str(value["source"]),
    )


def phases(change: Change, replaced: bool) -> list[PhaseWork]:
    return [(Phase.REGISTER, change.actions)]


def operations() -> Mapping[Phase, Callable[[], Operation]]:
    from reconciler.apply.ops_register import RegisterObjects

    return {Phase.REGISTER: RegisterObjects}


def bundle_key(step: Step) -> BundleKey | None:
    """A folder's registration is its own jobs (chunked by the operation)."""
    return None


SHAPES = frozenset({(Action.CREATE,)})

SPEC = KindSpec(
    kind=Kind.REGISTER,
    display_rank=12,
    delete_rank=4,
    phases=phases,
    operations=operations,
    bundle_key=bundle_key,
    shapes=SHAPES,
    check="folder",
    decode=RegisterPayload.decode,
)
