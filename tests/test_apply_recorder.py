"""The recorder: the one place apply journals and emits, the journal always first."""

from __future__ import annotations

import ast
from pathlib import Path

import reconciler.apply
from reconciler.apply import BundleDone, Event, SyncStarted, steps_of
from reconciler.apply.journal import Journal, journal_path, read_journal
from reconciler.apply.recorder import Recorder
from reconciler.model import addresses as addr
from reconciler.plan import Action, Change

APPLY = Path(reconciler.apply.__file__).parent
CHECKSUM = "sha256:" + "ab" * 32
JOURNAL_WRITES = {"start", "finish", "intent", "bundle", "created", "sync_started", "record"}


def test_every_fact_is_journaled_before_it_is_announced(tmp_path: Path) -> None:
    path = journal_path(tmp_path, CHECKSUM)
    seen: list[tuple[Event, set[str], dict[str, str]]] = []

    def emit(event: Event) -> None:  # what a printer could show, against what is on disk
        state = read_journal(path)
        seen.append((event, state.done, state.sync_jobs))

    recorder = Recorder(Journal.open(path), emit)
    recorder.open(checksum=CHECKSUM, target="sandbox:x", at="t0", resume=False)
    change = Change(address="folder:/a", kind=addr.kind_of("folder:/a"), actions=(Action.PATCH,))
    steps = steps_of((change,))
    recorder.acknowledged(str(steps[0].phase), steps, [])
    recorder.sync_started("folder:/a", "job-1")
    recorder.phases_done(ok=True, at="t1")
    recorder.close()
    (done_event, done_on_disk, _), (sync_event, _, jobs_on_disk) = seen
    assert isinstance(done_event, BundleDone) and done_event.addresses == ("folder:/a",)
    assert done_on_disk == {steps[0].key}
    assert isinstance(sync_event, SyncStarted) and jobs_on_disk == {"folder:/a": "job-1"}
    assert read_journal(path).finished


def test_without_a_journal_the_recorder_only_announces() -> None:
    events: list[Event] = []
    recorder = Recorder(None, events.append)
    recorder.open(checksum=CHECKSUM, target="sandbox:x", at="t0", resume=False)
    recorder.created("folder:/a", "uuid-a")
    recorder.sync_started("folder:/a", "job-1")
    recorder.phases_done(ok=True, at="t1")
    recorder.close()
    assert events == [SyncStarted(address="folder:/a", job="job-1")]


def _calls(path: Path) -> list[tuple[str, str]]:
    """``(receiver, method)`` of every call of the form ``x.method(...)`` in ``path``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            receiver = ast.unparse(node.func.value)
            found.append((receiver, node.func.attr))
    return found


def test_only_the_recorder_writes_the_journal_or_emits() -> None:
    offenders = []
    for path in sorted(APPLY.glob("*.py")):
        if path.name in ("recorder.py", "journal.py"):
            continue
        for receiver, method in _calls(path):
            journal_write = "journal" in receiver.lower() and method in JOURNAL_WRITES
            emitting = method in ("emit", "_emit") or receiver.endswith("emit")
            if journal_write or emitting:
                offenders.append(f"{path.name}: {receiver}.{method}")
    assert offenders == []
