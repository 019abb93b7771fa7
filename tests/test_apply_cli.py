"""``reconciler apply`` through the CLI (subprocesses) on the embedded sandbox."""

from __future__ import annotations

import json
import os
import pty
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from helpers import run_cli

from reconciler.config import load_config
from reconciler.live import Scope, read_live
from reconciler.model.live import LiveState
from reconciler.plan.cost import WRITE_FACTOR
from reconciler.targets import TargetOptions, connect

DATA = Path(__file__).parent / "apply_data" / "small"


def _config(tmp_path: Path, *, items: int = 4) -> Path:
    """A copy of the small config with a sandbox holding ``items`` items in /team/raw."""
    config = tmp_path / "config"
    shutil.copytree(DATA, config)
    db = config / ".reconciler" / "sandbox.sqlite"
    db.parent.mkdir()
    init = run_cli(
        "sandbox", "init", "--db", str(db), "--admin-email", "admin@example.com",
        "--key-out", str(tmp_path / "admin.key"),
    )  # fmt: skip
    assert init.returncode == 0, init.stderr
    seed = run_cli(
        "sandbox", "seed", "--db", str(db), "--under", "/team/raw", "--items", str(items)
    )
    assert seed.returncode == 0, seed.stderr
    return config


async def _live(config: Path) -> LiveState:
    desired = load_config(config)

    async def read() -> LiveState:
        async with connect(TargetOptions(config=desired.target)) as client:
            return await read_live(client, Scope.from_desired(desired))

    return await read()


def _saved_plan(config: Path, out: Path) -> None:
    made = run_cli("plan", str(config), "--out", str(out))
    assert made.returncode == 0, made.stdout + made.stderr


@pytest.mark.anyio
async def test_without_a_terminal_apply_refuses_unless_auto_approved(tmp_path: Path) -> None:
    config = _config(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "reconciler", "apply", str(config)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1
    assert "~ folder:/team" in result.stdout  # the plan was shown
    assert result.stderr.strip().splitlines() == [
        "Error: refusing to apply without confirmation: stdin is not a terminal; review the "
        "plan and pass --auto-approve"
    ]
    live = await _live(config)  # nothing changed
    assert live.folders[live.paths["/team"]].description == ""
    assert not live.groups and not live.datasets


@pytest.mark.anyio
async def test_auto_approve_applies_verifies_and_a_rerun_has_nothing_to_do(tmp_path: Path) -> None:
    config = _config(tmp_path)
    result = run_cli("apply", str(config), "--auto-approve")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Plan: " in result.stdout
    assert "Apply complete: " in result.stdout and ", 0 failed;" in result.stdout
    assert "Verified: a fresh plan is empty" in result.stdout
    assert "Traceback" not in result.stderr
    live = await _live(config)
    team = live.folders[live.paths["/team"]]
    assert team.description == "Team space" and team.metadata["team"] == "ml"
    raw = [i for i in live.items.values() if i.folder_path == "/team/raw"]
    assert len(raw) == 4 and all(i.metadata == {"stage": "raw"} for i in raw)
    (dataset,) = live.datasets.values()
    assert {r.item_uuid for r in dataset.rows} == {i.uuid for i in raw}
    journal = list((config / ".reconciler" / "journal").glob("*.jsonl"))
    assert len(journal) == 1 and '"type":"finish","ok":true' in journal[0].read_text()
    again = run_cli("apply", str(config), "--auto-approve")
    assert again.returncode == 0
    assert "No changes." in again.stdout


def test_json_format_streams_the_plan_then_events(tmp_path: Path) -> None:
    config = _config(tmp_path, items=2)
    result = run_cli("apply", str(config), "--auto-approve", "--format", "json")
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    kinds = [e["event"] for e in events]
    assert kinds[0] == "plan" and kinds[1] == "apply_started"
    assert kinds[-3:] == ["verify_started", "verify_finished", "apply_finished"]
    assert events[-1]["ok"] is True and events[-1]["failed"] == 0
    done = {a for e in events if e["event"] == "bundle_done" for a in e["addresses"]}
    assert {"folder:/team", "group:crew", "dataset:team-set"} <= done
    assert events[0]["plan"]["checksum"].startswith("sha256:")
    again = run_cli("apply", str(config), "--auto-approve", "--format", "json")
    assert again.returncode == 0
    lines = [json.loads(line) for line in again.stdout.splitlines()]
    assert [line["event"] for line in lines] == ["plan", "apply_finished"]
    assert lines[0]["plan"]["changes"] == [] and lines[1]["ok"] is True


def test_a_saved_plan_applies_once_and_is_refused_after(tmp_path: Path) -> None:
    config = _config(tmp_path, items=2)
    plan_file = tmp_path / "plan.json"
    _saved_plan(config, plan_file)
    result = run_cli("apply", str(plan_file), "--auto-approve")
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / ".reconciler" / "journal").is_dir()  # beside the plan file
    again = run_cli("apply", str(plan_file), "--auto-approve")
    assert again.returncode == 1
    assert again.stderr.strip().startswith("Error: this plan was already applied (journal ")


