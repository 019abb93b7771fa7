"""The plan document: ``Plan`` ⇄ the JSON object of ``schemas/plan.schema.json``, and its
checksum. Pure: text and files are ``planfile``'s and the CLI's business.

The checksum is ``sha256:`` + hex over the canonical JSON (sorted keys, no whitespace, UTF-8)
of the document without its ``checksum`` and ``cost`` keys. Any other edit changes it. The
cost is left out because it is an estimate about the plan, not part of it: apply never reads
it, and its latency was measured during a read that will not happen the same way twice, so a
plan remade from the same state keeps its checksum (``reconciler.plan.cost``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from functools import lru_cache
from itertools import islice
from operator import attrgetter
from typing import Any

from reconciler.kinds import spec_of
from reconciler.kinds.payload import encoded
from reconciler.model.addresses import Kind
from reconciler.model.live import Caller
from reconciler.plan.actions import Action
from reconciler.plan.changetext import change_text
from reconciler.plan.cost import Cost
from reconciler.plan.model import (
    REF_FIELDS,
    Change,
    Deferral,
    FieldDiff,
    Fingerprints,
    Plan,
    Refs,
    Refusal,
    Summary,
)

SCHEMA_ID = "https://reconciler.dev/schemas/plan/v1.json"
_REF_FIELDS = REF_FIELDS
_REF_VALUES = attrgetter(*_REF_FIELDS)


def refs_document(refs: Refs) -> dict[str, Any]:
    # Every field read in one C call; one per change of the plan, so it counts.
    out = {n: v for n, v in zip(_REF_FIELDS, _REF_VALUES(refs), strict=True) if v is not None}
    if out["data_hashes"]:  # in place: the plan file keeps the fields' order
        out["data_hashes"] = list(out["data_hashes"])
    else:
        del out["data_hashes"]
    return out


def change_document(change: Change) -> dict[str, Any]:
    return {
        "address": change.address,
        "previous_address": change.previous_address,
        "kind": change.kind,
        "actions": [str(a) for a in change.actions],
        # Views and diff values are plain JSON data by construction (``canonical``).
        "before": encoded(change.before),
        "after": encoded(change.after),
        "diff": [
            {"path": list(d.path), "op": d.op, "before": d.before, "after": d.after}
            for d in change.diff
        ],
        "source": change.source,
        "reason": change.reason,
        "fingerprint": change.fingerprint,
        "depends_on": list(change.depends_on),
        "refs": refs_document(change.refs),
    }


def plan_document(
    plan: Plan, *, with_checksum: bool = True, with_changes: bool = True
) -> dict[str, Any]:
    """The plan's document; ``with_changes=False`` leaves its list of changes empty (for a
    writer that writes them itself) and keeps all else, the cost too."""
    doc: dict[str, Any] = {
        "$schema": SCHEMA_ID,
        "format_version": plan.format_version,
        "tool_version": plan.tool_version,
        "target": plan.target,
        "created_at": plan.created_at,
        "config_dir": plan.config_dir,
        "ownership_id": plan.ownership_id,
        "caller": None if plan.caller is None else plan.caller.to_json(),
        "forced": plan.forced,
        "only": list(plan.only),
        "item_roots": None if plan.item_roots is None else list(plan.item_roots),
        "summary": plan.summary.as_dict(),
        "changes": [change_document(c) for c in plan.changes] if with_changes else [],
        "fingerprints": dict(_sorted_fingerprints(plan.fingerprints)),
        "refusals": [
            {
                "code": r.code,
                "message": r.message,
                "addresses": list(r.addresses),
                "withheld": r.withheld,
                "count": r.count,
            }
            for r in plan.refusals
        ],
        "deferred": [
            {"folder": d.folder, "rules": list(d.rules), "datasets": list(d.datasets)}
            for d in plan.deferred
        ],
        "unmanaged": list(plan.unmanaged),
        "warnings": list(plan.warnings),
    }
    if plan.takeover:  # only when set: plans without it read as they always did
        doc["takeover"] = True
    if plan.environment is not None:  # likewise: plans of configs without environments
        doc["environment"] = plan.environment
    if with_checksum:
        doc["checksum"] = plan.checksum
        if plan.cost is not None and plan.changes:  # an empty plan says nothing costly
            doc["cost"] = plan.cost.to_json()
    return doc


def compute_checksum(plan: Plan) -> str:
    """``document_checksum`` of the plan's document, fed to the hash a batch of changes at a
    time: the same bytes, without holding every change's document (and the whole text) at
    once, which at 100,000 changes is hundreds of megabytes. Each change's text is written
    from its pieces (``change_text``), not encoded from its document."""
    doc = plan_document(replace(plan, changes=(), fingerprints={}), with_checksum=False)
    doc["changes"] = [_PLACEHOLDER]
    # The fingerprints (one per change that has one) likewise: as one sorted dict and its
    # text they were about 250 bytes a change at the plan's peak.
    doc["fingerprints"] = {_FINGERPRINTS: ""}
    text = _canonical(doc).encode("utf-8")
    at_changes, at_prints = text.index(_CHANGES_MARK), text.index(_FINGERPRINTS_MARK)
    assert at_changes < at_prints  # keys sorted: "changes" comes before "fingerprints"
    view = memoryview(text)
    digest = hashlib.sha256(view[:at_changes])
    _hash_changes(digest, plan)
    digest.update(view[at_changes + len(_CHANGES_MARK) : at_prints])
    _hash_prints(digest, plan)
    digest.update(view[at_prints + len(_FINGERPRINTS_MARK) :])
    return "sha256:" + digest.hexdigest()


def _hash_changes(digest: Any, plan: Plan) -> None:
    digest.update(b'"changes":[')
    changes = plan.changes
    shared: dict[int, str] = {}  # texts of shared pieces by id: the plan holds them meanwhile
    for start in range(0, len(changes), _BATCH):
        batch = [change_text(c, refs_document, shared) for c in changes[start : start + _BATCH]]
        digest.update((("," if start else "") + ",".join(batch)).encode("utf-8"))
    digest.update(b"]")


def _hash_prints(digest: Any, plan: Plan) -> None:
    """The inside of the fingerprints' canonical object, a sorted batch at a time: the keys
    of each batch sorted by ``json.dumps`` as the whole dict's would be."""
    pairs = _sorted_fingerprints(plan.fingerprints)
    first = True
    while batch := list(islice(pairs, _BATCH)):
        digest.update(("" if first else ",").encode() + _canonical(dict(batch))[1:-1].encode())
        first = False


