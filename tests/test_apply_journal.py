"""The journal: durable records of acknowledged work, read back for --resume."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.apply.errors import JournalError
from reconciler.apply.journal import Journal, journal_path, read_journal, unsynced

CHECKSUM = "sha256:" + "ab" * 32


def test_journal_lives_under_dot_reconciler_named_by_checksum(tmp_path: Path) -> None:
    path = journal_path(tmp_path, CHECKSUM)
    assert path == tmp_path / ".reconciler" / "journal" / ("ab" * 32 + ".jsonl")
    with pytest.raises(JournalError):
        journal_path(tmp_path, "sha256:../../etc")


def test_records_read_back(tmp_path: Path) -> None:
    path = journal_path(tmp_path, CHECKSUM)
    with Journal.open(path) as journal:
        journal.start(
            checksum=CHECKSUM, target="sandbox:/x", at="2026-01-01T00:00:00", resume=False
        )
        journal.created("folder:/a", "uuid-a")
        journal.bundle("create-folders", ["3:create-folders"])
        journal.sync_started("folder:/a", "job-1")
        journal.bundle("patch-items", ["5:patch-items", "4:patch-items"])
    state = read_journal(path)
    assert state.checksum == CHECKSUM
    assert state.target == "sandbox:/x"
    assert state.created == {"folder:/a": "uuid-a"}
    assert state.sync_jobs == {"folder:/a": "job-1"}
    assert state.done == {"3:create-folders", "4:patch-items", "5:patch-items"}
    assert not state.finished and state.runs == 1
    with Journal.open(path) as journal:
        journal.start(checksum=CHECKSUM, target="sandbox:/x", at="2026-01-01T00:01:00", resume=True)
        journal.finish(ok=True, at="2026-01-01T00:02:00")
    state = read_journal(path)
    assert state.finished and state.runs == 2
    assert state.done == {"3:create-folders", "4:patch-items", "5:patch-items"}


def test_a_line_torn_by_a_crash_is_ignored(tmp_path: Path) -> None:
    path = journal_path(tmp_path, CHECKSUM)
    with Journal.open(path) as journal:
        journal.start(checksum=CHECKSUM, target="t", at="now", resume=False)
        journal.bundle("patch-items", ["1:patch-items"])
    with path.open("a", encoding="utf-8") as handle:
        handle.write('{"type":"bundle","phase":"patch-items","done":["2:pat')
    state = read_journal(path)
    assert state.done == {"1:patch-items"}


def test_damage_in_the_middle_is_an_error_naming_the_line(tmp_path: Path) -> None:
    path = journal_path(tmp_path, CHECKSUM)
    path.parent.mkdir(parents=True)
    path.write_text('{"type":"start","checksum":"x"}\nnot json\n{"type":"finish"}\n')
    with pytest.raises(JournalError, match=r"\.jsonl:2: journal line is not JSON"):
        read_journal(path)


def test_one_apply_at_a_time(tmp_path: Path) -> None:
    path = journal_path(tmp_path, CHECKSUM)
    with Journal.open(path), pytest.raises(JournalError, match="another apply"):
        Journal.open(path)
    with Journal.open(path):  # released on close
        pass


def test_unwritable_directory_is_one_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(JournalError, match="cannot write journal"):
        Journal.open(blocker / "j.jsonl")


def test_folders_created_or_being_created_without_a_sync_seen_started_are_unsynced(
    tmp_path: Path,
) -> None:
    """A run killed after creating a folder (or while creating one, the answer lost) and
    before it saw that folder's sync started leaves it for the next plan to sync; a create's
    intent has no UUID yet and is no folder in flight."""
    path = journal_path(tmp_path, CHECKSUM)
    with Journal.open(path) as journal:
        journal.start(
            checksum=CHECKSUM, target="sandbox:/x", at="2026-01-01T00:00:00", resume=False
        )
        journal.intent("create-folders", [("1:create-folders", "folder:/a", ""),
                                          ("2:create-folders", "folder:/b", ""),
                                          ("3:create-folders", "folder:/c", "")])  # fmt: skip
        journal.created("folder:/a", "uuid-a")
        journal.created("folder:/b", "uuid-b")
        journal.created("group:g", "uuid-g")
        journal.bundle("create-folders", ["1:create-folders", "2:create-folders"])
        journal.sync_started("folder:/b", "job-1")
        journal.intent("sync", [("4:sync", "folder:/d", "uuid-d")])  # an earlier run's folder
    state = read_journal(path)
    assert state.unsynced() == ("folder:/a", "folder:/c", "folder:/d")
    assert unsynced([state]) == state.unsynced()
    assert state.in_flight() == (("uuid-d", "folder:/d"),)
