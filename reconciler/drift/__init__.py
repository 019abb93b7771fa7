"""Drift audits: a plan read as an audit of the live organisation. Pure: values in, values out.

    from reconciler.drift import audit, AuditOptions, render_text

    plan = diff(desired, live)
    report = audit(plan, desired, live, options=AuditOptions(only=("folder:/curated/**",)))
    print(render_text(report))
    exit_code = 0 if report.in_sync else 2

Renderers: ``render_text``, ``render_markdown`` (at most 65,536 characters), ``render_junit``
(one test case per declared object) and ``dumps``/``report_document`` (the JSON document of
``schemas/drift.schema.json``). Printing and files belong to ``reconciler.cli``.
"""

from reconciler.drift.audit import AuditOptions, audit, select
from reconciler.drift.document import SCHEMA_ID, dumps, report_document
from reconciler.drift.model import (
    FORMAT_VERSION,
    Check,
    Drift,
    DriftKind,
    DriftReport,
    Unmanaged,
)
from reconciler.drift.render_junit import render_junit
from reconciler.drift.render_markdown import render_markdown
from reconciler.drift.render_text import render_text
from reconciler.drift.schema import drift_schema

__all__ = [
    "FORMAT_VERSION",
    "SCHEMA_ID",
    "AuditOptions",
    "Check",
    "Drift",
    "DriftKind",
    "DriftReport",
    "Unmanaged",
    "audit",
    "drift_schema",
    "dumps",
    "render_junit",
    "render_markdown",
    "render_text",
    "report_document",
    "select",
]
