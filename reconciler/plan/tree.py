"""The live folder tree as it will look after this plan's folder moves (the "projection").

``live.ambiguous`` names live paths; ``Tree.ambiguous`` names the same sibling sets by the
path they will have after the moves, which is what declarations and changes are compared with.

Folder moves come first in apply, and everything else (patches, item rules, dataset
selectors, prune) is decided against the tree they produce: a folder moved from ``/old`` to
``/new`` takes its subtree and items with it, so a rule over ``/new/**`` already covers them.

Invariants: ``path_of`` has every live folder; ``index`` maps each projected path to the one
folder there and leaves out ambiguous subtrees (siblings sharing a name) and folders this
plan replaces (``gone``); ``created`` maps the path of every folder this plan creates
(replacements included) to the address of the creating change.

``plan_folders`` builds the tree (moves, replacements, creates) and returns it in its
``FolderPlan``; every later stage only reads it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from reconciler.model.addresses import is_under, join_path, parent_path
from reconciler.model.live import LiveFolder, LiveState


@dataclass(slots=True)
class Tree:
    live: LiveState
    moves: dict[str, str] = field(default_factory=dict)  # folder uuid -> desired path
    path_of: dict[str, str] = field(default_factory=dict)  # folder uuid -> projected path
    index: dict[str, str] = field(default_factory=dict)  # projected path -> folder uuid
    gone: set[str] = field(default_factory=set)  # uuids removed by a replacement
    created: dict[str, str] = field(default_factory=dict)  # path -> creating address
    children: dict[str | None, list[str]] = field(default_factory=dict)  # uuid -> child uuids
    ambiguous: dict[str, tuple[str, ...]] = field(default_factory=dict)  # projected path ->

    def project(self) -> None:
        """Recompute ``path_of`` and ``index`` from ``moves`` and ``gone``."""
        self.path_of = _projected_paths(self.live.folders, self.moves)
        self.index = {}
        ambiguous = tuple(self.live.ambiguous)
        for uuid, path in self.path_of.items():
            if uuid in self.gone or _under_any(self.live.folders[uuid].path, ambiguous):
                continue
            self.index.setdefault(path, uuid)
        if not self.children:
            for folder in self.live.folders.values():
                self.children.setdefault(folder.parent, []).append(folder.uuid)
        self.ambiguous = {}
        for path, uuids in self.live.ambiguous.items():
            first = self.live.folders.get(uuids[0]) if uuids else None
            moved = self.path_of.get(first.uuid) if first is not None else None
            self.ambiguous[moved or path] = uuids

    def folder_at(self, path: str) -> LiveFolder | None:
        uuid = self.index.get(path)
        return None if uuid is None else self.live.folders[uuid]

    def exists(self, path: str) -> bool:
        return path in self.index or path in self.created

    def parent_ref(self, path: str) -> tuple[str | None, str | None, str | None]:
        """``(parent_uuid, parent_path, depends_on)`` for something placed at ``path``."""
        parent = parent_path(path)
        if parent is None:
            return None, None, None
        if parent in self.created:
            return None, parent, self.created[parent]
        return self.index.get(parent), parent, None

    def subtree(self, uuid: str) -> list[str]:
        """``uuid`` and every live folder below it, parents before children. Folders this plan
        moves elsewhere are not part of it (they leave before anything here is deleted)."""
        out: list[str] = []
        stack = [uuid]
        while stack:
            current = stack.pop()
            out.append(current)
            children = self.children.get(current, ())
            stack.extend(sorted((c for c in children if c not in self.moves), reverse=True))
        return out

    def is_sync_owned(self, uuid: str) -> bool:
        """Below a cloud-synced folder: the sync made it, so it is never ours to prune."""
        folder = self.live.folders[uuid]
        while folder.parent is not None and folder.parent in self.live.folders:
            folder = self.live.folders[folder.parent]
            if folder.folder_type == "cloudLinked":
                return True
        return False


def _under_any(path: str, roots: Iterable[str]) -> bool:
    return any(is_under(path, root) for root in roots)


def _projected_paths(folders: Mapping[str, LiveFolder], moves: dict[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for start in folders:
        chain: list[str] = []
        uuid: str | None = start
        while uuid is not None and uuid not in out:
            if uuid in moves:
                out[uuid] = moves[uuid]
                break
            folder = folders.get(uuid)
            if folder is None:
                break
            chain.append(uuid)
            uuid = folder.parent
        for link in reversed(chain):
            folder = folders[link]
            parent = folder.parent
            if parent is not None and parent in out:
                out[link] = join_path(out[parent], folder.name)
            else:
                # A root folder, or one whose parent lies outside what was read: keep its path.
                out[link] = folder.path
    return out


def moving_ancestor(tree: Tree, uuid: str | None) -> str | None:
    """The address of the move that carries ``uuid`` (itself or its nearest moved ancestor)."""
    current = uuid
    while current is not None and current in tree.live.folders:
        if current in tree.moves:
            return f"folder:{tree.moves[current]}"
        current = tree.live.folders[current].parent
    return None
