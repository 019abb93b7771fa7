"""Phases: the order in which apply runs the parts of a plan, derived from the domain:

    schema → tags → create-ahead → move-out (folders leaving a folder the plan replaces, and
    where they go)
    → replace (contents of replaced folders, then the old folders, children first)
    → create-folders (parents first) → folder-config (sidecar ingestion, before any sync)
    → register (data-upload jobs) → sync (start, await) → patch-folders → move-folders
    → move-items (then the plan's deferrals) → patch-items → users (added, re-roled)
    → groups (and members) → grants (on folders) → datasets → dataset-grants → link
    → unlink → collections (create, patch, rename) → collection-add → collection-remove
    → revoke → delete-collections → delete-items → delete-folders (children first)
    → delete-groups → delete-tags → remove-users

Registration comes before the sync phase; once the folders and items have moved, apply
re-plans what the new items make possible (metadata, links: the plan's deferrals), so a
folder this plan both moves and fills is read where it ends up. Grants come before revokes so that no
folder or dataset passes through a state without an admin; the metadata schema comes first
because the API type-checks metadata values against it. Organisation tags stand alone: made first, deleted last. Organisation users are added
before any group or dataset names them (the API refuses a member who is not a user), and
removed last, once no group or dataset of the plan names them. A re-role is a removal and
an add (the API has no role update), which drops the user's group memberships and dataset
roles, so it runs before the groups and dataset grants that give them back. A replacement
(a cloud-synced folder re-pointed) must delete the old folder before the new one is created
at the same path, so its deletes run in ``replace``, before any create; a folder the plan
moves out of the replaced one leaves first, in ``move-out``, and a new folder it goes to is
made before that, in ``create-ahead`` (unless it lies at or under a replaced folder, which
exists only after ``replace``: such a move stays in ``move-folders``, and apply refuses to
delete the old folder while it still holds it). Collections come
after every folder and item move (members are items where they end up) and are deleted
before the items and folders they hold, which the API may refuse to delete while a
collection still refers to them.

The vocabulary lives here, below both the kind registry (each kind names its phases) and
``reconciler.apply`` (which runs them); ``reconciler.apply.phases`` re-exports it.
"""

from __future__ import annotations

from enum import StrEnum


class Phase(StrEnum):
    SCHEMA = "schema"
    TAGS = "tags"
    CREATE_AHEAD = "create-ahead"
    MOVE_OUT = "move-out"
    REPLACE = "replace"
    CREATE_FOLDERS = "create-folders"
    FOLDER_CONFIG = "folder-config"
    REGISTER = "register"
    SYNC = "sync"
    PATCH_FOLDERS = "patch-folders"
    MOVE_FOLDERS = "move-folders"
    MOVE_ITEMS = "move-items"
    PATCH_ITEMS = "patch-items"
    USERS = "users"
    GROUPS = "groups"
    GRANTS = "grants"
    DATASETS = "datasets"
    DATASET_GRANTS = "dataset-grants"
    LINK = "link"
    UNLINK = "unlink"
    COLLECTIONS = "collections"
    COLLECTION_ADD = "collection-add"
    COLLECTION_REMOVE = "collection-remove"
    REVOKE = "revoke"
    DELETE_COLLECTIONS = "delete-collections"
    DELETE_ITEMS = "delete-items"
    DELETE_FOLDERS = "delete-folders"
    DELETE_GROUPS = "delete-groups"
    DELETE_TAGS = "delete-tags"
    REMOVE_USERS = "remove-users"

    @property
    def rank(self) -> int:
        return _RANK[self]


PHASES: tuple[Phase, ...] = tuple(Phase)
_RANK = {phase: n for n, phase in enumerate(PHASES)}
