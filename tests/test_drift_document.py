"""``reconciler drift --format json``: the document conforms to ``schemas/drift.schema.json``
(versioned ``$id``), and the text renderer says the same things in lines."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from drift_data.kit import MINE, SETTINGS, desired_from, every_kind_org, in_sync_org, report_for

from reconciler.cli.drift import exit_code
from reconciler.drift import (
    SCHEMA_ID,
    DriftReport,
    drift_schema,
    dumps,
    render_junit,
    render_markdown,
    render_text,
)
from reconciler.drift import report_document as document

REPO = Path(__file__).resolve().parents[1]


def validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(drift_schema())


def drifted(tmp_path: Path) -> DriftReport:
    return report_for(desired_from(tmp_path), every_kind_org(), checked_at="2024-05-01T03:00:00Z")


def test_the_schema_is_a_valid_2020_12_schema_with_a_versioned_id() -> None:
    schema = drift_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$id"] == SCHEMA_ID == "https://reconciler.dev/schemas/drift/v1.json"
    on_disk = json.loads((REPO / "schemas" / "drift.schema.json").read_text())
    assert on_disk == schema  # the top-level schemas/ is the package's directory


def test_a_drifted_report_conforms_and_says_live_and_declared(tmp_path: Path) -> None:
    doc = json.loads(dumps(drifted(tmp_path)))
    validator().validate(doc)
    assert doc["$schema"] == SCHEMA_ID and doc["in_sync"] is False
    by_address = {d["address"]: d for d in doc["drift"]}
    cams = by_address["folder:/drift/cams"]
    assert cams["kind"] == "changed" and cams["source"] == "main.yaml:10"
    assert cams["fields"] == [
        {
            "path": ["description"],
            "op": "change",
            "live": 'edited <by> "hand" & more',
            "declared": "cameras",
        }
    ]
    moved = by_address["folder:/drift/archive"]
    assert moved["live_address"] == "folder:/drift/archive-old"
    assert moved["actions"] == ["create", "delete"] and moved["severity"] == 0
    assert doc["summary"]["by_kind"] == {
        "extra": 1,
        "changed": 1,
        "missing": 0,
        "moved": 2,
        "access": 1,
        "membership": 1,
        "links": 2,
        "metadata": 1,
    }
    assert doc["summary"]["drifted"] == len(doc["drift"]) == 9
    assert doc["unmanaged"] == [
        {"address": "folder:/drift/hand-made", "root": "/drift", "items": 0}
    ]
    checks = {c["id"]: c["drifted"] for c in doc["checks"]}
    assert checks["folder:/drift/cams"] is True and checks["dataset:cams"] is False
    assert doc["summary"]["failing_checks"] == sum(checks.values())


def test_an_in_sync_report_conforms(tmp_path: Path) -> None:
    doc = document(report_for(desired_from(tmp_path), in_sync_org()))
    validator().validate(doc)
    assert doc["in_sync"] is True and doc["drift"] == [] and doc["summary"]["failing_checks"] == 0


@pytest.mark.parametrize(
    ("where", "bad"),
    [
        (("drift", 0, "kind"), "renamed"),
        (("drift", 0, "fields", 0, "op"), "replace"),
        (("summary", "by_kind", "moved"), -1),
        (("format_version",), 2),
        (("$schema",), "https://reconciler.dev/schemas/drift/v2.json"),
    ],
)
def test_the_schema_rejects_what_the_tool_never_writes(
    tmp_path: Path, where: tuple[Any, ...], bad: Any
) -> None:
    doc = copy.deepcopy(document(drifted(tmp_path)))
    target = doc
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = bad
    assert list(validator().iter_errors(doc))


def test_text_lists_worst_first_with_lines_and_a_summary(tmp_path: Path) -> None:
    text = render_text(drifted(tmp_path))
    lines = text.splitlines()
    heads = [line.strip() for line in lines if line.startswith("  ") and not line.startswith("   ")]
    kinds = [h.split()[1] for h in heads if h.split()[0] in {"-", "+", "~", "→", "-/+", "?"}]
    assert kinds[:2] == ["extra", "moved"] and kinds[-1] == "folder:/drift/hand-made"
    assert '        description: "edited <by> \\"hand\\" & more" → "cameras"' in lines
    assert "  ~ changed    folder:/drift/cams  [main.yaml:10]" in lines
    assert "  ? folder:/drift/hand-made (under /drift)" in lines
    assert lines[-1] == (
        "Drift: 9 objects differ (1 extra, 1 changed, 2 moved, 1 access, 1 membership, "
        "2 links, 1 metadata). 1 unmanaged (not drift)."
    )
    clean = render_text(report_for(desired_from(tmp_path), in_sync_org()))
    assert "No drift. The organisation matches the configuration." in clean
    assert clean.splitlines()[-1] == "In sync: no drift."


# --- one verdict, the exit code's ------------------------------------------------------------


def withheld(tmp_path: Path) -> DriftReport:
    """No drift entry, but prune may not delete a leftover of ours: it is protected."""
    settings = SETTINGS.replace(
        "policy: {prune: owned}", 'policy: {prune: owned, protect: ["/drift/leftover/**"]}'
    )
    org = in_sync_org().folder("/drift/leftover", "", **MINE)
    return report_for(desired_from(tmp_path, settings=settings), org)


def test_a_withheld_change_is_not_in_sync_in_any_rendering(tmp_path: Path) -> None:
    report = withheld(tmp_path)
    assert report.drift == () and not report.in_sync
    text = render_text(report)
    assert "matches the configuration" not in text and "In sync" not in text
    assert text.splitlines()[-1] == (
        "Not in sync: 1 refusal withholds changes that the plan cannot make."
    )
    markdown = render_markdown(report)
    assert "In sync" not in markdown
    assert "> **Not in sync: 1 refusal withholds changes that the plan cannot make.**" in markdown
    assert document(report)["in_sync"] is False
    assert "In sync" not in render_junit(report)
    assert exit_code(report) == 1


def test_an_incomplete_read_is_not_verified_rather_than_in_sync(tmp_path: Path) -> None:
    report = replace(report_for(desired_from(tmp_path), in_sync_org()), problems=("x: 503",))
    assert not report.in_sync and exit_code(report) == 1
    text = render_text(report)
    assert "matches the configuration" not in text and "In sync" not in text
    assert text.splitlines()[-1] == "Not verified: the organisation could not be read completely."


def test_a_selection_in_sync_does_not_claim_the_whole_organisation_is(tmp_path: Path) -> None:
    report = report_for(desired_from(tmp_path), every_kind_org(), only=("folder:/drift",))
    assert report.drift == () and report.in_sync and exit_code(report) == 0
    text = render_text(report)
    assert "No drift in what --only selects; other objects may still differ." in text
    assert "matches the configuration" not in text
    assert text.splitlines()[-1] == "In sync: no drift in what --only selects."