def _sorted_fingerprints(fingerprints: Mapping[str, str]) -> Iterator[tuple[str, str]]:
    if isinstance(fingerprints, Fingerprints):  # a plan just made: read from its changes
        return fingerprints.sorted_items()
    return iter(sorted(fingerprints.items()))


_PLACEHOLDER = "reconciler:changes-go-here"  # where the changes go in the text (split once)
_FINGERPRINTS = "reconciler:fingerprints-go-here"
_CHANGES_MARK = f'"changes":["{_PLACEHOLDER}"]'.encode()
_FINGERPRINTS_MARK = f'"{_FINGERPRINTS}":""'.encode()
_BATCH = 1024


def _canonical(value: Any) -> str:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


UNCHECKED = ("checksum", "cost")  # the keys the checksum does not cover


def document_checksum(doc: Mapping[str, Any]) -> str:
    """The checksum of a plan document given without its ``UNCHECKED`` keys (C encoder)."""
    return "sha256:" + hashlib.sha256(_canonical(doc).encode("utf-8")).hexdigest()


def canonical_spliced(doc: Mapping[str, Any], changes: str) -> str | None:
    """The canonical text of ``doc`` without its ``UNCHECKED`` keys, and with the inside of
    its list of changes ``changes`` as given: text, not a value (a plan file's lines as they
    stand, ``filetext.canonical_parts``). What ``document_checksum`` hashes (UTF-8), when
    ``changes`` is the changes' canonical text joined by commas. None when the text of
    ``doc`` has more than one place that could be its changes (a nested value made to look
    so): spliced into the wrong one, the text hashed would not be the document used."""
    body = {key: value for key, value in doc.items() if key not in UNCHECKED}
    body["changes"] = [_PLACEHOLDER]
    text = _canonical(body)
    at = text.index(_CHANGES_TEXT_MARK)
    if text.find(_CHANGES_TEXT_MARK, at + 1) >= 0:
        return None  # a value that reads as the mark: no one place for the changes
    return "".join((text[:at], '"changes":[', changes, "]", text[at + len(_CHANGES_TEXT_MARK) :]))


