"""Registered cloud data: what each ``register:`` folder's manifest adds and prunes.

**Matching a row to a live item.** A live item whose object URL the API returns is the row
with that URL; an item without a URL (the API did not say) is the row with its name. An item
that has the row's name but another URL is a different object: the row is not registered
over it (Encord would hold two items of one name) and the plan warns.

**What is planned.** Rows with no live item in the folder: ONE ``register:/folder`` change
carrying them all (apply chunks it into jobs), its metadata including our ownership marker
(``OWNER_KEY``: the item's client metadata is the only place an item can carry it). Rows
that are matched get their metadata through the item-metadata stage like manifest rows
(``metadata: upsert``; ``create_only`` writes it at registration only): one patch-bulk call
per 1,000 items, where a data-upload job with ``upsertMetadata`` needs a start and at least
one poll per job and its processing time per object (measured on the served sandbox for
1,000 items: 1 request against 2; README, "Registered cloud data"). Under ``prune: owned`` (and a policy that
prunes), live items of the folder that carry our marker and that no row matches are
deletes, one per item, listed with the deletes and counted by the delete threshold.
Items we did not register are never deleted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from reconciler.kinds.item import ItemPayload
from reconciler.kinds.register import RegisterPayload, sample_text, type_counts
from reconciler.model import addresses as addr
from reconciler.model.addresses import is_under, join_path
from reconciler.model.desired import OWNER_KEY, DesiredFolder, RegisterRow, RegisterRows
from reconciler.model.live import LiveItem
from reconciler.plan.actions import Action
from reconciler.plan.canonical import canonical
from reconciler.plan.context import Context, fingerprint_of
from reconciler.plan.model import Change, FieldDiff, Refs
from reconciler.plan.prune import item_address
from reconciler.plan.tree import Tree


@dataclass(frozen=True, slots=True)
class RegisterPlan:
    """The register changes and prune deletes, the folders that register (their items'
    links and rules are planned after registration: deferrals), the items it deletes (no
    later stage plans them), and warnings."""

    changes: tuple[Change, ...] = ()
    folders: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def deleted_items(self) -> frozenset[str]:
        return frozenset(
            c.refs.uuid for c in self.changes if c.is_delete and c.refs.uuid is not None
        )


def plan_registrations(ctx: Context, tree: Tree, excluded: frozenset[str]) -> RegisterPlan:
    """``excluded``: folders this plan deletes or replaces (nothing is registered there)."""
    if ctx.options.item_roots is not None:
        return RegisterPlan()  # a re-plan of items after a sync or registration
    changes: list[Change] = []
    folders: list[str] = []
    warnings: list[str] = []
    for path in sorted(ctx.desired.folders):
        folder = ctx.desired.folders[path]
        if folder.registration is None or _skipped(ctx, tree, path, excluded):
            continue
        live_uuid = tree.index.get(path)
        items = ctx.items_by_parent.get(live_uuid, []) if live_uuid else []
        matched, missing, clashes = match_rows(folder.registration.rows, items)
        warnings.extend(_clash_warning(path, c) for c in clashes[:20])
        if missing:
            rows = marked_rows(folder.registration.rows, missing, ctx.owner)
            changes.append(_register_change(ctx, tree, folder, live_uuid, rows))
            folders.append(path)
        changes.extend(_prune(ctx, folder, items, matched))
    return RegisterPlan(tuple(changes), tuple(folders), tuple(warnings))


def _skipped(ctx: Context, tree: Tree, path: str, excluded: frozenset[str]) -> bool:
    if any(is_under(path, a) for a in tree.ambiguous):
        return True  # withheld as an ambiguous path
    uuid = tree.index.get(path)
    return uuid is not None and (uuid in excluded or uuid in tree.gone)


def match_rows(
    rows: RegisterRows, items: list[LiveItem]
) -> tuple[set[str], list[int], list[tuple[RegisterRow, LiveItem]]]:
    """(UUIDs of the live items rows match, numbers of the rows with no item, rows whose
    name an item of another URL holds). See the module docstring for the rule."""
    by_url = {i.url: i for i in items if i.url is not None and not i.is_tombstone}
    by_name = {i.name: i for i in items if not i.is_tombstone}
    matched: set[str] = set()
    missing: list[int] = []
    clashes: list[tuple[RegisterRow, LiveItem]] = []
    for n in range(len(rows)):
        url = rows.url(n)
        item = by_url.get(url)
        if item is None:
            item = by_name.get(rows.names[n])
            if item is not None and item.url is not None:
                clashes.append((rows.row(n), item))
                matched.add(item.uuid)  # its name is declared: never pruned for it
                continue
        if item is None:
            missing.append(n)
        else:
            matched.add(item.uuid)
    return matched, missing, clashes


def marked_rows(rows: RegisterRows, numbers: list[int], owner: str) -> tuple[RegisterRow, ...]:
    """The rows to register, their metadata with our ownership marker. Rows share their
    metadata mappings (``RowSink``), so each marked mapping is made once per shared one: a
    million rows with a few distinct metadata values hold a few marked mappings, not a
    million."""
    marked: dict[int, Mapping[str, object]] = {}
    out = []
    for n in numbers:
        metadata = rows.metadata[n]
        found = marked.get(id(metadata))
        if found is None:
            found = marked[id(metadata)] = {**metadata, OWNER_KEY: owner}
        row = rows.row(n)
        out.append(RegisterRow(row.url, row.item_type, row.title, found, row.source))
    return tuple(out)


def _clash_warning(path: str, clash: tuple[RegisterRow, LiveItem]) -> str:
    row, item = clash
    return (
        f"{row.source}: {join_path(path, row.name)} is already the object {item.url}, not "
        f"{row.url}; not registered (give the row another title, or remove the item)"
    )


def _register_change(
    ctx: Context,
    tree: Tree,
    folder: DesiredFolder,
    live_uuid: str | None,
    rows: tuple[RegisterRow, ...],
) -> Change:
    registration = folder.registration
    assert registration is not None
    integration_uuid = ctx.resolved.integrations.get(registration.integration)
    titles = ctx.resolved.integration_titles
    after = RegisterPayload(
        folder=folder.path,
        integration=titles.get(integration_uuid or "", registration.integration),
        upsert_metadata=registration.metadata == "upsert",
        rows=rows,
    )
    created = tree.created.get(folder.path) if live_uuid is None else None
    return Change(
        address=addr.register(folder.path),
        kind=addr.Kind.REGISTER,
        actions=(Action.CREATE,),
        after=after,
        diff=register_diff(after),
        source=str(registration.source),
        reason=(
            f"{len(rows):,} of {len(registration.rows):,} rows of {registration.manifest} "
            f"have no item in {folder.path}"
        ),
        depends_on=(created,) if created else (),
        refs=Refs(folder_uuid=live_uuid, integration_uuid=integration_uuid),
    )


def register_diff(payload: RegisterPayload) -> tuple[FieldDiff, ...]:
    """What renderings show of a register change: counts by type and a sample of names."""
    counts = type_counts(payload.rows)
    by_type = ", ".join(f"{kind} {n:,}" for kind, n in counts.items())
    names = [r.name for r in payload.rows[:6]]
    return (  # the first two are what one-line renderings (markdown) show
        FieldDiff(("register",), "add", None, f"{len(payload.rows):,} objects ({by_type})"),
        FieldDiff(("names",), "add", None, sample_text(names, len(payload.rows))),
        FieldDiff(("integration",), "add", None, payload.integration),
    )


def _prune(
    ctx: Context, folder: DesiredFolder, items: list[LiveItem], matched: set[str]
) -> list[Change]:
    registration = folder.registration
    assert registration is not None
    if registration.prune != "owned" or ctx.desired.policy.prune == "never":
        return []
    out = []
    duplicates = Counter(i.name for i in items)
    for item in sorted(items, key=lambda i: (i.name, i.uuid)):
        if item.uuid in matched or item.is_tombstone or not _ours(ctx, item.metadata):
            continue
        before = ItemPayload(join_path(folder.path, item.name), canonical(dict(item.metadata)))
        out.append(
            Change(
                address=item_address(folder.path, item, duplicates),
                kind=addr.Kind.ITEM,
                actions=(Action.DELETE,),
                before=before,
                source=str(registration.source),
                reason=(
                    f"registered by '{ctx.owner}' and no longer in {registration.manifest} "
                    "(register.prune: owned)"
                ),
                fingerprint=fingerprint_of(item.last_edited_at, before),
                refs=Refs(uuid=item.uuid, from_parent_uuid=item.parent),
            )
        )
    return out


def _ours(ctx: Context, metadata: Mapping[str, object]) -> bool:
    return metadata.get(OWNER_KEY) == ctx.owner
