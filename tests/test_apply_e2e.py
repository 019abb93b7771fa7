"""``reconciler apply`` end to end over a loopback socket (``reconciler sandbox serve``), with
the official SDK as an independent client: moves keep identity, stale objects are refused,
a ``kill -9`` resumes, and faults do not stop convergence."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from uuid import UUID

import pytest
from encord.storage import StorageFolder
from encord.user_client import EncordUserClient
from helpers import SandboxServer, flags, run_cli, running_sandbox, sdk, write_config

pytestmark = [pytest.mark.slow, pytest.mark.sdk]

SETTINGS = """\
version: 1
target:
  sandbox:
    path: .reconciler/unused.sqlite
ownership: {id: e2e-tests}
"""


def apply(config: Path, server: SandboxServer, *extra: str) -> subprocess.CompletedProcess[str]:
    return run_cli("apply", str(config), "--auto-approve", *flags(server), *extra, timeout=300)


def assert_converged(config: Path, server: SandboxServer) -> None:
    again = apply(config, server)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "No changes." in again.stdout


def folder_by_path(uc: EncordUserClient, path: str) -> StorageFolder:
    parts = [p for p in path.split("/") if p]
    (current,) = [
        f
        for f in uc.find_storage_folders(search=parts[0])
        if f.name == parts[0] and f.parent_uuid is None
    ]
    for part in parts[1:]:
        (current,) = [f for f in current.list_subfolders() if f.name == part]
    return current


CAMS = """\
folders:
  {path}:
{previously}    description: cameras
datasets:
  cams-ds:
    items:
      - {{folder: {path}, recursive: true}}
"""


def test_a_moved_folder_keeps_its_uuid_items_and_links(tmp_path: Path) -> None:
    with running_sandbox(tmp_path, seeds=(("/cams", 6),)) as server:
        before = write_config(
            tmp_path / "before", CAMS.format(path="/cams", previously=""), SETTINGS
        )
        first = apply(before, server)
        assert first.returncode == 0, first.stdout + first.stderr
        uc = sdk(server)
        cams = folder_by_path(uc, "/cams")
        items = {i.uuid for i in cams.list_items()}
        assert len(items) == 6
        (listed,) = uc.get_datasets(title_eq="cams-ds")
        dataset = uc.get_dataset(listed["dataset"].dataset_hash)
        assert {UUID(str(r.backing_item_uuid)) for r in dataset.list_data_rows()} == items

        after = write_config(
            tmp_path / "after",
            CAMS.format(path="/archive/cams", previously="    previously: [/cams]\n"),
            SETTINGS,
        )
        moved = apply(after, server)
        assert moved.returncode == 0, moved.stdout + moved.stderr
        assert "→ folder:/archive/cams (from folder:/cams)" in moved.stdout
        assert "to delete" in moved.stdout and " 0 to delete" in moved.stdout
        again = uc.get_storage_folder(cams.uuid)
        archive = folder_by_path(uc, "/archive")
        assert again.parent_uuid == archive.uuid
        assert again.name == "cams" and again.description == "cameras"
        assert {i.uuid for i in again.list_items()} == items
        dataset = uc.get_dataset(listed["dataset"].dataset_hash)
        assert {UUID(str(r.backing_item_uuid)) for r in dataset.list_data_rows()} == items
        assert_converged(after, server)


RULES = """\
folders:
  /data:
    description: declared
items:
  - folder: /data
    metadata: {{stage: {stage}}}
