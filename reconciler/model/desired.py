"""The desired state: what the YAML in a config directory declares, validated and immutable.

``reconciler.config`` builds a ``DesiredState`` from files; the planner diffs it against a
``LiveState``. Every declared object keeps the ``Source`` (file, line, column) it came from so
that each planned change can cite the line that caused it.

Semantics that the planner relies on (the config layer must preserve them):

* **Absent means unmanaged.** A field left out of the YAML (``None`` here) is not compared and
  never changed, except when the object is created. ``groups: {}`` (empty, not ``None``) means
  "no direct grants", and extra live grants are revoked.
* **Folders** are keyed by absolute path (``/a/b``, no trailing slash). Undeclared ancestors of
  a declared folder are created when missing but otherwise left alone. ``previously`` lists
  earlier paths: if the folder is missing at ``path`` but present at one of them, it is moved
  (keeping its UUID, items and dataset links), not deleted and re-created.
* **Metadata** of folders and items is merged by default: declared keys are set, keys set by
  people or other tools are left alone, and keys matching ``owned_keys`` globs that are not
  declared are removed. ``mode: replace`` makes the declared mapping the whole metadata.
* **Users** (organisation members) are keyed by lower-cased email. Declared users are added
  or re-roled (remove, then add: the API has no role update); ``policy.users:
  authoritative`` also removes live users that are not declared, never the caller.
* **Groups** are keyed by name. ``members`` (emails) is authoritative when declared.
* **Datasets** are keyed by title. ``groups`` and ``users`` are authoritative when declared;
  ``items`` selectors decide which items are linked; ``unlink`` decides whether links that no
  selector selects are removed. The public API cannot change or delete a dataset once it
  exists, so ``description`` is written at creation only (a later difference is refused
  with what to do) and datasets are never pruned.
* **Collections** (Index) are keyed by name and live in one top-level folder; ``items``
  selectors decide their members, ``remove`` whether unselected members are taken out, and
  ``previously`` renames one in place (its UUID kept). A collection cannot change folder.
* **Organisation tags** are keyed by name (unique in an organisation). ``organisation_tags``
  absent (``None``) leaves the organisation's tags unmanaged and unread; a mapping (``{}``
  included) is the declared tag set. A ``None`` description is not managed. The API cannot
  change a tag's description, so a later difference is withheld with what to do.
* **Ownership**: what the tool creates is marked with ``ownership.id`` (``OWNER_KEY`` in folder
  client metadata; an ``ownership_tag`` suffix in group, dataset, collection and
  organisation-tag descriptions, which have no metadata). Prune and unlink only ever touch
  objects carrying our own marker, unless the
  policy says ``all``; objects carrying another id are never touched.
* **Claims**: ``claim`` of a folder or group is ``adopt`` (``adopt: true``: put our
  marker on the live object, which something else made, so prune and unlink treat it as ours)
  or ``release`` (``release: true``: take our marker off, deleting nothing, so the object
  survives its declaration's removal). ``None``: ownership is left as it is. Datasets have
  none: their tag cannot be written once they exist, and they are never pruned anyway.

Do not mutate the mappings inside these models; they are shared and treated as values.

The models are frozen, slotted, keyword-only dataclasses, not pydantic models: the config
layer has already checked every value against the JSON schema, so validating them again cost
``validate`` the pydantic import and a validator per class (about half its start-up) and
caught nothing. Nothing converts what they are given: build them with the declared types
(tuples, not lists; models, not dicts) and copy one with ``dataclasses.replace``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from reconciler.model.addresses import move_stops, parent_path
from reconciler.model.declaration import Declaration, declaration

Role = Literal["user", "admin"]
PruneMode = Literal["never", "owned", "all"]
MetadataMode = Literal["merge", "replace"]
SyncMode = Literal["on_create", "always", "never"]
RegisterMetadata = Literal["upsert", "create_only"]
RegisterPrune = Literal["never", "owned"]
UnlinkMode = Literal["never", "owned", "all"]
Claim = Literal["adopt", "release"]
Provider = Literal["s3", "gcp", "azure"]
OrganisationRole = Literal["ADMIN", "MEMBER", "TASKER", "WORKFORCE_MANAGER"]
MemberType = Literal["internal", "external"]
UsersMode = Literal["additive", "authoritative"]

# The ownership marker in client metadata of folders we create.
OWNER_KEY = "reconciler.owner"


# The apply lock of an ownership id lives in the client metadata of a top-level folder of this
# name (``reconciler.apply.lock``): outside every declared root, so no plan ever reads it.
LOCK_FOLDER_PREFIX = ".reconciler-lock."
LOCK_KEY = "reconciler.lock"


def lock_folder_name(ownership_id: str) -> str:
    return LOCK_FOLDER_PREFIX + ownership_id


def ownership_tag(ownership_id: str) -> str:
    """Suffix appended to descriptions of groups, datasets and organisation tags we create."""
    return f"[managed by reconciler: {ownership_id}]"


# The tag at the end of a description, with the space before it (``ownership_tag``).
OWNERSHIP_TAG = re.compile(r"\s*\[managed by reconciler: ([^\]]+)\]\s*\Z")


def description_owner(description: str) -> str | None:
    """The ownership id tagged at the end of a group or dataset description, if any."""
    found = OWNERSHIP_TAG.search(description)
    return found.group(1) if found else None


def tagged_by(description: str | None, ownership_id: str) -> bool:
    """Whether a description ends in the ownership tag of ``ownership_id`` (a group,
    dataset or organisation tag that this ownership id manages)."""
    return description is not None and description_owner(description) == ownership_id


ENTRY_WORDS = "for_each entry"  # how a template's declarations name their entry (Source.entry)
ENTRY_MARK = f" ({ENTRY_WORDS} "  # and how str(Source) shows it, after file:line


@declaration
class Source(Declaration):
    """Where a declaration came from. ``file`` is relative to the config directory."""

    file: str
    line: int
    col: int = 1
    # Made by a template: which one of its entries, "for_each entry 'x' at file:line"
    entry: str | None = None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}{self._entry()}"

    def position(self) -> str:
        return f"{self.file}:{self.line}:{self.col}{self._entry()}"

    def _entry(self) -> str:
        return "" if self.entry is None else f" ({self.entry})"


@declaration
class Policy(Declaration):
    """What a plan may do: prune mode, the safety ratios, protected paths, user removals."""

    prune: PruneMode = "owned"
    max_delete_ratio: float = 0.25  # refuse plans deleting more than this share of live objects
    max_change_ratio: float = 1.0  # refuse plans changing more than this share (1.0 = off)
    min_existing: int = 10  # ratios apply only when at least this many live objects are in scope
    protect: tuple[str, ...] = ()  # path globs never deleted or moved
    allow_replace: bool = False  # allow cloud-sync replacements (delete + create) without --force
    # refuse plans unlinking or revoking more than this share of one dataset's links and grants
    max_unlink_ratio: float = 0.25
    manifest_unmatched: Literal["error", "warn"] = "warn"  # manifest rows that match no item
    # organisation users: additive adds and re-roles declared users and removes nobody;
    # authoritative also removes the users not declared (``reconciler.plan.users``)
    users: UsersMode = "additive"
    min_admins: int = 1  # never leave fewer organisation admins than this
    max_user_removal_ratio: float = 0.25  # refuse removing more of the live users, unless --force
    allow_user_rerole: bool = False  # a role change removes and re-adds the user: needs --force

    def __post_init__(self) -> None:
        # YAML may write a ratio as an integer (``max_delete_ratio: 1``); it is a float here
        # whatever was written, as pydantic made it before.
        for name in _RATIOS:
            object.__setattr__(self, name, float(getattr(self, name)))


_RATIOS = ("max_delete_ratio", "max_change_ratio", "max_unlink_ratio", "max_user_removal_ratio")


@declaration
class Ownership(Declaration):
    """The id whose marker this config puts on what it creates (``ownership.id``)."""

    id: str


@declaration
class EncordTarget(Declaration):
    """The real Encord API: its domain and the SSH key that signs requests."""

    domain: str = "https://api.encord.com"
    ssh_key_file: str | None = None


@declaration
class SandboxIntegration(Declaration):
    """A cloud integration of the embedded sandbox, backed by a local directory."""

    title: str
    provider: Provider
    root: str  # absolute directory standing in for the bucket


@declaration
class SandboxUser(Declaration):
    """An organisation member the embedded sandbox starts with."""

    email: str
    role: OrganisationRole = "MEMBER"


@declaration
class SandboxTarget(Declaration):
    """The embedded sandbox (a local SQLite file) with its integrations and users."""

    path: str  # absolute path of the SQLite database
    integrations: tuple[SandboxIntegration, ...] = ()
    users: tuple[SandboxUser, ...] = ()


@declaration
class Target(Declaration):
    """Exactly one of ``encord`` or ``sandbox``."""

    encord: EncordTarget | None = None
    sandbox: SandboxTarget | None = None


@declaration
class Sidecars(Declaration):
    """Metadata sidecar ingestion of a cloud-synced folder (its folder config): files ending
    in ``suffix`` become the client metadata of the file they name on the next sync;
    ``paused`` claims them without attaching."""

    suffix: str
    paused: bool = False


@declaration
class CloudSync(Declaration):
    """A folder synced from a cloud bucket: the integration, the bucket URL and when to sync."""

    integration: str  # title or UUID, resolved at plan time
    remote_url: str
    sync: SyncMode = "on_create"  # always: apply syncs it on every run
    metadata_sidecars: Sidecars | None = None  # None: the folder config is not managed
    source: Source


# Item types a registration row may have (StorageItemType spellings), by position: the
# compact row store keeps a type as one byte (``RegisterRows.types``).
REGISTER_TYPES = ("image", "video", "audio", "plainText", "pdf", "nifti", "timeseries")


@dataclass(frozen=True, slots=True)
class RegisterRow:
    """One object to register: its URL, item type, title (None: the URL's last segment, as
    Encord names it) and client metadata; ``source`` is ``file:line`` for messages."""

    url: str
    item_type: str
    title: str | None
    metadata: Mapping[str, Any]
    source: str

    @property
    def name(self) -> str:
        """The item's name once registered."""
        return self.title if self.title is not None else self.url.rsplit("/", 1)[-1]


