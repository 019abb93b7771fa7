"""A server restart in the middle of ``reconciler apply``: the run rides it out and converges
in one go, with nothing lost and nothing made twice.

The server (``reconciler sandbox serve``) is stopped as soon as the apply's journal shows its
first created folder, and started again on the SAME port and database 3 s later, which is
what a deploy looks like to a client holding the URL. Every phase after that (creates,
patches, a move, item metadata, group members, grants, links, unlinks, deletes) first meets a
refused connection. A retry budget counted in attempts gave up within 2-12 s of such a
restart; run with ``RECONCILER_RETRY_SECONDS=1`` this test fails.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import SandboxServer, flags, run_cli, running_sandbox, write_config

pytestmark = [pytest.mark.slow]

ITEMS = 2000
SPARE = 100  # linked first, unlinked by the run that meets the restart
SETTINGS = (
    "version: 1\ntarget: {sandbox: {path: .reconciler/unused.sqlite}}\nownership: {id: restart}\n"
)
MEMBERS = ["ann@example.com", "bob@example.com", "cid@example.com"]
BEFORE = f"""\
folders:
  /data: {{description: v1}}
  /data/folder-00000: {{}}
  /data/folder-00001: {{}}
  /data/p-0: {{description: v1}}
  /data/p-1: {{description: v1}}
  /data/p-2: {{description: v1}}
  /data/old-0: {{}}
  /data/old-1: {{}}
  /data/old-2: {{}}
  /data/mv: {{description: moving}}
  /spare: {{}}
groups:
  crew: {{description: v1, members: [{MEMBERS[0]}]}}
datasets:
  ds:
    items: [{{folder: /data/folder-00000}}, {{folder: /spare, recursive: true}}]
"""
AFTER = f"""\
folders:
  /data: {{description: v2, groups: {{crew: user}}}}
  /data/folder-00000: {{}}
  /data/folder-00001: {{}}
  /data/p-0: {{description: v2}}
  /data/p-1: {{description: v2}}
  /data/p-2: {{description: v2}}
  /data/new-0: {{}}
  /data/new-1: {{}}
  /data/new-2: {{}}
  /data/moved: {{}}
  /data/moved/mv: {{description: moving, previously: [/data/mv]}}
  /spare: {{}}  # in scope, so that its links are seen and unlinked
groups:
  crew: {{description: v2, members: [{", ".join(MEMBERS)}]}}
items:
  - {{folder: /data, recursive: true, metadata: {{stage: restarted}}}}
datasets:
  ds:
    items: [{{folder: /data/folder-00000}}, {{folder: /data/folder-00001}}]
"""


def prepared(tmp_path: Path) -> None:
    """ITEMS items in two folders under /data, SPARE under /spare, three users for a group."""
    db = tmp_path / "sandbox.sqlite"
    made = run_cli("sandbox", "init", "--db", str(db), "--key-out", str(tmp_path / "admin.key"))
    assert made.returncode == 0, made.stderr
    for email in MEMBERS:
        added = run_cli("sandbox", "add-user", "--db", str(db), "--email", email,
                        "--key-out", str(tmp_path / f"{email}.key"))  # fmt: skip
        assert added.returncode == 0, added.stderr
    for under, folders, items in (("/data", 2, ITEMS), ("/spare", 1, SPARE)):
        seeded = run_cli("sandbox", "seed", "--db", str(db), "--under", under,
                         "--folders", str(folders), "--items", str(items))  # fmt: skip
        assert seeded.returncode == 0, seeded.stderr


def apply_restarting_the_server(config: Path, server: SandboxServer) -> tuple[int, str]:
    """Run apply; restart the server (3 s down) once the journal shows a created folder."""
    command = [sys.executable, "-m", "reconciler", "apply", str(config), "--auto-approve",
               *flags(server)]  # fmt: skip
    server.set_faults(latency_ms=50)  # room between the first create and the last delete
    journal_dir = config / ".reconciler" / "journal"
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as apply:
        deadline = time.monotonic() + 120
        while apply.poll() is None and time.monotonic() < deadline:
            journals = list(journal_dir.glob("*.jsonl")) if journal_dir.is_dir() else []
            if journals and '"type":"created"' in journals[0].read_text():
                break
            time.sleep(0.01)
        assert apply.poll() is None, "apply finished before the server could be restarted"
        assert '"type":"finish"' not in journals[0].read_text()
        server.restart(pause=3.0)  # the new process starts without latency and with fresh stats
        output, _ = apply.communicate(timeout=300)
    return apply.returncode, output


def folder_paths(db: sqlite3.Connection) -> dict[int, str]:
    """Every folder's path by id, read straight from the database (not through the API)."""
    rows: dict[int, tuple[int | None, str]] = {id_: (parent, name) for id_, parent, name in db.execute(
        "SELECT id, parent_id, name FROM folders")}  # fmt: skip

    def path(id_: int) -> str:
        parent, name = rows[id_]
        return (path(parent) if parent is not None else "") + "/" + name

    return {id_: path(id_) for id_ in rows}


def test_a_server_restart_mid_apply_converges_in_one_run(tmp_path: Path) -> None:
    prepared(tmp_path)
    with running_sandbox(tmp_path, init=False) as server:
        first = run_cli("apply", str(write_config(tmp_path / "before", BEFORE, SETTINGS)), "--auto-approve",
                        *flags(server))  # fmt: skip
        assert first.returncode == 0, first.stdout + first.stderr
        config = write_config(tmp_path / "after", AFTER, SETTINGS)
        code, output = apply_restarting_the_server(config, server)
        assert code == 0, output[-3000:]
        assert "Verified: a fresh plan is empty" in output
        after_restart = server.stats()["total"]
        assert 0 < after_restart < 300  # the rest of the run, not a retry storm
        with sqlite3.connect(f"file:{server.db_path}?mode=ro", uri=True) as db:
            paths = folder_paths(db)
            items = list(db.execute("SELECT folder_id, client_metadata FROM items"))
            groups = [row[0] for row in db.execute("SELECT name FROM groups")]
            members = {row[0] for row in db.execute(
                "SELECT email FROM users JOIN group_members ON user_id = users.id")}  # fmt: skip
            links = db.execute("SELECT COUNT(*), COUNT(DISTINCT item_id) FROM data_rows").fetchone()
        assert sorted(p for p in paths.values() if p.startswith("/data")) == sorted(
            ["/data", "/data/folder-00000", "/data/folder-00001", "/data/moved", "/data/moved/mv"]
            + [f"/data/{name}-{n}" for name in ("p", "new") for n in range(3)]
        )  # nothing lost, nothing made twice, the deletes done
        metadata = [m for folder, m in items if paths[folder].startswith("/data/")]
        assert len(metadata) == ITEMS and all('"restarted"' in (m or "") for m in metadata)
        assert groups == ["crew"] and members - {"admin@sandbox.local"} == set(MEMBERS)
        assert tuple(links) == (ITEMS, ITEMS)  # /data linked once each, /spare unlinked
        plan = run_cli("plan", str(config), "--detailed-exitcode", *flags(server))
        assert plan.returncode == 0, plan.stdout + plan.stderr
