"""Reading the folder tree under the scope roots: resolve each root by name from the storage
root, then list each root's folders (one paged listing), its items (listings split by
subtree and read from both ends, ``chains.py``, all at once) and the group roles on every
folder of it (one request per folder, behind the item pages).

Paths are computed from parent links, never taken from names alone: two siblings with the same
name give one path two UUIDs, and that path goes to ``ambiguous`` instead of being merged.
A 403 or 404 on part of the tree is recorded as a problem and makes the read incomplete;
any other failure (authentication, a server that keeps failing) ends the read.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar

from reconciler.encord import EncordClient, Folder, ForbiddenError, NotFoundError
from reconciler.live.chains import Listing, plan_listings
from reconciler.live.progress import ReadCounter
from reconciler.live.records import ItemRecords, Placing, parse_metadata
from reconciler.live.tasks import gather_all, task_group
from reconciler.model.addresses import join_path, parent_path, split_path
from reconciler.model.live import LiveFolder, LiveItem
from reconciler.wire.base import format_datetime

logger = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(slots=True)
class Tree:
    """What the tree read produced; assembled into a ``LiveState`` by the reader."""

    folders: dict[str, LiveFolder] = field(default_factory=dict)
    items: dict[str, LiveItem] = field(default_factory=dict)
    ambiguous: dict[str, tuple[str, ...]] = field(default_factory=dict)
    folder_groups: dict[str, dict[str, str]] = field(default_factory=dict)
    missing_roots: list[str] = field(default_factory=list)
    listing_counts: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    complete: bool = True


class TreeReader:
    """``all_roles``: awaited once the folders are listed, says whether to read the group
    roles on every folder (None: always); without them, only the folders of an ambiguous
    path have their roles read (``Scope.folder_roles``)."""

    def __init__(
        self,
        client: EncordClient,
        counter: ReadCounter | None = None,
        *,
        all_roles: Callable[[], Awaitable[bool]] | None = None,
    ) -> None:
        self._client = client
        self._counter = counter or ReadCounter(client, None)
        self._all_roles = all_roles
        self.tree = Tree()
        self._records = ItemRecords()

    async def read(self, roots: Iterable[str]) -> Tree:
        roots = sorted(set(roots))
        resolved = await self._resolve(roots)
        for root in roots:
            if not resolved.get(root):
                self.tree.missing_roots.append(root)
                self.tree.listing_counts[root] = 0
        listings = [
            self._subtree(root, folder) for root in roots for folder in resolved.get(root, [])
        ]
        await gather_all(listings)
        return self.tree

    # --- roots -------------------------------------------------------------------------------

    async def _resolve(self, roots: list[str]) -> dict[str, list[Folder]]:
        """Every folder at each root path and at each of its ancestors, level by level."""
        by_depth: dict[int, set[str]] = defaultdict(set)
        for root in roots:
            parts = split_path(root)
            for depth in range(1, len(parts) + 1):
                by_depth[depth].add("/" + "/".join(parts[:depth]))
        found: dict[str, list[Folder]] = {}
        for depth in sorted(by_depth):
            paths = sorted(by_depth[depth])
            levels = await gather_all(self._named(found, path) for path in paths)
            found.update(zip(paths, levels, strict=True))
        for path, folders in found.items():
            if len(folders) > 1:
                self.tree.ambiguous[path] = tuple(sorted(str(f.uuid) for f in folders))
            if path not in roots:  # ancestors; roots are added with their subtree
                for folder in folders:
                    self._add_folder(folder, path)
        return found

    async def _named(self, found: dict[str, list[Folder]], path: str) -> list[Folder]:
        name = path.rsplit("/", 1)[1]
        parent = parent_path(path)
        if parent is None:
            return await self._client.folders.find_children(None, name)
        matches: list[Folder] = []
        for folder in found.get(parent, []):
            matches.extend(await self._client.folders.find_children(folder.uuid, name))
        return matches

    # --- one root's subtree ----------------------------------------------------------------------

    async def _subtree(self, root: str, root_folder: Folder) -> None:
        """The folder listing first; then the items in parallel chains (``chains``), with the
        role reads behind them: the role reads may use only the slots the item chains leave
        free, so they never queue ahead of an item page on the client's one limit."""
        descendants: list[Folder] = []

        async def list_folders() -> None:
            listing = self._client.folders.list_subfolders(
                root_folder.uuid, recursive=True, subject=f"folder {root}"
            )
            async for folder in listing:
                descendants.append(folder)
                self._counter.add(folders=1)

        await self._soft(list_folders(), f"folders under {root}")
        paths = self._place(root, root_folder, descendants)
        concurrency = self._client.options.concurrency
        listings = plan_listings(root_folder, descendants, paths, concurrency)
        free = asyncio.Semaphore(max(1, concurrency - sum(x.ends for x in listings)))
        async with task_group() as group:
            items = group.create_task(self._items(root, listings, paths))
            every = self._all_roles is None or await self._all_roles()  # items meanwhile
            for folder in [root_folder, *descendants]:
                path = paths.get(str(folder.uuid))
                if path is not None and (every or path in self.tree.ambiguous):
                    group.create_task(self._roles(folder, path, free))
        count = len(descendants) + items.result()
        self.tree.listing_counts[root] = self.tree.listing_counts.get(root, 0) + count

    async def _items(self, root: str, listings: list[Listing], paths: dict[str, str]) -> int:
        """Every listing at once, each page made live items as it arrives (``records``); a
        403 or 404 on any of them is one problem for the root, and nothing the listings read
        is kept (as when the one listing of a root is refused). Returns the items kept."""
        read: dict[str, LiveItem] = {}
        placing = Placing(read, self._records)
        placing.place(paths)

        async def chain(listing: Listing) -> None:
            pages = self._client.items.list_briefs(
                listing.folder.uuid,
                recursive=listing.recursive,
                subject=f"folder {listing.path}",
                from_both_ends=listing.both_ends,
            )
            async for page in pages:
                placing.add(page)
                self._counter.add(items=len(page))

        try:
            await gather_all(chain(listing) for listing in listings)
        except (ForbiddenError, NotFoundError) as error:
            self._problem(f"items under {root}: {error}")
            return 0
        if placing.orphans:
            self._problem(f"{placing.orphans} items are in folders that were not listed")
        if self.tree.items:
            self.tree.items.update(read)
        else:  # the first root's items: no copy
            self.tree.items = read
        return placing.listed

    def _place(self, root: str, root_folder: Folder, descendants: list[Folder]) -> dict[str, str]:
        """Folder UUID -> path, walking parent links down from the root folder."""
        children: dict[str, list[Folder]] = defaultdict(list)
        for folder in descendants:
            children[str(folder.parent)].append(folder)
        paths = {str(root_folder.uuid): root}
        self._add_folder(root_folder, root)
        stack = [str(root_folder.uuid)]
        while stack:
            parent = stack.pop()
            named: dict[str, list[Folder]] = defaultdict(list)
            for child in children.get(parent, ()):
                named[child.name].append(child)
            for name, same in named.items():
                path = join_path(paths[parent], name)
                if len(same) > 1:
                    uuids = {str(f.uuid) for f in same} | set(self.tree.ambiguous.get(path, ()))
                    self.tree.ambiguous[path] = tuple(sorted(uuids))
                for folder in same:
                    paths[str(folder.uuid)] = path
                    self._add_folder(folder, path)
                    stack.append(str(folder.uuid))
        unplaced = len(descendants) + 1 - len(paths)
        if unplaced:
            self._problem(f"{unplaced} folders under {root} have no listed parent")
        return paths

    def _add_folder(self, folder: Folder, path: str) -> None:
        self.tree.folders[str(folder.uuid)] = to_live_folder(folder, path)

    async def _roles(self, folder: Folder, path: str, free: asyncio.Semaphore) -> None:
        async def read() -> None:
            async with free:
                groups = await self._client.folders.list_groups(
                    folder.uuid, subject=f"folder {path}"
                )
            self._counter.add()
            self.tree.folder_groups[str(folder.uuid)] = {
                str(g.group_hash): g.user_role.value for g in groups
            }

        await self._soft(read(), f"group roles on {path}")

    # --- failures --------------------------------------------------------------------------------

    async def _soft(self, read: Awaitable[T], what: str) -> T | None:
        """Run a read; a 403 or 404 becomes a recorded problem (incomplete), not a failure."""
        try:
            return await read
        except (ForbiddenError, NotFoundError) as error:
            self._problem(f"{what}: {error}")
            return None

    def _problem(self, text: str) -> None:
        logger.warning("live read incomplete: %s", text)
        self.tree.problems.append(text)
        self.tree.complete = False


def to_live_folder(folder: Folder, path: str) -> LiveFolder:
    metadata = parse_metadata(folder.client_metadata, f"folder {path}")
    return LiveFolder(
        uuid=str(folder.uuid),
        parent=str(folder.parent) if folder.parent else None,
        name=folder.name,
        path=path,
        description=folder.description,
        metadata=metadata or {},
        metadata_unreadable=metadata is None,
        owner=folder.owner,
        last_edited_at=folder.last_edited_text,
        user_role=folder.user_role.value,
        folder_type=folder.folder_type.value,
        integration_uuid=str(folder.integration_hash) if folder.integration_hash else None,
        remote_url=folder.remote_url,
        synced_dataset_hash=str(folder.synced_dataset_hash) if folder.synced_dataset_hash else None,
        created_at=format_datetime(folder.created_at),
    )
