"""Addresses: the stable, human-readable name of everything a plan can change.

An address is ``<kind>:<key>``; for a relation between two objects the key is
``<owner>#<member>``:

    folder:/curated/cameras              a storage folder, by path
    item:/curated/cameras/a.mp4          a storage item, by folder path and name
    group:annotators                     an organisation group, by name
    folder-group:/curated#annotators     a group's role on a folder
    dataset:cameras-train                a dataset, by title
    dataset-group:cameras-train#annotators
    dataset-user:cameras-train#alice@example.com
    link:cameras-train#/curated/cameras/a.mp4   an item linked into a dataset
    collection:night-scenes              an Index collection, by name
    collection-item:night-scenes#/raw/a.jpg     an item in a collection
    register:/curated/batch-7            a manifest's objects registered into a folder
    folder-config:/raw/cameras           a cloud-synced folder's sidecar settings
    metadata-schema:organisation         the organisation's client-metadata schema
    organisation-tag:night               an organisation tag, by name
    user:maya.chen@acme.example          an organisation member, by lower-cased email

Addresses identify desired objects, so a moved folder's address is its new path and the old
one is the change's ``previous_address``. They sort so that a plan reads top-down, and
``--only`` and ``protect`` globs match them (see ``globs``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    FOLDER = "folder"
    ITEM = "item"
    GROUP = "group"
    FOLDER_GROUP = "folder-group"
    DATASET = "dataset"
    DATASET_GROUP = "dataset-group"
    DATASET_USER = "dataset-user"
    LINK = "link"
    METADATA_SCHEMA = "metadata-schema"
    ORGANISATION_TAG = "organisation-tag"
    COLLECTION = "collection"
    COLLECTION_ITEM = "collection-item"
    USER = "user"
    REGISTER = "register"
    FOLDER_CONFIG = "folder-config"


def folder(path: str) -> str:
    return f"{Kind.FOLDER}:{path}"


def item(path: str) -> str:
    return f"{Kind.ITEM}:{path}"


def group(name: str) -> str:
    return f"{Kind.GROUP}:{name}"


def folder_group(path: str, group_name: str) -> str:
    return f"{Kind.FOLDER_GROUP}:{path}#{group_name}"


def dataset(title: str) -> str:
    return f"{Kind.DATASET}:{title}"


def dataset_group(title: str, group_name: str) -> str:
    return f"{Kind.DATASET_GROUP}:{title}#{group_name}"


def dataset_user(title: str, email: str) -> str:
    return f"{Kind.DATASET_USER}:{title}#{email}"


def link(title: str, item_path: str) -> str:
    return f"{Kind.LINK}:{title}#{item_path}"


def collection(name: str) -> str:
    return f"{Kind.COLLECTION}:{name}"


def collection_item(name: str, item_path: str) -> str:
    return f"{Kind.COLLECTION_ITEM}:{name}#{item_path}"


METADATA_SCHEMA = f"{Kind.METADATA_SCHEMA}:organisation"


def organisation_tag(name: str) -> str:
    return f"{Kind.ORGANISATION_TAG}:{name}"


def user(email: str) -> str:
    """An organisation member: Encord matches emails without regard to case, so the
    address holds the lower-cased email (one member, one address)."""
    return f"{Kind.USER}:{email.lower()}"


def register(path: str) -> str:
    """The registration of a manifest's objects into the folder at ``path``."""
    return f"{Kind.REGISTER}:{path}"


def folder_config(path: str) -> str:
    """The folder config (metadata sidecar ingestion) of the cloud-synced folder at ``path``."""
    return f"{Kind.FOLDER_CONFIG}:{path}"


# Where a relation's key splits into owner and member. The string form cannot be made
# unambiguous (paths, titles and group labels may all contain ``#``), so each kind splits
# where its member cannot be confused: an item path starts with ``/``, an email has no ``#``,
# a group label may (``name#hash`` for repeated names), so it takes everything after the
# first ``#``. Anything that needs certainty reads ``Change.refs``, never the address.
_SPLIT_FIRST = frozenset({Kind.FOLDER_GROUP, Kind.DATASET_GROUP})
_PATH_KEYED = frozenset(
    {Kind.FOLDER, Kind.ITEM, Kind.FOLDER_GROUP, Kind.REGISTER, Kind.FOLDER_CONFIG}
)
# ``#<uuid>`` that makes a folder or item address unique (see ``Change``).
_UNIQUE_SUFFIX = re.compile(r"#([0-9A-Za-z][0-9A-Za-z-]{7,})\Z")


