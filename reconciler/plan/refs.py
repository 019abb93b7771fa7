"""``Refs``: the live identifiers a change carries for apply (see ``Change``).

Its own module because it is not a dataclass: a large plan holds one a change, so it keeps
the fields item changes and links use in slots and the rest in one shared-shape tuple.
"""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from typing import Any


class Refs:
    """The live identifiers apply needs, so that it needs nothing but the plan and a client.

    A reference to an object that this same plan creates is ``None``; the creating change's
    address is then in ``Change.depends_on`` and apply uses the UUID it got back.

    * ``uuid``: the changed object itself (folder, item or dataset UUID; group hash).
    * ``parent_uuid`` / ``parent_path``: folders and items: the parent after the change
      (create, move). ``parent_path`` None means the organisation root.
    * ``from_parent_uuid``: folders and items being moved or deleted, and items being
      patched: the live parent now (item move/delete/patch endpoints are per folder).
    * ``folder_uuid``: folder-group relations. ``group_hash``: folder-group and
      dataset-group relations. ``dataset_uuid``: dataset-group, dataset-user, link, unlink.
    * ``item_uuid``: link and unlink. ``data_hashes``: unlink (the v1 API deletes rows by
      data hash; one item may back several rows).
    * ``integration_uuid``: cloud-synced folder create/replace. ``email``: dataset users.
    * ``collection_uuid``: collection items (with ``item_uuid``); a collection's own changes
      use ``uuid``, and a create names its top-level folder in ``folder_uuid``.

    A frozen value like the dataclasses here (equality, hash, ``repr``, pickling), with
    ``REF_FIELDS`` in place of ``dataclasses.fields``. It holds the four fields of item
    changes and links in slots and the rarer eight in one tuple, None when all are unset:
    72 bytes instead of 128, a million times in a large plan.
    """

    __slots__ = ("_rest", "dataset_uuid", "from_parent_uuid", "item_uuid", "uuid")

    uuid: str | None
    from_parent_uuid: str | None
    dataset_uuid: str | None
    item_uuid: str | None
    _rest: tuple[Any, ...] | None

    def __init__(
        self,
        uuid: str | None = None,
        parent_uuid: str | None = None,
        parent_path: str | None = None,
        from_parent_uuid: str | None = None,
        folder_uuid: str | None = None,
        group_hash: str | None = None,
        dataset_uuid: str | None = None,
        item_uuid: str | None = None,
        data_hashes: tuple[str, ...] = (),
        integration_uuid: str | None = None,
        email: str | None = None,
        collection_uuid: str | None = None,
    ) -> None:
        put = object.__setattr__
        put(self, "uuid", uuid)
        put(self, "from_parent_uuid", from_parent_uuid)
        put(self, "dataset_uuid", dataset_uuid)
        put(self, "item_uuid", item_uuid)
        rest = (
            parent_uuid,
            parent_path,
            folder_uuid,
            group_hash,
            data_hashes,
            integration_uuid,
            email,
            collection_uuid,
        )
        put(self, "_rest", None if rest == _NO_REST else rest)

    @property
    def slots_only(self) -> bool:
        """No field is set but the four held in slots (item changes' and links' refs)."""
        return self._rest is None

    @property
    def parent_uuid(self) -> str | None:
        return None if self._rest is None else self._rest[0]

    @property
    def parent_path(self) -> str | None:
        return None if self._rest is None else self._rest[1]

    @property
    def folder_uuid(self) -> str | None:
        return None if self._rest is None else self._rest[2]

    @property
    def group_hash(self) -> str | None:
        return None if self._rest is None else self._rest[3]

    @property
    def data_hashes(self) -> tuple[str, ...]:
        return () if self._rest is None else self._rest[4]

    @property
    def integration_uuid(self) -> str | None:
        return None if self._rest is None else self._rest[5]

    @property
    def email(self) -> str | None:
        return None if self._rest is None else self._rest[6]

    @property
    def collection_uuid(self) -> str | None:
        return None if self._rest is None else self._rest[7]

    def values(self) -> tuple[Any, ...]:
        """Every field's value, in ``REF_FIELDS`` order."""
        rest = self._rest or _NO_REST
        return (
            self.uuid,
            *rest[:2],
            self.from_parent_uuid,
            *rest[2:4],
            self.dataset_uuid,
            self.item_uuid,
            *rest[4:],
        )

    def __eq__(self, other: object) -> bool:
        if type(other) is not Refs:
            return NotImplemented
        return (  # the slots, then the rest (None when unset): ``values()`` without a tuple
            self.uuid == other.uuid
            and self.from_parent_uuid == other.from_parent_uuid
            and self.item_uuid == other.item_uuid
            and self.dataset_uuid == other.dataset_uuid
            and self._rest == other._rest
        )

    def __hash__(self) -> int:
        return hash(self.values())

    def __repr__(self) -> str:
        shown = ", ".join(f"{n}={v!r}" for n, v in zip(REF_FIELDS, self.values(), strict=True))
        return f"Refs({shown})"

    def __reduce__(self) -> tuple[type[Refs], tuple[Any, ...]]:
        return Refs, self.values()

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")


REF_FIELDS = (
    "uuid",
    "parent_uuid",
    "parent_path",
    "from_parent_uuid",
    "folder_uuid",
    "group_hash",
    "dataset_uuid",
    "item_uuid",
    "data_hashes",
    "integration_uuid",
    "email",
    "collection_uuid",
)
_NO_REST: tuple[Any, ...] = (None, None, None, None, (), None, None, None)
