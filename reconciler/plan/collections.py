"""Index collections: create, patch (description; a rename through ``previously``), prune,
and their members.

A declared collection is looked for by name among the live collections of its top-level
folder (``LiveState.collection_folders`` says which folders were listed; a folder that was
not listed is not planned at all, so a read that skipped collections never looks like
"none exist"). Its members are the items its selectors select in the projected tree, with
the items' DESIRED metadata (as dataset links), so one apply converges. Members no
selector selects are removed under ``remove: all``, or under ``remove: owned`` from a
collection carrying our ownership tag; only members read in scope are ever removed.

Ownership is the description's tag (``canonical.tagged``), as for groups and datasets:
descriptions are compared without it and it is appended once, to what we create and to
what we re-describe that is ours, never to a description that has it already (the config
refuses a declared description ending in a tag, ``config.collections``). Collections we own
that are no longer declared are deleted when ``policy.prune`` allows it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from reconciler.errors import Diagnostic
from reconciler.kinds.collection import CollectionItemPayload, CollectionPayload
from reconciler.model import addresses as addr
from reconciler.model.desired import DesiredCollection, ItemSelector
from reconciler.model.live import LiveCollection, LiveItem, content_fingerprint
from reconciler.plan.actions import Action
from reconciler.plan.canonical import description_owner, strip_tag, tagged
from reconciler.plan.context import Context, fingerprint_of
from reconciler.plan.datasets import DesiredMetadata, select
from reconciler.plan.describe import field_diff
from reconciler.plan.itemindex import ItemIndex
from reconciler.plan.model import Change, Refs, Refusal
from reconciler.plan.tree import Tree


@dataclass(frozen=True, slots=True)
class CollectionPlan:
    changes: tuple[Change, ...] = ()
    refusals: tuple[Refusal, ...] = ()
    problems: tuple[Diagnostic, ...] = ()


@dataclass(slots=True)
class _Out:
    changes: list[Change] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)
    problems: list[Diagnostic] = field(default_factory=list)
    claimed: set[str] = field(default_factory=set)  # live collection UUIDs declared


def plan_collections(
    ctx: Context, tree: Tree, index: ItemIndex, desired_meta: DesiredMetadata
) -> CollectionPlan:
    """Declared collections and their members, then our undeclared ones (prune)."""
    out = _Out()
    for name in sorted(ctx.desired.collections):
        collection = ctx.desired.collections[name]
        if collection.folder in ctx.live.collection_folders:
            _plan_one(ctx, tree, index, desired_meta, collection, out)
    _prune(ctx, out)
    return CollectionPlan(tuple(out.changes), tuple(out.refusals), tuple(out.problems))


def collection_view(live: LiveCollection) -> CollectionPayload:
    return CollectionPayload(live.name, live.folder, live.description)


def _live_named(ctx: Context, tree: Tree, folder: str, name: str) -> list[LiveCollection]:
    """The live collections called ``name`` in the top-level folder that will be at path
    ``folder`` after this plan's folder moves (a collection goes where its folder goes)."""
    return sorted(
        (
            c
            for c in ctx.live.collections.values()
            if c.name == name and _projected_folder(ctx, tree, c) == folder
        ),
        key=lambda c: c.uuid,
    )


def _projected_folder(ctx: Context, tree: Tree, live: LiveCollection) -> str:
    uuid = ctx.live.collection_folders.get(live.folder)
    return tree.path_of.get(uuid, live.folder) if uuid else live.folder


def _find(
    ctx: Context, tree: Tree, collection: DesiredCollection, out: _Out
) -> tuple[LiveCollection | None, bool]:
    """The live collection a declaration means (by name, else by an earlier name), and
    whether it may be planned (False: ambiguous, refused)."""
    by_name = [
        (name, _live_named(ctx, tree, collection.folder, name))
        for name in (collection.name, *collection.previously)
    ]
    out.claimed.update(c.uuid for _, found in by_name for c in found)  # never pruned
    for name, found in by_name:
        if len(found) > 1:
            uuids = ", ".join(c.uuid for c in found)
            out.refusals.append(
                Refusal(
                    code="ambiguous-collection",
                    message=(
                        f"{collection.folder} holds several collections named {name!r} "
                        f"({uuids}); {addr.collection(collection.name)} is not planned. "
                        "Rename or delete all but one in Encord"
                    ),
                    addresses=(addr.collection(collection.name),),
                )
            )
            return None, False
        if found:
            return found[0], True
    return None, True


def _plan_one(
    ctx: Context,
    tree: Tree,
    index: ItemIndex,
    desired_meta: DesiredMetadata,
    collection: DesiredCollection,
    out: _Out,
) -> None:
    live, plannable = _find(ctx, tree, collection, out)
    if not plannable:
        return
    created = None
    if live is None:
        created = _create(ctx, tree, collection, out)
        if created is None:
            return
    else:
        _patch(ctx, collection, live, out)
    selected = _selected(index, desired_meta, collection.items)
    _members(ctx, index, collection, live, created, selected, out)


