"""Where a desired state names groups and users, and the "did you mean" hint for a name that
does not resolve: shared by ``validate`` (offline, against an embedded sandbox) and ``plan``
(against the live organisation), so both say the same thing at the same ``file:line``."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator

from reconciler.model.desired import DesiredState, Source

# Emails share their domain, so a looser cutoff would offer bob@x.com for alice@x.com.
EMAIL_CUTOFF = 0.85


def did_you_mean(word: str, choices: Iterable[str], *, cutoff: float = 0.6) -> str:
    """`` (did you mean 'x'?)`` for the closest choice (a case-insensitive equal first), or ""."""
    import difflib  # here: only a config with a mistake needs a hint

    options = sorted(set(choices))
    folded = [c for c in options if c.lower() == word.lower() and c != word]
    close = folded or difflib.get_close_matches(word, options, n=1, cutoff=cutoff)
    return f" (did you mean {close[0]!r}?)" if close else ""


def group_uses(desired: DesiredState) -> Iterator[tuple[str, Source]]:
    """Every group name a role or a declaration uses, with where it is written."""
    for folder in desired.folders.values():
        for name in folder.groups or {}:
            yield name, folder.field_sources.get("groups", folder.source)
    for dataset in desired.datasets.values():
        for name in dataset.groups or {}:
            yield name, dataset.source
    for name, group in desired.groups.items():
        yield name, group.source


def email_uses(desired: DesiredState) -> Iterator[tuple[str, Source, str]]:
    """Every email a group's members or a dataset's users name: (email, where, as what)."""
    for group in desired.groups.values():
        for email in group.members or ():
            yield email, group.source, f"member of group {group.name!r}"
    for dataset in desired.datasets.values():
        for email in dataset.users or {}:
            yield email, dataset.source, f"user of dataset {dataset.title!r}"


def email_problem(
    desired: DesiredState, email: str, role: str, organisation: Collection[str], where: str
) -> str | None:
    """Why a member's or dataset user's ``email`` cannot be used, or None: it must be a
    declared user or one of ``organisation``'s (lower-cased emails; ``where`` names the
    organisation), and under ``policy.users: authoritative`` a declared one (an undeclared
    user is removed by the same plan)."""
    folded = email.lower()
    if folded in desired.users:
        return None
    if folded in organisation:
        if desired.policy.users != "authoritative":
            return None
        return (
            f"{email} ({role}) is not declared under 'users:', and policy.users: "
            "authoritative removes undeclared users from the organisation; declare them"
        )
    hint = did_you_mean(folded, {*organisation, *desired.users}, cutoff=EMAIL_CUTOFF)
    return f"{email} ({role}) is not a user of {where}; declare them under 'users:'{hint}"
