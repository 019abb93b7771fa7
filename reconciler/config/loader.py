"""``load_config``: a config directory → ``DesiredState``, or every problem at once.

Steps: find ``reconciler.yaml``; parse it and every other YAML file (with positions);
validate each against the JSON Schema; build the settings, the metadata schema and the
resources, checking each element; run the cross-resource checks (duplicates, moves, rule
conflicts, cloud syncs); raise ``ConfigError`` with all diagnostics, or return the state.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from reconciler.collector import collector_paused
from reconciler.config.cloud import check_cloud_syncs, check_registrations
from reconciler.config.collections import check_collections
from reconciler.config.context import Context, ParsedFile
from reconciler.config.environments import (
    TEMPLATES,
    Scope,
    check_environment,
    choose,
    connection_paths,
    effective_bad,
    effective_settings,
    preview_settings,
    unused_paths,
    variables_of,
)
from reconciler.config.errors import ConfigError, Diagnostic, TooManyFilesError, sort_diagnostics
from reconciler.config.files import MAX_FILES, SETTINGS_NAME, FileGlobs, resource_files
from reconciler.config.moves import check_moves
from reconciler.config.positions import PathPart, Pos, YamlDoc
from reconciler.config.resources import Resources, build_metadata_schema, build_resources
from reconciler.config.schema import RESOURCE_FILE, SETTINGS_FILE, schema_errors
from reconciler.config.settings import Settings, build_settings, file_globs, fixture_roots
from reconciler.config.variables import Variables
from reconciler.config.yamlread import read_yaml
from reconciler.model.desired import DesiredState, Source


def load_config(
    path: Path,
    *,
    env: Mapping[str, str] | None = None,
    connecting: bool = True,
    environment: str | None = None,
) -> DesiredState:
    """The desired state declared in ``path`` (a config directory or its reconciler.yaml).

    ``connecting=False`` (``validate``): an unset ``${VAR}`` in ``target.encord`` (the
    domain, the key file) is not a problem, since only commands that talk to the
    organisation use them; the value stays as written. ``environment`` chooses one of the
    config's ``environments:`` (``config/environments.py``). Raises ``ConfigError``
    carrying every diagnostic when anything is wrong.
    """
    with collector_paused():
        environ = os.environ if env is None else env
        return _load(Path(path), environ, connecting, environment)[0]


def environment_names(path: Path) -> tuple[str, ...]:
    """The names under ``environments:`` in the config at ``path`` (none when it has none,
    or when there is no config there: loading it says what is wrong)."""
    try:
        root = _locate(Path(path))
    except ConfigError:
        return ()
    return tuple(sorted(str(n) for n in preview_settings(root / SETTINGS_NAME).environments))


def render_config(
    path: Path, *, env: Mapping[str, str] | None = None, environment: str | None = None
) -> list[tuple[str, Any]]:
    """What the planner reads, file by file, once the config is valid: ``reconciler.yaml``
    as the environment makes it, and every file with its templates written out."""
    with collector_paused():
        environ = os.environ if env is None else env
        _, files = _load(Path(path), environ, True, environment)
    return [(parsed.doc.file, parsed.doc.data) for parsed in files]


def config_files(path: Path, *, env: Mapping[str, str] | None = None) -> tuple[Path, list[Path]]:
    """The config directory of ``path`` and the YAML files ``load_config`` reads there
    (``reconciler.yaml`` first), whatever the environment, without checking what they
    declare (``reconciler fmt``)."""
    root = _locate(Path(path))
    ctx = Context(root=root)
    preview = preview_settings(root / SETTINGS_NAME)
    variables = Variables(os.environ if env is None else env, preview.allowed)
    settings = _parse(root / SETTINGS_NAME, SETTINGS_NAME, SETTINGS_FILE, variables, ctx)
    fixtures = fixture_roots(settings.doc.data if settings else None, root)
    try:
        found = resource_files(root, fixtures, file_globs(settings, ctx))
    except TooManyFilesError:
        message = f"more than {MAX_FILES:,} YAML files below the config directory"
        raise _single(".", message) from None
    return root, [root / SETTINGS_NAME, *found]


MAX_DIAGNOSTICS = 1000


def _load(
    path: Path, environ: Mapping[str, str], connecting: bool, requested: str | None
) -> tuple[DesiredState, list[ParsedFile]]:
    root = _locate(path)
    ctx = Context(root=root)
    preview = preview_settings(root / SETTINGS_NAME)
    try:
        name = choose(preview, requested)
    except ConfigError as exc:
        raise ConfigError(exc.diagnostics, root=root) from None
    variables = variables_of(preview, name, Variables(environ, preview.allowed))
    scope = Scope(name, preview, ctx)
    written, settings_file = _settings_file(root, variables, ctx, scope, connecting)
    settings = (
        build_settings(settings_file, ctx) if settings_file else Settings(None, None, None, 1)
    )
    if written is not None:
        check_environment(written, settings, scope, ctx)
    ctx.target = settings.target
    files = [settings_file] if settings_file else []
    fixtures = fixture_roots(settings_file.doc.data if settings_file else None, root)
    globs = file_globs(settings_file, ctx)
    files += _resource_files(root, fixtures, globs, variables, ctx, scope)
    schema = build_metadata_schema(files, ctx)
    resources = build_resources(files, ctx)
    _check_across_resources(resources, settings, ctx)
    if (
        ctx.diagnostics
        or settings.target is None
        or settings.ownership is None
        or settings.policy is None  # not built: a schema error in it is reported
    ):
        problems = ctx.diagnostics or [Diagnostic(SETTINGS_NAME, 1, 1, "invalid settings")]
        raise ConfigError(_capped(problems), total=len(sort_diagnostics(problems)), root=root)
    state = DesiredState(
        root_dir=str(root),
        version=settings.version,
        target=settings.target,
        ownership=settings.ownership,
        policy=settings.policy,
        folders=resources.folders,
        groups=resources.groups,
        rules=tuple(resources.rules),
        manifests=tuple(resources.manifests),
        datasets=resources.datasets,
        collections=resources.collections,
        metadata_schema=schema,
        users=resources.users,
        organisation_tags=resources.organisation_tags,
        source=Source(file=SETTINGS_NAME, line=1, col=1),
        users_policy_source=settings.users_policy_source,
        environment=name,
    )
    return state, files


def _settings_file(
    root: Path, variables: Variables, ctx: Context, scope: Scope, connecting: bool
) -> tuple[ParsedFile | None, ParsedFile | None]:
    """``reconciler.yaml`` as written, and as this run reads it (``effective_settings``)."""
    unused = unused_paths(scope.preview, scope.name)
    if not connecting:
        unused += connection_paths(scope.name)
    parsed = _parse(
        root / SETTINGS_NAME,
        SETTINGS_NAME,
        SETTINGS_FILE,
        variables,
        ctx,
        unused=lambda doc: [*unused, *scope.blocks_left_out(doc)],
    )
    if parsed is None:
        return None, None
    return parsed, ParsedFile(
        effective_settings(parsed.doc, scope.name), effective_bad(parsed.bad, scope.name)
    )


MAX_CONFIG_BYTES = 16 * 2**20  # all YAML files together; each is also capped (yamlread)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # reading it will say what is wrong


def _capped(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """At most ``MAX_DIAGNOSTICS``, then one line counting the rest."""
    ordered = sort_diagnostics(diagnostics)
    if len(ordered) <= MAX_DIAGNOSTICS:
        return ordered
    last = ordered[MAX_DIAGNOSTICS - 1]
    rest = len(ordered) - MAX_DIAGNOSTICS
    summary = Diagnostic(last.file, last.line, last.col, f"… and {rest:,} more problems not shown")
    return [*ordered[:MAX_DIAGNOSTICS], summary]


def _check_across_resources(resources: Resources, settings: Settings, ctx: Context) -> None:
    check_moves(resources.folders, resources.rules, resources.datasets.values(), ctx)
    if len(resources.rules) > 1 or len(resources.manifests) > 1:
        # conflicts need two of them; the glob overlap machinery is imported only then
        from reconciler.config.overlap import check_manifest_conflicts, check_rule_conflicts

        check_rule_conflicts(resources.rules, ctx)
        check_manifest_conflicts(resources.manifests, ctx)
    check_cloud_syncs(resources.folders.values(), settings.target, ctx)
    check_registrations(resources.folders.values(), settings.target, ctx)
    check_collections(resources.collections, ctx)


def validate_config(path: Path, *, env: Mapping[str, str] | None = None) -> list[Diagnostic]:
    """Every problem in the config at ``path``, sorted; empty when it is valid."""
    try:
        load_config(path, env=env)
    except ConfigError as exc:
        return exc.diagnostics
    return []


def _locate(path: Path) -> Path:
    """The config directory, absolute and resolved; one diagnostic when there is none."""
    try:
        resolved = path.expanduser().resolve()
    except (OSError, RuntimeError) as exc:
        raise _single(str(path), f"cannot resolve path: {exc}") from None
    if resolved.is_file():
        if resolved.name != SETTINGS_NAME:
            raise _single(
                resolved.name,
                f"expected a config directory or its {SETTINGS_NAME}, not this file",
                root=resolved.parent,
            )
        return resolved.parent
    if not resolved.is_dir():
        raise _single(str(path), "no such directory; pass a config directory (default: .)")
    if not (resolved / SETTINGS_NAME).is_file():
        raise _single(
            SETTINGS_NAME,
            f"no {SETTINGS_NAME} in this directory; run in a config directory, or pass its path",
            root=resolved,
        )
    return resolved


def _single(file: str, message: str, *, root: Path | None = None) -> ConfigError:
    return ConfigError([Diagnostic(file, 1, 1, message)], root=root)


Unused = Callable[[YamlDoc], list[tuple[PathPart, ...]]]


def _parse(
    path: Path,
    rel: str,
    kind: str,
    env: Mapping[str, str],
    ctx: Context,
    *,
    unused: Unused | None = None,
) -> ParsedFile | None:
    """The file parsed and checked against the schema. ``unused`` gives, from its data, the
    parts this run does not use: their unset variables are no problem (``()``: the whole
    file is not config in this run, and None is returned)."""
    if path.exists() and not path.resolve().is_relative_to(ctx.root):
        # A link leading out of the config directory: reading it could echo a file such as a
        # private key into a diagnostic, a CI log or a pull-request comment.
        message = "is a link to a file outside the config directory; not read"
        ctx.diagnostics.append(Diagnostic(rel, 1, 1, message))
        return None
    doc, problems = read_yaml(path, rel, env)
    deferred: dict[Pos, Pos] = {}
    paths = unused(doc) if doc is not None and unused is not None else []
    if doc is not None and paths:
        deferred = _unset_under(doc, paths)
        problems = [d for d in problems if Pos(d.line, d.col) not in deferred]
    ctx.diagnostics.extend(problems)
    if doc is None or () in paths:
        return None
    doc = _expanded(doc, env, ctx, paths)
    errors, bad = schema_errors(doc, kind, frozenset(deferred.values()))
    # A node already reported while reading (a bad tag, say) needs no schema error too.
    taken = {(d.line, d.col) for d in problems} | set(doc.tainted)
    ctx.diagnostics.extend(e for e in errors if (e.line, e.col) not in taken)
    if problems:  # interpolation or key problems: do not build from this file's values
        bad.add(())
    return ParsedFile(doc, frozenset(bad))


def _expanded(
    doc: YamlDoc, env: Mapping[str, str], ctx: Context, unused: list[tuple[PathPart, ...]]
) -> YamlDoc:
    """``doc`` with its ``templates:`` written out (``config/templates.py``); the blocks
    themselves are checked against the schema first, and a broken one is not expanded."""
    data = doc.data
    if not doc.each_refs and not (isinstance(data, dict) and TEMPLATES in data):
        return doc
    left_out = {p[1] for p in unused if len(p) == 2 and p[0] == TEMPLATES}
    if isinstance(data, dict) and TEMPLATES in data:
        errors, bad = schema_errors(replace(doc, data={TEMPLATES: data[TEMPLATES]}), RESOURCE_FILE)
        ctx.diagnostics.extend(errors)
        left_out |= {p[1] for p in bad if len(p) >= 2 and p[0] == TEMPLATES}
    from reconciler.config.templates import expand_templates  # only a config with templates

    return expand_templates(doc, env, ctx, frozenset(i for i in left_out if isinstance(i, int)))


def _unset_under(doc: YamlDoc, paths: list[tuple[PathPart, ...]]) -> dict[Pos, Pos]:
    """Unset variables in the scalars at or below ``paths``: diagnostic → scalar position."""
    scalars = set().union(*(doc.positions_under(path) for path in paths))
    return {at: scalar for at, scalar in doc.unset if scalar in scalars}


def _resource_files(
    root: Path,
    skip: list[Path],
    globs: FileGlobs,
    env: Mapping[str, str],
    ctx: Context,
    scope: Scope,
) -> list[ParsedFile]:
    try:
        paths = resource_files(root, skip, globs)
    except TooManyFilesError:
        ctx.diagnostics.append(
            Diagnostic(".", 1, 1, f"more than {MAX_FILES:,} YAML files below the config directory")
        )
        return []
    total = sum(_size(path) for path in paths)
    if total > MAX_CONFIG_BYTES:
        # Checked before parsing: parsed YAML takes about a hundred times its size in memory.
        ctx.diagnostics.append(
            Diagnostic(
                ".",
                1,
                1,
                f"the config's YAML files add up to {total / 2**20:.0f} MB, more than the "
                f"{MAX_CONFIG_BYTES // 2**20} MB limit; move item metadata into manifests, or "
                "exclude files that are not config",
            )
        )
        return []
    out = []
    for path in paths:
        rel = path.relative_to(root).as_posix()
        parsed = _parse(path, rel, RESOURCE_FILE, env, ctx, unused=scope.unused_in)
        if parsed is not None:
            out.append(parsed)
    return out
