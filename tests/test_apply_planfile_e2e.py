"""A saved plan file is judged before ``reconciler apply`` sends anything: a corrupt or edited
file is refused with no request at all, the lock's included (its ``Plan`` is built later,
while the lock confirms: ``cli/apply.py``). One served sandbox; requests counted by it."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import SandboxServer, flags, run_cli, running_sandbox, sdk
from helpers.plans import resealed_as_written

from reconciler.plan.document import UNCHECKED, document_checksum

SETTINGS = (
    "version: 1\ntarget: {encord: {domain: https://api.encord.com}}\n"
    "ownership: {id: planfile-e2e}\n"
)


def _edited(text: str) -> str:
    doc = json.loads(text)
    doc["changes"][0]["after"]["metadata"]["stage"] = "forged"
    return json.dumps(doc)


def _unfit(text: str) -> str:  # re-sealing cannot help: the schema refuses it first
    doc = json.loads(text)
    doc["changes"][0]["actions"] = ["explode"]
    return json.dumps(doc)


def _planned(tmp_path: Path, server: SandboxServer) -> Path:
    """``plan --out`` of a metadata rule over the seeded items: the plan file."""
    config = tmp_path / "config"
    config.mkdir()
    (config / "reconciler.yaml").write_text(SETTINGS)
    (config / "items.yaml").write_text(
        "items:\n  - {folder: /data, recursive: true, metadata: {stage: raw}}\n"
    )
    plan_file = tmp_path / "plan.json"
    made = run_cli("plan", str(config), "--out", str(plan_file), *flags(server))
    assert made.returncode == 0, made.stdout + made.stderr
    return plan_file


def test_a_corrupt_or_edited_plan_file_makes_no_request(tmp_path: Path) -> None:
    with running_sandbox(tmp_path, seeds=(("/data", 3),)) as server:
        plan_file = _planned(tmp_path, server)
        good = plan_file.read_text()
        assert '"stage":"raw"' in good.replace(" ", "")
        cases = {
            "plan checksum does not match": _edited(good),
            "not a plan file: invalid JSON": good[: len(good) // 2],
            "not a valid plan file: at changes/0/actions/0": _unfit(good),
        }
        for expected, text in cases.items():
            plan_file.write_text(text)
            server.reset_stats()
            result = run_cli("apply", str(plan_file), "--auto-approve", *flags(server))
            assert result.returncode == 1
            (line,) = result.stderr.strip().splitlines()
            assert expected in line
            assert server.stats() == {"total": 0}  # no lock taken, nothing read or written


def _resealed_with_a_change_no_reconciler_makes(text: str) -> str:
    """A patch made a sync (both in the schema; not a change made to an item), sealed again
    by hand: only the build, while the lock confirms, can refuse it."""
    doc = json.loads(text)
    doc["changes"][0]["actions"] = ["sync"]
    body = {key: value for key, value in doc.items() if key not in UNCHECKED}
    doc["checksum"] = document_checksum(body)
    return json.dumps(doc, indent=1)


def test_a_resealed_plan_with_a_change_no_reconciler_makes_is_refused_before_any_write(
    tmp_path: Path,
) -> None:
    with running_sandbox(tmp_path, seeds=(("/data", 3),)) as server:
        plan_file = _planned(tmp_path, server)
        good = plan_file.read_text()
        plan_file.write_text(_resealed_with_a_change_no_reconciler_makes(good))
        server.reset_stats()
        result = run_cli("apply", str(plan_file), "--auto-approve", *flags(server))
        assert result.returncode == 1
        (line,) = result.stderr.strip().splitlines()
        assert "not a plan this reconciler can apply" in line
        assert "item:/data/" in line and "is not a change it makes" in line
        written = {r: n for r, n in server.stats().items() if not r.startswith("GET ")}
        # the lease, written, then cleared: nothing else
        assert set(written) <= {
            "total",
            "PATCH /v2/public/storage/folders/{uuid}",
            "POST /v2/public/storage/folders",
        }, written
        # the lock was released: the plan as made applies at once
        plan_file.write_text(good)
        again = run_cli(
            "apply", str(plan_file), "--auto-approve", "--lock-timeout", "0", *flags(server)
        )
        assert again.returncode == 0, again.stdout + again.stderr


def test_a_resealed_line_that_is_no_change_is_refused_in_the_lock_before_any_write(
    tmp_path: Path,
) -> None:
    with running_sandbox(tmp_path, seeds=(("/data", 3),)) as server:
        plan_file = _planned(tmp_path, server)
        good = plan_file.read_text()
        first = json.loads(good)["changes"][0]
        for line, expected in (
            (json.dumps({**first, "actions": ["explode"]}), "at changes/0/actions/0: "),
            (json.dumps({**first, "actions": ["sync"]}), "is not a change it makes"),
            ('{"actions":', "change 0 is not one line of JSON"),
        ):
            plan_file.write_text(resealed_as_written(good, 0, line))
            server.reset_stats()
            result = run_cli("apply", str(plan_file), "--auto-approve", *flags(server))
            assert result.returncode == 1
            (said,) = result.stderr.strip().splitlines()
            assert str(plan_file) in said and expected in said, said
            written = {r for r in server.stats() if r != "total" and not r.startswith("GET ")}
            # the lease, written, then cleared: nothing else
            assert written <= {
                "PATCH /v2/public/storage/folders/{uuid}",
                "POST /v2/public/storage/folders",
            }, written


def test_a_saved_plan_applies_what_it_says_when_the_config_says_otherwise_now(
    tmp_path: Path,
) -> None:
    """The re-check's fresh plan lends the saved plan only changes whose text is the saved
    line: after the rule changed, the saved value is the one written, and verification
    says the config wants more."""
    with running_sandbox(tmp_path, seeds=(("/data", 3),)) as server:
        plan_file = _planned(tmp_path, server)
        rules = tmp_path / "config" / "items.yaml"
        rules.write_text(rules.read_text().replace("stage: raw", "stage: cooked"))
        result = run_cli("apply", str(plan_file), "--auto-approve", *flags(server))
        assert result.returncode == 1, result.stdout + result.stderr
        assert "3 changes applied, 0 failed" in result.stdout
        assert "a fresh plan still wants 3 changes" in result.stdout
        (data,) = [f for f in sdk(server).find_storage_folders(search="data") if f.name == "data"]
        assert [i.client_metadata for i in data.list_items()] == [{"stage": "raw"}] * 3
