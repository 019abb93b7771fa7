"""The register job runner (``apply/registration.py``) and operation (``ops_register.py``)
against the embedded sandbox: chunking into jobs, per-object failures with ``file:line``,
Ctrl-C cancelling running jobs, and ``--resume`` never registering a row twice."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from encord_data.kit import INTEGRATION, Sandboxed, embedded

from reconciler.apply import registration
from reconciler.apply.context import RunContext, RunState
from reconciler.apply.errors import StepError
from reconciler.apply.events import Event, RegisterProgress, RowFailed
from reconciler.apply.journal import Journal, read_journal
from reconciler.apply.ops_register import RegisterObjects
from reconciler.apply.phases import Phase, Step
from reconciler.apply.recorder import Recorder
from reconciler.apply.registration import RegisterWork, register_rows, settle_stopped_jobs
from reconciler.encord import ClientOptions, EncordClient, KeyAuth, RetryOptions
from reconciler.kinds.payload import Payload
from reconciler.model.addresses import Kind
from reconciler.plan.actions import Action
from reconciler.plan.model import Change, Refs
from reconciler.sandbox.options import SandboxOptions
from reconciler.wire.uploads import DataUploadItems, UploadText

ADDRESS = "register:/batch"


@dataclass(frozen=True)
class Row:
    url: str
    item_type: str = "plainText"
    title: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    source: str = "m.jsonl:1"

    @property
    def name(self) -> str:
        return self.title if self.title is not None else self.url.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class RowsPayload:
    rows: tuple[Row, ...]
    upsert_metadata: bool = False


def rows_in(
    bucket: Path, count: int, *, prefix: str = "obj", missing: tuple[int, ...] = ()
) -> tuple[Row, ...]:
    directory = bucket / "acme-raw" / prefix
    directory.mkdir(parents=True, exist_ok=True)
    out = []
    for n in range(count):
        name = f"{n:04d}.txt"
        if n not in missing:
            (directory / name).write_bytes(b"x")
        out.append(
            Row(f"s3://acme-raw/{prefix}/{name}", metadata={"n": n}, source=f"m.jsonl:{n + 1}")
        )
    return tuple(out)  # fmt: skip


@dataclass
class Setup:
    sandbox: Sandboxed
    bucket: Path
    journal_path: Path
    integration: str
    events: list[Event] = field(default_factory=list)
    recorder: Recorder | None = None

    def close(self) -> None:
        if self.recorder is not None:
            self.recorder.close()
            self.recorder = None

    def context(self, *, stop: asyncio.Event | None = None, resume: bool = False) -> RunContext:
        """A run's context with a journal (the previous run's is closed first)."""
        self.close()
        state = RunState()
        if resume:
            state.uploads = dict(read_journal(self.journal_path).uploads)
        recorder = self.recorder = Recorder(Journal.open(self.journal_path), self.events.append)
        return RunContext(
            client=self.sandbox.client,
            state=state,
            ownership_id="test",
            resume=resume,
            recorder=recorder,
            stop=stop,
        )

    async def folder(self, name: str) -> str:
        return str((await self.sandbox.client.folders.create(name)).uuid)

    async def urls(self, folder: str) -> list[str]:
        items = [i async for i in self.sandbox.client.items.list_direct(folder)]
        return sorted(str(i.url) for i in items)


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[Setup]:
    options = SandboxOptions(upload_unit_ms=2.0)
    async with embedded(tmp_path, options=options) as sandbox:
        found = await sandbox.client.integrations.list_all(titles=[INTEGRATION])
        (integration,) = [i for i in found if i.title == INTEGRATION]
        made = Setup(
            sandbox,
            tmp_path / "buckets",
            tmp_path / "journal.jsonl",
            str(integration.integration_uuid),
        )
        yield made
        made.close()


def work(setup: Setup, folder: str, rows: tuple[Row, ...]) -> RegisterWork:
    return RegisterWork(
        address=ADDRESS,
        folder=folder,
        integration=setup.integration,
        rows=rows,
        upsert_metadata=False,
    )


def progress(setup: Setup) -> list[RegisterProgress]:
    return [e for e in setup.events if isinstance(e, RegisterProgress)]


@pytest.mark.anyio
async def test_rows_are_registered_in_jobs_and_a_missing_object_fails_only_its_row(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(registration, "JOB_ROWS", 10)
    rows = rows_in(setup.bucket, 25, missing=(7,))
    rows = (*rows, Row("s3://acme-raw/obj/s.dcm", item_type="dicomSeries", source="m.jsonl:26"))
    folder = await setup.folder("batch")
    ctx = setup.context()
    await setup.sandbox.reset_stats()

    outcome = await register_rows(ctx, work(setup, folder, rows))

    assert sorted(outcome.failed) == [7, 25]
    assert "does not exist" in outcome.failed[7]
    assert outcome.failed[25] == "items of type 'dicomSeries' cannot be registered"
    assert sorted(outcome.registered) == [n for n in range(25) if n != 7]
    assert outcome.cancelled == set()
    assert await setup.urls(folder) == sorted(r.url for n, r in enumerate(rows) if n not in (7, 25))
    stats = await setup.sandbox.stats()
    assert stats["POST /v2/public/storage/folders/{uuid}/data-upload-jobs"] == 3
    journal = read_journal(setup.journal_path).uploads[ADDRESS]
    assert journal.open == {} and journal.registered == set(outcome.registered)
    last = progress(setup)[-1]
    assert (last.done, last.errors, last.pending, last.total) == (24, 2, 0, 26)
    assert set(ctx.state.registered[ADDRESS]) == {
        r.url for n, r in enumerate(rows) if n < 25 and n != 7
    }


@pytest.mark.anyio
async def test_sending_the_same_rows_again_registers_nothing_twice(setup: Setup) -> None:
    rows = rows_in(setup.bucket, 5)
    folder = await setup.folder("twice")
    await register_rows(setup.context(), work(setup, folder, rows))
    setup.close()
    setup.journal_path.unlink()  # no journal to help: skipDuplicateUrls alone
    again = await register_rows(setup.context(), work(setup, folder, rows))
    assert sorted(again.registered) == [0, 1, 2, 3, 4]
    assert await setup.urls(folder) == sorted(r.url for r in rows)


@pytest.mark.anyio
async def test_a_stop_cancels_running_jobs_and_resume_registers_the_rest_once(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(registration, "JOB_ROWS", 300)
    rows = rows_in(setup.bucket, 600, prefix="slow")  # 2 ms a unit: 0.6 s a job
    folder = await setup.folder("stopped")
    stop = asyncio.Event()
    ctx = setup.context(stop=stop)

    async def stop_soon() -> None:  # once the first batch of a job is in, before its end
        while not await setup.urls(folder):
            await asyncio.sleep(0.02)
        stop.set()

    outcome, _ = await asyncio.gather(register_rows(ctx, work(setup, folder, rows)), stop_soon())

    assert outcome.cancelled, "the stop came before the jobs ended"
    assert len(outcome.registered) + len(outcome.cancelled) == 600
    assert len(await setup.urls(folder)) == len(outcome.registered)
    stats = await setup.sandbox.stats()
    assert stats["POST /v2/public/storage/folders/{uuid}/data-upload-jobs/{job_uuid}/cancel"] >= 1

    await setup.sandbox.reset_stats()
    resumed = setup.context(resume=True)
    rest = await register_rows(resumed, work(setup, folder, rows))
    assert sorted(rest.registered) == list(range(600)) and not rest.cancelled
    assert await setup.urls(folder) == sorted(r.url for r in rows)  # each exactly once


@pytest.mark.anyio
async def test_resume_waits_for_a_job_an_earlier_run_never_saw_end(setup: Setup) -> None:
    rows = rows_in(setup.bucket, 20, prefix="killed")
    folder = await setup.folder("killed")
    # A run killed right after starting a job for rows 0-9: the start is journaled, no end.
    first = DataUploadItems(
        text=[UploadText(object_url=r.url) for r in rows[:10]], skip_duplicate_urls=True
    )
    job = await setup.sandbox.client.uploads.start(folder, first, integration=setup.integration)
    setup.close()
    with Journal.open(setup.journal_path) as journal:
        journal.upload_started(ADDRESS, str(job), folder, range(10))
    await setup.sandbox.reset_stats()

    outcome = await register_rows(setup.context(resume=True), work(setup, folder, rows))

    assert sorted(outcome.registered) == list(range(20))
    stats = await setup.sandbox.stats()
    assert stats["POST /v2/public/storage/folders/{uuid}/data-upload-jobs"] == 1  # rows 10-19
    assert await setup.urls(folder) == sorted(r.url for r in rows)


def step(folder: str, integration: str, rows: tuple[Row, ...]) -> Step:
    change = Change(
        address=ADDRESS,
        kind=Kind.FOLDER,
        actions=(Action.CREATE,),
        after=cast(Payload, RowsPayload(rows)),
        refs=Refs(folder_uuid=folder, integration_uuid=integration),
    )
    return Step(
        key="0:register", change=change, phase=Phase.CREATE_FOLDERS, actions=(Action.CREATE,)
    )


@pytest.mark.anyio
async def test_the_operation_reports_each_failed_object_with_its_manifest_line(
    setup: Setup,
) -> None:
    rows = rows_in(setup.bucket, 4, prefix="op", missing=(2,))
    folder = await setup.folder("op")
    ctx = setup.context()
    operation = RegisterObjects()
    the_step = step(folder, setup.integration, rows)
    assert (await operation.check(ctx, [the_step])).fresh == [the_step]

    await operation.write(ctx, [the_step])  # done: one object's failure is its own

    (failure,) = ctx.state.row_failures
    assert failure[0] == "item:/batch/0002.txt"
    assert failure[2].startswith("m.jsonl:3: s3://acme-raw/op/0002.txt: ")
    (event,) = [e for e in setup.events if isinstance(e, RowFailed)]
    assert (event.address, event.message) == (failure[0], failure[2])
    assert len(await setup.urls(folder)) == 3


@pytest.mark.anyio
async def test_the_operation_fails_as_interrupted_when_stopped(setup: Setup) -> None:
    rows = rows_in(setup.bucket, 3, prefix="stop")
    stop = asyncio.Event()
    stop.set()
    ctx = setup.context(stop=stop)
    with pytest.raises(StepError, match=r"interrupted: 0 objects of 3 registered, 3 not yet"):
        await RegisterObjects().write(ctx, [step(await setup.folder("s"), setup.integration, rows)])


@pytest.mark.anyio
async def test_a_refused_start_fails_the_chunk_rows(setup: Setup) -> None:
    rows = (Row("s3://acme-raw/x.txt"),)
    outcome = await register_rows(
        setup.context(), work(setup, "00000000-0000-4000-8000-000000000000", rows)
    )
    assert list(outcome.failed) == [0] and "not" in outcome.failed[0].lower()


def mock_context(answers: list[httpx.Response]) -> tuple[RunContext, list[Event]]:
    """A run on a client whose server answers ``answers`` in turn (no journal)."""

    def handler(request: httpx.Request) -> httpx.Response:
        return answers.pop(0)

    client = EncordClient(
        ClientOptions(
            domain="http://mock.local",
            auth=KeyAuth(Ed25519PrivateKey.generate()),
            transport=httpx.MockTransport(handler),
            retry=RetryOptions(max_attempts=1),
        )
    )
    events: list[Event] = []
    ctx = RunContext(
        client=client,
        state=RunState(),
        ownership_id="t",
        resume=False,
        recorder=Recorder(None, events.append),
    )
    return ctx, events


def answer(status: str, **extra: Any) -> httpx.Response:
    body = {
        "status": status, "itemsWithNames": [], "errors": [], "unitsPendingCount": 0,
        "unitsDoneCount": 0, "unitsErrorCount": 0, "unitsCancelledCount": 0, "unitErrors": [],
    }  # fmt: skip
    return httpx.Response(200, json={**body, **extra})


JOB = "55555555-5555-4555-8555-555555555555"
FOLDER = "11111111-2222-4333-8444-555555555555"


@pytest.mark.anyio
async def test_a_job_failing_as_a_whole_fails_the_rows_it_did_not_name() -> None:
    rows = (Row("s3://b/a.txt"), Row("s3://b/c.txt"), Row("s3://b/d.txt"))
    ctx, events = mock_context(
        [
            httpx.Response(200, json=JOB),
            answer("PENDING", unitsPendingCount=3, unitsDoneCount=1),
            answer(
                "ERROR",
                errors=["disk full"],
                itemsWithNames=[{"itemUuid": JOB, "name": "a.txt"}],
                unitErrors=[
                    {"objectUrls": ["s3://b/c.txt", "s3://elsewhere"], "error": "bad\nfile",
                     "subtaskUuid": JOB, "actionDescription": "x"}
                ],
            ),
        ]
    )  # fmt: skip
    outcome = await register_rows(ctx, RegisterWork(
        address=ADDRESS, folder=FOLDER, integration=FOLDER, rows=rows, upsert_metadata=True
    ))  # fmt: skip
    assert outcome.registered == {0: JOB}
    assert outcome.failed == {1: "bad file", 2: "the job failed: disk full"}
    assert [e.done for e in events if isinstance(e, RegisterProgress)] == [1, 1]
    assert ctx.state.registered[ADDRESS] == {"s3://b/a.txt": JOB}
    await ctx.client.aclose()


@pytest.mark.anyio
async def test_a_job_that_cannot_be_polled_fails_its_rows() -> None:
    ctx, _ = mock_context(
        [httpx.Response(200, json=JOB), httpx.Response(404, json={"message": "no such job"})]
    )
    rows = (Row("s3://b/a.txt"),)
    outcome = await register_rows(ctx, RegisterWork(
        address=ADDRESS, folder=FOLDER, integration=FOLDER, rows=rows, upsert_metadata=False
    ))  # fmt: skip
    assert list(outcome.failed) == [0]
    assert outcome.failed[0].startswith(f"data-upload job {JOB}: ")
    await ctx.client.aclose()


@pytest.mark.anyio
async def test_a_fresh_plan_first_waits_for_jobs_a_stopped_run_left_running(setup: Setup) -> None:
    rows = rows_in(setup.bucket, 150, prefix="left")  # 2 ms a unit: 0.3 s
    folder = await setup.folder("left")
    items = DataUploadItems(text=[UploadText(object_url=r.url) for r in rows])
    client = setup.sandbox.client
    job = await client.uploads.start(folder, items, integration=setup.integration)
    with Journal.open(setup.journal_path) as journal:
        journal.upload_started(ADDRESS, str(job), folder, range(150))
        journal.upload_started("register:/gone", str(job), "", range(1))  # no folder: skipped

    waited = await settle_stopped_jobs(client, [read_journal(setup.journal_path)])

    assert waited == 1
    assert len(await setup.urls(folder)) == 150  # all in before the plan reads live
