"""Saved drift reports read back: ``loads`` turns a ``drift --format json`` document into a
``DriftReport`` again, so ``reconciler show --drift`` renders it without reading Encord.

A drift report carries no checksum (nothing applies it); ``loads`` still refuses text that
is not JSON, not a drift document (schema) or of another format version, one line each.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import jsonschema

from reconciler.drift.errors import DriftFileError
from reconciler.drift.model import FORMAT_VERSION, Check, Drift, DriftKind, DriftReport, Unmanaged
from reconciler.drift.schema import drift_schema
from reconciler.model.live import Caller
from reconciler.plan.actions import Action
from reconciler.plan.model import FieldDiff, Refusal


def loads(text: str) -> DriftReport:
    try:
        doc: Any = json.loads(text)
    except ValueError as exc:
        raise DriftFileError(f"not a drift report: invalid JSON ({exc})") from None
    except RecursionError:  # the C scanner recurses: a tampered file nested without end
        raise DriftFileError("not a drift report: JSON nested too deeply") from None
    if not isinstance(doc, dict):
        raise DriftFileError("not a drift report: the document is not a JSON object")
    version = doc.get("format_version")
    if version != FORMAT_VERSION:
        raise DriftFileError(
            f"drift report format version {version!r} is not supported (this reconciler "
            f"reads {FORMAT_VERSION}); run drift again with this version"
        )
    errors = jsonschema.validators.Draft202012Validator(drift_schema()).iter_errors(doc)
    first = min(errors, key=lambda e: list(e.absolute_path), default=None)
    if first is not None:
        where = "/".join(str(p) for p in first.absolute_path) or "(root)"
        raise DriftFileError(f"not a valid drift report: at {where}: {first.message}")
    return report_from_document(doc)


def report_from_document(doc: Mapping[str, Any]) -> DriftReport:
    """The inverse of ``report_document`` (shape already validated)."""
    return DriftReport(
        tool_version=doc["tool_version"],
        target=doc["target"],
        ownership_id=doc["ownership_id"],
        config_dir=doc.get("config_dir", ""),
        environment=doc.get("environment"),
        checked_at=doc.get("checked_at"),
        only=tuple(doc.get("only", ())),
        drift=tuple(_drift(d) for d in doc["drift"]),
        unmanaged=tuple(
            Unmanaged(address=u["address"], root=u["root"], items=int(u.get("items", 0)))
            for u in doc.get("unmanaged", ())
        ),
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
        checks=tuple(
            Check(id=c["id"], kind=c["kind"], source=c.get("source"), title=c.get("title", ""))
            for c in doc.get("checks", ())
        ),
        problems=tuple(doc.get("problems", ())),
        format_version=int(doc["format_version"]),
        caller=Caller.from_json(doc.get("caller")),
        warnings=tuple(doc.get("warnings", ())),
    )


def _drift(doc: Mapping[str, Any]) -> Drift:
    return Drift(
        kind=DriftKind(doc["kind"]),
        address=doc["address"],
        check=doc["check"],
        source=doc.get("source"),
        fields=tuple(
            FieldDiff(path=tuple(f["path"]), op=f["op"], before=f["live"], after=f["declared"])
            for f in doc.get("fields", ())
        ),
        actions=tuple(Action(a) for a in doc.get("actions", ())),
        summary=doc.get("summary", ""),
        live_address=doc.get("live_address"),
        related=tuple(doc.get("related", ())),
    )
