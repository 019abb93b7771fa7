"""Checks of ``collections:`` across declarations: what a collection may select, how it may
be described, and which earlier names it may claim.

* Every selector selects inside the collection's top-level folder: the API refuses (in
  ``failedItems``) any item outside it, so such a selector could never converge.
* A description does not carry an ownership tag of its own: reconciler appends its tag to
  what it writes and compares descriptions without it, so a declared tag would be written
  twice (the double-tag defect groups and datasets once had).
* ``previously`` names are not declared collections and are claimed once.
"""

from __future__ import annotations

from collections.abc import Mapping

from reconciler.config.context import Context
from reconciler.model.addresses import is_under
from reconciler.model.desired import DesiredCollection, ItemSelector, description_owner


def check_collections(collections: Mapping[str, DesiredCollection], ctx: Context) -> None:
    claimed: dict[str, str] = {}
    for name, collection in collections.items():
        for selector in collection.items:
            _check_selector(collection, selector, ctx)
        if collection.description is not None and description_owner(collection.description):
            ctx.report_at(
                collection.source,
                f"collection {name}: the description ends in an ownership tag "
                "('[managed by reconciler: …]'); remove it, reconciler adds its own",
            )
        for previous in collection.previously:
            other = claimed.setdefault(previous, name)
            if previous in collections:
                ctx.report_at(
                    collection.source,
                    f"collection {name}: previously names {previous!r}, which is declared "
                    "itself; a name is either declared or an earlier name",
                )
            elif other != name:
                ctx.report_at(
                    collection.source,
                    f"collection {name}: {previous!r} is also an earlier name of collection "
                    f"{other}; one collection can have been called that",
                )


def _check_selector(collection: DesiredCollection, selector: ItemSelector, ctx: Context) -> None:
    outside = [
        path
        for path in (selector.folder, *sorted(selector.paths))
        if path is not None and not is_under(path, collection.folder)
    ]
    if outside:
        ctx.report_at(
            selector.source,
            f"collection {collection.name}: {outside[0]} is not under the collection's folder "
            f"{collection.folder}; a collection holds items of its own top-level folder only",
        )
