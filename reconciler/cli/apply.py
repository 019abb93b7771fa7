"""``reconciler apply [PATH | PLANFILE]``: plan (or load a saved plan), confirm, apply, verify.

* ``PATH`` (a config directory, default ``.``): read live, plan, show the plan, ask, apply.
  The plan is kept beside the journal (``PATH/.reconciler/journal/``) so that
  ``apply PATH --resume`` can finish exactly that plan after a crash.
* ``PLANFILE`` (a ``plan --out`` file): its checksum and target must match; its objects are
  checked again before each bundle. The journal lives beside the plan file.

Exit code 0 when everything was applied and a fresh plan is empty (or there was nothing to
do), 1 for anything else. Every error is one line; none is a traceback.
"""

from __future__ import annotations

import asyncio
import sys
import time
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from reconciler.apply import (
    ApplyFinished,
    ApplyOptions,
    TargetMismatchError,
    apply_plan,
    journal_path,
)
from reconciler.apply.cost import with_cost
from reconciler.apply.cost_record import record_path, remember_apply
from reconciler.apply.journal import JournalState, in_flight, unsynced
from reconciler.apply.lock import OrgLock
from reconciler.apply.meanwhile import Meanwhile, Overlapped
from reconciler.apply.registration import settle_stopped_jobs
from reconciler.apply.resume import (
    carry_on,
    done_indices,
    planned_after,
    resumes,
    stopped_runs,
)
from reconciler.cli import apply_planfile
from reconciler.cli.apply_checks import (
    incomplete_read_line,
    invisible_creates,
    invisible_creates_line,
)
from reconciler.cli.apply_lock import apply_lock, heartbeat, lock_flags
from reconciler.cli.apply_planfile import SavedPlan
from reconciler.cli.apply_timing import Laps
from reconciler.cli.apply_views import ApplyView, view_for
from reconciler.cli.common import (
    CommandError,
    connect_client,
    detail_option,
    load_desired,
    make_plan,
    now_iso,
    read_scope,
    run_command,
)
from reconciler.cli.env_flag import env_option
from reconciler.cli.exit_codes import ExitCodeCommand
from reconciler.cli.follow_up import follow_up_approval
from reconciler.cli.interrupts import (
    Progress,
    graceful_stop,
    interrupted_message,
    resume_command,
    terminate_as_interrupt,
)
from reconciler.cli.main import cli
from reconciler.cli.target_flags import target_flags
from reconciler.collector import collector_frozen
from reconciler.encord import EncordClient
from reconciler.live.identity import read_caller
from reconciler.model.desired import DesiredState
from reconciler.model.live import LiveState
from reconciler.plan import (
    DiffOptions,
    Plan,
    can_apply,
)
from reconciler.plan.planfile import JudgedPlan
from reconciler.plan.recheck import refusal_line, unplanned_removals, vouched_for
from reconciler.plan.render_text import Detail

_YAML = (".yaml", ".yml")


@dataclass(frozen=True, slots=True, kw_only=True)
class Request:
    path: Path
    auto_approve: bool
    resume: bool
    force: bool
    takeover: bool
    only: tuple[str, ...]
    target: dict[str, Any]
    lock_timeout: float
    force_unlock: str | None


