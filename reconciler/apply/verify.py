"""Verification: after apply, read the scope again and plan again; a converged run plans
nothing. What a fresh plan still wants is reported one line per change."""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.encord import EncordClient, EncordError
from reconciler.live import Scope, read_live
from reconciler.model.desired import DesiredState
from reconciler.plan import DiffOptions, Plan, PlanError, diff
from reconciler.plan.render_text import headline


@dataclass(frozen=True, slots=True)
class Verification:
    """``remaining``: headlines of what a fresh plan still wants; ``error``: why none was made."""

    remaining: tuple[str, ...] = ()
    error: str | None = None

    @property
    def converged(self) -> bool:
        return self.error is None and not self.remaining


async def verify(client: EncordClient, desired: DesiredState, plan: Plan) -> Verification:
    try:
        live = await read_live(client, Scope.from_desired(desired))
    except EncordError as error:
        return Verification(error=f"cannot read the organisation again to verify: {error}")
    try:
        again = diff(desired, live, options=DiffOptions(force=True, only=plan.only))
    except PlanError as error:
        first = error.diagnostics[0] if error.diagnostics else error
        return Verification(error=f"cannot plan again to verify: {first}")
    problems = tuple(f"! {p}" for p in live.problems)
    return Verification(remaining=tuple(headline(c) for c in again.changes) + problems)
