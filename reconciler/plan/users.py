"""Organisation users: add the declared users who are not members, re-role those whose role
or member type differs, and under ``policy.users: authoritative`` remove the live users
who are not declared. Emails are compared without regard to case.

The API has no role update: a re-role removes the user and adds them again, which drops
their group memberships and dataset roles. So the groups and datasets stages plan against
a live state in which a re-roled user holds neither (``project_rerolls``): the memberships
and roles this config declares for them are given back after the re-role, in the same
apply, and those it does not declare are lost (the change's reason says so). Every group
or dataset change that gives a user added or re-roled here a place depends on that user's
change (``with_user_dependencies``), so it is withheld with it and kept by ``--only`` with it.

The safety filters judge these changes (``reconciler.plan.safety.users``): never the
caller, never below ``policy.min_admins``, removals above ``max_user_removal_ratio`` and
re-roles refused unless allowed. A users listing that could not be read plans nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from reconciler.kinds.group import GroupPayload
from reconciler.kinds.user import UserPayload
from reconciler.model import addresses as addr
from reconciler.model.desired import DesiredUser
from reconciler.model.live import LiveState, LiveUser, content_fingerprint
from reconciler.plan.actions import Action
from reconciler.plan.context import Context
from reconciler.plan.describe import field_diff
from reconciler.plan.model import Change, Refs, Refusal


@dataclass(frozen=True, slots=True)
class UserPlan:
    """The user changes, and the lower-cased emails this plan adds and re-roles (what
    the groups and datasets stages plan around)."""

    changes: tuple[Change, ...] = ()
    added: frozenset[str] = frozenset()
    rerolled: frozenset[str] = frozenset()
    refusals: tuple[Refusal, ...] = ()


def plan_users(ctx: Context) -> UserPlan:
    desired, live = ctx.desired, ctx.live
    authoritative = desired.policy.users == "authoritative"
    if not desired.users and not authoritative:
        return UserPlan()
    if not live.users_complete:
        return UserPlan(refusals=(_unread(),))
    members = {email.lower(): user for email, user in live.users.items()}
    changes: list[Change] = []
    for email in sorted(desired.users):
        change = _declared(live, desired.users[email], members.get(email))
        if change is not None:
            changes.append(change)
    if authoritative:
        changes += [
            _remove(ctx, user)
            for email, user in sorted(members.items())
            if email not in desired.users
        ]
    rerolled = [c for c in changes if c.actions == (Action.REVOKE, Action.GRANT)]
    return UserPlan(
        changes=tuple(changes),
        added=frozenset(_email(c) for c in changes if c.actions == (Action.GRANT,)),
        rerolled=frozenset(_email(c) for c in rerolled),
    )


def _email(change: Change) -> str:
    return (change.refs.email or "").lower()


def _unread() -> Refusal:
    return Refusal(
        code="listing-guard",
        message=(
            "the organisation users listing could not be read, so no user is added, re-roled "
            "or removed (a missing listing is not an empty organisation); run with a key of "
            "an organisation admin"
        ),
    )


def user_view(user: LiveUser) -> UserPayload:
    return UserPayload(user.email, user.role, user.member_type)


def _declared(state: LiveState, user: DesiredUser, live: LiveUser | None) -> Change | None:
    source = str(user.source)
    if live is None:
        after = UserPayload(user.email, user.role, user.member_type)
        return Change(
            address=addr.user(user.email),
            kind=addr.Kind.USER,
            actions=(Action.GRANT,),
            after=after,
            diff=field_diff(None, {"role": user.role, "type": user.member_type}),
            source=source,
            reason=f"declared {_role(after)}, not a member of the organisation",
            refs=Refs(email=user.email),
        )
    before = user_view(live)
    after = UserPayload(live.email, user.role, user.member_type)
    if (before.role, before.type) == (after.role, after.type):
        return None
    return Change(
        address=addr.user(user.email),
        kind=addr.Kind.USER,
        actions=(Action.REVOKE, Action.GRANT),
        before=before,
        after=after,
        diff=field_diff(before, after),
        source=source,
        reason=(
            f"declared {_role(after)}, live {_role(before)}: the API cannot change a role, so "
            "apply removes the user and adds them again, and what this config declares for "
            "them is given back" + _leaves(state, live.email)
        ),
        fingerprint=content_fingerprint(before.encode()),
        refs=Refs(email=live.email),
    )


def _role(user: UserPayload) -> str:
    return f"{user.role} ({user.type})"


def _remove(ctx: Context, user: LiveUser) -> Change:
    before = user_view(user)
    source = ctx.desired.users_policy_source
    return Change(
        address=addr.user(user.email),
        kind=addr.Kind.USER,
        actions=(Action.REVOKE,),
        before=before,
        diff=field_diff({"role": before.role, "type": before.type}, None),
        source=None if source is None else str(source),
        reason=(
            f"{_role(before)}, not declared; policy.users: authoritative removes them"
            + _leaves(ctx.live, user.email)
        ),
        fingerprint=content_fingerprint(before.encode()),
        refs=Refs(email=user.email),
    )


def _leaves(live: LiveState, email: str) -> str:
    """What the API takes away with the membership (that the reader saw)."""
    folded = email.lower()
    groups = sorted(g.name for g in live.groups.values() if _holds(g.members, folded))
    datasets = sorted(d.title for d in live.datasets.values() if _holds(d.users, folded))
    places = [f"group {n!r}" for n in groups] + [f"dataset {t!r}" for t in datasets]
    held = f"; the API also takes them out of {', '.join(places)}" if places else ""
    return held + "; unassigning their work is scheduled"


def _holds(emails: Iterable[str], folded: str) -> bool:
    return any(e.lower() == folded for e in emails)


def rerole_warnings(changes: Iterable[Change]) -> list[str]:
    """One warning per re-role the plan holds (after safety): what the API will do."""
    return [
        f"{change.address} is re-roled: the Encord API removes the user from the "
        "organisation and adds them again, which unassigns their work and drops the group "
        "memberships and dataset roles this config does not declare"
        for change in changes
        if change.kind == addr.Kind.USER and change.actions == (Action.REVOKE, Action.GRANT)
    ]


# --- what the other stages see -------------------------------------------------------------


def project_rerolls(live: LiveState, rerolled: frozenset[str]) -> LiveState:
    """``live`` as it will be once the re-roles ran: the re-roled users in no group and on
    no dataset (the removal takes them out; the add does not put them back)."""
    groups = {
        h: replace(g, members=tuple(m for m in g.members if m.lower() not in rerolled))
        for h, g in live.groups.items()
    }
    datasets = {u: replace(d, users=_without(d.users, rerolled)) for u, d in live.datasets.items()}
    return replace(live, groups=groups, datasets=datasets)


def _without(roles: Mapping[str, str], emails: frozenset[str]) -> dict[str, str]:
    return {e: r for e, r in roles.items() if e.lower() not in emails}


def with_user_dependencies(changes: Sequence[Change], users: UserPlan) -> list[Change]:
    """Group and dataset changes that give a user this plan adds or re-roles a place
    depend on that user's change."""
    placed = users.added | users.rerolled
    if not placed:
        return list(changes)
    return [_depending(change, placed) for change in changes]


def _depending(change: Change, placed: frozenset[str]) -> Change:
    if change.kind == addr.Kind.GROUP and change.after is not None:
        before = {m.lower() for m in GroupPayload.of(change.before).members}
        emails = {m.lower() for m in GroupPayload.of(change.after).members} - before
    elif change.kind == addr.Kind.DATASET_USER and Action.GRANT in change.actions:
        emails = {(change.refs.email or "").lower()}
    else:
        return change
    needed = tuple(addr.user(e) for e in sorted(emails & placed))
    extra = tuple(a for a in needed if a not in change.depends_on)
    return replace(change, depends_on=(*change.depends_on, *extra)) if extra else change
