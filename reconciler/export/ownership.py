"""Reconciler's own marks on live objects: found, counted, and kept out of the export.

Objects reconciler created carry an ownership id: ``OWNER_KEY`` in folder metadata, a tag at
the end of group and dataset descriptions. The config may not declare either (the planner
writes them), and the planner compares descriptions without any tag. So the export leaves
every mark out of what it declares, and writes the id it found into ``reconciler.yaml``
instead: planning the export against the same organisation then changes nothing, and
``prune: owned`` keeps recognising what reconciler made. Objects of several ids under the
exported roots need the user's choice (``--ownership-id``): the config has one id.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from reconciler.export.errors import ExportError
from reconciler.model.desired import OWNER_KEY
from reconciler.plan.canonical import description_owner, strip_tag

PLACEHOLDER = "change-me"  # no id found and none chosen: the user sets one


def declarable_metadata(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """Metadata without the keys a config may not declare (the marker, the empty key); merge
    mode leaves undeclared live keys alone, so leaving them out changes nothing."""
    return {k: v for k, v in sorted(metadata.items()) if k != OWNER_KEY and k != ""}


def plain_description(description: str) -> str:
    """A group or dataset description without reconciler's ownership tag (any id's)."""
    return strip_tag(description)


def count_ids(
    folder_metadata: Iterable[Mapping[str, Any]], descriptions: Iterable[str]
) -> Counter[str]:
    """How many exported objects carry each ownership id."""
    found: Counter[str] = Counter()
    for metadata in folder_metadata:
        owner = metadata.get(OWNER_KEY)
        if isinstance(owner, str):  # the planner reads only a string as an owner
            found[owner] += 1
    for description in descriptions:
        owner = description_owner(description)
        if owner is not None:
            found[owner] += 1
    return found


def choose_id(found: Counter[str], requested: str | None, warnings: list[str]) -> str:
    """The id for ``reconciler.yaml``: the one requested, else the one found, else the
    placeholder. Several found and none requested is an error: guessing would make the other
    config's objects read as ours (and ``prune: owned`` could then delete them)."""
    if requested is None and len(found) > 1:
        ids = ", ".join(f"{i} ({_objects(n)})" for i, n in sorted(found.items()))
        raise ExportError(
            f"the exported objects carry several ownership ids: {ids}; "
            "pass --ownership-id ID to choose this config's id, or export the roots of each "
            "config separately"
        )
    chosen = requested or next(iter(found), PLACEHOLDER)
    others = {i: n for i, n in sorted(found.items()) if i != chosen}
    for other, n in others.items():
        warnings.append(
            f"{_objects(n)} exported carry ownership id {other!r}, not {chosen!r}: "
            "plans from this config never change them"
        )
    return chosen


def _objects(n: int) -> str:
    return f"{n} object" if n == 1 else f"{n} objects"
