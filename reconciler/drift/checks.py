"""Declared objects as checks (JUnit test cases), and which check a planned change fails.

Every declared object is one check: organisation users, folders, their grants, groups,
organisation tags, datasets, their grants and users, the links of each dataset (all its
selectors together), collections and their members (all selectors together), each metadata
rule, each manifest, the metadata schema, and ``policy:prune`` for undeclared objects that
prune would delete (what ``reconciler.yaml``'s policy says may not exist).
"""

from __future__ import annotations

from collections import Counter

from reconciler.drift.model import Check, DriftReport
from reconciler.kinds import spec_of
from reconciler.model import addresses as addr
from reconciler.model.addresses import is_under
from reconciler.model.desired import DesiredState, MetadataRule
from reconciler.plan.model import Change, Refusal

POLICY = "policy:prune"


def links_check(title: str) -> str:
    return f"links:{title}"


def members_check(name: str) -> str:
    return f"members:{name}"


def _rule_ids(rules: tuple[MetadataRule, ...]) -> list[str]:
    per_folder = Counter(rule.folder for rule in rules)
    seen: Counter[str] = Counter()
    out = []
    for rule in rules:
        seen[rule.folder] += 1
        suffix = f"#{seen[rule.folder]}" if per_folder[rule.folder] > 1 else ""
        out.append(f"rule:{rule.folder}{suffix}")
    return out


def declared_checks(desired: DesiredState) -> tuple[Check, ...]:
    out: list[Check] = []
    if desired.metadata_schema is not None:
        out.append(
            Check(
                addr.METADATA_SCHEMA, addr.Kind.METADATA_SCHEMA, str(desired.metadata_schema.source)
            )
        )
    for email in sorted(desired.users):
        user = desired.users[email]
        out.append(Check(addr.user(email), addr.Kind.USER, str(user.source)))
    for name in sorted(desired.groups):
        out.append(Check(addr.group(name), addr.Kind.GROUP, str(desired.groups[name].source)))
    for name, tag in sorted((desired.organisation_tags or {}).items()):
        out.append(Check(addr.organisation_tag(name), addr.Kind.ORGANISATION_TAG, str(tag.source)))
    for path in sorted(desired.folders):
        folder = desired.folders[path]
        out.append(Check(addr.folder(path), addr.Kind.FOLDER, str(folder.source)))
        grants = str(folder.field_sources.get("groups", folder.source))
        for group in sorted(folder.groups or {}):
            out.append(Check(addr.folder_group(path, group), addr.Kind.FOLDER_GROUP, grants))
    for title in sorted(desired.datasets):
        out.extend(_dataset_checks(desired, title))
    for name in sorted(desired.collections):
        collection = desired.collections[name]
        source = str(collection.source)
        out.append(Check(addr.collection(name), addr.Kind.COLLECTION, source))
        first = str(collection.items[0].source) if collection.items else source
        out.append(Check(members_check(name), "members", first, f"items in collection {name}"))
    for check_id, rule in zip(_rule_ids(desired.rules), desired.rules, strict=True):
        where = f"{rule.folder}{' and below' if rule.recursive else ''}"
        out.append(Check(check_id, "rule", str(rule.source), f"metadata rule on {where}"))
    for manifest in desired.manifests:
        out.append(
            Check(f"manifest:{manifest.file}", "manifest", str(manifest.source), "item manifest")
        )
    out.append(
        Check(
            POLICY,
            "policy",
            str(desired.source),
            f"no undeclared objects that prune ({desired.policy.prune}) would delete",
        )
    )
    return tuple(out)


def _dataset_checks(desired: DesiredState, title: str) -> list[Check]:
    dataset = desired.datasets[title]
    source = str(dataset.source)
    out = [Check(addr.dataset(title), addr.Kind.DATASET, source)]
    for group in sorted(dataset.groups or {}):
        out.append(Check(addr.dataset_group(title, group), addr.Kind.DATASET_GROUP, source))
    for email in sorted(dataset.users or {}):
        out.append(Check(addr.dataset_user(title, email), addr.Kind.DATASET_USER, source))
    first = str(dataset.items[0].source) if dataset.items else source
    out.append(Check(links_check(title), "links", first, f"items linked into {title}"))
    return out


class CheckIndex:
    """Finds the check a planned change fails (``check_for``)."""

    def __init__(self, desired: DesiredState, checks: tuple[Check, ...]) -> None:
        self._desired = desired
        self._ids = {c.id for c in checks}
        self._folded = {c.id.casefold(): c.id for c in checks}
        rule_ids = _rule_ids(desired.rules)
        self._by_source = {str(r.source): i for i, r in zip(rule_ids, desired.rules, strict=True)}
        self._manifests = {m.file: f"manifest:{m.file}" for m in desired.manifests}
        self._rules = list(zip(rule_ids, desired.rules, strict=True))

    def has(self, check_id: str) -> bool:
        return check_id in self._ids

    def check_for(self, change: Change) -> str:
        if change.is_delete:
            return POLICY
        if change.address in self._ids:
            return change.address
        folded = self._folded.get(change.address.casefold())
        if folded is not None:  # emails are matched without regard to case
            return folded
        route = spec_of(change.kind).check
        owner = addr.Address.parse(change.address).key
        if route == "folder":
            return self._declared_below(owner)
        if route == "dataset":
            return addr.dataset(owner)
        if route == "links":
            return links_check(owner)
        if route == "members":
            return members_check(owner)
        if route == "item":
            return self._item_check(change)
        return POLICY

    def _declared_below(self, path: str) -> str:
        """The declared folder at ``path``, else the first declared one below it (a missing
        undeclared parent is missing because of it)."""
        if path in self._desired.folders:
            return addr.folder(path)
        below = sorted(p for p in self._desired.folders if is_under(p, path))
        return addr.folder(below[0]) if below else POLICY

    def _item_check(self, change: Change) -> str:
        source = change.source or ""
        if source in self._by_source:
            return self._by_source[source]
        manifest = self._manifests.get(source.rsplit(":", 1)[0])
        if manifest is not None:
            return manifest
        path = addr.Address.parse(change.address).path or ""
        folder = path.rsplit("/", 1)[0]
        for check_id, rule in self._rules:
            if folder == rule.folder or (rule.recursive and is_under(folder, rule.folder)):
                return check_id
        if self._manifests:
            return next(iter(self._manifests.values()))
        return POLICY


def refusal_checks(refusal: Refusal, ids: set[str]) -> set[str]:
    """The checks a refusal fails: those it names, else the policy check."""
    named = {a for a in refusal.addresses if a in ids}
    return named or {POLICY}


def failing_checks(report: DriftReport) -> set[str]:
    """Ids of the checks that fail: drifted, or named by a refusal."""
    ids = {c.id for c in report.checks}
    out = {d.check for d in report.drift}
    for refusal in report.refusals:
        out |= refusal_checks(refusal, ids) & ids
    return out
