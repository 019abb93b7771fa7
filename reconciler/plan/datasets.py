"""Datasets: create, patch description, roles (see ``access``), links and unlinks.

Selectors pick items from the projected tree (after folder and item moves) and evaluate
``match.metadata`` against each item's DESIRED metadata, so one apply converges. One change
per link; an unlink is one change per item, carrying every data hash that item backs (the
v1 API removes rows by data hash). ``unlink: owned`` removes unselected links only from
datasets carrying our ownership tag, ``all`` from any declared dataset, ``never`` never.
Only links to items read in scope are ever unlinked: a row whose item we did not see
(outside the roots, unknown ``backing_item_uuid``) is left alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from reconciler.kinds.dataset import DatasetPayload
from reconciler.kinds.link import LinkPayload
from reconciler.model import addresses as addr
from reconciler.model.addresses import is_under
from reconciler.model.desired import DesiredDataset, ItemSelector
from reconciler.model.globs import compile_glob
from reconciler.model.live import LiveDataset, LiveItem, content_fingerprint
from reconciler.plan.access import plan_dataset_access
from reconciler.plan.actions import Action
from reconciler.plan.canonical import description_owner, equivalent, strip_tag, tagged
from reconciler.plan.context import Context, fingerprint_of
from reconciler.plan.describe import field_diff
from reconciler.plan.itemindex import ItemIndex
from reconciler.plan.model import Change, Refs

DesiredMetadata = Mapping[str, Mapping[str, Any]]  # item uuid -> desired metadata


def plan_datasets(
    ctx: Context, index: ItemIndex, desired_meta: DesiredMetadata
) -> tuple[Change, ...]:
    """Datasets, their grants and links; selectors see the projected ``index`` and each
    item's desired metadata (``ItemPlan.desired_meta``), so one apply converges."""
    out: list[Change] = []
    for title in sorted(ctx.desired.datasets):
        dataset = ctx.desired.datasets[title]
        live = ctx.resolved.datasets.get(title)
        created = _create(ctx, dataset, out) if live is None else None
        if live is not None:
            _patch(ctx, dataset, live, out)
        out.extend(plan_dataset_access(ctx, dataset, live.uuid if live else None, created))
        _links(ctx, index, desired_meta, dataset, live, created, out)
    return tuple(out)


def dataset_view(live: LiveDataset) -> DatasetPayload:
    return DatasetPayload(live.title, live.description)


def _create(ctx: Context, dataset: DesiredDataset, out: list[Change]) -> str:
    after = DatasetPayload(dataset.title, tagged(dataset.description or "", ctx.owner))
    address = addr.dataset(dataset.title)
    out.append(
        Change(
            address=address,
            kind=addr.Kind.DATASET,
            actions=(Action.CREATE,),
            after=after,
            source=str(dataset.source),
            reason="declared, not in Encord",
        )
    )
    return address


def _patch(ctx: Context, dataset: DesiredDataset, live: LiveDataset, out: list[Change]) -> None:
    if dataset.description is None or strip_tag(live.description) == dataset.description:
        return
    before = dataset_view(live)
    owned = description_owner(live.description) == ctx.owner
    after = replace(
        before,
        description=tagged(dataset.description, ctx.owner) if owned else dataset.description,
    )
    out.append(
        Change(
            address=addr.dataset(dataset.title),
            kind=addr.Kind.DATASET,
            actions=(Action.PATCH,),
            before=before,
            after=after,
            diff=field_diff(before, after),
            source=str(dataset.source),
            reason="declared description differs",
            fingerprint=fingerprint_of(live.last_edited_at, before),
            refs=Refs(uuid=live.uuid),
        )
    )


def selected_items(
    index: ItemIndex, desired_meta: DesiredMetadata, dataset: DesiredDataset
) -> dict[str, tuple[LiveItem, ItemSelector]]:
    """Projected item path -> (item, the first selector that selects it)."""
    out: dict[str, tuple[LiveItem, ItemSelector]] = {}
    for selector in dataset.items:
        for path, item in select(index, desired_meta, selector):
            out.setdefault(path, (item, selector))
    return out


