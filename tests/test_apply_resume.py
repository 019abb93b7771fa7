"""The resume policy (``apply/resume.py``): which stopped runs apply carries on from, when it
resumes a journal step by step, and every case it refuses, each in one line."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from reconciler.apply.errors import JournalError
from reconciler.apply.journal import Journal, journal_path, read_journal
from reconciler.apply.resume import (
    carry_on,
    done_indices,
    open_journal,
    planned_after,
    recorded_run,
    resumes,
    stopped_runs,
)

PLAN = "sha256:" + "ab" * 32
OTHER = "sha256:" + "cd" * 32


def _run(directory: Path, checksum: str, *, done: tuple[str, ...] = (), finished: bool = False,
         host: str | None = None) -> Path:  # fmt: skip
    """A journal of a run of ``checksum``; ``host``: started by a process on another machine
    (alive while the journal is fresh); otherwise by this process, which is not "running"."""
    path = journal_path(directory, checksum)
    with Journal.open(path) as journal:
        if host is None:
            journal.start(checksum=checksum, target="sandbox:x", at="t0", resume=False)
        else:
            journal.record({"type": "start", "checksum": checksum, "target": "sandbox:x",
                            "at": "t0", "resume": False, "pid": 1, "host": host})  # fmt: skip
        journal.created("folder:/a", "uuid-a")
        if done:
            journal.bundle("patch-items", done)
        if finished:
            journal.finish(ok=True, at="t1")
    return path


def test_stopped_runs_are_the_unfinished_ones(tmp_path: Path) -> None:
    assert stopped_runs(tmp_path, resume=False) == []
    _run(tmp_path, OTHER, finished=True)
    assert stopped_runs(tmp_path, resume=False) == []
    stopped = _run(tmp_path, PLAN, done=("1:patch-items",))
    assert [s.path for s in stopped_runs(tmp_path, resume=True)] == [stopped]


def test_resume_without_a_stopped_run_is_refused(tmp_path: Path) -> None:
    _run(tmp_path, PLAN, finished=True)
    with pytest.raises(JournalError, match=r"^nothing to resume in .*without --resume$"):
        stopped_runs(tmp_path, resume=True)


def test_a_run_still_going_elsewhere_is_waited_for_not_resumed(tmp_path: Path) -> None:
    _run(tmp_path, PLAN, host="another-machine.example")
    with pytest.raises(JournalError, match="another apply of this config is still running"):
        stopped_runs(tmp_path, resume=False)


def test_a_fresh_plan_supersedes_other_runs_and_resumes_its_own(tmp_path: Path) -> None:
    other = _run(tmp_path, OTHER, done=("1:patch-items", "2:patch-items"))
    own = _run(tmp_path, PLAN)
    said: list[str] = []
    exact = carry_on(stopped_runs(tmp_path, resume=False), PLAN, at="t2", say=said.append)
    assert exact is True
    assert said == [
        f"Carrying on from a run that stopped ({other.name}): 2 steps and 1 create were "
        "acknowledged; this plan holds what is left."
    ]
    assert read_journal(other).finished and not read_journal(own).finished
    assert resumes(saved=False, requested=False, exact=exact) is True
    assert stopped_runs(tmp_path, resume=False)[0].path == own


def test_a_saved_plan_resumes_only_when_asked() -> None:
    assert resumes(saved=True, requested=False, exact=True) is False
    assert resumes(saved=True, requested=True, exact=False) is True
    assert resumes(saved=False, requested=True, exact=False) is False  # a fresh plan


def test_the_journal_of_a_saved_plan_is_refused_in_each_wrong_state(tmp_path: Path) -> None:
    path = journal_path(tmp_path, PLAN)
    assert recorded_run(path, PLAN, resume=False) is None  # a fresh start
    with pytest.raises(JournalError, match=r"^nothing to resume: no journal for this plan"):
        recorded_run(path, PLAN, resume=True)
    _run(tmp_path, PLAN, done=("0:create-folders", "d3:patch-items"))
    with pytest.raises(JournalError, match="partly applied by a run that stopped"):
        recorded_run(path, PLAN, resume=False)
    with pytest.raises(JournalError, match=r"belongs to another plan \(sha256:abab"):
        recorded_run(path, OTHER, resume=True)
    recorded = recorded_run(path, PLAN, resume=True)
    assert recorded is not None and recorded.created == {"folder:/a": "uuid-a"}
    assert done_indices(path) == {0}  # deferred steps ("d3") are not the plan's changes
    with Journal.open(path) as journal:
        journal.finish(ok=True, at="t1")
    with pytest.raises(JournalError, match="already applied"):
        recorded_run(path, PLAN, resume=True)


def test_without_a_journal_nothing_can_be_resumed(tmp_path: Path) -> None:
    assert open_journal(None, PLAN, resume=False) == (None, None)
    with pytest.raises(JournalError, match="--resume needs a journal"):
        open_journal(None, PLAN, resume=True)
    assert done_indices(journal_path(tmp_path, PLAN)) == set()


def test_a_saved_plan_closes_the_stopped_runs_it_was_made_after(tmp_path: Path) -> None:
    """Its plan read them (their unsynced folders, their in-flight steps): left open, every
    later plan would carry on from them again."""
    before = _run(tmp_path, OTHER)
    os.utime(before, (1_000, 1_000))
    after = _run(tmp_path, PLAN)
    os.utime(after, (3_000, 3_000))
    made = datetime.fromtimestamp(2_000, UTC).isoformat(timespec="seconds")
    assert [s.path for s in planned_after(tmp_path, made)] == [before]
    assert planned_after(tmp_path, None) == []  # a plan that does not say when: close none
    assert planned_after(tmp_path, "not a time") == []