@dataclass(frozen=True, slots=True, eq=False)
class RegisterRows:
    """The rows of one registration manifest, stored compactly: there may be a million.

    Per row: its name (the dict key, also in ``names``), the URL as a shared prefix plus the
    name when it ends in ``/name`` (``odd_urls`` otherwise), its line, its type as one byte,
    whether the title was given, and a reference to its (shared) metadata mapping.
    """

    file: str
    index: Mapping[str, int]  # item name -> row number
    names: list[str]
    prefixes: list[str]
    prefix_of: Any  # array('I'): index into prefixes, per row
    odd_urls: Mapping[int, str]  # rows whose URL does not end in "/<name>"
    lines: Any  # array('I')
    types: bytes | bytearray
    titled: bytes | bytearray  # 1: the row gave its title
    metadata: list[Mapping[str, Any]]

    def __len__(self) -> int:
        return len(self.names)

    def url(self, n: int) -> str:
        odd = self.odd_urls.get(n)
        return odd if odd is not None else self.prefixes[self.prefix_of[n]] + self.names[n]

    def row(self, n: int) -> RegisterRow:
        name = self.names[n]
        return RegisterRow(
            url=self.url(n),
            item_type=REGISTER_TYPES[self.types[n]],
            title=name if self.titled[n] else None,
            metadata=self.metadata[n],
            source=f"{self.file}:{self.lines[n]}",
        )

    def __iter__(self) -> Iterator[RegisterRow]:
        return (self.row(n) for n in range(len(self.names)))


