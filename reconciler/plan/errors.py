"""Errors of the planner, in one place.

::

    PlanError                    the desired state cannot be planned (names that do not
     │                           resolve, rules that never settle); carries every diagnostic
     └─ (none below)
    PlanFileError                a plan document that is not JSON, not a plan, of another
                                 format version, or whose checksum does not match

Refusals are not errors: a plan that would do damage is still a plan, with ``refusals``
saying what was held back and why (see ``reconciler.plan.model.Refusal``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PlanDiagnostic:
    """One problem found while planning, at the YAML (or manifest) position that caused it."""

    file: str
    line: int
    col: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}: {self.message}"


class PlanError(Exception):
    """The desired state cannot be planned; ``diagnostics`` holds every reason, sorted."""

    def __init__(self, diagnostics: list[PlanDiagnostic]) -> None:
        self.diagnostics = sorted(diagnostics, key=lambda d: (d.file, d.line, d.col, d.message))
        super().__init__("\n".join(str(d) for d in self.diagnostics))


class PlanFileError(Exception):
    """A plan document that cannot be trusted or read; the message says what to do."""
