"""The drift document: ``DriftReport`` → the JSON object of ``schemas/drift.schema.json``.

Field diffs are written as ``{"path", "op", "live", "declared"}``: an audit compares what
Encord holds with what the configuration says, so the sides are named for what they are.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from reconciler.drift.checks import failing_checks
from reconciler.drift.model import Drift, DriftReport
from reconciler.plan.model import FieldDiff

SCHEMA_ID = "https://reconciler.dev/schemas/drift/v1.json"


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def field_document(entry: FieldDiff) -> dict[str, Any]:
    return {
        "path": list(entry.path),
        "op": entry.op,
        "live": _plain(entry.before),
        "declared": _plain(entry.after),
    }


def drift_document(entry: Drift) -> dict[str, Any]:
    return {
        "kind": entry.kind.value,
        "address": entry.address,
        "live_address": entry.live_address,
        "check": entry.check,
        "source": entry.source,
        "severity": entry.severity,
        "actions": [str(a) for a in entry.actions],
        "summary": entry.summary,
        "fields": [field_document(f) for f in entry.fields],
        "related": list(entry.related),
    }


def report_document(report: DriftReport) -> dict[str, Any]:
    failing = failing_checks(report)
    return {
        "$schema": SCHEMA_ID,
        "format_version": report.format_version,
        "tool_version": report.tool_version,
        "target": report.target,
        "ownership_id": report.ownership_id,
        "caller": None if report.caller is None else report.caller.to_json(),
        "config_dir": report.config_dir,
        **({} if report.environment is None else {"environment": report.environment}),
        "checked_at": report.checked_at,
        "only": list(report.only),
        "in_sync": report.in_sync,
        "summary": {
            "drifted": len(report.drift),
            "unmanaged": len(report.unmanaged),
            "refusals": len(report.refusals),
            "checks": len(report.checks),
            "failing_checks": sum(1 for c in report.checks if c.id in failing),
            "by_kind": report.counts(),
        },
        "drift": [drift_document(d) for d in report.drift],
        "unmanaged": [
            {"address": u.address, "root": u.root, "items": u.items} for u in report.unmanaged
        ],
        "refusals": [
            {
                "code": r.code,
                "message": r.message,
                "addresses": list(r.addresses),
                "withheld": r.withheld,
                "count": r.count,
            }
            for r in report.refusals
        ],
        "checks": [
            {
                "id": c.id,
                "kind": c.kind,
                "source": c.source,
                "title": c.title,
                "drifted": c.id in failing,
            }
            for c in report.checks
        ],
        "problems": list(report.problems),
        "warnings": list(report.warnings),
    }


def dumps(report: DriftReport) -> str:
    """The drift document as indented, key-stable JSON text (ends with a newline)."""
    return json.dumps(report_document(report), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
