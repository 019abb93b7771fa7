"""Index collections as ``collections:`` entries.

Every collection of an exported root's top-level folder is declared under its name, with
its description (without our tag), the selectors that reproduce its members among the
exported items exactly (whole subtrees and folders as ``{folder, recursive}``, the rest as a
manifest of paths, as dataset links are exported), and ``remove: never`` (members outside
the exported roots stay; loosen it once the plan is trusted). Left out, each with a warning:
a collection another config's ownership id marks (declaring it would fight that config),
names a config cannot hold, and names two collections share. Their ids count when the
exported ownership id is chosen (``ownership.choose_id``).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.export.links import TreeIndex, select
from reconciler.export.ownership import plain_description
from reconciler.model.live import LiveCollection, LiveItem, LiveState
from reconciler.plan.canonical import description_owner
from reconciler.printable import printable


@dataclass(slots=True)
class Exported:
    collections: dict[str, Any] = field(default_factory=dict)
    manifests: dict[str, list[str]] = field(default_factory=dict)  # file -> item paths


def export_collections(
    live: LiveState,
    roots: tuple[str, ...],
    index: TreeIndex,
    items: Mapping[str, LiveItem],
    taken: Mapping[str, Any],
    owner: str,
    warnings: list[str],
) -> Exported:
    """The collections of the roots' top-level folders (``taken``: manifest names in use;
    ``owner``: the config's ownership id)."""
    listed = exported_collections(live, roots)
    names = Counter(c.name for c in listed)
    out = Exported()
    for collection in listed:
        if _left_out(collection, names, owner, warnings):
            continue
        members = {u for u in collection.members or () if u in items}
        selection = select(index, members)
        if selection.skipped:
            warnings.append(
                f"collection {collection.name}: {selection.skipped} items share their path "
                "with another item, or hold a control character a config path cannot, and are "
                "left out"
            )
        selectors: list[dict[str, Any]] = [
            {"folder": path, "recursive": True} if recursive else {"folder": path}
            for path, recursive in selection.folders
        ]
        if selection.paths:
            file = _manifest_name(collection.name, {**taken, **out.manifests})
            out.manifests[file] = sorted(selection.paths)
            selectors.append({"manifest": file})
        out.collections[collection.name] = _entry(collection, selectors)
    return out


def exported_collections(live: LiveState, roots: tuple[str, ...]) -> list[LiveCollection]:
    """The collections of the roots' top-level folders, by name."""
    tops = {"/" + r.split("/")[1] for r in roots}
    found = (c for c in live.collections.values() if c.folder in tops)
    return sorted(found, key=lambda c: (c.name, c.uuid))


def _left_out(
    collection: LiveCollection, names: Counter[str], owner: str, warnings: list[str]
) -> bool:
    found = description_owner(collection.description)
    if found is not None and found != owner:
        warnings.append(
            f"collection {printable(collection.name)!r} carries ownership id {found!r}, not "
            f"{owner!r}: left out"
        )
        return True
    if names[collection.name] > 1:
        warnings.append(
            f"{names[collection.name]} collections in {collection.folder} are named "
            f"{printable(collection.name)!r}: left out"
        )
        return True
    if not collection.name.strip() or any(ord(ch) < 0x20 for ch in collection.name):
        warnings.append(
            f"collection {printable(collection.name)}: left out: a config cannot hold its name"
        )
        return True
    return False


def _entry(collection: LiveCollection, selectors: list[dict[str, Any]]) -> dict[str, Any]:
    entry: dict[str, Any] = {"folder": collection.folder}
    description = plain_description(collection.description)
    if description:
        entry["description"] = description
    entry["items"] = selectors
    entry["remove"] = "never"
    return entry


def _manifest_name(name: str, taken: Mapping[str, Any]) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60] or "collection"
    file, n = f"manifests/collection-{slug}.jsonl", 2
    while file in taken:
        file, n = f"manifests/collection-{slug}-{n}.jsonl", n + 1
    return file
