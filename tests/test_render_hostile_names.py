"""Live names that try to forge output: every rendering of a plan and a drift report.

Whoever can name a folder or an item controls text that reaches a reviewer: the terminal, a
pull-request comment (markdown), a JUnit report, an HTML page, an error line. Each hostile
name below carries a marker and then a payload (``FORGEDn``) after a character that would
start a new line, a new table cell, end a code span or fence, or reorder the text. The rule
checked for every rendering: the payload never starts a line of its own, never lands in a
cell of its own, and no raw control or bidirectional character is left in the output.
"""

from __future__ import annotations

import io
import json
import logging
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from rich.console import Console

from reconciler.apply import ApplyResult, StepFailed
from reconciler.apply.executor import Failure
from reconciler.cli.apply_progress import Bars
from reconciler.cli.apply_summary import print_summary
from reconciler.cli.common import CommandError, echo_error
from reconciler.cli.logsetup import OneLineFormatter
from reconciler.config import load_config
from reconciler.drift.audit import audit
from reconciler.drift.document import dumps as drift_json
from reconciler.drift.model import DriftReport
from reconciler.drift.render_html import render_html as drift_html
from reconciler.drift.render_junit import render_junit
from reconciler.drift.render_markdown import render_markdown as drift_markdown
from reconciler.drift.render_text import render_text as drift_text
from reconciler.model.desired import OWNER_KEY, DesiredState
from reconciler.model.live import LiveFolder, LiveItem, LiveState
from reconciler.plan import Plan, diff
from reconciler.plan.planfile import dumps as plan_json
from reconciler.plan.render_html import render_html as plan_html
from reconciler.plan.render_markdown import render_markdown as plan_markdown
from reconciler.plan.render_text import render_text as plan_text

# marker, hostile character(s), payload: the payload must stay on the marker's line and cell
HOSTILE = (
    ("nl", "\n- folder:/team/", "FORGED1"),
    ("cr", "\r", "FORGED2"),
    ("nul", "\x00", "FORGED3"),
    ("rlo", "\u202e", "FORGED4"),
    ("lri", "\u2066", "FORGED5"),
    ("pipe", " | ", "FORGED6"),
    ("tick", "`", "FORGED7"),
    ("fence", "\n```\n\n# ", "FORGED8"),
    ("para", "\n\n</code></summary>\n\n# ", "FORGED9"),
)
NAMES = tuple(f"{m}{h}{p}" for m, h, p in HOSTILE)
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069]")
SETTINGS = "version: 1\ntarget: {encord: {domain: https://api.encord.com}}\nownership: {id: acme}\n"
RESOURCES = """\
folders:
  /team:
    description: Team space
  /team/raw: {}
items:
  - folder: /team/raw
    metadata: {split: train}
"""


def _desired(tmp_path: Path) -> DesiredState:
    (tmp_path / "reconciler.yaml").write_text(SETTINGS)
    (tmp_path / "resources.yaml").write_text(RESOURCES)
    return load_config(tmp_path)


def _live(*, complete: bool) -> LiveState:
    folders = {
        "f-team": LiveFolder(uuid="f-team", parent=None, name="team", path="/team"),
        "f-raw": LiveFolder(uuid="f-raw", parent="f-team", name="raw", path="/team/raw"),
    }
    items = {}
    for n, name in enumerate(NAMES):
        owned = LiveFolder(
            uuid=f"f-own-{n}", parent="f-team", name=name, path=f"/team/{name}",
            metadata={OWNER_KEY: "acme"},
        )  # fmt: skip
        theirs = LiveFolder(
            uuid=f"f-their-{n}", parent="f-team", name=f"u-{name}", path=f"/team/u-{name}"
        )
        folders[owned.uuid], folders[theirs.uuid] = owned, theirs
        items[f"i{n}"] = LiveItem(
            uuid=f"i{n}", parent="f-raw", folder_path="/team/raw", name=name,
            item_type="IMAGE", metadata={"split": "val", name: 1},
        )  # fmt: skip
    problems = () if complete else tuple(f"items under /team/{n}: forbidden" for n in NAMES)
    return LiveState(
        target="https://api.encord.com",
        scope=("/team",),
        folders=folders,
        paths={f.path: uuid for uuid, f in folders.items()},
        items=items,
        listing_counts={"/team": len(folders) + len(items)},
        complete=complete,
        problems=problems,
    )