def select(
    index: ItemIndex, desired_meta: DesiredMetadata, selector: ItemSelector
) -> list[tuple[str, LiveItem]]:
    """(projected path, item) for every item one selector selects."""
    found: list[tuple[str, LiveItem]] = []
    if selector.folder is not None:
        root = selector.folder
        folders = (
            [f for f in index.by_folder if is_under(f, root)] if selector.recursive else [root]
        )
        name = compile_glob(selector.match.name) if selector.match.name else None
        types = frozenset(selector.match.types)
        wanted = selector.match.metadata or {}
        for folder in folders:
            for item in index.by_folder.get(folder, ()):
                if name is not None and not name.match(item.name):
                    continue
                if types and item.item_type not in types:
                    continue
                if wanted and not _has(desired_meta.get(item.uuid, item.metadata), wanted):
                    continue
                found.append((index.path_of[item.uuid], item))
    for path in sorted(selector.paths):
        named = index.by_path.get(path)
        if named is not None:
            found.append((path, named))
    return found


def _has(metadata: Mapping[str, Any], wanted: Mapping[str, Any]) -> bool:
    return all(k in metadata and equivalent(metadata[k], v) for k, v in wanted.items())


def _may_unlink(ctx: Context, dataset: DesiredDataset, live: LiveDataset) -> bool:
    if dataset.unlink == "never":
        return False
    if dataset.unlink == "owned":
        return description_owner(live.description) == ctx.owner
    return True


def _links(
    ctx: Context,
    index: ItemIndex,
    desired_meta: DesiredMetadata,
    dataset: DesiredDataset,
    live: LiveDataset | None,
    created: str | None,
    out: list[Change],
) -> None:
    selected = selected_items(index, desired_meta, dataset)
    rows: dict[str, list[str]] = {}
    for row in live.rows if live else ():
        if row.item_uuid is not None:
            rows.setdefault(row.item_uuid, []).append(row.data_hash)
    out.extend(_link(dataset, selected, rows, live.uuid if live else None, created))
    if live is not None and _may_unlink(ctx, dataset, live):
        chosen = {item.uuid for item, _ in selected.values()}
        unselected = {u: h for u, h in rows.items() if u not in chosen}
        out.extend(_unlink(index, dataset, unselected, live.uuid))


def _link(
    dataset: DesiredDataset,
    selected: dict[str, tuple[LiveItem, ItemSelector]],
    rows: dict[str, list[str]],
    uuid: str | None,
    created: str | None,
) -> list[Change]:
    out: list[Change] = []
    # One source text per selector and one dependency tuple for all: a dataset may select
    # a million items (about 110 bytes a link, each made anew before).
    sources: dict[int, str] = {}
    depends = (created,) if created else ()
    for path in sorted(selected):
        item, selector = selected[path]
        if item.uuid in rows:
            continue
        source = sources.get(id(selector))
        if source is None:
            source = sources[id(selector)] = str(selector.source)
        out.append(
            Change(
                address=addr.link(dataset.title, path),
                kind=addr.Kind.LINK,
                actions=_LINK,
                after=LinkPayload(path),
                source=source,
                reason="selected by the dataset's items",
                depends_on=depends,
                refs=Refs(dataset_uuid=uuid, item_uuid=item.uuid),
            )
        )
    return out


_LINK = (Action.LINK,)


def _unlink(
    index: ItemIndex, dataset: DesiredDataset, rows: dict[str, list[str]], uuid: str
) -> list[Change]:
    """One change per unselected item read in scope, with every data hash it backs."""
    out: list[Change] = []
    for item_uuid in sorted(rows, key=lambda u: index.path_of.get(u, "")):
        linked = index.path_of.get(item_uuid)
        if linked is None or linked in index.duplicates:
            continue
        hashes = sorted(rows[item_uuid])
        before = LinkPayload(linked, tuple(hashes))
        out.append(
            Change(
                address=addr.link(dataset.title, linked),
                kind=addr.Kind.LINK,
                actions=(Action.UNLINK,),
                before=before,
                source=str(dataset.source),
                reason=f"not selected by any selector; unlink: {dataset.unlink}",
                fingerprint=content_fingerprint(before.encode()),
                refs=Refs(dataset_uuid=uuid, item_uuid=item_uuid, data_hashes=tuple(hashes)),
            )
        )
    return out