"""


def test_a_saved_plan_refuses_what_changed_out_of_band_and_applies_the_rest(
    tmp_path: Path,
) -> None:
    with running_sandbox(tmp_path, seeds=(("/data", 5),)) as server:
        config = write_config(tmp_path / "config", RULES.format(stage="one"), SETTINGS)
        plan_file = tmp_path / "plan.json"
        made = run_cli("plan", str(config), "--out", str(plan_file), *flags(server))
        assert made.returncode == 0, made.stdout + made.stderr
        uc = sdk(server)
        data = folder_by_path(uc, "/data")
        by_name = {i.name: i for i in data.list_items()}
        by_name["item-0000003.jpg"].update(client_metadata={"stage": "manual"})
        by_name["item-0000001.jpg"].update(description="a note")  # a field the plan leaves be
        data.update(description="edited by hand")
        result = run_cli("apply", str(plan_file), "--auto-approve", *flags(server), timeout=300)
        assert result.returncode == 1
        assert (
            "! folder:/data [patch-folders]: folder /data changed since the plan: lastEditedAt "
        ) in result.stdout
        assert "description differ; re-run plan" in result.stdout
        assert (
            "! item:/data/item-0000003.jpg [patch-items]: item /data/item-0000003.jpg changed "
            "since the plan: lastEditedAt "
        ) in result.stdout
        assert "metadata differ; re-run plan" in result.stdout
        assert "Did not converge: a fresh plan still wants 2 changes:" in result.stdout
        fresh = {i.name: i for i in folder_by_path(uc, "/data").list_items()}
        assert fresh["item-0000003.jpg"].client_metadata == {"stage": "manual"}
        for name in (
            "item-0000000.jpg",
            "item-0000001.jpg",
            "item-0000002.jpg",
            "item-0000004.jpg",
        ):
            assert fresh[name].client_metadata == {"stage": "one"}
        assert folder_by_path(uc, "/data").description == "edited by hand"


def test_a_saved_plan_reads_again_only_what_its_recheck_did_not_see_as_planned(
    tmp_path: Path,
) -> None:
    """The re-check's read vouches for the changes it saw as the saved plan did (same
    fingerprint): their bundles are not read again. An item edited after the plan was made
    is read again, in its own bundle only, and refused; the estimate counts just that read."""
    rule = "items:\n  - folder: /data\n    metadata: {{stage: {stage}}}\n"
    bulk_reads, bulk_writes = (
        "POST /v2/public/storage/items/get-bulk",
        "PATCH /v2/public/storage/items/patch-bulk",
    )
    with running_sandbox(tmp_path, seeds=(("/data", 1500),)) as server:

        def planned(stage: str, name: str) -> Path:
            config = write_config(tmp_path / "config", rule.format(stage=stage), SETTINGS)
            plan_file = tmp_path / name
            made = run_cli("plan", str(config), "--out", str(plan_file), *flags(server))
            assert made.returncode == 0, made.stdout + made.stderr
            return plan_file

        def applied(plan_file: Path, code: int) -> tuple[str, dict[str, int]]:
            server.reset_stats()
            result = run_cli("apply", str(plan_file), "--auto-approve", *flags(server))
            assert result.returncode == code, result.stdout + result.stderr
            return result.stdout, server.stats()

        # nothing changed since the plan: 1,500 items in two patch-bulks, nothing read again
        first = planned("one", "first.json")
        out, counted = applied(first, 0)
        assert "Applying: 2 requests in 1 phase" in out
        assert counted.get(bulk_reads) is None and counted[bulk_writes] == 2

        # one item edited by hand since: its bundle alone is read again, and it is refused
        second = planned("two", "second.json")
        data = folder_by_path(sdk(server), "/data")
        edited = next(i for i in data.list_items() if i.name == "item-0000003.jpg")
        edited.update(client_metadata={"stage": "manual"})
        out, counted = applied(second, 1)
        assert "Applying: 3 requests in 1 phase" in out  # the one re-read counted
        assert counted[bulk_writes] == 2
        # the edited item's bundle before it is written, and verification reading the
        # item it did not write back (the 1,499 written were in patch-bulk's answers)
        assert counted[bulk_reads] == 2
        assert "item /data/item-0000003.jpg changed since the plan" in out
        assert "1499 changes applied, 1 failed" in out
        items = folder_by_path(sdk(server), "/data").list_items()
        stages = {i.name: i.client_metadata for i in items}
        assert stages.pop("item-0000003.jpg") == {"stage": "manual"}
        assert all(metadata == {"stage": "two"} for metadata in stages.values())

        # a saved plan whose changes someone else made meanwhile (the same rule, applied
        # from another checkout): the re-check's fresh plan makes none of them, so none is
        # vouched for; each bundle is read again, finds its items done, and writes nothing
        third = planned("three", "third.json")
        elsewhere = write_config(tmp_path / "elsewhere", rule.format(stage="three"), SETTINGS)
        assert apply(elsewhere, server).returncode == 0
        out, counted = applied(third, 0)
        assert "Applying: 4 requests in 1 phase" in out
        assert counted.get(bulk_writes) is None, out
        # two before the bundles would be written, two by verification reading them back
        # (no patch-bulk answered with them)
        assert counted[bulk_reads] == 4


def kill_partway(target: Path, server: SandboxServer, journal_dir: Path) -> Path:
    """Start ``apply TARGET`` slowly, ``kill -9`` it once a patch bundle is journaled."""
    command = [
        sys.executable, "-m", "reconciler", "apply", str(target), "--auto-approve",
        "--concurrency", "1", *flags(server),
    ]  # fmt: skip
    server.set_faults(latency_ms=150)
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and process.poll() is None:
            journals = list(journal_dir.glob("*.jsonl")) if journal_dir.is_dir() else []
            if journals and '"type":"bundle","phase":"patch-items"' in journals[0].read_text():
                break
            time.sleep(0.02)
        assert process.poll() is None, "apply finished before it could be killed"
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait(timeout=30)
        server.set_faults(latency_ms=0)
    assert process.returncode == -signal.SIGKILL
    (journal,) = journal_dir.glob("*.jsonl")
    return journal


def acknowledged(journal: Path, phase: str = "") -> int:
    """Steps the journal acknowledges (only those of ``phase`` when given)."""
    records = [json.loads(line) for line in journal.read_text().splitlines() if line.strip()]
    assert records[-1]["type"] != "finish"
    steps = [step for r in records if r["type"] == "bundle" for step in r["done"]]
    return sum(1 for step in steps if step.endswith(f":{phase}")) if phase else len(steps)


def assert_all_items(server: SandboxServer, count: int, metadata: dict[str, str]) -> None:
    items = list(folder_by_path(sdk(server), "/data").list_items())
    assert len(items) == count
    assert all(i.client_metadata == metadata for i in items)


def test_a_run_killed_partway_resumes_and_converges(tmp_path: Path) -> None:
    with running_sandbox(tmp_path, seeds=(("/data", 5000),)) as server:
        config = write_config(tmp_path / "config", RULES.format(stage="killed"), SETTINGS)
        journal = kill_partway(config, server, config / ".reconciler" / "journal")
        done_before = acknowledged(journal)
        items_done = acknowledged(journal, "patch-items")
        assert 0 < items_done < 5000
        resumed = apply(config, server, "--resume")
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
        assert f"Carrying on from a run that stopped ({journal.name}): {done_before} steps" in (
            resumed.stdout
        )
        left = int(resumed.stdout.split("Plan: 0 to create, ", 1)[1].split(" to change", 1)[0])
        # Acknowledged work is not done again. The kill lands on a journal event, so at most
        # the one bundle in flight then (--concurrency 1) was applied but not acknowledged.
        assert 5000 - items_done - 1000 <= left <= 5000 - items_done
        assert "Verified: a fresh plan is empty" in resumed.stdout
        assert '"superseded":true' in journal.read_text()
        assert_all_items(server, 5000, {"stage": "killed"})
        assert_converged(config, server)


def test_a_killed_saved_plan_resumes_step_by_step(tmp_path: Path) -> None:
    with running_sandbox(tmp_path, seeds=(("/data", 5000),)) as server:
        config = write_config(tmp_path / "config", RULES.format(stage="saved"), SETTINGS)
        plan_file = tmp_path / "plans" / "plan.json"
        plan_file.parent.mkdir()
        made = run_cli("plan", str(config), "--out", str(plan_file), *flags(server))
        assert made.returncode == 0, made.stdout + made.stderr
        journal = kill_partway(plan_file, server, plan_file.parent / ".reconciler" / "journal")
        done_before = acknowledged(journal)
        plain = run_cli("apply", str(plan_file), "--auto-approve", *flags(server))
        assert plain.returncode == 1
        assert "partly applied by a run that stopped" in plain.stderr
        resumed = run_cli("apply", str(plan_file), "--auto-approve", "--resume", *flags(server))
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
        assert f"({done_before} steps done by an earlier run)" in resumed.stdout
        assert "Verified: a fresh plan is empty" in resumed.stdout
        assert_all_items(server, 5000, {"stage": "saved"})
        assert_converged(config, server)


FAULTY = """\
folders:
  /data:
    description: under fire
    groups: {{crew: user}}
  /data/new-a: {{}}
  /data/new-b: {{}}
