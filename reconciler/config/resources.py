"""Resources of every file, merged into models: folders, groups, users, item rules and
manifests, datasets, organisation tags and the metadata schema.

Files are merged in a fixed order (``reconciler.yaml`` first, then the others by path), so
the merged state and the order of rules are the same on every machine. A resource declared
twice is reported at the second declaration, naming the first. A resource whose data has a
schema error is not built (the schema error already says what is wrong).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from reconciler.config.context import Context, ParsedFile
from reconciler.config.metadata import SchemaIndex, descriptor
from reconciler.config.positions import YamlDoc
from reconciler.model.desired import (
    Claim,
    CloudSync,
    DesiredCollection,
    DesiredDataset,
    DesiredFolder,
    DesiredGroup,
    DesiredTag,
    DesiredUser,
    ItemMatch,
    ItemSelector,
    Manifest,
    MetadataRule,
    MetadataSchema,
    Registration,
    Sidecars,
    Source,
)


@dataclass(slots=True)
class Resources:
    """The declarations of every resource file, gathered."""

    folders: dict[str, DesiredFolder] = field(default_factory=dict)
    groups: dict[str, DesiredGroup] = field(default_factory=dict)
    rules: list[MetadataRule] = field(default_factory=list)
    manifests: list[Manifest] = field(default_factory=list)
    datasets: dict[str, DesiredDataset] = field(default_factory=dict)
    collections: dict[str, DesiredCollection] = field(default_factory=dict)
    metadata_schema: MetadataSchema | None = None
    users: dict[str, DesiredUser] = field(default_factory=dict)  # lower-cased email -> user
    organisation_tags: dict[str, DesiredTag] | None = None  # None: no file declares any


def build_metadata_schema(files: list[ParsedFile], ctx: Context) -> MetadataSchema | None:
    """The one ``metadata_schema`` (any file may hold it; two is an error)."""
    found: MetadataSchema | None = None
    for parsed in files:
        data = parsed.doc.data
        if not isinstance(data, dict) or not isinstance(data.get("metadata_schema"), dict):
            continue
        source = parsed.doc.source(("metadata_schema",))
        if found is not None:
            ctx.report_at(
                source, f"metadata_schema is declared twice (also at {found.source.position()})"
            )
            continue
        keys = {
            key: descriptor(spec)
            for key, spec in data["metadata_schema"].items()
            if not parsed.skipped(("metadata_schema", key))
        }
        found = MetadataSchema(keys=keys, source=source)
    if found is not None:
        ctx.schema = SchemaIndex(found.keys, str(found.source))
    return found


def build_resources(files: list[ParsedFile], ctx: Context) -> Resources:
    out = Resources()
    for parsed in files:
        data = parsed.doc.data
        if not isinstance(data, dict) or () in parsed.bad:
            continue
        _each(parsed, data, "folders", ctx, out.folders, _folder)
        _each(parsed, data, "groups", ctx, out.groups, _group)
        _each(parsed, data, "datasets", ctx, out.datasets, _dataset)
        _each(parsed, data, "collections", ctx, out.collections, _collection)
        _users(parsed, data, ctx, out.users)
        _tags(parsed, data, ctx, out)
        items = data.get("items")
        for index, entry in enumerate(items if isinstance(items, list) else ()):
            if parsed.skipped(("items", index)) or not isinstance(entry, dict):
                continue
            if "manifest" in entry:
                manifest = _manifest(parsed.doc, index, entry, ctx)
                if manifest is not None:
                    out.manifests.append(manifest)
            else:
                rule = _rule(parsed.doc, index, entry, ctx)
                if rule is not None:
                    out.rules.append(rule)
    return out


_KIND = {
    "folders": "folder",
    "groups": "group",
    "datasets": "dataset",
    "collections": "collection",
}


def _each(
    parsed: ParsedFile,
    data: dict[str, Any],
    section: str,
    ctx: Context,
    into: dict[str, Any],
    build: Callable[[YamlDoc, str, dict[str, Any], Context], Any],
) -> None:
    entries = data.get(section)
    if not isinstance(entries, dict):  # None, or a schema error already reported
        return
    for key, spec in entries.items():
        if parsed.skipped((section, key)):
            continue
        model = build(parsed.doc, key, spec or {}, ctx)
        if model is None:
            continue
        first = into.get(key)
        if first is not None:
            message = (
                f"{_KIND[section]} {key} is declared twice (also at {first.source.position()})"
            )
            ctx.report(parsed.doc, (section, key), message, at_key=True)
            continue
        into[key] = model


def _users(
    parsed: ParsedFile, data: dict[str, Any], ctx: Context, into: dict[str, DesiredUser]
) -> None:
    """``users:``: ``email: role`` or ``email: {role, type}``. Emails are one user whatever
    their case, so ``Maya@x`` in one file and ``maya@x`` in another are declared twice."""
    entries = data.get("users")
    if not isinstance(entries, dict):  # None, or a schema error already reported
        return
    for email, spec in entries.items():
        if parsed.skipped(("users", email)):
            continue
        user = _user(parsed.doc, email, spec, ctx)
        first = into.get(user.email)
        if first is not None:
            message = f"user {email} is declared twice (also at {first.source.position()})"
            ctx.report(parsed.doc, ("users", email), message, at_key=True)
            continue
        into[user.email] = user


def _user(doc: YamlDoc, email: str, spec: str | dict[str, Any], ctx: Context) -> DesiredUser:
    long: dict[str, Any] = spec if isinstance(spec, dict) else {"role": spec}
    user = DesiredUser(
        email=email.lower(),
        role=long["role"].upper(),
        member_type=long.get("type", "internal"),
        source=doc.source(("users", email)),
    )
    if user.role == "ADMIN" and user.member_type != "internal":
        ctx.report(
            doc,
            ("users", email),
            f"user {email}: an organisation admin must be internal (the Encord API refuses "
            "external admins); remove 'type: external' or give another role",
            at_key=True,
        )
    return user


def _tags(parsed: ParsedFile, data: dict[str, Any], ctx: Context, out: Resources) -> None:
    """``organisation_tags: {name: description}``; several files may each declare some."""
    entries = data.get("organisation_tags")
    if not isinstance(entries, dict):  # absent, or a schema error already reported
        return
    tags = out.organisation_tags = out.organisation_tags or {}
    for name, description in entries.items():
        if parsed.skipped(("organisation_tags", name)):
            continue
        source = parsed.doc.source(("organisation_tags", name))
        first = tags.get(name)
        if first is not None:
            message = (
                f"organisation tag {name} is declared twice (also at {first.source.position()})"
            )
            ctx.report(parsed.doc, ("organisation_tags", name), message, at_key=True)
            continue
        tags[name] = DesiredTag(name=name, description=description, source=source)


def _folder(doc: YamlDoc, path: str, spec: dict[str, Any], ctx: Context) -> DesiredFolder | None:
    base = ("folders", path)
    sources = {name: doc.source((*base, name)) for name in spec}
    ok = ctx.check_path(doc, base, path, at_key=True)
    previously, previously_ok = _previously(doc, base, spec.get("previously", ()), ctx)
    ok = ctx.check_globs(doc, (*base, "owned_keys"), spec.get("owned_keys", ())) and ok
    metadata = spec.get("metadata")
    if metadata is not None:
        ok = ctx.check_metadata(doc, (*base, "metadata"), metadata, to_set=True) and ok
    register = None
    if spec.get("register") is not None:
        register = _registration(doc, (*base, "register"), spec["register"], ctx)
        ok = register is not None and ok
    claim, claim_ok = _claim(doc, base, spec, ctx)
    if not (ok and previously_ok and claim_ok):
        return None
    cloud = spec.get("cloud_sync")
    return DesiredFolder(
        path=path,
        description=spec.get("description"),
        metadata=None if metadata is None else dict(metadata),
        metadata_mode=spec.get("metadata_mode", "merge"),
        owned_keys=tuple(spec.get("owned_keys", ())),
        groups=None if spec.get("groups") is None else dict(spec["groups"]),
        previously=previously,
        cloud_sync=None if cloud is None else _cloud_sync(cloud, sources["cloud_sync"]),
        registration=register,
        claim=claim,
        source=doc.source(base),
        field_sources=sources,
    )


def _previously(
    doc: YamlDoc, base: tuple[Any, ...], value: str | list[str], ctx: Context
) -> tuple[tuple[str, ...], bool]:
    """``previously:`` is one path or a list of them."""
    if isinstance(value, str):
        return (value,), ctx.check_path(doc, (*base, "previously"), value)
    ok = True
    for index, previous in enumerate(value):
        ok = ctx.check_path(doc, (*base, "previously", index), previous) and ok
    return tuple(value), ok


def _cloud_sync(spec: dict[str, Any], source: Source) -> CloudSync:
    sidecars = spec.get("metadata_sidecars")
    return CloudSync(
        integration=spec["integration"],
        remote_url=spec["remote_url"],
        sync=spec.get("sync", "on_create"),
        metadata_sidecars=None if sidecars is None else Sidecars(**sidecars),
        source=source,
    )


def _registration(
    doc: YamlDoc, path: tuple[Any, ...], spec: dict[str, Any], ctx: Context
) -> Registration | None:
    found = ctx.resolve_file(doc, (*path, "manifest"), spec["manifest"])
    if found is None:
        return None
    from reconciler.config.registration import read_register_manifest  # only if one is declared

    rows, problems = read_register_manifest(found[0], found[1], ctx.schema)
    ctx.diagnostics.extend(problems)
    return Registration(
        integration=spec["integration"],
        manifest=found[1],
        metadata=spec.get("metadata", "upsert"),
        prune=spec.get("prune", "never"),
        rows=rows,
        source=doc.source(path),
    )


def _claim(
    doc: YamlDoc, base: tuple[str, str], spec: dict[str, Any], ctx: Context
) -> tuple[Claim | None, bool]:
    """``adopt: true`` or ``release: true`` (not both: they undo each other)."""
    adopt, release = spec.get("adopt") is True, spec.get("release") is True
    if adopt and release:
        ctx.report(
            doc,
            (*base, "release"),
            "adopt and release undo each other; keep adopt to make it ours, release to let go",
            at_key=True,
        )
        return None, False
    return ("adopt" if adopt else "release" if release else None), True


_DATASET_CLAIMS = {
    "adopt": (
        "a dataset cannot be adopted: the Encord API cannot change a dataset's description, "
        "where the ownership tag lives; remove adopt and declare unlink: all to manage its "
        "links as if it were ours"
    ),
    "release": (
        "a dataset needs no release: reconciler never deletes datasets, so removing its "
        "declaration leaves it as it is; remove release"
    ),
}


def _no_dataset_claim(
    doc: YamlDoc, base: tuple[str, str], spec: dict[str, Any], ctx: Context
) -> bool:
    """``adopt:`` and ``release:`` are for folders and groups (``_DATASET_CLAIMS`` says why)."""
    found = [key for key in _DATASET_CLAIMS if spec.get(key) is True]
    for key in found:
        ctx.report(doc, (*base, key), _DATASET_CLAIMS[key], at_key=True)
    return not found


def _group(doc: YamlDoc, name: str, spec: dict[str, Any], ctx: Context) -> DesiredGroup | None:
    members = spec.get("members")
    claim, ok = _claim(doc, ("groups", name), spec, ctx)
    if not ok:
        return None
    return DesiredGroup(
        name=name,
        description=spec.get("description"),
        members=None if members is None else tuple(members),
        claim=claim,
        source=doc.source(("groups", name)),
    )


def _match(
    doc: YamlDoc, path: tuple[Any, ...], spec: dict[str, Any], ctx: Context
) -> ItemMatch | None:
    ok = True
    name = spec.get("name")
    if name is not None:
        ok = ctx.check_glob(doc, (*path, "name"), name)
    types = spec.get("type", ())
    metadata = spec.get("metadata")
    if metadata is not None:
        ok = ctx.check_metadata(doc, (*path, "metadata"), metadata, to_set=False) and ok
    if not ok:
        return None
    return ItemMatch(
        name=name,
        types=(types,) if isinstance(types, str) else tuple(types),
        metadata=None if metadata is None else dict(metadata),
    )


def _rule(doc: YamlDoc, index: int, spec: dict[str, Any], ctx: Context) -> MetadataRule | None:
    base = ("items", index)
    ok = ctx.check_path(doc, (*base, "folder"), spec["folder"])
    match = _match(doc, (*base, "match"), spec.get("match") or {}, ctx)
    ok = ctx.check_metadata(doc, (*base, "metadata"), spec["metadata"], to_set=True) and ok
    ok = ctx.check_globs(doc, (*base, "owned_keys"), spec.get("owned_keys", ())) and ok
    if not ok or match is None:
        return None
    return MetadataRule(
        folder=spec["folder"],
        recursive=spec.get("recursive", False),
        match=match,
        metadata=dict(spec["metadata"]),
        mode=spec.get("mode", "merge"),
        owned_keys=tuple(spec.get("owned_keys", ())),
        source=doc.value_source(base),
    )


def _manifest(doc: YamlDoc, index: int, spec: dict[str, Any], ctx: Context) -> Manifest | None:
    base = ("items", index)
    ok = ctx.check_globs(doc, (*base, "owned_keys"), spec.get("owned_keys", ()))
    found = ctx.resolve_file(doc, (*base, "manifest"), spec["manifest"])
    if found is None or not ok:
        return None
    fmt: Literal["jsonl", "csv"] = "csv" if found[1].endswith(".csv") else "jsonl"
    from reconciler.config.manifests import read_item_manifest  # only if one is declared

    rows, problems = read_item_manifest(found[0], found[1], fmt, ctx.schema)
    ctx.diagnostics.extend(problems)
    return Manifest(
        file=found[1],
        format=fmt,
        mode=spec.get("mode", "merge"),
        owned_keys=tuple(spec.get("owned_keys", ())),
        entries=rows,
        source=doc.value_source(base),
    )


def _selector(
    doc: YamlDoc, path: tuple[Any, ...], spec: dict[str, Any], ctx: Context
) -> ItemSelector | None:
    source = doc.value_source(path)
    if "manifest" in spec:
        found = ctx.resolve_file(doc, (*path, "manifest"), spec["manifest"])
        if found is None:
            return None
        from reconciler.config.manifests import read_link_manifest  # only if one is declared

        paths, problems = read_link_manifest(found[0], found[1])
        ctx.diagnostics.extend(problems)
        return ItemSelector(manifest=found[1], paths=paths, source=source)
    ok = ctx.check_path(doc, (*path, "folder"), spec["folder"])
    match = _match(doc, (*path, "match"), spec.get("match") or {}, ctx)
    if not ok or match is None:
        return None
    return ItemSelector(
        folder=spec["folder"], recursive=spec.get("recursive", False), match=match, source=source
    )


def _dataset(doc: YamlDoc, title: str, spec: dict[str, Any], ctx: Context) -> DesiredDataset | None:
    base = ("datasets", title)
    selectors = [
        _selector(doc, (*base, "items", index), selector, ctx)
        for index, selector in enumerate(spec.get("items") or ())
    ]
    claim_ok = _no_dataset_claim(doc, base, spec, ctx)
    if any(s is None for s in selectors) or not claim_ok:
        return None
    groups, users = spec.get("groups"), spec.get("users")
    return DesiredDataset(
        title=title,
        description=spec.get("description"),
        groups=None if groups is None else dict(groups),
        users=None if users is None else dict(users),
        items=tuple(s for s in selectors if s is not None),
        unlink=spec.get("unlink", "owned"),
        source=doc.source(base),
    )


def _collection(
    doc: YamlDoc, name: str, spec: dict[str, Any], ctx: Context
) -> DesiredCollection | None:
    base = ("collections", name)
    folder_ok = ctx.check_path(doc, (*base, "folder"), spec["folder"])
    selectors = [
        _selector(doc, (*base, "items", index), selector, ctx)
        for index, selector in enumerate(spec.get("items") or ())
    ]
    if not folder_ok or any(s is None for s in selectors):
        return None
    return DesiredCollection(
        name=name,
        folder=spec["folder"],
        description=spec.get("description"),
        items=tuple(s for s in selectors if s is not None),
        remove=spec.get("remove", "owned"),
        previously=tuple(spec.get("previously") or ()),
        source=doc.source(base),
    )
