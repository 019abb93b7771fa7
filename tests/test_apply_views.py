"""One view per output format for apply: text for people, JSON lines (stdout only JSON)."""

from __future__ import annotations

import io
import json

import pytest
from helpers.desired import desired_state, folder

from reconciler.apply import ApplyFinished, ApplyResult, Verification
from reconciler.apply.errors import LockHeldError
from reconciler.cli.apply_views import ApplyView, JsonLinesView, TextView
from reconciler.model.live import Caller, LiveState
from reconciler.plan import Plan, diff
from reconciler.plan.render_text import render_text

CALLER = Caller(email="ci@example.com", role="ADMIN", admin=True)
RESULT = ApplyResult(
    applied=1, failures=(), already_done=0, verification=Verification(), requests=3, seconds=0.5
)
ERROR = LockHeldError("the apply lock of team is held by run r1; wait, or pass --force-unlock r1")


def _plan() -> Plan:
    return diff(desired_state(folders={"/team": folder("/team")}), LiveState())


def _run(view: ApplyView, plan: Plan) -> None:
    """One of each thing an apply tells its view: the plan, the caller, a note, the follow-up
    plan, the end of the run and the summary."""
    view.plan(plan)
    view.caller(CALLER)
    view.note("Carrying on from a run that stopped (x.jsonl)")
    view.follow_up(plan)
    view(ApplyFinished(ok=True, applied=1, failed=0, already_done=0, requests=3, seconds=0.5))
    view.close()
    view.summary(RESULT)


def test_the_text_view_prints_what_people_read_on_stdout(
    capsys: pytest.CaptureFixture[str],
) -> None:
    plan = _plan()
    view = TextView(detail="full")
    _run(view, plan)
    out, err = capsys.readouterr()
    assert out.startswith(render_text(plan, detail="full"))
    assert "Applying as: ci@example.com (ADMIN)\n" in out
    assert "Carrying on from a run that stopped (x.jsonl)\n" in out
    assert "Planned after the cloud syncs and registrations, for the items they brought:\n" in out
    assert "Apply complete: 1 change applied, 0 failed; 3 requests in 0.5 s.\n" in out
    assert "Verified: a fresh plan is empty.\n" in out
    assert '"event"' not in out and err == ""  # no JSON, no progress without a terminal
    view.error(ERROR)
    out, err = capsys.readouterr()
    assert out == "" and err == f"Error: {ERROR}\n"


def test_the_json_lines_view_keeps_stdout_pure_json(capsys: pytest.CaptureFixture[str]) -> None:
    plan = _plan()
    stream = io.StringIO()
    view = JsonLinesView(stream)
    _run(view, plan)
    view.error(ERROR)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["event"] for line in lines] == [
        "plan", "caller", "plan", "apply_finished", "error",
    ]  # fmt: skip
    assert lines[0]["plan"]["checksum"] == plan.checksum and "after_sync" not in lines[0]
    assert lines[1]["caller"]["email"] == "ci@example.com"
    assert lines[2]["after_sync"] is True
    assert lines[4] == {"event": "error", "messages": [str(ERROR)]}
    out, err = capsys.readouterr()
    assert out == ""  # the note, the summary and the error line stay off stdout
    assert err == f"Carrying on from a run that stopped (x.jsonl)\nError: {ERROR}\n"


@pytest.mark.parametrize("view", [TextView(), JsonLinesView(io.StringIO())])
def test_end_of_input_at_the_prompt_is_no(
    view: TextView | JsonLinesView, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert view.confirm("Apply these changes?") is False
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))
    assert view.confirm("Apply these changes?") is True


def test_the_apply_command_never_tests_the_format() -> None:
    """Only ``view_for`` reads ``--format``: no comparison with a format name, no isinstance
    of a view, in the command or its helpers."""
    import ast
    from pathlib import Path

    import reconciler.cli

    cli_dir = Path(reconciler.cli.__file__).parent
    tests = []
    for name in ("apply.py", "follow_up.py", "apply_lock.py", "interrupts.py"):
        tree = ast.parse((cli_dir / name).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Compare) and any(
                isinstance(c, ast.Constant) and c.value in ("json", "text")
                for c in (node.left, *node.comparators)
            ):
                tests.append(f"{name}:{node.lineno}")
            if isinstance(node, ast.Name) and node.id in ("JsonLinesView", "TextView"):
                tests.append(f"{name}:{node.lineno}")
    assert tests == []