@cli.command("apply", cls=ExitCodeCommand)
@click.argument("path", default=".", type=click.Path(path_type=Path))
@click.option(
    "--auto-approve", is_flag=True, help="Apply without asking (needed without a terminal)."
)
@click.option("--resume", is_flag=True, help="Finish a run that stopped, from its journal.")
@click.option(
    "--force", is_flag=True, help="Apply a plan that has refusals (thresholds, replacements)."
)
@click.option("--only", multiple=True, metavar="ADDRESS_GLOB", help="Plan only matching changes.")
@click.option(
    "--takeover",
    is_flag=True,
    help="Let adopt: true take objects that another ownership id manages.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: the plan and then every event, one JSON object a line, on stdout.",
)
@detail_option
@lock_flags
@env_option
@target_flags
def apply_command(
    path: Path,
    auto_approve: bool,
    resume: bool,
    force: bool,
    only: tuple[str, ...],
    takeover: bool,
    fmt: str,
    detail: Detail,
    lock_timeout: float,
    force_unlock: str | None,
    **target: Any,
) -> None:
    """Make the organisation match PATH (a config directory, default .) or a saved PLANFILE.

    Shows the plan and asks before changing anything, unless --auto-approve. Exit code 0
    when applied and a fresh plan is empty, 1 otherwise.
    """
    request = Request(
        path=path,
        auto_approve=auto_approve,
        resume=resume,
        force=force,
        takeover=takeover,
        only=only,
        target=target,
        lock_timeout=lock_timeout,
        force_unlock=force_unlock,
    )
    view = view_for(fmt, detail=detail)
    progress = Progress(view)

    def body() -> int:
        try:
            with terminate_as_interrupt():
                return asyncio.run(_apply(request, view, progress))
        except KeyboardInterrupt:  # Ctrl-C or SIGTERM before apply, or a second one during
            environment = request.target.get("environment")
            raise CommandError(interrupted_message(progress, request.path, environment)) from None
        finally:
            view.close()  # stop the bars before any error line is printed

    run_command("apply", body, report=view.error)


# --- the run -------------------------------------------------------------------------------


async def _apply(request: Request, view: ApplyView, progress: Progress) -> int:
    laps = Laps()
    plan_file = _plan_file(request.path)
    # A saved plan is judged (every check that refuses a corrupt or edited file) before
    # anything is written, the lock included; its ``Plan`` is built while the lock confirms.
    judged = apply_planfile.judge_plan(plan_file) if plan_file is not None else None
    laps.lap("judge")
    with collector_frozen():  # a saved plan is alive to the end: out of the collector's walks
        code = await _apply_plan(request, view, progress, plan_file, judged, laps)
    laps.write()
    return code


async def _apply_plan(
    request: Request,
    view: ApplyView,
    progress: Progress,
    plan_file: Path | None,
    judged: JudgedPlan | None,
    laps: Laps,
) -> int:
    environment = _environment(request, judged)
    desired = load_desired(
        apply_planfile.config_dir(request.path, judged), hint="", environment=environment
    )
    journal_dir = plan_file.resolve().parent if plan_file else Path(desired.root_dir)
    client = connect_client(request.target, desired)
    laps.lap("config")
    # What to apply is read and planned while the lock confirms (never a write; thrown
    # away if the lock is not ours: ``apply/meanwhile.py`` says why that is sound).
    ready = Meanwhile(
        lambda: _ready(
            request, client, desired, (judged, plan_file), (journal_dir, environment), laps
        )
    )
    async with client, _locked(client, desired, request, ready) as lock:
        laps.lap("lock")
        laps.add("lock_wait", lock.waited)
        held = time.perf_counter()
        saved, stopped, plan, live, vouching = await ready.result()
        laps.lap("read_plan")  # what was left of reading and planning once the lock was held
        laps.add("overlapped", ready.overlapped(held))  # of the work, inside the lock's wait
        if plan.target != client.target:
            raise _mismatch(plan, client)
        view.plan(plan)
        if saved is None:  # a plan made just now: say which folders were renamed by hand
            view.rename_notes(plan, desired, live)
        if saved is not None:  # the plan names who planned it; say who applies it
            view.caller(live.caller or await read_caller(client))  # the re-check read it
        _check_refusals(plan, request)  # also when nothing is left to do: exit 1, as plan
        if plan.is_empty:
            carry_on(stopped, plan.checksum, at=now_iso(), say=view.note)
            view(ApplyFinished(ok=True, applied=0, failed=0, already_done=0, requests=0, seconds=0))
            return 0
        _confirm(request, view)
        journal = journal_path(journal_dir, plan.checksum, environment=environment)
        exact = carry_on(stopped, plan.checksum, at=now_iso(), say=view.note)
        resume = resumes(saved=saved is not None, requested=request.resume, exact=exact)
        async with heartbeat(journal):
            with graceful_stop(to_stderr=True) as stop:
                result = await apply_plan(
                    plan,
                    client=client,
                    options=ApplyOptions(
                        journal=journal,
                        resume=resume,
                        desired=desired,
                        live=live,
                        # Trust the read only when no one waited at a prompt: after a
                        # confirmation, every bundle re-reads what it will change.
                        read_at=vouching.read_at if request.auto_approve else None,
                        trusted_changes=vouching.changes,
                        stop=stop,
                        before_phase=lock.check,
                        approve_deferred=follow_up_approval(
                            view,
                            auto_approve=request.auto_approve,
                            force=request.force,  # unseen changes: forcing the plan is not enough
                        ),
                    ),
                    emit=progress,
                )
        # what this apply's writes cost, for the next plan's estimate (the cost's line)
        remember_apply(_record(desired), plan, result, target=client.target, now=time.time())
        laps.lap("apply")
    laps.lap("release")
    view.close()
    view.summary(result)
    if result.interrupted:
        raise CommandError(
            f"interrupted: {result.applied} changes were applied and journaled, the rest not "
            f"started; finish the run with `{resume_command(request.path, environment)}`"
        )
    return 0 if result.ok else 1


