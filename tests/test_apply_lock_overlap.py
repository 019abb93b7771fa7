"""``reconciler apply`` reads and plans while the lock confirms (``apply/meanwhile.py``).

In process, on the embedded sandbox: every request the sandbox receives is recorded in order,
with the moment the lock's lease read back as ours (``CONFIRMED``). Nothing but the lease is
written before it; a lease another run took meanwhile throws the read away and writes nothing.
"""

from __future__ import annotations

import asyncio
import gc
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from helpers import run_cli

import reconciler.cli.apply as apply_cli
from reconciler.apply.lock import OrgLock
from reconciler.cli.common import read_scope
from reconciler.cli.main import cli
from reconciler.config import load_config
from reconciler.encord import EncordClient, Folder, ServerError
from reconciler.live import Scope, read_live
from reconciler.model.desired import LOCK_KEY, OWNER_KEY, DesiredState, lock_folder_name
from reconciler.model.live import LiveState
from reconciler.plan.document import UNCHECKED, document_checksum
from reconciler.sandbox.stats import Stats
from reconciler.targets import TargetOptions, connect
from reconciler.wire.storage import PatchFolderPayload

CONFIRMED = "CONFIRMED"
OWNER = "overlap-tests"
LISTING = "GET /v2/public/storage/folders/{uuid}/items"
PATCH_BULK = "PATCH /v2/public/storage/items/patch-bulk"


def _config(tmp_path: Path) -> Path:
    """Three items in /team/raw and a rule that sets their metadata: an item-only plan."""
    config = tmp_path / "config"
    db = config / ".reconciler" / "sandbox.sqlite"
    db.parent.mkdir(parents=True)
    (config / "reconciler.yaml").write_text(
        "version: 1\ntarget:\n  sandbox:\n    path: .reconciler/sandbox.sqlite\n"
        f"ownership: {{id: {OWNER}}}\n"
    )
    (config / "items.yaml").write_text("items:\n  - {folder: /team/raw, metadata: {stage: raw}}\n")
    init = run_cli("sandbox", "init", "--db", str(db), "--key-out", str(tmp_path / "admin.key"))
    assert init.returncode == 0, init.stderr
    seed = run_cli("sandbox", "seed", "--db", str(db), "--under", "/team/raw", "--items", "3")
    assert seed.returncode == 0, seed.stderr
    return config


