"""Which item listings read a root's subtree, so that their page chains run side by side.

A listing's pages form a chain (each page's token is needed for the next), so one listing of
a subtree takes pages x latency however much concurrency the client has. The folder listing
tells us the tree (the API tells nothing cheaper about sizes: a folder summary costs one
request per folder and counts only a folder's own contents), so a root is split by subtree:
the subtree with the most folders is replaced by its own items (a flat listing) and one
recursive listing per child, while the listings fit in the client's concurrency. Each split
costs at most one request more than one listing would (a last page that is not full), so
the split stops at ``chains`` listings. Recursive listings are then read from both ends at
once (``encord.paging.both_ends``) when twice their number still fits: a flat folder of
100,000 items, which no subtree split can help, halves its chain that way.

The listings partition the items of the tree: every placed folder is either inside exactly
one recursive listing or listed flat, and nothing else is listed.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from reconciler.encord import Folder


@dataclass(frozen=True, slots=True)
class Listing:
    folder: Folder
    path: str
    recursive: bool  # the whole subtree; else only the folder's own items
    both_ends: bool

    @property
    def ends(self) -> int:
        """Requests this listing has in flight at once."""
        return 2 if self.both_ends else 1


def plan_listings(
    root: Folder, descendants: list[Folder], paths: dict[str, str], chains: int
) -> list[Listing]:
    """The listings for ``root``'s items: at most ``chains`` of them (at least one).

    ``paths`` maps the UUID of every placed folder to its path. When a folder is not placed
    (its parent was not listed) the root is not split at all.
    """
    if any(str(folder.uuid) not in paths for folder in descendants):
        # A folder the listing left out holds items no split listing would reach; one
        # listing of the root finds them, as orphans that make the read incomplete.
        return [Listing(root, paths[str(root.uuid)], True, chains >= 2)]
    children: dict[str, list[Folder]] = defaultdict(list)
    for folder in descendants:
        children[str(folder.parent)].append(folder)
    sizes = _subtree_sizes(root, children)
    recursive: list[Folder] = [root]
    flat: list[Folder] = []
    while True:
        splittable = [f for f in recursive if children.get(str(f.uuid))]
        splittable.sort(key=lambda f: (-sizes[str(f.uuid)], paths[str(f.uuid)]))
        grow = [f for f in splittable if len(recursive) + len(flat) + _kids(children, f) <= chains]
        if not grow:
            break
        chosen = grow[0]
        recursive.remove(chosen)
        flat.append(chosen)
        recursive.extend(children[str(chosen.uuid)])
    both = 2 * len(recursive) + len(flat) <= chains
    out = [Listing(f, paths[str(f.uuid)], False, False) for f in flat]
    out += [Listing(f, paths[str(f.uuid)], True, both) for f in recursive]
    return sorted(out, key=lambda listing: (listing.path, listing.recursive))


def _kids(children: dict[str, list[Folder]], folder: Folder) -> int:
    return len(children[str(folder.uuid)])


def _subtree_sizes(root: Folder, children: dict[str, list[Folder]]) -> dict[str, int]:
    """Folders in each placed folder's subtree, itself included."""
    order: list[Folder] = []
    stack = [root]
    while stack:
        folder = stack.pop()
        order.append(folder)
        stack.extend(children.get(str(folder.uuid), ()))
    sizes: dict[str, int] = {}
    for folder in reversed(order):
        uuid = str(folder.uuid)
        sizes[uuid] = 1 + sum(sizes[str(c.uuid)] for c in children.get(uuid, ()))
    return sizes