_CHANGES_TEXT_MARK = _CHANGES_MARK.decode()


def sealed(plan: Plan) -> Plan:
    """The same plan with its checksum computed."""
    return replace(plan, checksum=compute_checksum(plan))


def plan_from_document(doc: Mapping[str, Any], changes: tuple[Change, ...] | None = None) -> Plan:
    """Rebuild a ``Plan`` from its document (shape already validated; checksum not checked);
    ``changes``: its changes, already built from it (``changes_from``)."""
    return Plan(
        format_version=int(doc["format_version"]),
        tool_version=doc["tool_version"],
        target=doc["target"],
        created_at=doc.get("created_at"),
        config_dir=doc.get("config_dir", ""),
        environment=doc.get("environment"),
        ownership_id=doc["ownership_id"],
        forced=bool(doc.get("forced", False)),
        takeover=bool(doc.get("takeover", False)),
        only=tuple(doc.get("only", ())),
        item_roots=None if doc.get("item_roots") is None else tuple(doc["item_roots"]),
        summary=Summary(**doc["summary"]),
        changes=tuple(map(_change_from, doc["changes"])) if changes is None else changes,
        fingerprints=dict(doc.get("fingerprints", {})),
        refusals=tuple(
            Refusal(
                code=r["code"],
                message=r["message"],
                addresses=tuple(r.get("addresses", ())),
                withheld=bool(r.get("withheld", True)),
                count=int(r.get("count", 0)),
            )
            for r in doc.get("refusals", ())
        ),
        deferred=tuple(
            Deferral(folder=d["folder"], rules=tuple(d["rules"]), datasets=tuple(d["datasets"]))
            for d in doc.get("deferred", ())
        ),
        unmanaged=tuple(doc.get("unmanaged", ())),
        caller=Caller.from_json(doc.get("caller")),
        warnings=tuple(doc.get("warnings", ())),
        checksum=doc.get("checksum", ""),
        cost=Cost.from_json(doc.get("cost")),
    )


def changes_from(docs: Sequence[Mapping[str, Any]]) -> list[Change]:
    """The changes of these change documents (part of a plan's, for ``plan_from_document``)."""
    return list(map(_change_from, docs))


def _change_from(doc: Mapping[str, Any]) -> Change:
    refs = doc.get("refs", {})
    if "data_hashes" in refs:
        refs = {**refs, "data_hashes": tuple(refs["data_hashes"])}
    kind = _KINDS[doc["kind"]]  # the schema admits only kinds
    decode = spec_of(kind).decode
    before, after = doc.get("before"), doc.get("after")
    return Change(
        address=doc["address"],
        previous_address=doc.get("previous_address"),
        kind=kind,
        actions=_actions(tuple(doc["actions"])),
        before=None if before is None else decode(before),
        after=None if after is None else decode(after),
        diff=tuple(
            [
                FieldDiff(tuple(d["path"]), d["op"], d["before"], d["after"])
                for d in doc.get("diff", ())
            ]
        ),
        source=doc.get("source"),
        reason=doc.get("reason", ""),
        fingerprint=doc.get("fingerprint"),
        depends_on=tuple(doc.get("depends_on", ())),
        refs=Refs(**refs),
    )


# A plan of 100,000 changes names a handful of kinds and action lists: looked up, not rebuilt
# for each change (the schema admits only these values, so the lookups cannot miss).
_KINDS = {kind.value: kind for kind in Kind}


@lru_cache(maxsize=256)
def _actions(names: tuple[str, ...]) -> tuple[Action, ...]:
    return tuple(Action(name) for name in names)