@pytest.mark.parametrize(
    ("mangle", "expected"),
    [
        (lambda text: text.replace('"cli-tests"', '"someone"', 1), "plan checksum does not match"),
        (lambda text: "{not json", "not a plan file: invalid JSON"),
    ],
)
def test_a_tampered_plan_file_is_refused_in_one_line(
    tmp_path: Path, mangle: object, expected: str
) -> None:
    config = _config(tmp_path, items=1)
    plan_file = tmp_path / "plan.json"
    _saved_plan(config, plan_file)
    plan_file.write_text(mangle(plan_file.read_text()))  # type: ignore[operator]
    result = run_cli("apply", str(plan_file), "--auto-approve")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], lines


def test_a_plan_for_another_target_is_refused(tmp_path: Path) -> None:
    config = _config(tmp_path, items=1)
    plan_file = tmp_path / "plan.json"
    _saved_plan(config, plan_file)
    other = tmp_path / "other.sqlite"
    result = run_cli("apply", str(plan_file), "--auto-approve", "--sandbox", str(other))
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("Error: the plan was made for sandbox:")
    assert f"but this apply would write to sandbox:{other}" in line


def test_bad_input_is_one_line_each(tmp_path: Path) -> None:
    missing = run_cli("apply", str(tmp_path / "nowhere"), "--auto-approve")
    assert missing.returncode == 1
    assert missing.stderr.strip().splitlines() == [
        f"Error: {tmp_path / 'nowhere'}: no such file or directory"
    ]
    config = _config(tmp_path, items=1)
    nothing = run_cli("apply", str(config), "--resume", "--auto-approve")
    assert nothing.returncode == 1
    (line,) = nothing.stderr.strip().splitlines()
    assert line.startswith("Error: nothing to resume in ")


def _on_a_terminal(config: Path, answer: bytes) -> subprocess.CompletedProcess[str]:
    """Run apply with a pseudo-terminal on stdin and type ``answer`` at the prompt."""
    master, slave = pty.openpty()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "reconciler", "apply", str(config)],
            stdin=slave,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        os.close(slave)
        os.write(master, answer)
        out, err = process.communicate(timeout=120)
    finally:
        os.close(master)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


@pytest.mark.anyio
async def test_on_a_terminal_apply_asks_and_only_yes_applies(tmp_path: Path) -> None:
    config = _config(tmp_path, items=1)
    declined = _on_a_terminal(config, b"n\n")
    assert declined.returncode == 1
    assert "Apply these changes? [y/N]: " in declined.stdout
    assert declined.stderr.strip().splitlines() == ["Error: apply cancelled; nothing was changed"]
    assert not (await _live(config)).groups
    accepted = _on_a_terminal(config, b"y\n")
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    assert "Apply complete: " in accepted.stdout
    assert [g.name for g in (await _live(config)).groups.values()] == ["crew"]


def test_apply_shows_the_grouped_plan_once(tmp_path: Path) -> None:
    config = _config(tmp_path, items=40)
    result = run_cli("apply", str(config), "--auto-approve")
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert out.count("reconciler plan for ") == 1 and out.count("Plan: ") == 1
    lines = out.splitlines()
    assert any(line.startswith("  ~ 40 × item  [") for line in lines)
    assert any(line.startswith("  + 40 × link  [") for line in lines)
    assert len([line for line in lines if "item:/team/raw/" in line]) <= 3
    assert len(lines) < 40


def test_apply_detail_full_lists_every_change(tmp_path: Path) -> None:
    config = _config(tmp_path, items=6)
    result = run_cli("apply", str(config), "--auto-approve", "--detail", "full")
    assert result.returncode == 0, result.stdout + result.stderr
    assert len([x for x in result.stdout.splitlines() if x.startswith("  ~ item:/team/raw/")]) == 6
    assert " × " not in result.stdout