def _cases(tmp_path: Path) -> list[tuple[Plan, DriftReport]]:
    desired = _desired(tmp_path)
    out = []
    for complete in (True, False):
        live = _live(complete=complete)
        plan = diff(desired, live)
        out.append((plan, audit(plan, desired, live)))
    return out


def _strings(value: object) -> list[str]:
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in [k, *_strings(v)]]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) else []


def _check_lines(name: str, text: str) -> None:
    """Each payload sits on a line that also holds its marker (shortly before it)."""
    bad = UNSAFE.findall(text)
    assert not bad, (name, sorted(set(bad)))
    for marker, _, payload in HOSTILE:
        for line in text.splitlines():
            if payload in line:
                assert re.search(f"{marker}.{{1,120}}{payload}", line), (name, line)


def _check_markdown(name: str, text: str) -> None:
    """Parsed as GitHub would: no payload in a heading, a table cell or text of its own."""
    _check_lines(name, text)
    page = MarkdownIt("commonmark").enable("table").render(text)
    for _, _, payload in HOSTILE:
        for heading in re.findall(r"<h\d>(.*?)</h\d>", page, re.S):
            assert payload not in heading, (name, heading)
        for cell in re.findall(r"<t[dh]>(.*?)</t[dh]>", page, re.S):
            assert not cell.strip().removeprefix("<code>").startswith(payload), (name, cell)
    for row in re.findall(r"<tr>(.*?)</tr>", page, re.S):
        assert len(re.findall("<t[dh]>", row)) == 2, (name, row)


def test_every_rendering_keeps_hostile_names_on_their_line(tmp_path: Path) -> None:
    for plan, report in _cases(tmp_path):
        assert plan.changes or plan.refusals  # the names reach the plan
        for detail in ("grouped", "full"):
            _check_lines("plan text", plan_text(plan, detail=detail))
        _check_markdown("plan markdown", plan_markdown(plan))
        _check_lines("drift text", drift_text(report))
        _check_markdown("drift markdown", drift_markdown(report))
        junit = render_junit(report)
        _check_lines("junit", junit)
        ET.fromstring(junit)  # well-formed: no NUL or other character XML cannot hold
        for page in (plan_html(plan), drift_html(report)):
            _check_lines("html", page)
        for document in (plan_json(plan), drift_json(report)):
            assert any(NAMES[0] in s for s in _strings(json.loads(document)))  # exact


def test_errors_progress_and_the_apply_summary_keep_hostile_names_on_their_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    failures = tuple(
        Failure(address=f"folder:/team/{n}", phase="folders", message=n) for n in NAMES
    )
    result = ApplyResult(
        applied=0, failures=failures, already_done=0, verification=None, requests=1,
        seconds=0.0, notes=NAMES,
    )  # fmt: skip
    print_summary(result)
    echo_error(CommandError(*(f"folder /team/{n} no longer exists" for n in NAMES)))
    echo_error(CommandError(f"folder /team/{NAMES[0]} no longer exists"))
    out, err = capsys.readouterr()
    _check_lines("summary", out)
    _check_lines("errors", err)
    assert len(err.splitlines()) == len(NAMES) + 1

    stream = io.StringIO()
    bars = Bars(Console(file=stream, force_terminal=True, width=400, color_system=None))
    for name in NAMES:
        bars(
            StepFailed(phase="folders", address=f"folder:/team/{name}[bold]x[/bold]", message=name)
        )
    bars.close()
    drawn = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", stream.getvalue()).replace("\r", "")
    _check_lines("progress", drawn)  # less the bars' own cursor moves
    assert "cr⟨U+000D⟩FORGED2" in drawn
    assert stream.getvalue().count("[bold]x[/bold]") == len(NAMES)  # markup shown, not run


def test_log_lines_keep_hostile_names_on_their_line() -> None:
    formatter = OneLineFormatter("%(levelname)s %(name)s: %(message)s")
    for name in NAMES:
        record = logging.LogRecord(
            "reconciler.live.tree", logging.WARNING, __file__, 1,
            "live read incomplete: %s", (f"items under /team/{name}: forbidden",), None,
        )  # fmt: skip
        line = formatter.format(record)
        _check_lines("log", line)
        assert "\n" not in line
