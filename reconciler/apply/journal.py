"""The journal: what an apply has done, durable across crashes.

``.reconciler/journal/<plan checksum hex>.jsonl`` beside the config (or the plan file). One
JSON object per line, each written, flushed and fsynced before apply goes on:

    {"type": "start", "checksum": …, "target": …, "at": …, "resume": false,
     "pid": …, "host": …}                                          (whose run: ``owner.py``)
    {"type": "created", "address": "folder:/a", "uuid": …}       as soon as the API answers
    {"type": "sync", "address": "folder:/a", "job": …}            a cloud sync was started
    {"type": "intent", "phase": …, "steps": [{"key": …,             a bundle about to be sent
      "address": "folder:/b", "uuid": …}]}                          (may have happened, or not;
                                                                  "uuid": "" for a create)
    {"type": "bundle", "phase": …, "done": ["3:patch-items", …]}  an acknowledged bundle
    {"type": "finish", "ok": true, "at": …}                        ("superseded": true when
                                                                  a fresh plan took over)
    {"type": "upload-job", "address": "register:/a", "job": …,     a data-upload job was
     "folder": …, "rows": [[0, 1000]]}                             started for these rows
    {"type": "upload-done", "address": …, "job": …, "status": …,   it ended; these rows are
     "rows": [[0, 998]]}                                           registered

``apply PLANFILE --resume`` reads it back (``read_journal``): steps listed as done are skipped
and created ids are reused. ``apply PATH --resume`` (no saved plan) finds the stopped run
(``unfinished_journals``), closes it (``supersede``) and plans afresh from what is live now:
acknowledged work is no longer in the plan and created objects are found by their ids, so
nothing is done twice, without keeping a copy of a plan that may hold 100,000 changes.
A line torn by a crash (the last one, unterminated) is ignored; anything else unreadable is
a ``JournalError``. One apply at a time may hold a journal (an exclusive lock on the file).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from reconciler.apply.errors import JournalError
from reconciler.apply.owner import Owner, this_process

try:  # POSIX; elsewhere two concurrent applies of one plan are not detected.
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

JOURNAL_DIR = Path(".reconciler") / "journal"
_SYNCING = (":create-ahead", ":create-folders", ":sync")  # step keys end in their phase


def journal_dir(directory: Path, environment: str | None = None) -> Path:
    """The journals of runs under ``directory``: one folder per environment of the config
    (``environments:``), so that a run in one is never resumed or carried on in another."""
    return directory / JOURNAL_DIR if environment is None else directory / JOURNAL_DIR / environment


def journal_path(directory: Path, checksum: str, *, environment: str | None = None) -> Path:
    """Where the journal of the plan with ``checksum`` lives under ``directory``."""
    name = checksum.split(":", 1)[-1]
    if not name or any(c in name for c in "/\\."):
        raise JournalError(f"cannot name a journal after plan checksum {checksum!r}")
    return journal_dir(directory, environment) / f"{name}.jsonl"


@dataclass(slots=True)
class JournalState:
    """What a journal says happened. ``finished`` is True once a run got to the end."""

    path: Path
    checksum: str = ""
    target: str = ""
    done: set[str] = field(default_factory=set)
    created: dict[str, str] = field(default_factory=dict)
    sync_jobs: dict[str, str] = field(default_factory=dict)
    intents: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> (address, uuid)
    uploads: dict[str, UploadJobs] = field(default_factory=dict)  # register address -> its jobs
    finished: bool = False
    runs: int = 0
    owner: Owner | None = None  # the process of the last start, when the journal names it

    def in_flight(self) -> tuple[tuple[str, str], ...]:
        """``(uuid, address)`` of steps on live objects sent (or about to be) and never
        acknowledged: each may be done, half done (a move without its rename), or not begun,
        so the next plan must know the object by its UUID wherever it is now."""
        pending = {v for k, v in self.intents.items() if k not in self.done and v[0]}
        return tuple(sorted(pending))

    def unsynced(self) -> tuple[str, ...]:
        """Addresses of folders this run created, or was creating or syncing, whose cloud
        sync it never saw started: a cloud-synced folder among them may exist without its
        items, and its ``sync: on_create`` would never come again (the folder is not created
        a second time). A sync seen started runs on in the service, so it is not listed."""
        begun = set(self.created) | {
            address for key, (_, address) in self.intents.items() if key.endswith(_SYNCING)
        }
        return tuple(sorted(a for a in begun - set(self.sync_jobs) if a.startswith("folder:")))


Ranges = list[list[int]]  # [[start, stop), ...] of row numbers


@dataclass(slots=True)
class UploadJobs:
    """The data-upload jobs of one register change: those started and not seen ending (job
    -> its rows), and the rows registered by jobs that ended."""

    open: dict[str, Ranges] = field(default_factory=dict)
    registered: set[int] = field(default_factory=set)
    folders: dict[str, str] = field(default_factory=dict)  # job -> the folder it registers into


def to_ranges(rows: Iterable[int]) -> Ranges:
    """Row numbers as sorted half-open ranges (a job's rows are mostly one range)."""
    out: Ranges = []
    for n in sorted(set(rows)):
        if out and out[-1][1] == n:
            out[-1][1] = n + 1
        else:
            out.append([n, n + 1])
    return out


def from_ranges(ranges: Iterable[Iterable[int]]) -> list[int]:
    return [n for start, stop in ranges for n in range(int(start), int(stop))]


def read_journal(path: Path) -> JournalState:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise JournalError(f"cannot read journal {path}: {exc.strerror or exc}") from None
    state = JournalState(path=path)
    lines = text.split("\n")
    torn = lines.pop()  # "" when the file ends with a newline, else a line cut by a crash
    for number, line in enumerate(lines, start=1):
        if line.strip():
            _absorb(state, _parse(path, number, line))
    if torn.strip():
        with contextlib.suppress(JournalError):
            _absorb(state, _parse(path, len(lines) + 1, torn))
    return state


def _parse(path: Path, number: int, line: str) -> Mapping[str, Any]:
    try:
        record = json.loads(line)
    except ValueError:
        raise JournalError(
            f"{path}:{number}: journal line is not JSON; the journal is damaged, re-run plan "
            "and apply without --resume"
        ) from None
    if not isinstance(record, dict) or not isinstance(record.get("type"), str):
        raise JournalError(f"{path}:{number}: not a journal record")
    return record


def _absorb(state: JournalState, record: Mapping[str, Any]) -> None:
    kind = record["type"]
    if kind == "start":
        state.checksum = str(record.get("checksum", ""))
        state.target = str(record.get("target", ""))
        state.finished = False
        state.runs += 1
        pid = record.get("pid")
        state.owner = (
            Owner(pid=pid, host=str(record.get("host", "")), started=str(record.get("at", "")))
            if isinstance(pid, int)
            else None
        )
    elif kind == "created":
        state.created[str(record["address"])] = str(record["uuid"])
    elif kind == "sync":
        state.sync_jobs[str(record["address"])] = str(record["job"])
    elif kind == "bundle":
        state.done.update(str(k) for k in record.get("done", ()))
    elif kind == "intent":
        for step in record.get("steps", ()):
            state.intents[str(step["key"])] = (str(step["uuid"]), str(step["address"]))
    elif kind == "finish":
        state.finished = True
    elif kind in ("upload-job", "upload-done"):
        jobs = state.uploads.setdefault(str(record["address"]), UploadJobs())
        if kind == "upload-job":
            jobs.open[str(record["job"])] = list(record.get("rows", ()))
            jobs.folders[str(record["job"])] = str(record.get("folder", ""))
        else:
            jobs.open.pop(str(record["job"]), None)
            jobs.registered.update(from_ranges(record.get("rows", ())))


class Journal:
    """An open journal. Every ``record`` is on disk (fsynced) when it returns."""

    def __init__(self, path: Path, handle: IO[str]) -> None:
        self.path = path
        self._handle = handle

    @classmethod
    def open(cls, path: Path) -> Journal:
        """Open (creating it and its directory if needed) and lock for this process."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle = path.open("a", encoding="utf-8")
        except OSError as exc:
            raise JournalError(f"cannot write journal {path}: {exc.strerror or exc}") from None
        if fcntl is not None:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                handle.close()
                raise JournalError(
                    f"another apply of this plan is running (journal {path} is locked); "
                    "wait for it to finish"
                ) from None
        _fsync_dir(path.parent)
        return cls(path, handle)

    def record(self, record: Mapping[str, Any]) -> None:
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
        try:
            self._handle.write(line + "\n")
            self._handle.flush()
            os.fsync(self._handle.fileno())
        except OSError as exc:
            raise JournalError(f"cannot write journal {self.path}: {exc.strerror or exc}") from None

    def start(self, *, checksum: str, target: str, at: str, resume: bool) -> None:
        self.record(
            {
                "type": "start",
                "checksum": checksum,
                "target": target,
                "at": at,
                "resume": resume,
                **this_process(),
            }
        )

    def created(self, address: str, uuid: str) -> None:
        self.record({"type": "created", "address": address, "uuid": uuid})

    def sync_started(self, address: str, job: str) -> None:
        self.record({"type": "sync", "address": address, "job": job})

    def intent(self, phase: str, steps: Iterable[tuple[str, str, str]]) -> None:
        """Before a bundle is sent: ``(key, address, uuid)`` of its steps on live objects."""
        rows = [{"key": k, "address": a, "uuid": u} for k, a, u in steps]
        if rows:
            self.record({"type": "intent", "phase": phase, "steps": rows})

    def bundle(self, phase: str, done: Iterable[str]) -> None:
        self.record({"type": "bundle", "phase": phase, "done": sorted(done)})

    def upload_started(self, address: str, job: str, folder: str, rows: Iterable[int]) -> None:
        self.record(
            {
                "type": "upload-job",
                "address": address,
                "job": job,
                "folder": folder,
                "rows": to_ranges(rows),
            }
        )

    def upload_done(self, address: str, job: str, status: str, rows: Iterable[int]) -> None:
        self.record(
            {
                "type": "upload-done",
                "address": address,
                "job": job,
                "status": status,
                "rows": to_ranges(rows),
            }
        )

    def finish(self, *, ok: bool, at: str) -> None:
        self.record({"type": "finish", "ok": ok, "at": at})

    def close(self) -> None:
        self._handle.close()  # also releases the lock

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _fsync_dir(directory: Path) -> None:
    """Make the journal's directory entry durable too (a new file must survive a crash)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def unfinished_journals(directory: Path, *, environment: str | None = None) -> list[JournalState]:
    """Runs under ``directory`` that stopped before the end (killed, interrupted), newest
    first. Unreadable journals are left out: a damaged one cannot be resumed from anyway."""
    folder = journal_dir(directory, environment)
    if not folder.is_dir():
        return []
    found: list[tuple[float, JournalState]] = []
    for path in folder.glob("*.jsonl"):
        try:
            state = read_journal(path)
            stamp = path.stat().st_mtime
        except (JournalError, OSError):
            continue
        if not state.finished:
            found.append((stamp, state))
    return [state for _, state in sorted(found, key=lambda pair: pair[0], reverse=True)]


def in_flight(stopped: Iterable[JournalState]) -> tuple[tuple[str, str], ...]:
    """Every unacknowledged ``(uuid, address)`` of these stopped runs (``DiffOptions``)."""
    return tuple(sorted({step for state in stopped for step in state.in_flight()}))


def unsynced(stopped: Iterable[JournalState]) -> tuple[str, ...]:
    """Every folder address these stopped runs may have left unsynced (``DiffOptions``)."""
    return tuple(sorted({address for state in stopped for address in state.unsynced()}))


def supersede(state: JournalState, *, at: str) -> None:
    """Close a stopped run's journal: a fresh plan carries on from what it left."""
    with Journal.open(state.path) as journal:
        journal.record({"type": "finish", "ok": False, "superseded": True, "at": at})
