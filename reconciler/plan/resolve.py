"""Resolve the names a config uses (groups, integrations, datasets, user emails) to live ids.

Every name that does not resolve is a diagnostic at the ``file:line`` that used it; all are
collected and raised together as one ``PlanError``. A group declared in the config resolves
even when it does not exist live yet: this plan creates it (its hash is then ``None``).
Live names that are not unique (two groups or datasets with one name) cannot be resolved
safely and are diagnostics too. Emails are checked only when the organisation's user list
was read (``live.users`` non-empty); a declared user (``users:``) resolves too.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from reconciler.errors import Diagnostic
from reconciler.model.desired import DesiredState, Source
from reconciler.model.live import LiveDataset, LiveState
from reconciler.model.names import did_you_mean, email_problem, email_uses, group_uses
from reconciler.plan.errors import PlanError


@dataclass(frozen=True, slots=True)
class Resolved:
    groups: Mapping[str, str | None]  # group name -> live hash (None: created by this plan)
    group_names: Mapping[str, str]  # live hash -> name, or "name#hash" when names repeat
    integrations: Mapping[str, str]  # title or UUID as written -> integration UUID
    integration_titles: Mapping[str, str]  # UUID -> title
    datasets: Mapping[str, LiveDataset | None]  # declared title -> live dataset
    emails: Mapping[str, str]  # email as declared -> live spelling


def resolve(desired: DesiredState, live: LiveState) -> Resolved:
    """Resolve every name in ``desired`` or raise ``PlanError`` with all diagnostics."""
    problems: list[Diagnostic] = []
    groups = _resolve_groups(desired, live, problems)
    integrations = _resolve_integrations(desired, live, problems)
    datasets = _resolve_datasets(desired, live, problems)
    emails = _resolve_emails(desired, live, problems)
    if problems:
        raise PlanError(problems, root=desired.root_dir)
    return Resolved(
        groups=groups,
        group_names=_group_labels(live),
        integrations=integrations,
        integration_titles={i.uuid: i.title for i in live.integrations.values()},
        datasets=datasets,
        emails=emails,
    )


def _group_labels(live: LiveState) -> dict[str, str]:
    """The name addresses use for each live group; a repeated name gets ``#hash``."""
    counts: dict[str, int] = defaultdict(int)
    for group in live.groups.values():
        counts[group.name] += 1
    return {
        g.hash: g.name if counts[g.name] == 1 else f"{g.name}#{g.hash}"
        for g in live.groups.values()
    }


def _at(source: Source, message: str) -> Diagnostic:
    return Diagnostic(source.file, source.line, source.col, message)


def _by_name(names: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for name, ident in names:
        out[name].append(ident)
    return out


def _resolve_groups(
    desired: DesiredState, live: LiveState, problems: list[Diagnostic]
) -> dict[str, str | None]:
    live_names = _by_name((g.name, g.hash) for g in live.groups.values())
    out: dict[str, str | None] = {}
    for name, source in group_uses(desired):
        hashes = sorted(live_names.get(name, ()))
        if len(hashes) > 1:
            problems.append(
                _at(
                    source,
                    f"group {name!r} matches {len(hashes)} live groups ({', '.join(hashes)}); "
                    "rename one of them in Encord so the name is unique",
                )
            )
        elif hashes:
            out[name] = hashes[0]
        elif name in desired.groups:
            out[name] = None
        else:
            hint = did_you_mean(name, [*live_names, *desired.groups])
            problems.append(
                _at(
                    source,
                    f"unknown group {name!r}: declare it under 'groups:' or create it in Encord"
                    + hint,
                )
            )
    return out


def _resolve_integrations(
    desired: DesiredState, live: LiveState, problems: list[Diagnostic]
) -> dict[str, str]:
    by_title = _by_name((i.title, i.uuid) for i in live.integrations.values())
    out: dict[str, str] = {}
    declared = [
        (use.integration, use.source)
        for folder in desired.folders.values()
        for use in (folder.cloud_sync, folder.registration)
        if use is not None
    ]
    for written, source in declared:
        if written in out:
            continue
        if written in live.integrations:
            out[written] = written
            continue
        uuids = sorted(by_title.get(written, ()))
        if len(uuids) == 1:
            out[written] = uuids[0]
        elif uuids:
            problems.append(
                _at(
                    source,
                    f"integration title {written!r} matches {len(uuids)} integrations "
                    f"({', '.join(uuids)}); use the integration UUID instead",
                )
            )
        else:
            hint = did_you_mean(written, by_title)
            known = hint or f" (known: {', '.join(sorted(by_title)) or 'none'})"
            problems.append(_at(source, f"unknown cloud integration {written!r}{known}"))
    return out


def _resolve_datasets(
    desired: DesiredState, live: LiveState, problems: list[Diagnostic]
) -> dict[str, LiveDataset | None]:
    by_title = _by_name((d.title, d.uuid) for d in live.datasets.values())
    out: dict[str, LiveDataset | None] = {}
    for title, ds in desired.datasets.items():
        uuids = sorted(by_title.get(title, ()))
        if len(uuids) > 1:
            problems.append(
                _at(
                    ds.source,
                    f"dataset title {title!r} matches {len(uuids)} live datasets "
                    f"({', '.join(uuids)}); rename one of them in Encord so the title is unique",
                )
            )
        else:
            out[title] = live.datasets[uuids[0]] if uuids else None
    return out


def _resolve_emails(
    desired: DesiredState, live: LiveState, problems: list[Diagnostic]
) -> dict[str, str]:
    """Each member's or dataset user's email as it will be live: the live spelling, or the
    declared (lower-cased) one for a user this plan adds."""
    folded = {email.lower(): email for email in live.users}
    out: dict[str, str] = {}
    for email, source, role in email_uses(desired):
        if not live.users:  # not read: nothing to check against
            out[email] = email.lower() if email.lower() in desired.users else email
            continue
        message = email_problem(desired, email, role, folded, "this organisation")
        if message is not None:
            problems.append(_at(source, message))
        else:
            out[email] = folded.get(email.lower(), email.lower())
    return out
