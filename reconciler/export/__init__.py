"""``reconciler export``: a live organisation as a config directory that plans to no changes.

options = ExportOptions(roots=("/curated",), target={"encord": {"domain": ...}})
result = await export_live(client, options)
write(result.files, Path("out"), force=False)

Nothing written names a path of this machine: the caller gives ``target`` with paths relative
to the output directory, the editor schema is a copy beside the YAML (``config.schema.json``,
the one ``reconciler schema`` prints), and ``.reconciler/`` (journal, sandbox) is git-ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from reconciler.encord import EncordClient
from reconciler.export.build import Documents, ExportOptions, build
from reconciler.export.errors import ExportError
from reconciler.export.items import ITEMS_MODES, ItemsMode
from reconciler.export.render import render, write
from reconciler.live import ReadListener, Scope, read_live
from reconciler.model.addresses import is_under
from reconciler.model.live import LiveState

__all__ = [
    "ITEMS_MODES",
    "Export",
    "ExportError",
    "ExportOptions",
    "ItemsMode",
    "export_live",
    "export_state",
    "write",
]


@dataclass(frozen=True, slots=True)
class Export:
    files: Mapping[str, str]  # relative path -> text
    warnings: tuple[str, ...]
    counts: Mapping[str, int]
    ownership_id: str  # what reconciler.yaml says: found, chosen, or the placeholder
    documents: Documents | None = None  # what the files were rendered from (export --merge)


async def export_live(
    client: EncordClient, options: ExportOptions, *, on_progress: ReadListener | None = None
) -> Export:
    """Read every folder, item, grant, group and dataset under the roots and export them."""
    tops = tuple(sorted({"/" + root.split("/")[1] for root in options.roots}))
    scope = Scope(
        roots=options.roots,
        datasets=None,
        groups=None,
        read_tags=True,
        read_folder_tags=True,
        collection_folders=tops,
        collections=None,
    )
    live = await read_live(client, scope, on_progress=on_progress)
    return export_state(live, options)


def export_state(live: LiveState, options: ExportOptions) -> Export:
    """The export of a snapshot already read (pure)."""
    roots = options.roots
    if live.missing_roots:
        raise ExportError(f"no folder at {', '.join(live.missing_roots)} in {live.target}")
    for root in roots:
        if root in live.ambiguous:
            uuids = ", ".join(live.ambiguous[root])
            raise ExportError(f"{root} names several folders ({uuids}); rename one first")
    docs = build(live, options)
    if not live.complete:
        docs.warnings.extend(f"incomplete read: {p}" for p in live.problems)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    # live.target is not named: for a sandbox it is a path of this machine
    header = f"# written by reconciler export --root {' --root '.join(roots)} ({stamp})"
    return Export(
        render(docs, header=header),
        tuple(docs.warnings),
        _counts(docs, live, roots),
        docs.settings["ownership"]["id"],
        docs,
    )


def _counts(docs: Documents, live: LiveState, roots: tuple[str, ...]) -> dict[str, int]:
    return {
        "folders": len(docs.folders),
        "items": sum(
            1 for i in live.items.values() if any(is_under(i.folder_path, r) for r in roots)
        ),
        "item_metadata": docs.items_with_metadata,
        "metadata_rules": len(docs.metadata_rules),
        "metadata_rows": len(docs.metadata_rows),
        "groups": len(docs.groups),
        "users": len(docs.users),
        "datasets": len(docs.datasets),
        "collections": len(docs.collections),
        "links_by_path": sum(len(paths) for paths in docs.link_manifests.values()),
    }