groups:
  crew: {{description: stormy}}
items:
  - folder: /data
    metadata: {{weather: storm}}
datasets:
  stormy:
    items:
      - {{folder: /data}}
"""


def test_apply_converges_under_5xx_and_429_storms(tmp_path: Path) -> None:
    with running_sandbox(tmp_path, seeds=(("/data", 2500),)) as server:
        config = write_config(tmp_path / "config", FAULTY.format(), SETTINGS)
        server.set_faults(
            error_rate=0.1, error_after_rate=0.05, storm_requests=10, storm_rate=0.05,
            storm_retry_after=1, seed=20260101,
        )  # fmt: skip
        result = run_cli("-v", "apply", str(config), "--auto-approve", *flags(server), timeout=300)
        server.set_faults(error_rate=0, error_after_rate=0, storm_requests=0, storm_rate=0)
        assert result.returncode == 0, result.stdout + result.stderr[-3000:]
        assert "Verified: a fresh plan is empty" in result.stdout
        statuses = [line.rsplit(" ", 2)[-2] for line in result.stderr.splitlines() if "ms" in line]
        assert statuses.count("429") >= 10  # the faults really happened
        assert sum(statuses.count(code) for code in ("500", "502", "503")) >= 5
        uc = sdk(server)
        items = list(folder_by_path(uc, "/data").list_items())
        assert len(items) == 2500 and all(i.client_metadata == {"weather": "storm"} for i in items)
        names = [f.name for f in folder_by_path(uc, "/data").list_subfolders()]
        assert sorted(names) == ["new-a", "new-b"]  # each created exactly once
        assert [g.name for g in uc.list_groups()].count("crew") == 1
        assert_converged(config, server)