@declaration
class Registration(Declaration):
    """Objects of a private-cloud integration registered into a generic folder from a
    manifest. ``metadata``: ``upsert`` keeps registered items' client metadata as the rows
    declare it (merged like a manifest), ``create_only`` writes it at registration only.
    ``prune: owned`` deletes items this ownership id registered that no row lists."""

    integration: str  # title or UUID, resolved at plan time
    manifest: str  # relative to the config directory
    metadata: RegisterMetadata = "upsert"
    prune: RegisterPrune = "never"
    rows: RegisterRows
    source: Source


@declaration
class DesiredFolder(Declaration):
    """A folder, keyed by its absolute path; ``None`` fields are not managed."""

    path: str
    description: str | None = None
    metadata: Mapping[str, Any] | None = None
    metadata_mode: MetadataMode = "merge"
    owned_keys: tuple[str, ...] = ()
    groups: Mapping[str, Role] | None = None
    previously: tuple[str, ...] = ()
    cloud_sync: CloudSync | None = None
    registration: Registration | None = None  # ``register:`` in the YAML
    claim: Claim | None = None
    source: Source
    field_sources: Mapping[str, Source] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[1]


@declaration
class DesiredUser(Declaration):
    """An organisation member. ``email`` is lower-cased (Encord matches emails without
    regard to case); ``role`` is the API's mnemonic (the config writes it lower-case)."""

    email: str
    role: OrganisationRole
    member_type: MemberType = "internal"
    source: Source


