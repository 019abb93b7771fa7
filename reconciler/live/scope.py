"""What the live reader reads: the declared roots and the organisation objects around them."""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.model.desired import DesiredState
from reconciler.plan.canonical import description_owner


@dataclass(frozen=True, slots=True, kw_only=True)
class Scope:
    """The part of an organisation a run looks at.

    ``roots`` are absolute folder paths with no root inside another
    (``DesiredState.read_roots()``);
    each is read in full: its folders, its items, the group roles on each of its folders.
    ``datasets`` are the titles read in depth (data rows, groups, users); ``None`` reads every
    dataset the caller can see. ``groups`` are the names whose members are read; ``None``
    reads the members of every group. ``read_tags``: list the organisation tags (when the
    config manages them, and for export). ``owner``: the ownership id whose tagged groups have
    their members read too, whatever their name: prune may delete them, and the plan shows
    (and fingerprints) the members it deletes, so they must be the members that are there.
    All groups are always listed (names and hashes, one request), so grants can be resolved
    whatever the scope. ``collection_folders`` are the top-level folder paths whose Index
    collections are listed (one request a folder, and one to find each by name);
    ``collections`` the names whose members are read (``None``: every listed collection's).
    ``folder_configs``: folder paths whose folder config (sidecar ingestion) is read, one
    request each: the cloud-synced folders declaring ``metadata_sidecars``.

    ``folder_roles``: read the group roles on every folder of the roots (one request a
    folder). Without it they are read only where a plan could act on them: on every folder
    when the group listing shows a group ``may_prune_group`` (deleting a group takes its
    grants, and the plan withholds a delete that leaves a folder without an admin), and on
    the folders of an ambiguous path (healing deletes a duplicate only if it holds nothing).
    ``from_desired`` reads only what the config can change: roles when a folder declares
    ``groups``, users when anything names a user, integrations when a folder is cloud-synced
    or registers objects, the metadata schema when one is declared.
    """

    roots: tuple[str, ...]
    datasets: frozenset[str] | None = frozenset()
    groups: frozenset[str] | None = frozenset()
    read_users: bool = True
    read_integrations: bool = True
    read_metadata_schema: bool = True
    read_tags: bool = False
    read_folder_tags: bool = False  # which read folders carry which tag (export shows them)
    owner: str | None = None
    collection_folders: tuple[str, ...] = ()
    collections: frozenset[str] | None = frozenset()
    folder_configs: frozenset[str] = frozenset()
    folder_roles: bool = True

    def __post_init__(self) -> None:
        for root in self.roots:
            if not root.startswith("/") or root.endswith("/") or "//" in root:
                raise ValueError(f"scope root must be an absolute folder path: {root!r}")

    @classmethod
    def from_desired(cls, desired: DesiredState) -> Scope:
        return cls(
            roots=desired.read_roots(),
            datasets=frozenset(desired.datasets),
            groups=frozenset(desired.groups),
            read_users=_names_users(desired),
            read_integrations=any(
                f.cloud_sync is not None or f.registration is not None
                for f in desired.folders.values()
            ),
            read_metadata_schema=desired.metadata_schema is not None,
            folder_roles=any(f.groups is not None for f in desired.folders.values()),
            read_tags=desired.organisation_tags is not None,
            owner=desired.ownership.id,
            collection_folders=collection_folders(desired),
            collections=frozenset(
                name for c in desired.collections.values() for name in (c.name, *c.previously)
            ),
            folder_configs=frozenset(
                f.path
                for f in desired.folders.values()
                if f.cloud_sync is not None and f.cloud_sync.metadata_sidecars is not None
            ),
        )

    def wants_collection(self, name: str) -> bool:
        return self.collections is None or name in self.collections

    def wants_dataset(self, title: str) -> bool:
        return self.datasets is None or title in self.datasets

    def wants_members(self, group_name: str, description: str = "") -> bool:
        if self.groups is None or group_name in self.groups:
            return True
        return self.owner is not None and description_owner(description) == self.owner

    def may_prune_group(self, group_name: str, description: str) -> bool:
        """A live group the plan may delete: tagged with our ownership id and not declared
        (``groups`` None counts nothing as declared, to err on the side of reading)."""
        declared = self.groups is not None and group_name in self.groups
        return (
            not declared and self.owner is not None and description_owner(description) == self.owner
        )


def _names_users(desired: DesiredState) -> bool:
    """Does the plan need the organisation's members: users declared (or removed by
    ``policy.users: authoritative``), or a group's members or a dataset's users declared
    (even empty: organisation admins are never taken out of either, so who is one must be
    known before anyone is)."""
    if desired.users or desired.policy.users == "authoritative":
        return True
    return any(g.members is not None for g in desired.groups.values()) or any(
        d.users is not None for d in desired.datasets.values()
    )


def collection_folders(desired: DesiredState) -> tuple[str, ...]:
    """The top-level folders of the declared collections and of every root: collections we
    own that are no longer declared are found (and pruned) in the folders still in scope."""
    tops = {c.folder for c in desired.collections.values()}
    tops.update("/" + root.split("/")[1] for root in desired.read_roots())
    return tuple(sorted(tops))