def _checkout(config: Path, where: Path) -> Path:
    """A copy of the config's files (not its sandbox or journal) at ``where/config``."""
    shutil.copytree(config, where / "config", ignore=shutil.ignore_patterns(".reconciler"))
    return where / "config"


@pytest.mark.anyio
async def test_a_saved_plan_applies_in_another_checkout_of_the_same_repository(
    tmp_path: Path,
) -> None:
    config = _config(tmp_path, items=1)
    db = str(config / ".reconciler" / "sandbox.sqlite")
    first = tmp_path / "first"
    _checkout(config, first)
    made = run_cli(
        "plan", str(first / "config"), "--out", str(first / "plan.json"), "--sandbox", db
    )
    assert made.returncode == 0, made.stderr
    assert json.loads((first / "plan.json").read_text())["config_dir"] == "config"
    second = tmp_path / "second"
    shutil.copytree(first, second)
    shutil.rmtree(first)  # the checkout the plan was made in is gone (another CI runner)
    applied = run_cli(
        "apply", str(second / "plan.json"), "--auto-approve", "--sandbox", db, cwd=tmp_path
    )
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "Verified: a fresh plan is empty." in applied.stdout
    assert [g.name for g in (await _live(config)).groups.values()] == ["crew"]


@pytest.mark.anyio
async def test_a_saved_plan_is_refused_with_another_config_naming_both(tmp_path: Path) -> None:
    config = _config(tmp_path, items=1)
    db = str(config / ".reconciler" / "sandbox.sqlite")
    made_in = _checkout(config, tmp_path / "first")
    plan_file = tmp_path / "elsewhere" / "plan.json"
    plan_file.parent.mkdir()
    made = run_cli("plan", str(made_in), "--out", str(plan_file), "--sandbox", db)
    assert made.returncode == 0, made.stderr
    shutil.rmtree(made_in)
    other = _checkout(config, tmp_path / "other")
    (other / "groups.yaml").write_text("groups:\n  another: {description: not reviewed}\n")
    applied = run_cli("apply", str(plan_file), "--auto-approve", "--sandbox", db, cwd=other)
    assert applied.returncode == 1
    (line,) = applied.stderr.strip().splitlines()
    assert f"was made from the config in {made_in}, not the one in {other}" in line
    assert not (await _live(config)).groups  # refused before anything was applied


QUICKSTART = Path(__file__).parents[1] / "examples" / "quickstart"


def _quickstart(tmp_path: Path) -> Path:
    """The quickstart: a folder synced on create, with a rule and a dataset reaching into it."""
    config = tmp_path / "quickstart"
    shutil.copytree(QUICKSTART, config, ignore=shutil.ignore_patterns(".reconciler"))
    return config


