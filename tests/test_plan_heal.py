"""Self-healing, end to end: duplicate folders that this ownership id created (as two applies
at once left them before the lock) are resolved by the next plan; others' never are."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from encord.user_client import EncordUserClient
from helpers import flags, run_cli, running_sandbox

pytestmark = [pytest.mark.slow, pytest.mark.sdk]

OWNER = "heal-e2e"
SETTINGS = f"""\
version: 1
target:
  sandbox:
    path: .reconciler/unused.sqlite
ownership: {{id: {OWNER}}}
"""
CONFIG = """\
folders:
  /heal: {description: healed}
  /heal/empty: {description: twice and empty}
  /heal/full: {description: "twice, one holds a folder"}
  /heal/full/inner: {description: inside}
"""


def children(folder: Any, name: str) -> list[Any]:
    return [f for f in folder.list_subfolders() if f.name == name]


def test_our_duplicates_are_resolved_and_others_are_left_alone(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.mkdir()
    (config / "reconciler.yaml").write_text(SETTINGS)
    (config / "main.yaml").write_text(CONFIG)
    ours = {"reconciler.owner": OWNER}
    with running_sandbox(tmp_path) as server:
        uc = EncordUserClient.create_with_ssh_private_key(server.key_text, domain=server.url)
        heal = uc.create_storage_folder("heal", description="healed", client_metadata=ours)
        made: dict[str, list[Any]] = {"empty": [], "full": [], "theirs": []}
        for name in made:
            meta = {"reconciler.owner": "someone-else"} if name == "theirs" else ours
            for _ in range(2):
                made[name].append(heal.create_subfolder(name, client_metadata=meta))
                time.sleep(1.1)  # creation times a second apart: "oldest" is well defined
        made["full"][1].create_subfolder("inner", description="inside", client_metadata=ours)

        planned = run_cli("plan", str(config), *flags(server), "--detailed-exitcode")
        assert planned.returncode == 2, planned.stdout + planned.stderr
        text = planned.stdout
        assert f"folder:/heal/empty#{made['empty'][1].uuid}" in text
        assert f"folder:/heal/full#{made['full'][0].uuid}" in text
        assert "a duplicate of /heal/empty that this ownership id created" in text
        assert "holds folders" in text
        assert str(made["empty"][0].uuid) not in text.replace(
            f"{made['empty'][0].uuid}, which is kept", ""
        )
        assert "theirs" not in text  # not ours: never healed (and not declared: not planned)

        applied = run_cli("apply", str(config), "--auto-approve", *flags(server), timeout=300)
        assert applied.returncode == 0, applied.stdout + applied.stderr
        assert "Verified: a fresh plan is empty" in applied.stdout
        heal = uc.get_storage_folder(heal.uuid)
        assert [f.uuid for f in children(heal, "empty")] == [made["empty"][0].uuid]
        assert [f.uuid for f in children(heal, "full")] == [made["full"][1].uuid]
        assert len(children(heal, "theirs")) == 2


def test_duplicates_of_another_owner_stay_a_refusal(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.mkdir()
    (config / "reconciler.yaml").write_text(SETTINGS)
    (config / "main.yaml").write_text("folders:\n  /mixed/x: {description: declared}\n")
    with running_sandbox(tmp_path) as server:
        uc = EncordUserClient.create_with_ssh_private_key(server.key_text, domain=server.url)
        top = uc.create_storage_folder("mixed", client_metadata={"reconciler.owner": OWNER})
        top.create_subfolder("x", client_metadata={"reconciler.owner": OWNER})
        top.create_subfolder("x", client_metadata={"reconciler.owner": "someone-else"})
        planned = run_cli("plan", str(config), *flags(server))
        assert planned.returncode == 1, planned.stdout + planned.stderr
        assert "names 2 sibling folders" in planned.stdout + planned.stderr
        assert "duplicate of" not in planned.stdout
        assert len(children(uc.get_storage_folder(top.uuid), "x")) == 2
