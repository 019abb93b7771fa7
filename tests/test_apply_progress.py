"""Apply progress: bars per phase on a terminal, JSON lines for automation."""

from __future__ import annotations

import io
import json

from rich.console import Console

from reconciler.apply import (
    ApplyFinished,
    BundleDone,
    PhaseFinished,
    PhaseStarted,
    RegisterProgress,
    RowFailed,
    StepFailed,
    VerifyFinished,
    VerifyStarted,
)
from reconciler.cli.apply_progress import Bars, Quiet
from reconciler.cli.apply_views import JsonLinesView, TextView, view_for

EVENTS = [
    PhaseStarted(phase="patch-items", steps=3, bundles=1),
    BundleDone(phase="patch-items", addresses=("item:/a/x.jpg", "item:/a/y.jpg")),
    StepFailed(
        phase="patch-items",
        address="item:/a/z.jpg",
        message="item /a/z.jpg changed since the plan: metadata differ; re-run plan",
        stale=True,
    ),
    PhaseFinished(phase="patch-items", done=2, failed=1),
    VerifyStarted(),
    VerifyFinished(converged=False, remaining=("~ item:/a/z.jpg",)),
    ApplyFinished(ok=False, applied=2, failed=1, already_done=0, requests=5, seconds=0.25),
]


def test_json_lines_are_one_parseable_object_per_event() -> None:
    out = io.StringIO()
    printer = JsonLinesView(out)
    for event in EVENTS:
        printer(event)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["event"] for line in lines] == [
        "phase_started",
        "bundle_done",
        "step_failed",
        "phase_finished",
        "verify_started",
        "verify_finished",
        "apply_finished",
    ]
    assert lines[1]["addresses"] == ["item:/a/x.jpg", "item:/a/y.jpg"]
    assert lines[2] == {
        "event": "step_failed",
        "phase": "patch-items",
        "address": "item:/a/z.jpg",
        "message": "item /a/z.jpg changed since the plan: metadata differ; re-run plan",
        "stale": True,
        "skipped": False,
    }
    assert lines[-1]["ok"] is False and lines[-1]["requests"] == 5


def test_bars_show_each_phase_and_print_failures_above() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=100, color_system=None)
    bars = Bars(console)
    for event in EVENTS:
        bars(event)
    bars.close()
    bars.close()  # closing twice is harmless
    text = out.getvalue()
    assert "patch-items" in text and "3/3" in text
    assert "! item:/a/z.jpg: item /a/z.jpg changed since the plan" in text
    assert "verify" in text


def test_without_a_terminal_there_is_no_progress() -> None:
    assert isinstance(view_for("json"), JsonLinesView)
    text = view_for("text")
    assert isinstance(text, TextView)
    assert isinstance(text._progress, Quiet)  # pytest captures stderr: not a terminal


def test_register_objects_get_a_bar_and_failed_objects_a_line_each() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=120, color_system=None)
    bars = Bars(console)
    events = [
        PhaseStarted(phase="register", steps=1, bundles=1),
        RegisterProgress(
            address="register:/b7", done=0, errors=0, pending=40, total=40, jobs_running=1
        ),
        RowFailed(
            phase="register",
            address="item:/b7/x.jpg",
            message="m.jsonl:3: s3://r/x.jpg: object s3://r/x.jpg does not exist in the bucket",
        ),
        RegisterProgress(
            address="register:/b7", done=39, errors=1, pending=0, total=40, jobs_running=0
        ),
        BundleDone(phase="register", addresses=("register:/b7",)),
    ]
    for event in events:
        bars(event)
    bars.close()
    text = out.getvalue()
    assert text.count("registering register:/b7") == 1
    assert "40/40" in text and "1/1" in text  # objects, and the phase's one change
    assert "! item:/b7/x.jpg: m.jsonl:3: s3://r/x.jpg: object" in text
    lines = io.StringIO()
    for event in events:
        JsonLinesView(lines)(event)
    kinds = [json.loads(line)["event"] for line in lines.getvalue().splitlines()]
    assert kinds.count("register_progress") == 2 and "row_failed" in kinds
