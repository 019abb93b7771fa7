"""Desired-state builders: declarations in code, each with a plausible source line, so tests
build a ``DesiredState`` without writing YAML."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.model.desired import (
    DesiredDataset,
    DesiredFolder,
    DesiredGroup,
    DesiredState,
    ItemMatch,
    ItemSelector,
    Manifest,
    ManifestEntry,
    ManifestRows,
    MetadataRule,
    Ownership,
    Registration,
    Source,
    Target,
)

OWNER = "acme"
OTHER = "someone-else"


def src(line: int, file: str = "reconciler.yaml") -> Source:
    return Source(file=file, line=line)


def desired_state(**parts: Any) -> DesiredState:
    """A configuration owned by ``OWNER`` on the default target; ``parts`` override any field."""
    base: dict[str, Any] = {
        "root_dir": "/config",
        "target": Target(),
        "ownership": Ownership(id=OWNER),
        "source": src(1),
    }
    base.update(parts)
    return DesiredState(**base)


def folder(path: str, line: int = 10, **fields: Any) -> DesiredFolder:
    return DesiredFolder(path=path, source=src(line, "folders.yaml"), **fields)


def group(name: str, **fields: Any) -> DesiredGroup:
    return DesiredGroup(name=name, source=src(20, "groups.yaml"), **fields)


def rule(folder_path: str, metadata: Mapping[str, Any], **fields: Any) -> MetadataRule:
    return MetadataRule(
        folder=folder_path, metadata=metadata, source=src(30, "items.yaml"), **fields
    )


def dataset(title: str, *selectors: ItemSelector, **fields: Any) -> DesiredDataset:
    return DesiredDataset(title=title, items=selectors, source=src(40, "datasets.yaml"), **fields)


def select(folder_path: str, *, recursive: bool = False, **match: Any) -> ItemSelector:
    return ItemSelector(
        folder=folder_path,
        recursive=recursive,
        match=ItemMatch(**match),
        source=src(41, "datasets.yaml"),
    )


def manifest(
    rows: Mapping[str, Mapping[str, Any]],
    *,
    previously: Mapping[str, str] | None = None,
    **fields: Any,
) -> Manifest:
    """A JSON-lines manifest whose rows are ``rows`` (sorted, numbered from line 1)."""
    entries = {
        path: ManifestEntry(metadata=md, line=n + 1, previously=(previously or {}).get(path))
        for n, (path, md) in enumerate(sorted(rows.items()))
    }
    return Manifest(
        file="manifests/m.jsonl",
        format="jsonl",
        entries=ManifestRows(entries),
        source=src(40, "items.yaml"),
        **fields,
    )


def registration(
    rows: Sequence[Mapping[str, Any]], *, integration: str = "bucket", **fields: Any
) -> Registration:
    """A ``register:`` block whose manifest (``manifests/reg.jsonl``) has ``rows``, numbered
    from line 1 (``{"url": ..., "type"?, "title"?, "metadata"?}`` each)."""
    from reconciler.config.registration import RegisterSink

    sink = RegisterSink("manifests/reg.jsonl", None)
    for n, row in enumerate(rows, 1):
        sink.add(n, row, dict(row.get("metadata") or {}), lambda key: 1)
    found, problems = sink.finish()
    assert not problems, problems
    return Registration(
        integration=integration,
        manifest="manifests/reg.jsonl",
        rows=found,
        source=src(12, "folders.yaml"),
        **fields,
    )