async def _ready(
    request: Request,
    client: EncordClient,
    desired: DesiredState,
    saved_file: tuple[JudgedPlan | None, Path | None],
    journals: tuple[Path, str | None],
    laps: Laps,
) -> tuple[Plan | None, list[JournalState], Plan, LiveState, Vouching]:
    """The saved plan (built) or None, the stopped runs this one carries on from, and the
    plan to apply with its live state and what that read vouches for (``_the_plan``). Begun
    inside the lock's confirmation delay: reads and CPU only; it may be begun again, or
    thrown away."""
    judged, plan_file = saved_file
    journal_dir, environment = journals
    # Once the lease is written: a run that held the lock before has finished, and one that
    # takes it from us meanwhile makes the lock's confirmation fail (then this is redone).
    stopped = (
        stopped_runs(journal_dir, resume=request.resume, environment=environment)
        if judged is None
        else planned_after(Path(desired.root_dir), judged.created_at, environment=environment)
    )
    if judged is None or plan_file is None:
        return (None, stopped, *await _the_plan(request, client, desired, None, stopped))
    saved = SavedPlan(judged, plan_file, laps)
    try:
        plan, live, vouching = await _the_plan(request, client, desired, saved, stopped)
    finally:
        saved.drop()  # done by then, unless the read failed or this was cancelled
    return saved.plan(), stopped, plan, live, vouching


def _locked(
    client: EncordClient,
    desired: DesiredState,
    request: Request,
    meanwhile: Overlapped,
) -> AbstractAsyncContextManager[OrgLock]:
    return apply_lock(
        client,
        desired.ownership.id,
        timeout=request.lock_timeout,
        force_unlock=request.force_unlock,
        meanwhile=meanwhile,
    )


def _plan_file(path: Path) -> Path | None:
    if path.is_file() and path.suffix.lower() not in _YAML:
        return path
    return None


async def _the_plan(
    request: Request,
    client: EncordClient,
    desired: DesiredState,
    saved: SavedPlan | None,
    stopped: list[JournalState],
) -> tuple[Plan, LiveState, Vouching]:
    """The plan to apply, the live state this process read for it (the plan's own read, or
    for a saved plan the re-check's), and what that read vouches for: a plan made just now,
    all of it; a saved plan, the changes the read saw as the saved plan did (the others are
    re-read before they are written). The re-check's read is also what verification starts
    from (``apply/verify.py``)."""
    if saved is not None:
        _check_saved(request)
        read_at = time.monotonic()
        built, live, vouched = await _recheck(saved, request, client, desired)
        trusted = vouched if request.auto_approve and not request.resume else None
        plan = with_cost(built, client, vouched=trusted, record=_record(desired))
        return plan, live, Vouching(read_at, vouched)
    # Registrations a stopped run left running end first: the plan must see what they made.
    await settle_stopped_jobs(client, stopped)
    read_at = time.monotonic()  # the oldest object in the plan was read after this
    live = await read_scope(client, desired)
    _check_complete(live, request)
    options = DiffOptions(
        force=request.force,
        takeover=request.takeover,
        only=request.only,
        created_at=now_iso(),
        in_flight=in_flight(stopped),
        unsynced=unsynced(stopped),
    )
    # --auto-approve trusts this read: its bundles are not read again (``ApplyOptions``)
    plan = with_cost(
        make_plan(desired, live, options),
        client,
        recheck=not request.auto_approve,
        record=_record(desired),
    )
    return plan, live, Vouching(read_at)