@declaration
class DesiredGroup(Declaration):
    """A user group, keyed by name; ``members`` (emails) is authoritative when declared."""

    name: str
    description: str | None = None
    members: tuple[str, ...] | None = None
    claim: Claim | None = None
    source: Source


@declaration
class DesiredTag(Declaration):
    """An organisation tag, keyed by name."""

    name: str
    description: str | None = None
    source: Source


@declaration
class ItemMatch(Declaration):
    """All given conditions must hold. ``metadata`` compares key by key for equality."""

    name: str | None = None  # glob on the item name
    types: tuple[str, ...] = ()  # StorageItemType wire values; empty = any
    metadata: Mapping[str, Any] | None = None


@declaration
class MetadataRule(Declaration):
    """Client metadata for the items under ``folder`` that satisfy ``match``."""

    folder: str
    recursive: bool = False
    match: ItemMatch = ItemMatch()
    metadata: Mapping[str, Any]
    mode: MetadataMode = "merge"
    owned_keys: tuple[str, ...] = ()
    source: Source


@dataclass(frozen=True, slots=True)
class ManifestEntry:
    """One manifest row: an item's metadata, its line, and an earlier path it moves from."""

    metadata: Mapping[str, Any]
    line: int
    previously: str | None = None  # an earlier item path: the item is moved here


@dataclass(frozen=True, slots=True)
class ManifestRows:
    """Rows of one manifest, keyed by item path. Kept out of pydantic: there may be millions."""

    rows: Mapping[str, ManifestEntry] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.rows)


@declaration
class Manifest(Declaration):
    """An item manifest (JSONL or CSV): metadata per item path, merged or replaced."""

    file: str  # relative to the config directory, for citations
    format: Literal["jsonl", "csv"]
    mode: MetadataMode = "merge"
    owned_keys: tuple[str, ...] = ()
    entries: ManifestRows
    source: Source


@declaration
class ItemSelector(Declaration):
    """Selects items for a dataset: those under ``folder`` (its direct children, or the whole
    subtree when ``recursive``) that satisfy ``match``, plus every item whose path is listed in
    ``paths`` (loaded from the selector's ``manifest`` file, one item path per row; this is how
    ``reconciler export`` writes links that no folder rule describes)."""

    folder: str | None = None
    recursive: bool = False
    match: ItemMatch = ItemMatch()
    manifest: str | None = None  # file, relative to the config directory, for citations
    paths: frozenset[str] = frozenset()
    source: Source


@declaration
class DesiredDataset(Declaration):
    """A dataset, keyed by title: its grants and the selectors of its items."""

    title: str
    description: str | None = None
    groups: Mapping[str, Role] | None = None
    users: Mapping[str, Role] | None = None
    items: tuple[ItemSelector, ...] = ()
    unlink: UnlinkMode = "owned"
    source: Source


