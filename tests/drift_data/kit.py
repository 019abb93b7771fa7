"""Builders for the drift tests: a config from YAML, a live organisation by hand.

``MAIN`` is a small config under ``/drift``; ``in_sync_org()`` is what it looks like once
applied, so a test changes one thing and asserts the one drift it causes.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from reconciler.config import load_config
from reconciler.drift import AuditOptions, DriftReport, audit
from reconciler.model.desired import OWNER_KEY, DesiredState, ownership_tag
from reconciler.model.live import (
    LiveDataRow,
    LiveDataset,
    LiveFolder,
    LiveGroup,
    LiveIntegration,
    LiveItem,
    LiveState,
    LiveUser,
)
from reconciler.plan import diff

OWNER = "drift-tests"
MINE = {OWNER_KEY: OWNER}
SETTINGS = f"""\
version: 1
target:
  sandbox: {{path: sandbox.sqlite}}
ownership: {{id: {OWNER}}}
policy: {{prune: owned}}
"""
MAIN = """\
groups:
  annotators:
    description: People who label
    members: [ada@example.com]
folders:
  /drift:
    description: root
    groups: {annotators: admin}
  /drift/cams:
    description: cameras
  /drift/archive:
    description: old data
  /drift/archive/2023:
    description: last year
items:
  - folder: /drift/cams
    metadata: {split: train}
datasets:
  cams:
    description: camera images
    items:
      - {folder: /drift/cams}
"""


def desired_from(tmp_path: Path, main: str = MAIN, settings: str = SETTINGS) -> DesiredState:
    (tmp_path / "reconciler.yaml").write_text(settings)
    (tmp_path / "main.yaml").write_text(main)
    return load_config(tmp_path)


class Org:
    """A live organisation built by hand: folders by path, items, grants, groups, datasets."""

    def __init__(self) -> None:
        self.folders: dict[str, LiveFolder] = {}
        self.items: dict[str, LiveItem] = {}
        self.grants: dict[str, dict[str, str]] = {}
        self.groups: dict[str, LiveGroup] = {}
        self.datasets: dict[str, LiveDataset] = {}
        self.integrations: dict[str, LiveIntegration] = {}

    def folder(self, path: str, description: str = "", **metadata: Any) -> Org:
        parent_path, _, name = path.rpartition("/")
        parent = self.folders[parent_path].uuid if parent_path else None
        self.folders[path] = LiveFolder(
            uuid=f"f:{path}",
            parent=parent,
            name=name,
            path=path,
            description=description,
            metadata=dict(metadata),
        )
        return self

    def item(self, path: str, **metadata: Any) -> Org:
        folder_path, _, name = path.rpartition("/")
        self.items[path] = LiveItem(
            uuid=f"i:{path}",
            parent=self.folders[folder_path].uuid,
            folder_path=folder_path,
            name=name,
            item_type="IMAGE",
            metadata=dict(metadata),
        )
        return self

    def group(self, name: str, *members: str, description: str = "") -> Org:
        self.groups[name] = LiveGroup(
            hash=f"g:{name}", name=name, description=description, members=tuple(sorted(members))
        )
        return self

    def grant(self, path: str, group: str, role: str) -> Org:
        self.grants.setdefault(self.folders[path].uuid, {})[f"g:{group}"] = role
        return self

    def dataset(self, title: str, description: str, linked: Iterable[str] = ()) -> Org:
        rows = tuple(LiveDataRow(data_hash=f"h:{p}", item_uuid=f"i:{p}") for p in linked)
        self.datasets[title] = LiveDataset(
            uuid=f"d:{title}", title=title, description=description, rows=rows
        )
        return self

    def state(self, roots: tuple[str, ...] = ("/drift",)) -> LiveState:
        return LiveState(
            target="test-org",
            scope=roots,
            folders={f.uuid: f for f in self.folders.values()},
            paths={p: f.uuid for p, f in self.folders.items()},
            items={i.uuid: i for i in self.items.values()},
            folder_groups=self.grants,
            groups={g.hash: g for g in self.groups.values()},
            datasets={d.uuid: d for d in self.datasets.values()},
            users={"ada@example.com": LiveUser("ada@example.com")},
            integrations=self.integrations,
            listing_counts={r: len(self.folders) + len(self.items) for r in roots},
        )


def in_sync_org() -> Org:
    """What ``MAIN`` looks like once applied."""
    tag = ownership_tag(OWNER)
    org = Org().group("annotators", "ada@example.com", description=f"People who label {tag}")
    org.folder("/drift", "root", **MINE).grant("/drift", "annotators", "admin")
    org.folder("/drift/cams", "cameras", **MINE)
    org.folder("/drift/archive", "old data", **MINE)
    org.folder("/drift/archive/2023", "last year", **MINE)
    for n in range(3):
        org.item(f"/drift/cams/img-{n}.jpg", split="train", other=n)
    paths = [f"/drift/cams/img-{n}.jpg" for n in range(3)]
    return org.dataset("cams", f"camera images {tag}", linked=paths)


def report_for(desired: DesiredState, org: Org, **options: Any) -> DriftReport:
    live = org.state()
    return audit(diff(desired, live), desired, live, options=AuditOptions(**options))


def every_kind_org() -> Org:
    """``in_sync_org`` with one drift of every kind, and an unmanaged folder."""
    tag = ownership_tag(OWNER)
    org = in_sync_org()
    archive = {p: f for p, f in org.folders.items() if p.startswith("/drift/archive")}
    for path in archive:
        del org.folders[path]
    org.folder("/drift/archive-old", "old data", **MINE)  # renamed by hand
    org.folder("/drift/archive-old/2023", "last year", **MINE)
    org.folder("/drift/cams", 'edited <by> "hand" & more', **MINE)  # changed
    org.group("annotators", "bob@example.com", description=f"People who label {tag}")
    org.grants.clear()  # access
    org.item("/drift/cams/img-1.jpg", split="test\x00\x07", other=1)  # metadata
    org.dataset("cams", f"camera images {tag}", linked=["/drift/cams/img-0.jpg"])  # links
    org.folder("/drift/leftover", "", **MINE).item("/drift/leftover/a.jpg")  # extra
    org.folder("/drift/hand-made", "a person's")  # unmanaged
    return org
