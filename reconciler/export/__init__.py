"""``reconciler export``: a live organisation as a config directory that plans to no changes.

result = await export_live(client, roots=("/curated",), target={"sandbox": {...}})
write(result.files, Path("out"), force=False)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from reconciler.encord import EncordClient
from reconciler.export.build import Documents, build
from reconciler.export.errors import ExportError
from reconciler.export.render import render, write
from reconciler.live import ReadListener, Scope, read_live
from reconciler.model.addresses import is_under
from reconciler.model.live import LiveState

__all__ = ["Export", "ExportError", "export_live", "export_state", "write"]


@dataclass(frozen=True, slots=True)
class Export:
    files: Mapping[str, str]  # relative path -> text
    warnings: tuple[str, ...]
    counts: Mapping[str, int]


async def export_live(
    client: EncordClient,
    *,
    roots: tuple[str, ...],
    target: Mapping[str, Any],
    on_progress: ReadListener | None = None,
) -> Export:
    """Read every folder, item, grant, group and dataset under ``roots`` and export them."""
    scope = Scope(roots=roots, datasets=None, groups=None)
    live = await read_live(client, scope, on_progress=on_progress)
    return export_state(live, roots=roots, target=target)


def export_state(live: LiveState, *, roots: tuple[str, ...], target: Mapping[str, Any]) -> Export:
    """The export of a snapshot already read (pure)."""
    if live.missing_roots:
        raise ExportError(f"no folder at {', '.join(live.missing_roots)} in {live.target}")
    for root in roots:
        if root in live.ambiguous:
            uuids = ", ".join(live.ambiguous[root])
            raise ExportError(f"{root} names several folders ({uuids}); rename one first")
    docs = build(live, roots=roots, target=target)
    if not live.complete:
        docs.warnings.extend(f"incomplete read: {p}" for p in live.problems)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    header = (
        f"# written by reconciler export --root {' --root '.join(roots)} ({live.target}, {stamp})"
    )
    return Export(render(docs, header=header), tuple(docs.warnings), _counts(docs, live, roots))


def _counts(docs: Documents, live: LiveState, roots: tuple[str, ...]) -> dict[str, int]:
    return {
        "folders": len(docs.folders),
        "items": sum(
            1 for i in live.items.values() if any(is_under(i.folder_path, r) for r in roots)
        ),
        "item_metadata": len(docs.metadata_rows),
        "groups": len(docs.groups),
        "datasets": len(docs.datasets),
        "links_by_path": sum(len(paths) for paths in docs.link_manifests.values()),
    }
