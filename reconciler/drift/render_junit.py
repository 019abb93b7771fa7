"""The drift report as JUnit XML: one test case per declared object, failed where it drifted.

Shape (valid against both the Apache Ant ``JUnit.xsd`` and Jenkins' ``junit-10.xsd``, the two
schemas CI dashboards follow; the stricter Ant one decides what is allowed):

* ``<testsuites>`` (no attributes) holds one ``<testsuite>`` per configuration file, named by
  the file, so a dashboard groups objects the way the repository does.
* each ``<testcase>`` is a declared object: ``name`` its address (or ``rule:/folder``,
  ``links:<dataset>``, …), ``classname`` ``reconciler.<kind>``. Its ``file:line`` is the
  suite's ``<property name="source:<name>" value="file:line"/>`` (test cases may not carry
  properties or a ``file`` attribute in these schemas) and starts its failure message.
* ``<failure type="drift.<kind>">``: the message is the first difference in one line; the body
  lists every difference with its fields written ``live → declared``.
* unmanaged folders, refusals and incomplete reads go to the ``reconciler.yaml`` suite's
  ``<system-out>``; ``policy:prune`` fails for objects prune would delete.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from datetime import UTC, datetime

from reconciler.drift.checks import failing_checks, refusal_checks
from reconciler.drift.lines import detail_lines, headline, unmanaged_line
from reconciler.drift.model import Check, Drift, DriftReport, drift_order
from reconciler.plan.model import Refusal
from reconciler.printable import printable, printable_lines
from reconciler.words import plural

_BODY_MAX_ENTRIES = 1000
# Characters XML 1.0 cannot carry at all (metadata may hold anything).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_EPOCH = "1970-01-01T00:00:00"


def _text(value: str) -> str:
    """Text XML can carry, with controls and bidirectional marks shown (``printable_lines``):
    each piece from live data is already one line (``printable``)."""
    return _NOT_XML.sub("\ufffd", printable_lines(value))


def _timestamp(checked_at: str | None) -> str:
    """ISO 8601 without a zone (the Ant schema's pattern), in UTC."""
    if not checked_at:
        return _EPOCH
    try:
        moment = datetime.fromisoformat(checked_at)
    except ValueError:
        return _EPOCH
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def _file_of(check: Check) -> str:
    return check.source.rsplit(":", 1)[0] if check.source else "reconciler.yaml"


def _failures(report: DriftReport) -> tuple[dict[str, list[Drift]], dict[str, list[Refusal]]]:
    drifted: dict[str, list[Drift]] = {}
    for entry in report.drift:
        drifted.setdefault(entry.check, []).append(entry)
    refused: dict[str, list[Refusal]] = {}
    ids = {c.id for c in report.checks}
    for refusal in report.refusals:
        for check_id in refusal_checks(refusal, ids):
            refused.setdefault(check_id, []).append(refusal)
    return drifted, refused


def _failure(check: Check, entries: list[Drift], refusals: list[Refusal]) -> ET.Element:
    entries = sorted(entries, key=drift_order)
    where = f"{check.source}: " if check.source else ""
    if entries:
        first = entries[0]
        where = f"{first.source or check.source}: " if first.source or check.source else ""
        kind = f"drift.{first.kind.value}"
        message = f"{where}{printable(first.address)}: {printable(first.summary)}"
        if len(entries) > 1:
            message += f" (and {plural(len(entries) - 1, 'more difference')})"
    else:
        kind = "drift.refused"
        message = f"{where}{printable(refusals[0].message)}"
    element = ET.Element("failure", {"type": kind, "message": _text(message[:2000])})
    element.text = _text("\n".join(_body(entries, refusals)) + "\n")
    return element


def _body(entries: list[Drift], refusals: list[Refusal]) -> Iterable[str]:
    for entry in entries[:_BODY_MAX_ENTRIES]:
        yield headline(entry)
        yield from (f"    {line}" for line in detail_lines(entry))
    if len(entries) > _BODY_MAX_ENTRIES:
        yield f"… and {len(entries) - _BODY_MAX_ENTRIES} more (reconciler drift --format json)"
    for refusal in refusals:
        yield f"! refused [{refusal.code}]: {printable(refusal.message)}"


def _suite_out(report: DriftReport) -> str:
    lines = [report.summary_line()]
    if report.unmanaged:
        lines.append("Unmanaged (under the declared roots, not declared, left alone; not drift):")
        lines.extend(f"  {unmanaged_line(u)}" for u in report.unmanaged)
    for refusal in report.refusals:
        lines.append(f"Refused [{refusal.code}]: {printable(refusal.message)}")
    if report.problems:
        lines.append("Incomplete read:")
        lines.extend(f"  {printable(p)}" for p in report.problems)
    return _text("\n".join(lines) + "\n")


def render_junit(report: DriftReport, *, hostname: str = "localhost") -> str:
    drifted, refused = _failures(report)
    by_file: dict[str, list[Check]] = {}
    for check in report.checks:
        by_file.setdefault(_file_of(check), []).append(check)
    root = ET.Element("testsuites")
    files = sorted(by_file, key=lambda f: (f != "reconciler.yaml", f))
    for index, name in enumerate(files):
        suite = _suite(root, report, name, index, by_file[name], hostname)
        for check in by_file[name]:
            case = ET.SubElement(
                suite,
                "testcase",
                {"name": _text(check.id), "classname": f"reconciler.{check.kind}", "time": "0"},
            )
            if check.id in drifted or check.id in refused:
                case.append(_failure(check, drifted.get(check.id, []), refused.get(check.id, [])))
        ET.SubElement(suite, "system-out").text = _suite_out(report) if index == 0 else ""
        ET.SubElement(suite, "system-err").text = ""
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _suite(
    root: ET.Element,
    report: DriftReport,
    name: str,
    index: int,
    checks: list[Check],
    hostname: str,
) -> ET.Element:
    failing = failing_checks(report)
    suite = ET.SubElement(
        root,
        "testsuite",
        {
            "name": _text(name),
            "package": "reconciler.drift",
            "id": str(index),
            "hostname": _text(hostname or "localhost"),
            "timestamp": _timestamp(report.checked_at),
            "tests": str(len(checks)),
            "failures": str(sum(1 for c in checks if c.id in failing)),
            "errors": "0",
            "skipped": "0",
            "time": "0",
        },
    )
    _properties(suite, report, checks)
    return suite


def _properties(suite: ET.Element, report: DriftReport, checks: list[Check]) -> None:
    properties = ET.SubElement(suite, "properties")
    values = [
        ("target", report.target),
        ("ownership_id", report.ownership_id),
        ("tool_version", report.tool_version),
    ]
    values += [(f"source:{c.id}", c.source or "") for c in checks]
    for name, value in values:
        ET.SubElement(properties, "property", {"name": _text(name), "value": _text(value)})
