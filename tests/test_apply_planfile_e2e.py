"""A saved plan file is judged before ``reconciler apply`` sends anything: a corrupt or edited
file is refused with no request at all, the lock's included (its ``Plan`` is built later,
while the lock confirms: ``cli/apply.py``). One served sandbox; requests counted by it."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import flags, run_cli, running_sandbox

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


def test_a_corrupt_or_edited_plan_file_makes_no_request(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.mkdir()
    (config / "reconciler.yaml").write_text(SETTINGS)
    (config / "items.yaml").write_text(
        "items:\n  - {folder: /data, recursive: true, metadata: {stage: raw}}\n"
    )
    with running_sandbox(tmp_path, seeds=(("/data", 3),)) as server:
        plan_file = tmp_path / "plan.json"
        made = run_cli("plan", str(config), "--out", str(plan_file), *flags(server))
        assert made.returncode == 0, made.stdout + made.stderr
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