@declaration
class DesiredCollection(Declaration):
    """An Index collection: a named set of items inside one top-level folder (``folder``).

    ``items`` selects its members with the dataset selectors; ``remove`` decides whether
    members no selector selects are taken out (``owned``: only from collections carrying our
    ownership tag in their description). ``previously`` lists earlier names: a collection
    found under one of them (in the same folder) is renamed, keeping its UUID.
    """

    name: str
    folder: str
    description: str | None = None
    items: tuple[ItemSelector, ...] = ()
    remove: UnlinkMode = "owned"
    previously: tuple[str, ...] = ()
    source: Source


@declaration
class MetadataSchema(Declaration):
    """Key to wire descriptor (``{"ty": "enum", "values": [...]}``), as the v2 API stores it."""

    keys: Mapping[str, Mapping[str, Any]]
    source: Source


@declaration
class DesiredState(Declaration):
    """Everything a config declares, for one environment."""

    root_dir: str
    version: int = 1
    target: Target
    ownership: Ownership
    policy: Policy = Policy()
    folders: Mapping[str, DesiredFolder] = field(default_factory=dict)
    groups: Mapping[str, DesiredGroup] = field(default_factory=dict)
    rules: tuple[MetadataRule, ...] = ()
    manifests: tuple[Manifest, ...] = ()
    datasets: Mapping[str, DesiredDataset] = field(default_factory=dict)
    collections: Mapping[str, DesiredCollection] = field(default_factory=dict)
    metadata_schema: MetadataSchema | None = None
    users: Mapping[str, DesiredUser] = field(default_factory=dict)  # lower-cased email -> user
    organisation_tags: Mapping[str, DesiredTag] | None = None  # None: tags unmanaged
    source: Source  # reconciler.yaml
    # where ``policy.users`` is written (None: not written, additive), for the removals it causes
    users_policy_source: Source | None = None
    environment: str | None = None  # the one of reconciler.yaml's environments: chosen

    def roots(self) -> tuple[str, ...]:
        """Folder paths the config refers to that have no referred-to ancestor.

        Declared folders, their ``previously`` paths, rule and selector folders, and the
        folders of manifest rows all count. These are the subtrees the live reader lists
        recursively and the only places where anything may be pruned.
        """
        paths = set(self.folders)
        for folder in self.folders.values():
            paths.update(folder.previously)
        paths.update(rule.folder for rule in self.rules)
        for manifest in self.manifests:
            for item_path, entry in manifest.entries.rows.items():
                paths.add(_folder_of(item_path))
                if entry.previously:
                    paths.add(_folder_of(entry.previously))
        selectors = [s for d in self.datasets.values() for s in d.items]
        selectors += [s for c in self.collections.values() for s in c.items]
        for sel in selectors:
            if sel.folder is not None:
                paths.add(sel.folder)
            paths.update(_folder_of(p) for p in sel.paths)
        return tuple(sorted(p for p in paths if not _has_ancestor_in(p, paths)))

    def read_roots(self) -> tuple[str, ...]:
        """``roots`` and the paths a ``previously`` folder has half-way through its move (see
        ``move_stops``): read, so a run that stopped between a move and its rename is seen,
        but not places to prune."""
        paths = set(self.roots())
        for folder in self.folders.values():
            for previous in folder.previously:
                paths.update(move_stops(folder.path, previous))
        return tuple(sorted(p for p in paths if not _has_ancestor_in(p, paths)))

    def declared_ancestors(self, path: str) -> list[str]:
        out: list[str] = []
        current = parent_path(path)
        while current is not None:
            if current in self.folders:
                out.append(current)
            current = parent_path(current)
        return out


def _has_ancestor_in(path: str, paths: set[str]) -> bool:
    current = parent_path(path)
    while current is not None:
        if current in paths:
            return True
        current = parent_path(current)
    return False


def _folder_of(item_path: str) -> str:
    return item_path.rsplit("/", 1)[0] or "/"