def _create(ctx: Context, tree: Tree, collection: DesiredCollection, out: _Out) -> str | None:
    # The folder at that path after this plan's folder changes: one renamed into place keeps
    # its UUID; one replaced there is made by this plan, and the new collection waits for it.
    # A folder no root reaches was not read as one: nothing in this plan moves it.
    folder_uuid = tree.index.get(collection.folder)
    listed = ctx.live.collection_folders[collection.folder]
    if folder_uuid is None and listed and listed not in ctx.live.folders:
        folder_uuid = listed
    depends: tuple[str, ...] = ()
    if folder_uuid is None:
        creating = tree.created.get(collection.folder)
        if creating is None:
            source = collection.source
            out.problems.append(
                Diagnostic(
                    source.file,
                    source.line,
                    source.col,
                    f"collection {collection.name}: its folder {collection.folder} does not "
                    "exist and this plan does not create it; declare the folder or fix the path",
                )
            )
            return None
        depends = (creating,)
    address = addr.collection(collection.name)
    after = CollectionPayload(
        collection.name, collection.folder, tagged(collection.description or "", ctx.owner)
    )
    out.changes.append(
        Change(
            address=address,
            kind=addr.Kind.COLLECTION,
            actions=(Action.CREATE,),
            after=after,
            source=str(collection.source),
            reason="declared, not in Encord",
            depends_on=depends,
            refs=Refs(folder_uuid=folder_uuid),
        )
    )
    return address


def _patch(ctx: Context, collection: DesiredCollection, live: LiveCollection, out: _Out) -> None:
    before = collection_view(live)
    owned = description_owner(live.description) == ctx.owner
    after = replace(before, name=collection.name)
    wanted = collection.description
    if wanted is not None and strip_tag(live.description) != wanted:
        after = replace(after, description=tagged(wanted, ctx.owner) if owned else wanted)
    if after == before:
        return
    renamed = live.name != collection.name
    reasons = [f"renamed from {live.name!r} (previously)"] if renamed else []
    if after.description != before.description:
        reasons.append("declared description differs")
    out.changes.append(
        Change(
            address=addr.collection(collection.name),
            previous_address=addr.collection(live.name) if renamed else None,
            kind=addr.Kind.COLLECTION,
            actions=(Action.PATCH,),
            before=before,
            after=after,
            diff=field_diff(before, after),
            source=str(collection.source),
            reason="; ".join(reasons),
            fingerprint=fingerprint_of(live.last_edited_at, before),
            refs=Refs(uuid=live.uuid),
        )
    )


def _selected(
    index: ItemIndex, desired_meta: DesiredMetadata, selectors: tuple[ItemSelector, ...]
) -> dict[str, tuple[LiveItem, ItemSelector]]:
    """Projected item path -> (item, the first selector that selects it)."""
    out: dict[str, tuple[LiveItem, ItemSelector]] = {}
    for selector in selectors:
        for path, item in select(index, desired_meta, selector):
            out.setdefault(path, (item, selector))
    return out


def _may_remove(ctx: Context, collection: DesiredCollection, live: LiveCollection) -> bool:
    if collection.remove == "never":
        return False
    if collection.remove == "owned":
        return description_owner(live.description) == ctx.owner
    return True


def _members(
    ctx: Context,
    index: ItemIndex,
    collection: DesiredCollection,
    live: LiveCollection | None,
    created: str | None,
    selected: Mapping[str, tuple[LiveItem, ItemSelector]],
    out: _Out,
) -> None:
    if live is not None and live.members is None:
        return  # not read: nothing is known to add or to remove
    members = set(live.members or ()) if live is not None else set()
    uuid = live.uuid if live is not None else None
    for path in sorted(selected):
        item, selector = selected[path]
        if item.uuid in members:
            continue
        out.changes.append(
            Change(
                address=addr.collection_item(collection.name, path),
                kind=addr.Kind.COLLECTION_ITEM,
                actions=(Action.LINK,),
                after=CollectionItemPayload(path),
                source=str(selector.source),
                reason="selected by the collection's items",
                depends_on=(created,) if created else (),
                refs=Refs(collection_uuid=uuid, item_uuid=item.uuid),
            )
        )
    if live is not None and _may_remove(ctx, collection, live):
        chosen = {item.uuid for item, _ in selected.values()}
        out.changes.extend(_removals(index, collection, live, members - chosen))


def _removals(
    index: ItemIndex, collection: DesiredCollection, live: LiveCollection, unselected: set[str]
) -> list[Change]:
    """One change per unselected member read in scope (others are left alone)."""
    out: list[Change] = []
    known = [(index.path_of[u], u) for u in unselected if u in index.path_of]
    for path, item_uuid in sorted(known):
        if path in index.duplicates:
            continue
        before = CollectionItemPayload(path)
        out.append(
            Change(
                address=addr.collection_item(collection.name, path),
                kind=addr.Kind.COLLECTION_ITEM,
                actions=(Action.UNLINK,),
                before=before,
                source=str(collection.source),
                reason=f"no selector selects it; remove: {collection.remove}",
                fingerprint=content_fingerprint(before.encode()),
                refs=Refs(collection_uuid=live.uuid, item_uuid=item_uuid),
            )
        )
    return out


def _prune(ctx: Context, out: _Out) -> None:
    """Our collections no longer declared, in the folders that were listed."""
    if ctx.desired.policy.prune == "never":
        return
    declared = set(ctx.desired.collections)
    doomed = [
        c
        for c in ctx.live.collections.values()
        if c.uuid not in out.claimed
        and c.folder in ctx.live.collection_folders
        and description_owner(c.description) == ctx.owner
    ]
    names = [c.name for c in doomed]
    for live in sorted(doomed, key=lambda c: (c.name, c.uuid)):
        address = addr.collection(live.name)
        if live.name in declared or names.count(live.name) > 1:
            address = f"{address}#{live.uuid}"  # the name is another collection's
        before = collection_view(live)
        out.changes.append(
            Change(
                address=address,
                kind=addr.Kind.COLLECTION,
                actions=(Action.DELETE,),
                before=before,
                source=str(ctx.desired.source),
                reason=f"ours, no longer declared; prune: {ctx.desired.policy.prune}",
                fingerprint=fingerprint_of(live.last_edited_at, before),
                refs=Refs(uuid=live.uuid),
            )
        )
