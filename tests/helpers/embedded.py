"""The apply tests' harness: an embedded sandbox with data, and plan-then-apply through the
real client (in-process, ``httpx.ASGITransport``). Declarations come from ``helpers.desired``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helpers.desired import src
from reconciler.apply import ApplyOptions, ApplyResult, Event, apply_plan
from reconciler.encord import EncordClient
from reconciler.live import Scope, read_live
from reconciler.model.desired import (
    DesiredState,
    Ownership,
    SandboxIntegration,
    SandboxTarget,
    SandboxUser,
    Target,
)
from reconciler.plan import DiffOptions, Plan, diff
from reconciler.sandbox.seed import seed
from reconciler.targets import TargetOptions, connect

OWNER = "apply-tests"


@dataclass
class Sandbox:
    """An embedded sandbox database; ``connect()`` opens a client on it (close it after)."""

    db: Path
    integrations: tuple[SandboxIntegration, ...] = ()
    users: tuple[SandboxUser, ...] = ()
    events: list[Event] = field(default_factory=list)

    @property
    def target(self) -> Target:
        return Target(
            sandbox=SandboxTarget(
                path=str(self.db), integrations=self.integrations, users=self.users
            )
        )

    def connect(self) -> EncordClient:
        return connect(TargetOptions(config=self.target))

    def seed(self, under: str, *, folders: int = 0, items: int = 0) -> None:
        seed(self.db, under=under, folders=folders, items=items)

    def desired(self, **parts: Any) -> DesiredState:
        base: dict[str, Any] = {
            "root_dir": str(self.db.parent),
            "target": self.target,
            "ownership": Ownership(id=OWNER),
            "source": src(1),
        }
        base.update(parts)
        return DesiredState(**base)


def make_sandbox(tmp_path: Path, **fields: Any) -> Sandbox:
    """A fresh embedded sandbox (created on first connect, as ``reconciler apply`` does)."""
    return Sandbox(db=tmp_path / "sandbox.sqlite", **fields)


async def ensure_created(sandbox: Sandbox) -> None:
    """Open and close the embedded sandbox once, so the database and its fixtures exist."""
    async with sandbox.connect():
        pass


async def plan_for(client: EncordClient, desired: DesiredState, **options: Any) -> Plan:
    live = await read_live(client, Scope.from_desired(desired))
    return diff(desired, live, options=DiffOptions(**options))


async def plan_and_apply(
    sandbox: Sandbox, desired: DesiredState, *, journal: Path | None = None, **options: Any
) -> tuple[Plan, ApplyResult]:
    async with sandbox.connect() as client:
        plan = await plan_for(client, desired)
        result = await apply_plan(
            plan,
            client=client,
            options=ApplyOptions(desired=desired, journal=journal, **options),
            emit=sandbox.events.append,
        )
    return plan, result
