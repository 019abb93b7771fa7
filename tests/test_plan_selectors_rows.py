"""Manifest rows that match no item (``selectors._unmatched_rows``): a row naming an item by
its folder and name is matched without the path view, and the others as the view judges
them (names holding "/", paths several items share)."""

from __future__ import annotations

from reconciler.model.desired import (
    DesiredFolder,
    DesiredState,
    Manifest,
    ManifestEntry,
    ManifestRows,
    Ownership,
    Source,
    Target,
)
from reconciler.model.live import LiveFolder, LiveItem, LiveState
from reconciler.plan import DiffOptions, diff

SRC = Source(file="c.yaml", line=1)


def _item(uuid: str, name: str) -> LiveItem:
    return LiveItem(uuid=uuid, parent="p", folder_path="/f", name=name, item_type="image")


def test_rows_matching_items_by_name_by_slashed_name_or_shared_paths_are_not_unmatched() -> None:
    items = [_item("u1", "a.jpg"), _item("u2", "sub/b.jpg"), _item("u3", "d.jpg")]
    items.append(_item("u4", "d.jpg"))  # a path two items share: ambiguous, not unmatched
    rows = ["/f/a.jpg", "/f/sub/b.jpg", "/f/d.jpg", "/f/zzz.jpg", "/f/sub/zzz.jpg"]
    manifest = Manifest(
        file="m.jsonl",
        format="jsonl",
        entries=ManifestRows(
            {p: ManifestEntry(metadata={"k": "v"}, line=n + 1) for n, p in enumerate(rows)}
        ),
        source=SRC,
    )
    desired = DesiredState(
        root_dir="/c",
        target=Target(),
        ownership=Ownership(id="t"),
        folders={"/f": DesiredFolder(path="/f", source=SRC)},
        manifests=(manifest,),
        source=SRC,
    )
    live = LiveState(
        target="t",
        scope=("/f",),
        folders={"p": LiveFolder(uuid="p", parent=None, name="f", path="/f")},
        paths={"/f": "p"},
        items={i.uuid: i for i in items},
        listing_counts={"/f": len(items)},
    )
    plan = diff(desired, live, options=DiffOptions(created_at="t"))
    unmatched = [w for w in plan.warnings if w.startswith("manifest row ")]
    assert unmatched == [
        "manifest row m.jsonl:4: /f/zzz.jpg matches no item",
        "manifest row m.jsonl:5: /f/sub/zzz.jpg matches no item",
    ]
    assert "2 manifest rows match no item" in plan.warnings
    assert {c.address for c in plan.changes} == {"item:/f/a.jpg", "item:/f/sub/b.jpg"}
