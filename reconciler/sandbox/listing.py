"""Handler helpers shared by the storage routes: listing parameters and folder/item answers."""

from __future__ import annotations

import sqlite3
from typing import Any

from reconciler.sandbox.errors import bad_request, forbidden
from reconciler.sandbox.pipeline import Call
from reconciler.sandbox.serialize import folder_json, item_json_columns, page, page_text
from reconciler.sandbox.store.access import Visibility, folder_rank, visibility
from reconciler.sandbox.store.folders import FolderFilters, ancestors
from reconciler.sandbox.store.items import ItemFilters
from reconciler.sandbox.store.paging import PageSpec, page_spec
from reconciler.wire.enums import StorageItemType

ITEM_TYPES = {t.value for t in StorageItemType}


def page_spec_of(call: Call) -> PageSpec:
    return page_spec(
        order=call.q("order"),
        desc=bool(call.q_bool("desc", False)),
        size=call.q_int("pageSize"),
        token=call.q("pageToken"),
    )


def check_org_access(call: Call) -> bool:
    """``includeOrgAccess=True`` widens a listing to the whole organisation: admins only."""
    org_access = bool(call.q_bool("includeOrgAccess", False))
    if org_access and not call.caller.is_admin:
        raise forbidden("includeOrgAccess=True needs the organisation admin role")
    return org_access


def listing_visibility(call: Call) -> Visibility:
    """Whose folders an organisation-wide listing shows (see ``store.access``)."""
    return visibility(call.conn, call.caller, org_access=check_org_access(call))


def folder_filters(call: Call) -> FolderFilters:
    return FolderFilters(
        search=call.q("search") or None,
        dataset_synced=call.q_bool("datasetSynced"),
        tags=tuple(call.q_list("organisationTagNamesAllof")),
    )


def item_filters(call: Call) -> ItemFilters:
    types = tuple(call.q_list("itemTypes"))
    unknown = [t for t in types if t not in ITEM_TYPES]
    if unknown:
        raise bad_request(f"unknown itemTypes: {', '.join(unknown)}")
    return ItemFilters(
        search=call.q("search") or None,
        item_types=types,
        is_in_dataset=call.q_bool("isInDataset"),
    )


def folder_body(call: Call, folder: sqlite3.Row) -> dict[str, Any]:
    rank = folder_rank(call.conn, call.caller, folder["path"])
    return folder_json(folder, ancestors(call.conn, [folder]), rank)


def folders_page(
    call: Call, rows: list[sqlite3.Row], token: str | None, vis: Visibility
) -> dict[str, Any]:
    anc = ancestors(call.conn, rows)
    return page([folder_json(row, anc, vis.rank_of(row["path"])) for row in rows], token)


def item_columns(call: Call) -> str:
    """The select list of item JSON for a listing, from its ``signUrls``/metadata flags."""
    sign = bool(call.q_bool("signUrls", False))
    metadata = bool(call.q_bool("includeClientMetadata", True))
    return item_json_columns(sign_urls=sign, metadata=metadata)


def items_page(rows: list[sqlite3.Row], token: str | None) -> str:
    """A page of items selected with ``item_columns``: JSON text."""
    return page_text([row["json"] for row in rows], token)
