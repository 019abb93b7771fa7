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
    metadata-schema:organisation         the organisation's client-metadata schema

Addresses identify desired objects, so a moved folder's address is its new path and the old
one is the change's ``previous_address``. They sort so that a plan reads top-down, and
``--only`` and ``protect`` globs match them (see ``globs``).
"""

from __future__ import annotations

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


METADATA_SCHEMA = f"{Kind.METADATA_SCHEMA}:organisation"


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
