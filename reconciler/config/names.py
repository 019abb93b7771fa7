"""Names a config uses that ``validate`` can check without the network: the groups in roles
and the emails of members and dataset users, against an embedded sandbox target.

A sandbox target is a local file, so its organisation is known offline: the groups and
active users in its database (read-only, never created or migrated here), plus the fixture
users ``target.sandbox.users`` declares (they are added when the sandbox is opened). A
database that does not exist yet holds only its admin. For a real organisation these names
are live, and ``plan`` resolves them (``reconciler.plan.resolve``) with the same hints.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reconciler.config.errors import Diagnostic
from reconciler.model.desired import DesiredState, SandboxTarget, Source
from reconciler.model.names import did_you_mean, email_problem, email_uses, group_uses

SANDBOX_ADMIN = "admin@sandbox.local"  # what a new sandbox database is created with


@dataclass(frozen=True, slots=True)
class KnownNames:
    """The organisation's group names and user emails (lower-cased: Encord matches emails
    without regard to case)."""

    groups: frozenset[str]
    emails: frozenset[str]


def sandbox_names(target: SandboxTarget) -> KnownNames | None:
    """The sandbox's names, or None when its database cannot be read (then nothing is
    checked here; ``plan`` will say what is wrong)."""
    fixtures = {u.email.lower() for u in target.users}
    path = Path(target.path)
    if not path.exists():
        return KnownNames(frozenset(), frozenset(fixtures | {SANDBOX_ADMIN}))
    import sqlite3  # here: validating against a sandbox not created yet needs no sqlite3

    try:
        conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
        try:
            groups = {str(r[0]) for r in conn.execute("SELECT name FROM groups")}
            emails = {
                str(r[0]).lower() for r in conn.execute("SELECT email FROM users WHERE active = 1")
            }
        finally:
            conn.close()
    except sqlite3.Error:
        return None
    return KnownNames(frozenset(groups), frozenset(emails | fixtures))


def name_problems(desired: DesiredState, known: KnownNames) -> list[Diagnostic]:
    """Groups in roles that are neither declared nor in the organisation, and members or
    dataset users who are neither declared users nor users of it, each with a "did you
    mean" when one is close (``reconciler.model.names.email_problem``)."""
    problems = []
    groups = known.groups | set(desired.groups)
    for name, source in group_uses(desired):
        if name not in groups:
            message = f"unknown group {name!r}: declare it under 'groups:'" + did_you_mean(
                name, groups
            )
            problems.append(_at(source, message))
    for email, source, role in email_uses(desired):
        problem = email_problem(desired, email, role, known.emails, "the sandbox organisation")
        if problem is not None:
            problems.append(_at(source, problem))
    return problems


def _at(source: Source, message: str) -> Diagnostic:
    return Diagnostic(source.file, source.line, source.col, message)
