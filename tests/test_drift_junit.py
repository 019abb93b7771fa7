"""``reconciler.drift.render_junit``: one test case per declared object, failed where it
drifted, valid against the Apache Ant ``JUnit.xsd`` and Jenkins' ``junit-10.xsd``."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema
from drift_data.kit import desired_from, every_kind_org, in_sync_org, report_for

from reconciler.drift import DriftReport, render_junit

DATA = Path(__file__).parent / "drift_data"
SCHEMAS = ("JUnit.xsd", "jenkins-junit-10.xsd")
CHECKED_AT = "2024-05-01T03:00:00+02:00"


@pytest.fixture(scope="module", params=SCHEMAS)
def schema(request: pytest.FixtureRequest) -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(DATA / request.param))


def drifted(tmp_path: Path) -> DriftReport:
    return report_for(desired_from(tmp_path), every_kind_org(), checked_at=CHECKED_AT)


def cases(xml: str) -> dict[str, ET.Element]:
    root = ET.fromstring(xml)
    return {case.attrib["name"]: case for case in root.iter("testcase")}


def test_an_in_sync_report_is_valid_and_passes_every_declared_object(
    tmp_path: Path, schema: xmlschema.XMLSchema
) -> None:
    report = report_for(desired_from(tmp_path), in_sync_org(), checked_at=CHECKED_AT)
    xml = render_junit(report, hostname="ci-runner")
    schema.validate(xml)
    found = cases(xml)
    assert sorted(found) == sorted(c.id for c in report.checks)
    assert not any(case.find("failure") is not None for case in found.values())


def test_a_drifted_report_is_valid_and_fails_exactly_the_drifted_objects(
    tmp_path: Path, schema: xmlschema.XMLSchema
) -> None:
    report = drifted(tmp_path)
    xml = render_junit(report)
    schema.validate(xml)
    found = cases(xml)
    failed = {name for name, case in found.items() if case.find("failure") is not None}
    assert failed == {
        "policy:prune",  # the extra folder, and the delete-threshold refusal about it
        "folder:/drift/archive",
        "folder:/drift/archive/2023",
        "folder-group:/drift#annotators",
        "group:annotators",
        "folder:/drift/cams",
        "links:cams",
        "rule:/drift/cams",
    }
    classnames = {name: case.attrib["classname"] for name, case in found.items()}
    assert classnames["folder:/drift/cams"] == "reconciler.folder"
    assert classnames["folder-group:/drift#annotators"] == "reconciler.folder-group"
    assert classnames["links:cams"] == "reconciler.links"
    assert classnames["rule:/drift/cams"] == "reconciler.rule"
    assert classnames["policy:prune"] == "reconciler.policy"


def test_a_failure_carries_file_line_kind_and_the_field_diff(tmp_path: Path) -> None:
    xml = render_junit(drifted(tmp_path))
    failure = cases(xml)["folder:/drift/cams"].find("failure")
    assert failure is not None
    assert failure.attrib["type"] == "drift.changed"
    assert failure.attrib["message"].startswith("main.yaml:10: folder:/drift/cams: ")
    assert 'description: "edited <by> \\"hand\\" & more" → "cameras"' in (failure.text or "")
    moved = cases(xml)["folder:/drift/archive"].find("failure")
    assert moved is not None and moved.attrib["type"] == "drift.moved"
    assert 'path: "/drift/archive-old" → "/drift/archive"' in (moved.text or "")
    access = cases(xml)["folder-group:/drift#annotators"].find("failure")
    assert access is not None and 'role: (absent) → "admin"' in (access.text or "")


def test_suites_follow_the_files_and_properties_give_each_object_its_line(
    tmp_path: Path,
) -> None:
    xml = render_junit(drifted(tmp_path), hostname="ci-runner")
    root = ET.fromstring(xml)
    suites = {s.attrib["name"]: s for s in root.iter("testsuite")}
    assert list(suites) == ["reconciler.yaml", "main.yaml"]
    main = suites["main.yaml"]
    assert main.attrib["timestamp"] == "2024-05-01T01:00:00"  # UTC, no zone (Ant schema)
    assert main.attrib["hostname"] == "ci-runner"
    assert int(main.attrib["tests"]) == len(main.findall("testcase"))
    failing = [c for c in main.findall("testcase") if c.find("failure") is not None]
    assert int(main.attrib["failures"]) == len(failing) == 7
    properties = {p.attrib["name"]: p.attrib["value"] for p in main.iter("property")}
    assert properties["source:folder:/drift/cams"] == "main.yaml:9"
    assert properties["source:rule:/drift/cams"] == "main.yaml:16"
    assert properties["target"] == "test-org"
    out = suites["reconciler.yaml"].find("system-out")
    assert out is not None and "folder:/drift/hand-made (under /drift)" in (out.text or "")
    assert "delete-threshold" in (out.text or "")


def test_characters_xml_cannot_carry_are_replaced_not_written(tmp_path: Path) -> None:
    xml = render_junit(drifted(tmp_path))
    assert "\x00" not in xml and "\x07" not in xml
    failure = cases(xml)["rule:/drift/cams"].find("failure")
    assert failure is not None
    # the value is shown JSON-escaped; the raw control characters never reach the XML
    assert '"test\\u0000\\u0007" → "train"' in (failure.text or "")


def test_ten_thousand_failures_in_one_check_stay_valid_and_bounded(tmp_path: Path) -> None:
    org = in_sync_org()
    for n in range(3, 10_003):
        org.item(f"/drift/cams/img-{n}.jpg", split="drifted", other=n)
    report = report_for(desired_from(tmp_path), org)
    assert len(report.drift) > 10_000  # metadata, and the links those items lack
    xml = render_junit(report)
    for name in SCHEMAS:
        xmlschema.XMLSchema(str(DATA / name)).validate(xml)
    failure = cases(xml)["rule:/drift/cams"].find("failure")
    assert failure is not None
    assert "… and 9000 more" in (failure.text or "")
    assert "(and 9999 more differences)" in failure.attrib["message"]