@dataclass(frozen=True, slots=True)
class Vouching:
    """The read a plan is applied on: when it began (``time.monotonic()``) and the changes
    it vouches for (``ApplyOptions.trusted_changes``; None: all, the plan was made from it)."""

    read_at: float
    changes: frozenset[str] | None = None


def _record(desired: DesiredState) -> Path:
    """Where the write factors of past applies are kept: beside the config (the journals
    may sit beside a plan file instead, but a factor belongs to the target, not the plan)."""
    return record_path(Path(desired.root_dir))


async def _recheck(
    building: SavedPlan, request: Request, client: EncordClient, desired: DesiredState
) -> tuple[Plan, LiveState, frozenset[str]]:
    """Refuse a saved plan that removes what the config would not (``plan/recheck.py``):
    the saved plan (``SavedPlan``: built beside the read, or from the fresh plan made
    after it), the live state read to judge it, and the changes that read vouches for."""
    building.begin()
    live = await read_scope(client, desired)
    await building.wait()
    _check_complete(live, request)
    # only its changes are compared with the saved plan's: no checksum needed
    judged = building.judged
    options = DiffOptions(
        force=judged.forced, takeover=judged.takeover, created_at=now_iso(), seal=False
    )
    fresh = make_plan(desired, live, options)
    saved = building.built_from(fresh)
    journal = _journal_of(request.path, saved)
    done = done_indices(journal) if request.resume else set()
    unplanned = unplanned_removals(saved, fresh, done=done)
    if unplanned:
        raise CommandError(refusal_line(unplanned))
    invisible = invisible_creates(saved, fresh)
    if invisible and not request.force:
        raise CommandError(invisible_creates_line(invisible, fresh))
    return saved, live, vouched_for(saved, fresh)


def _check_complete(live: LiveState, request: Request) -> None:
    """Nothing is written from an incomplete read unless forced (``cli/apply_checks.py``)."""
    line = incomplete_read_line(live)
    if line is not None and not request.force:
        raise CommandError(line)


def _journal_of(plan_file: Path, saved: Plan) -> Path:
    return journal_path(plan_file.resolve().parent, saved.checksum, environment=saved.environment)


def _environment(request: Request, saved: JudgedPlan | None) -> str | None:
    """The environment of this run: ``--env`` (or ``RECONCILER_ENV``); for a saved plan, the
    one it was made for, and never another (its changes were reviewed for that one)."""
    requested: str | None = request.target.get("environment")
    if saved is None or requested is None:
        return requested if saved is None else saved.environment
    if requested != saved.environment:
        made_for = (
            f"environment {saved.environment}"
            if saved.environment is not None
            else "a config without environments"
        )
        raise CommandError(
            f"{request.path} was made for {made_for}, not for environment {requested}; make "
            f"a plan for {requested} with `reconciler plan --env {requested} --out FILE`"
        )
    return requested


def _check_saved(request: Request) -> None:
    if request.only:
        raise CommandError("--only shapes a new plan; it cannot be used with a saved plan file")


def _mismatch(plan: Plan, client: EncordClient) -> TargetMismatchError:
    return TargetMismatchError(
        f"the plan was made for {plan.target}, but this apply would write to "
        f"{client.target}; make the plan against {client.target}, or point apply at "
        f"{plan.target}"
    )


def _check_refusals(plan: Plan, request: Request) -> None:
    if not can_apply(plan, force=request.force):
        raise CommandError(
            "the plan has refusals (listed with the plan); resolve them, or pass --force to "
            "apply what the plan holds"
        )


def _confirm(request: Request, view: ApplyView) -> None:
    if request.auto_approve:
        return
    if not sys.stdin.isatty():
        raise CommandError(
            "refusing to apply without confirmation: stdin is not a terminal; review the "
            "plan and pass --auto-approve"
        )
    if not view.confirm("Apply these changes?"):
        raise CommandError("apply cancelled; nothing was changed")
