"""Counted nouns agree with their count in every rendering: "1 change", never "1 changes" or
"1 refusal(s)" (plan text, markdown and html; drift text, markdown, html and JUnit; apply's
summary; the read progress line)."""

from __future__ import annotations

from pathlib import Path

import pytest
from drift_data.kit import MINE, SETTINGS, desired_from, in_sync_org, report_for

from reconciler.apply import ApplyResult
from reconciler.apply.verify import Verification
from reconciler.cli.apply_summary import print_summary
from reconciler.cli.read_progress import describe
from reconciler.drift import render_junit
from reconciler.drift import render_markdown as drift_markdown
from reconciler.drift import render_text as drift_text
from reconciler.drift.render_html import verdict
from reconciler.live import ReadProgress
from reconciler.plan import Plan, diff, render_markdown, render_text
from reconciler.plan.render_html import render_html
from reconciler.words import plural

WRONG = ("1 changes", "1 refusals", "(s)", "1 objects", "1 items", "1 declared objects")


def test_plural() -> None:
    assert [plural(n, "change") for n in (0, 1, 2)] == ["0 changes", "1 change", "2 changes"]
    assert plural(1, "object differs", "objects differ") == "1 object differs"
    assert plural(12345, "item", thousands=True) == "12,345 items"


def one_change_one_refusal(tmp_path: Path) -> Plan:
    """/drift/cams edited by hand (1 change); a leftover of ours under policy.protect (1
    refusal, withheld)."""
    settings = SETTINGS.replace(
        "policy: {prune: owned}", 'policy: {prune: owned, protect: ["/drift/leftover/**"]}'
    )
    org = in_sync_org().folder("/drift/leftover", "", **MINE)
    org.folder("/drift/cams", "edited by hand", **MINE)
    desired = desired_from(tmp_path, settings=settings)
    return diff(desired, org.state())


def test_plan_renderings_count_one_right(tmp_path: Path) -> None:
    plan = one_change_one_refusal(tmp_path)
    assert (len(plan.changes), len(plan.refusals)) == (1, 1)
    markdown = render_markdown(plan)
    assert "**1 refusal**" in markdown
    html = render_html(plan)
    assert "Refused: 1 refusal below" in html
    for text in (render_text(plan), markdown, html):
        assert not [w for w in WRONG if w in text]


def test_drift_renderings_count_one_right(tmp_path: Path) -> None:
    org = in_sync_org().folder("/drift/cams", "edited by hand", **MINE)
    report = report_for(desired_from(tmp_path), org)
    assert len(report.drift) == 1
    assert drift_text(report).splitlines()[-1] == "Drift: 1 object differs (1 changed)."
    checks = len(report.checks)
    assert verdict(report)["text"] == (
        f"Drift: 1 object differs; 1 of {checks} declared objects fails."  # one of them fails
    )
    assert f"> **1 drifted** (1 changed); 1 of {checks} declared objects fails." in (
        drift_markdown(report)
    )
    for text in (drift_text(report), drift_markdown(report), render_junit(report)):
        assert not [w for w in WRONG if w in text]


def test_apply_summary_counts_one_right(capsys: pytest.CaptureFixture[str]) -> None:
    result = ApplyResult(
        applied=1,
        failures=(),
        already_done=1,
        verification=Verification(remaining=("~ folder:/a",)),
        requests=1,
        seconds=0.5,
    )
    print_summary(result)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == (
        "Apply finished with problems: 1 change applied, 0 failed (1 step done by an earlier "
        "run); 1 request in 0.5 s."
    )
    assert lines[1] == "Did not converge: a fresh plan still wants 1 change:"


def test_the_read_progress_line_counts_one_right() -> None:
    line = describe(ReadProgress(pages=1, folders=1, items=1, in_flight=1))
    assert line == "reading: 1 page, 1 folder, 1 item; 1 request in flight"
    many = describe(ReadProgress(pages=2, folders=1500, items=0, in_flight=3))
    assert many == "reading: 2 pages, 1,500 folders, 0 items; 3 requests in flight"