@dataclass(frozen=True, slots=True)
class Address:
    """A parsed address: ``kind:key`` or ``kind:key#member``.

    ``member`` is the second object of a relation (the group, the user, the linked item's
    path), or for a folder or item address made unique the live UUID after ``#``.
    ``str(Address.parse(s)) == s`` for every address; plans and JSON keep the string form.
    """

    kind: Kind
    key: str
    member: str | None = None

    @classmethod
    def parse(cls, address: str) -> Address:
        kind_text, _, rest = address.partition(":")
        kind = Kind(kind_text)
        if kind in _SPLIT_FIRST:
            key, sep, member = rest.partition("#")
        elif kind == Kind.DATASET_USER:
            key, sep, member = rest.rpartition("#")
        elif kind in (Kind.LINK, Kind.COLLECTION_ITEM):
            key, sep, member = rest.partition("#/")
            member = sep[1:] + member
        elif kind in (Kind.FOLDER, Kind.ITEM):
            found = _UNIQUE_SUFFIX.search(rest)
            if found is None:
                return cls(kind, rest)
            return cls(kind, rest[: found.start()], found.group(1))
        else:
            return cls(kind, rest)
        return cls(kind, key, member) if sep else cls(kind, rest)

    def __str__(self) -> str:
        tail = "" if self.member is None else f"#{self.member}"
        return f"{self.kind}:{self.key}{tail}"

    @property
    def path(self) -> str | None:
        """The storage path the address names or hangs from (None for groups, datasets,
        dataset access and the schema)."""
        if self.kind in _PATH_KEYED:
            return self.key
        if self.kind in (Kind.LINK, Kind.COLLECTION_ITEM):
            return self.member
        return None

    def sort_key(self) -> tuple[str, ...]:
        return sort_key(str(self))


def sort_key(address: str) -> tuple[str, ...]:
    """How addresses of one kind sort: by path segments, so a folder's children follow it
    and a relation follows its owner (``#`` starts a segment of its own)."""
    return tuple(key_of(address).replace("#", "/#").split("/"))


def sort_text(address: str) -> str:
    """One string that sorts as ``sort_key`` does (a plan of a million changes sorts a
    million keys: one string each, not a tuple of segment strings). Each ``/`` becomes
    "\\0\\0" and each "\\0" in a segment "\\0\\1", so where one segment ends and the other goes
    on, the ending one sorts first, as the shorter segment does in the tuple."""
    return key_of(address).replace("#", "/#").replace("\0", "\0\1").replace("/", "\0\0")


def kind_of(address: str) -> Kind:
    return Kind(address.split(":", 1)[0])


def key_of(address: str) -> str:
    return address.split(":", 1)[1]


def join_path(parent: str, name: str) -> str:
    """Child path under ``parent``; the root is ``/``-less: ``join_path("", "a") == "/a"``."""
    return f"{parent.rstrip('/')}/{name}"


def parent_path(path: str) -> str | None:
    """``/a/b`` → ``/a``; a root folder ``/a`` has no parent (``None``)."""
    head, _, _ = path.rpartition("/")
    return head or None


def move_stops(path: str, previous: str) -> tuple[str, ...]:
    """Where a folder moving from ``previous`` to ``path`` is between the two requests of a
    move that also renames: moved but not renamed, then renamed but not moved. A pure move or
    a pure rename is one request and has none."""
    name, old_name = path.rpartition("/")[2], previous.rpartition("/")[2]
    moved = join_path(parent_path(path) or "", old_name)
    renamed = join_path(parent_path(previous) or "", name)
    return tuple(dict.fromkeys(p for p in (moved, renamed) if p not in (path, previous)))


def split_path(path: str) -> list[str]:
    return [part for part in path.split("/") if part]


def is_under(path: str, root: str) -> bool:
    """True for ``root`` itself and anything below it."""
    return path == root or path.startswith(root.rstrip("/") + "/")