def test_the_plan_made_after_a_sync_is_shown_before_it_is_applied(tmp_path: Path) -> None:
    config = _quickstart(tmp_path)
    result = run_cli("apply", str(config), "--auto-approve", timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    # the main plan says what comes later
    assert "Deferred until cloud syncs and registrations finish" in out
    shown = out.index(
        "Planned after the cloud syncs and registrations, for the items they brought:"
    )
    follow_up = out[shown : out.index("Apply complete")]
    assert "item:/quickstart/raw/cats/cat-01.png" in follow_up
    assert "link:quickstart-images#/quickstart/raw/cats/cat-01.png" in follow_up
    assert "metadata.source" in follow_up
    assert "item:/quickstart/raw" not in out[:shown]  # never applied unseen
    assert "Verified: a fresh plan is empty" in out


@pytest.mark.anyio
async def test_the_plan_made_after_a_sync_asks_again_and_no_leaves_it_out(tmp_path: Path) -> None:
    config = _quickstart(tmp_path)
    answered = _on_a_terminal(config, b"y\nn\n")  # yes to the plan, no to the follow-up
    assert answered.returncode == 1, answered.stdout + answered.stderr
    text = answered.stdout + answered.stderr
    assert "Planned after the cloud syncs" in text and "Apply these changes too?" in text
    assert "were not applied (not approved); run plan and apply again" in text
    live = await _live(config)
    synced = [i for i in live.items.values() if i.folder_path.startswith("/quickstart/raw")]
    assert synced and all("source" not in i.metadata for i in synced)  # declined: untouched
    (dataset,) = live.datasets.values()
    assert not dataset.rows


def _resealed(plan_file: Path) -> None:
    """Edit a saved plan the way an attacker would: change it, then recompute its checksum."""
    from reconciler.plan.document import plan_document, plan_from_document, sealed

    doc = json.loads(plan_file.read_text())
    doc["ownership_id"] = "someone-else"
    plan_file.write_text(json.dumps(plan_document(sealed(plan_from_document(doc)))))


def test_a_plan_signed_with_the_ci_key_applies_and_a_resealed_one_is_refused(
    tmp_path: Path,
) -> None:
    config = _config(tmp_path, items=1)
    plan_file = tmp_path / "plan.json"
    key = {"RECONCILER_PLAN_KEY": "ci-secret-0123456789"}
    made = run_cli("plan", str(config), "--out", str(plan_file), env=key)
    assert made.returncode == 0, made.stdout + made.stderr
    signature = (tmp_path / "plan.json.sig").read_text()
    assert signature.startswith("hmac-sha256:") and key["RECONCILER_PLAN_KEY"] not in signature
    pristine = plan_file.read_text()

    _resealed(plan_file)  # a valid checksum, so only the signature can tell
    forged = run_cli("apply", str(plan_file), "--auto-approve", env=key)
    assert forged.returncode == 1
    assert "does not authenticate this plan" in forged.stderr
    assert len(forged.stderr.strip().splitlines()) == 1

    plan_file.write_text(pristine)
    wrong = run_cli("apply", str(plan_file), "--auto-approve", env={"RECONCILER_PLAN_KEY": "x"})
    assert wrong.returncode == 1 and "does not authenticate" in wrong.stderr
    (tmp_path / "plan.json.sig").rename(tmp_path / "elsewhere.sig")
    missing = run_cli("apply", str(plan_file), "--auto-approve", env=key)
    assert missing.returncode == 1 and "cannot be read" in missing.stderr
    (tmp_path / "elsewhere.sig").rename(tmp_path / "plan.json.sig")
    applied = run_cli("apply", str(plan_file), "--auto-approve", env=key)
    assert applied.returncode == 0, applied.stdout + applied.stderr


@pytest.mark.anyio
async def test_a_saved_plan_that_removes_what_the_config_would_not_is_refused(
    tmp_path: Path,
) -> None:
    """Apply re-plans from the config: a delete the config does not (or no longer) make is
    refused before anything is applied, whatever the plan file's checksum says."""
    config = _config(tmp_path, items=1)
    settings = config / "reconciler.yaml"
    settings.write_text(settings.read_text() + "policy: {prune: owned, min_existing: 0}\n")
    resources = config / "folders.yaml"
    declared = resources.read_text()
    assert declared.rstrip().splitlines()[-2] == "  crew:"  # groups: is the last mapping
    resources.write_text(declared + "  old-crew: {description: leaving}\n")
    first = run_cli("apply", str(config), "--auto-approve")
    assert first.returncode == 0, first.stdout + first.stderr
    resources.write_text(declared)  # old-crew removed: prune (owned) deletes it
    plan_file = tmp_path / "plan.json"
    _saved_plan(config, plan_file)
    assert '"group:old-crew"' in plan_file.read_text()
    resources.write_text(declared + "  old-crew: {description: leaving}\n")  # declared again
    refused = run_cli("apply", str(plan_file), "--auto-approve")
    assert refused.returncode == 1
    (line,) = refused.stderr.strip().splitlines()
    assert "removes what the config would not remove now (group:old-crew)" in line
    assert "old-crew" in {g.name for g in (await _live(config)).groups.values()}  # nothing deleted
    resources.write_text(declared)
    agreed = run_cli("apply", str(plan_file), "--auto-approve")
    assert agreed.returncode == 0, agreed.stdout + agreed.stderr
    assert "old-crew" not in {g.name for g in (await _live(config)).groups.values()}


def test_a_saved_item_only_plan_is_verified_from_what_it_wrote_not_a_new_read(
    tmp_path: Path,
) -> None:
    """``apply plan.json`` of item patches verifies like ``--auto-approve`` does: the items
    from the writes' answers over the re-check's read, no second listing of the scope."""
    config = _config(tmp_path, items=3)
    (config / "folders.yaml").unlink()
    (config / "items.yaml").write_text(
        "items:\n  - folder: /team/raw\n    metadata: {stage: raw}\n"
    )
    plan_file = tmp_path / "plan.json"
    _saved_plan(config, plan_file)
    result = run_cli("apply", str(plan_file), "--auto-approve", "--format", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    (verified,) = [e for e in events if e["event"] == "verify_finished"]
    assert verified["converged"] is True and verified["reread"] == "touched"
    assert events[-1]["ok"] is True


def test_a_saved_plan_is_built_while_the_lock_confirms_and_the_parts_are_timed(
    tmp_path: Path,
) -> None:
    config = _config(tmp_path, items=2)
    plan_file = tmp_path / "plan.json"
    _saved_plan(config, plan_file)
    timings = tmp_path / "timings.json"
    result = run_cli(
        "apply", str(plan_file), "--auto-approve", env={"RECONCILER_TIMINGS": str(timings)}
    )
    assert result.returncode == 0, result.stdout + result.stderr
    parts = json.loads(timings.read_text())
    assert {"judge", "config", "lock", "read_plan", "apply", "release"} <= parts.keys()
    assert 0.6 <= parts["lock_wait"][0] <= 0.9  # the embedded lock's confirmation delay
    assert 0 < parts["build"][0] < parts["lock"][0]  # the plan was built inside taking it
    assert parts["build"][0] < parts["overlapped"][0] <= parts["lock"][0]  # and re-checked
    auto = tmp_path / "auto.json"
    again = run_cli("apply", str(config), "--auto-approve", env={"RECONCILER_TIMINGS": str(auto)})
    auto_parts = json.loads(auto.read_text())
    assert again.returncode == 0 and "build" not in auto_parts
    assert 0 < auto_parts["overlapped"][0] <= auto_parts["lock"][0]  # read and planned there


def test_an_apply_records_its_write_factor_and_the_next_plan_takes_it(tmp_path: Path) -> None:
    """1,200 item patches: two patch-bulks, enough written objects to measure writes."""
    config = _config(tmp_path, items=1200)
    (config / "folders.yaml").unlink()
    record = config / ".reconciler" / "cost.json"

    def planned(stage: str) -> dict[str, Any]:
        (config / "items.yaml").write_text(
            f"items:\n  - folder: /team/raw\n    metadata: {{stage: {stage}}}\n"
        )
        made = run_cli("plan", str(config), "--format", "json")
        assert made.returncode == 0, made.stderr
        doc: dict[str, Any] = json.loads(made.stdout)
        return doc

    first = planned("raw")
    assert first["cost"]["write_factor"] == WRITE_FACTOR  # no apply measured it yet
    assert "write_factor_applies" not in first["cost"]
    # a record of another target is not this one's; one of this target is taken
    # a read's time per object here is some 10-50 µs: a write of 50 µs is 1-5 reads
    record.write_text(json.dumps({"version": 1, "targets": {
        "https://other.example": [
            {"write_ms": 9.0, "write_factor": 9.0, "written": 5000, "at": time.time()}
        ],
        first["target"]: [
            {"write_ms": 0.05, "write_factor": 3.0, "written": 5000, "at": time.time()}
        ],
    }}))  # fmt: skip
    second = planned("raw")
    assert second["cost"]["write_factor_applies"] == 1
    object_ms = second["cost"]["object_ms"]
    # (the plan file keeps the time per object to 0.1 µs: within 2 % here)
    assert second["cost"]["write_factor"] == pytest.approx(0.05 / object_ms, rel=0.02)
    assert second["changes"] == first["changes"]  # (the checksum: test_apply_cost_record.py)
    text = run_cli("plan", str(config)).stdout
    assert "; writing an object takes 50 µs (" in text
    assert "reads), as the last apply to this target showed." in text

    applied = run_cli("apply", str(config), "--auto-approve")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    targets = json.loads(record.read_text())["targets"]
    assert targets["https://other.example"][0]["write_factor"] == 9.0  # left alone
    # the apply added what its 1,200 writes showed (on this sandbox 2-5 reads an object;
    # a factor outside 1-16 would be skipped, which would fail this line, not the apply)
    (_, shown) = targets[first["target"]]
    assert shown["written"] == 1200 and 1.0 <= shown["write_factor"] <= 16.0
    third = planned("cooked")
    assert third["cost"]["write_factor_applies"] == 2
    write_ms = (0.05 + shown["write_ms"]) / 2
    assert third["cost"]["write_factor"] == pytest.approx(
        write_ms / third["cost"]["object_ms"], rel=0.02
    )

    record.write_text("{torn")  # unreadable: the default again, and the plan says so
    torn = run_cli("plan", str(config))
    assert torn.returncode == 0, torn.stderr
    assert f"writing an object taken as {WRITE_FACTOR:g} reads (assumed: no" in torn.stdout
    assert f"ignoring {record}" in torn.stderr
