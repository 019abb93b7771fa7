"""The live state: what the Encord organisation holds, as read for the declared scope.

``reconciler.live.read_live`` builds a ``LiveState`` through the API client; golden tests build
one from JSON (``LiveState.from_json``). The planner treats it as read-only.

Invariants:

* ``folders`` holds every folder under the scope roots plus their ancestors, keyed by UUID;
  ``paths`` maps each unambiguous path to its UUID. Siblings sharing a name make their path
  (and everything under it) ambiguous: such paths are in ``ambiguous`` with all their UUIDs and
  absent from ``paths``. Never merge them.
* ``items`` holds every item under the scope roots, keyed by UUID, with its folder's path.
* ``complete`` is False when any listing may be partial (a page missing, a 403 on a subtree);
  ``problems`` says which reads failed and why, one line each; ``listing_counts`` records how
  many objects each root listing returned. The planner refuses to turn a partial or
  suspiciously small listing into deletes.
* ``fingerprint`` of an object is what apply re-checks before touching it: ``lastEditedAt``
  where the API has it, else a content hash.

Records are slotted frozen dataclasses, not pydantic: a snapshot may hold ten million items
(``LiveItem`` stores some fields compactly and reads them back exact, ``model/compact.py``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import Field, asdict, dataclass, field
from typing import Any, ClassVar

from reconciler.model.addresses import is_under
from reconciler.model.compact import CompactItem

Role = str  # "user" | "admin"


@dataclass(frozen=True, slots=True)
class LiveFolder:
    uuid: str
    parent: str | None
    name: str
    path: str
    description: str = ""
    metadata: Mapping[str, Any] = field(default_factory=dict)
    owner: str = ""
    last_edited_at: str = ""
    user_role: Role = "admin"
    folder_type: str = "generic"
    integration_uuid: str | None = None
    remote_url: str | None = None
    synced_dataset_hash: str | None = None
    created_at: str = ""  # ISO 8601 in UTC; orders duplicates (``plan/heal.py``)
    # clientMetadata came back as something other than a JSON object (a broken or hostile
    # server): ``metadata`` is then {} but unknown, never to be diffed against or written over.
    metadata_unreadable: bool = False


@dataclass(frozen=True)
class _ItemFields:
    """``LiveItem``'s public fields, as ``dataclasses.fields``, ``asdict`` and ``replace``
    see them (``LiveItem`` stores some of them compactly, see there)."""

    uuid: str
    parent: str  # folder UUID
    folder_path: str
    name: str
    item_type: str
    description: str = ""
    metadata: Mapping[str, Any] = field(default_factory=dict)
    last_edited_at: str = ""
    is_tombstone: bool = False
    is_placeholder: bool = False
    metadata_unreadable: bool = False  # as ``LiveFolder.metadata_unreadable``
    url: str | None = None  # the object URL, when the API gives it (registered, synced)


class LiveItem(CompactItem):
    """A live item: the fields of ``_ItemFields``, frozen, equal by value. A read may hold
    ten million of them, so ``last_edited_at``, ``url`` and the three flags are stored
    compactly (``model/compact.py``); they read back as the exact values given."""

    __slots__ = ()
    __dataclass_fields__: ClassVar[dict[str, Field[Any]]] = _ItemFields.__dataclass_fields__
    __match_args__ = _ItemFields.__match_args__

    @property
    def path(self) -> str:
        return f"{self.folder_path}/{self.name}"


@dataclass(frozen=True, slots=True)
class LiveFolderConfig:
    """A folder's config as far as reconciler models it: metadata sidecar ingestion
    (``sidecar_suffix`` None: off). Other keys are kept by apply, never read here."""

    sidecar_suffix: str | None = None
    sidecars_paused: bool = False


@dataclass(frozen=True, slots=True)
class LiveGroup:
    hash: str
    name: str
    description: str = ""
    members: tuple[str, ...] = ()  # sorted emails


@dataclass(frozen=True, slots=True)
class LiveTag:
    """An organisation tag. ``description`` is None when the listing did not say (the SDK's
    model has only ``uuid`` and ``name``): then the tag cannot be proven ours."""

    uuid: str
    name: str
    description: str | None = None


@dataclass(frozen=True, slots=True)
class LiveDataRow:
    data_hash: str
    item_uuid: str | None  # backing_item_uuid; None when the API did not say
    title: str = ""


@dataclass(frozen=True, slots=True)
class LiveDataset:
    uuid: str
    title: str
    description: str = ""
    user_role: Role | None = None
    last_edited_at: str = ""
    backing_folder_uuid: str | None = None
    groups: Mapping[str, Role] = field(default_factory=dict)  # group hash -> role
    users: Mapping[str, Role] = field(default_factory=dict)  # email -> role
    rows: tuple[LiveDataRow, ...] = ()


@dataclass(frozen=True, slots=True)
class LiveCollection:
    """An Index collection in the top-level folder at path ``folder``. ``members``: the
    UUIDs of its items, sorted; None when they were not read (not in scope, or the read
    failed: then nothing is removed from it)."""

    uuid: str
    folder: str
    name: str
    description: str = ""
    last_edited_at: str = ""
    members: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class LiveIntegration:
    uuid: str
    title: str


@dataclass(frozen=True, slots=True)
class LiveUser:
    email: str
    role: str = "MEMBER"  # organisation role mnemonic
    member_type: str = "internal"


@dataclass(frozen=True, slots=True)
class Caller:
    """Who the credentials act as. ``admin``: whether the organisation-wide listing
    (``includeOrgAccess``, organisation admins only) was granted; None when not probed.
    ``email`` and ``role`` (an organisation role mnemonic) are None when the organisation
    users listing could not single the caller out (see ``reconciler.live.identity``)."""

    email: str | None = None
    role: str | None = None
    admin: bool | None = None

    def text(self) -> str:
        """``alice@example.com (MEMBER)``; unknown parts said as such, never guessed."""
        who = self.email or "unknown email"
        if self.role is not None:
            role = self.role
        elif self.admin is None:
            role = "role unknown"
        else:
            role = "organisation admin" if self.admin else "not an organisation admin"
        return f"{who} ({role})"

    def to_json(self) -> dict[str, Any]:
        return {"email": self.email, "role": self.role, "admin": self.admin}

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Caller | None:
        if data is None:
            return None
        return cls(email=data.get("email"), role=data.get("role"), admin=data.get("admin"))


def _by_path(folder: LiveFolder) -> tuple[str, str]:
    return folder.path, folder.uuid


@dataclass(frozen=True, slots=True)
class LiveState:
    target: str = ""
    scope: tuple[str, ...] = ()  # the roots that were read
    missing_roots: tuple[str, ...] = ()  # roots with no live folder at that path
    folders: Mapping[str, LiveFolder] = field(default_factory=dict)
    paths: Mapping[str, str] = field(default_factory=dict)  # path -> folder uuid
    ambiguous: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # path -> uuids
    items: Mapping[str, LiveItem] = field(default_factory=dict)
    folder_groups: Mapping[str, Mapping[str, Role]] = field(default_factory=dict)
    groups: Mapping[str, LiveGroup] = field(default_factory=dict)  # hash -> group
    datasets: Mapping[str, LiveDataset] = field(default_factory=dict)  # uuid -> dataset
    collections: Mapping[str, LiveCollection] = field(default_factory=dict)  # uuid -> collection
    # top-level folder path -> UUID, for each folder whose collections were listed
    collection_folders: Mapping[str, str] = field(default_factory=dict)
    integrations: Mapping[str, LiveIntegration] = field(default_factory=dict)
    users: Mapping[str, LiveUser] = field(default_factory=dict)  # email -> user
    # False when the organisation users listing failed: ``users`` is then empty but unknown,
    # and no user is added, re-roled or removed (``reconciler.plan.users``)
    users_complete: bool = True
    metadata_schema: Mapping[str, Any] | None = None
    organisation_tags: Mapping[str, LiveTag] | None = None  # uuid -> tag; None: not read
    # folder uuid -> the tag names the app attached to it (read for export; never planned)
    folder_tags: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    complete: bool = True
    listing_counts: Mapping[str, int] = field(default_factory=dict)  # root -> objects listed
    problems: tuple[str, ...] = ()  # reads that failed (what and why), one line each
    caller: Caller | None = None  # who read it (None: not known, e.g. a golden test)
    # folder uuid -> config, for the declared folders with metadata_sidecars (only those read)
    folder_configs: Mapping[str, LiveFolderConfig] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Canonical: the same organisation read twice gives the same JSON, whatever order the
        parallel reads (``reconciler.live.chains``) answered in."""
        items = sorted(self.items.values(), key=lambda i: (i.folder_path, i.name, i.uuid))
        return {
            "target": self.target,
            "scope": list(self.scope),
            "missing_roots": list(self.missing_roots),
            "folders": [asdict(f) for f in sorted(self.folders.values(), key=_by_path)],
            "ambiguous": {k: list(v) for k, v in self.ambiguous.items()},
            "items": [asdict(i) for i in items],
            "folder_groups": {k: dict(v) for k, v in sorted(self.folder_groups.items())},
            "groups": [asdict(g) for g in self.groups.values()],
            "datasets": [asdict(d) for d in self.datasets.values()],
            "collections": [asdict(c) for c in self.collections.values()],
            "collection_folders": dict(self.collection_folders),
            "integrations": [asdict(i) for i in self.integrations.values()],
            "users": [asdict(u) for u in self.users.values()],
            "users_complete": self.users_complete,
            "metadata_schema": self.metadata_schema,
            "organisation_tags": None
            if self.organisation_tags is None
            else [asdict(t) for t in self.organisation_tags.values()],
            "folder_tags": {k: list(v) for k, v in self.folder_tags.items()},
            "complete": self.complete,
            "listing_counts": dict(self.listing_counts),
            "problems": list(self.problems),
            "caller": None if self.caller is None else self.caller.to_json(),
            "folder_configs": {k: asdict(v) for k, v in self.folder_configs.items()},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LiveState:
        folders = {f["uuid"]: LiveFolder(**f) for f in data.get("folders", [])}
        ambiguous = {k: tuple(v) for k, v in data.get("ambiguous", {}).items()}
        paths = {
            f.path: f.uuid
            for f in folders.values()
            if not any(is_under(f.path, root) for root in ambiguous)
        }
        datasets = {}
        for raw in data.get("datasets", []):
            rows = tuple(LiveDataRow(**r) for r in raw.get("rows", []))
            datasets[raw["uuid"]] = LiveDataset(**{**raw, "rows": rows})
        return cls(
            target=data.get("target", ""),
            scope=tuple(data.get("scope", ())),
            missing_roots=tuple(data.get("missing_roots", ())),
            folders=folders,
            paths=paths,
            ambiguous=ambiguous,
            items={i["uuid"]: LiveItem(**i) for i in data.get("items", [])},
            folder_groups=data.get("folder_groups", {}),
            groups={
                g["hash"]: LiveGroup(**{**g, "members": tuple(g.get("members", ()))})
                for g in data.get("groups", [])
            },
            datasets=datasets,
            collections={c.uuid: c for c in map(_collection, data.get("collections", []))},
            collection_folders=dict(data.get("collection_folders", {})),
            integrations={i["uuid"]: LiveIntegration(**i) for i in data.get("integrations", [])},
            users={u["email"]: LiveUser(**u) for u in data.get("users", [])},
            users_complete=data.get("users_complete", True),
            metadata_schema=data.get("metadata_schema"),
            organisation_tags=_tags(data.get("organisation_tags")),
            folder_tags={k: tuple(v) for k, v in data.get("folder_tags", {}).items()},
            complete=data.get("complete", True),
            listing_counts=data.get("listing_counts", {}),
            problems=tuple(data.get("problems", ())),
            caller=Caller.from_json(data.get("caller")),
            folder_configs={
                k: LiveFolderConfig(**v) for k, v in data.get("folder_configs", {}).items()
            },
        )


def _tags(rows: Any) -> dict[str, LiveTag] | None:
    return None if rows is None else {t["uuid"]: LiveTag(**t) for t in rows}


def _collection(raw: Mapping[str, Any]) -> LiveCollection:
    members = raw.get("members")
    return LiveCollection(**{**raw, "members": None if members is None else tuple(members)})


def content_fingerprint(value: Any) -> str:
    """A short stable hash of a JSON-able value, for objects without ``lastEditedAt``."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=_plain)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()[:16]


def _plain(value: Any) -> Any:
    """A mapping that is not a dict (a change's typed payload) as the JSON object it reads
    as; anything else as its text."""
    return dict(value) if isinstance(value, Mapping) else str(value)