@pytest.fixture
def requests(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The sandbox's requests in the order they arrive, and ``CONFIRMED`` in its place."""
    log: list[str] = []
    count, only_ours = Stats.count, OrgLock._only_ours

    def counted(self: Stats, key: str) -> None:
        log.append(key)
        count(self, key)

    def confirming(self: OrgLock, folders: list[Folder], forced: str | None) -> bool:
        ours = only_ours(self, folders, forced)
        if ours:
            log.append(CONFIRMED)
        return ours

    monkeypatch.setattr(Stats, "count", counted)
    monkeypatch.setattr(OrgLock, "_only_ours", confirming)
    return log


def _cli(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def _writes(keys: list[str]) -> list[str]:
    return [k for k in keys if k != CONFIRMED and not k.startswith("GET ")]


async def _live(config: Path) -> LiveState:
    desired = load_config(config)
    async with connect(TargetOptions(config=desired.target)) as client:
        return await read_live(client, Scope.from_desired(desired))


def test_the_scope_is_read_while_the_lock_confirms_and_nothing_but_the_lease_is_written_before(
    tmp_path: Path, requests: list[str]
) -> None:
    config = _config(tmp_path)
    done = _cli("apply", str(config), "--auto-approve")
    assert done.exit_code == 0, done.output
    before, after = requests[: requests.index(CONFIRMED)], requests[requests.index(CONFIRMED) :]
    assert LISTING in before  # the items were read inside the confirmation delay
    assert _writes(before) == ["POST /v2/public/storage/folders"]  # the lock folder, leased
    assert PATCH_BULK in after

    # A saved plan: its re-check read of the scope too; the lock folder now exists
    plan_file = tmp_path / "plan.json"
    (config / "items.yaml").write_text("items:\n  - {folder: /team/raw, metadata: {stage: b}}\n")
    assert _cli("plan", str(config), "--out", str(plan_file)).exit_code == 0
    requests.clear()
    done = _cli("apply", str(plan_file), "--auto-approve")
    assert done.exit_code == 0, done.output
    before, after = requests[: requests.index(CONFIRMED)], requests[requests.index(CONFIRMED) :]
    assert LISTING in before
    assert _writes(before) == ["PATCH /v2/public/storage/folders/{uuid}"]  # the lease only
    assert PATCH_BULK in after


def test_a_lock_taken_during_the_overlapped_read_writes_nothing_and_says_so_in_one_line(
    tmp_path: Path, requests: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _config(tmp_path)
    reads: list[str] = []

    async def raced(client: EncordClient, desired: DesiredState) -> LiveState:
        """The scope read while another run wins the lock: its live lease lands meanwhile."""
        live = await read_scope(client, desired)
        reads.append("scope")
        (folder,) = await client.folders.find_children(None, lock_folder_name(OWNER))
        lease = {
            "run": "winner",
            "holder": "ci@elsewhere pid 1",
            "since": "",
            "expires": "2999-01-01T00:00:00+00:00",
        }
        metadata = {OWNER_KEY: OWNER, LOCK_KEY: lease}
        await client.folders.patch(folder.uuid, PatchFolderPayload(client_metadata=metadata))
        return live

    monkeypatch.setattr(apply_cli, "read_scope", raced)
    done = CliRunner().invoke(cli, ["apply", str(config), "--auto-approve", "--lock-timeout", "0"])
    assert done.exit_code == 1
    (line,) = done.stderr.strip().splitlines()
    assert (
        line.startswith("Error: another apply holds the lock of overlap-tests")
        and "run winner" in line
        and "nothing changed" in line
    )
    assert reads == ["scope"]  # read once, inside the delay, then thrown away
    assert CONFIRMED not in requests and PATCH_BULK not in requests
    # the lock folder created with our lease, and the winner's lease over it; nothing else
    assert _writes(requests) == [
        "POST /v2/public/storage/folders",
        "PATCH /v2/public/storage/folders/{uuid}",
    ]
    assert not (config / ".reconciler" / "journal").exists()
    live = asyncio.run(_live(config))
    assert len(live.items) == 3 and all(not item.metadata for item in live.items.values())


def test_a_saved_plan_whose_read_fails_while_it_is_built_says_one_thing_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The saved plan is built beside the re-check's read. When the read fails, its error is
    the one said; the build's own failure (a change no reconciler makes, sealed again by
    hand) is taken quietly, not logged by asyncio as never retrieved."""
    config = _config(tmp_path)
    plan_file = tmp_path / "plan.json"
    assert _cli("plan", str(config), "--out", str(plan_file)).exit_code == 0
    doc = json.loads(plan_file.read_text())
    doc["changes"][0]["actions"] = ["sync"]
    doc["checksum"] = document_checksum({k: v for k, v in doc.items() if k not in UNCHECKED})
    plan_file.write_text(json.dumps(doc))

    async def failing(client: EncordClient, desired: DesiredState) -> LiveState:
        await asyncio.sleep(0.2)  # the build has failed by then
        raise ServerError("the listing failed (test)")

    monkeypatch.setattr(apply_cli, "read_scope", failing)
    done = CliRunner().invoke(cli, ["apply", str(plan_file), "--auto-approve"])
    gc.collect()  # a task whose error nobody took is logged when it is collected
    assert done.exit_code == 1
    (line,) = done.stderr.strip().splitlines()
    assert "the listing failed (test)" in line
    assert not [r for r in caplog.records if "never retrieved" in r.getMessage()]
