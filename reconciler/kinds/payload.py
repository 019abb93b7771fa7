"""Payloads: a change's ``before`` and ``after`` as the kind's own frozen slotted dataclass.

A typed payload is read by attribute (``GroupPayload.of(change.after).members``) and owns
its plan JSON: ``encode`` gives exactly the object a plan file holds, the kind's
``KindSpec.decode`` reads it back, so saved plans load back equal and their checksum is
unchanged. It is also a read-only ``Mapping`` of that JSON object, for the code that treats
every payload alike, field by field (the field diff, fingerprints, renderings).

Every kind's payload is typed; ``of`` on each also reads a plain JSON object (as tests and
older callers still pass), decoding it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any


class Payload(Mapping[str, Any]):
    """Base of the typed payloads: subclasses are frozen slotted dataclasses that define
    ``encode``."""

    __slots__ = ()

    def encode(self) -> dict[str, Any]:
        raise NotImplementedError

    def __getitem__(self, key: str) -> Any:
        return self.encode()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.encode())

    def __len__(self) -> int:
        return len(self.encode())


def encoded(value: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The plan JSON of a payload (a typed one encoded, a plain one as it is)."""
    if value is None or isinstance(value, dict):
        return value
    return value.encode() if isinstance(value, Payload) else dict(value)
