"""Several organisations from one config: ``environments:`` in ``reconciler.yaml``.

::

    target: ...                  # the default of every environment
    ownership: {id: acme}
    policy: {prune: owned}
    environments:
      staging:
        target: {sandbox: {path: .reconciler/staging.sqlite}}
        ownership: {id: acme-staging}
        variables: {bucket: s3://acme-staging/}
      prod:
        target: {encord: {domain: https://api.encord.com}}
        ownership: {id: acme-prod}
        policy: {max_delete_ratio: 0.05}     # key by key over the top-level policy
        variables: {bucket: s3://acme-prod/}

One environment is chosen per run (``--env NAME`` or ``RECONCILER_ENV``): its ``target``
and ``ownership`` replace the top-level ones, its ``policy`` keys override theirs, and its
``variables`` are what ``${var.NAME}`` reads. A config with ``environments:`` needs a name
(running the wrong organisation by default must not happen); one without refuses one.

A resource file, or a block under ``templates:``, whose ``in_environments: [prod]`` does not
name the chosen environment is not part of the config in that run (``excluded``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from reconciler.config.context import Context, ParsedFile
from reconciler.config.errors import ConfigError, Diagnostic
from reconciler.config.files import SETTINGS_NAME
from reconciler.config.interpolate import interpolate
from reconciler.config.positions import PathPart, Pos, PosNode, YamlDoc
from reconciler.config.settings import Settings, build_settings
from reconciler.config.variables import Variables
from reconciler.config.yamlread import read_yaml
from reconciler.model.names import did_you_mean

ENVIRONMENTS = "environments"
IN_ENVIRONMENTS = "in_environments"
TEMPLATES = "templates"
MAX_ENVIRONMENTS = 100  # as the schema says; validate loads the config once per environment
_REPLACED = ("target", "ownership")  # an environment's own replaces the top-level one


@dataclass(frozen=True, slots=True)
class Preview:
    """What must be known of ``reconciler.yaml`` before it is interpolated: the environment
    variables it allows, its environments, and where ``environments:`` is written."""

    allowed: tuple[str, ...] = ()
    environments: Mapping[str, Any] = field(default_factory=dict)
    at: Pos = field(default_factory=lambda: Pos(1, 1))
    positions: Mapping[str, Pos] = field(default_factory=dict)  # of each environment's name


def preview_settings(settings: Path) -> Preview:
    """``variables:`` and ``environments:`` as written (their shape is checked by the schema
    afterwards; anything unexpected here reads as absent)."""
    doc, _ = read_yaml(settings, SETTINGS_NAME, {})
    data = doc.data if doc is not None and isinstance(doc.data, dict) else {}
    names = data.get("variables")
    allowed = tuple(n for n in names if isinstance(n, str)) if isinstance(names, list) else ()
    environments = data.get(ENVIRONMENTS)
    if not isinstance(environments, dict) or doc is None:
        return Preview(allowed)
    positions = {n: doc.key_pos((ENVIRONMENTS, n)) for n in environments if isinstance(n, str)}
    return Preview(allowed, environments, doc.key_pos((ENVIRONMENTS,)), positions)


def choose(preview: Preview, requested: str | None) -> str | None:
    """The environment of this run, or None for a config without environments; a
    ``ConfigError`` of one line when ``requested`` does not fit the config."""
    names = sorted(preview.environments)
    if requested is None:
        if names:
            raise _refused(
                preview,
                f"this config declares environments ({', '.join(names)}); choose one with "
                "--env NAME or RECONCILER_ENV",
            )
        return None
    if not names:
        raise _refused(
            preview,
            f"--env {requested}: reconciler.yaml declares no environments; leave out --env "
            "(and RECONCILER_ENV), or declare environments: in reconciler.yaml",
        )
    if requested not in preview.environments:
        raise _refused(
            preview,
            f"--env {requested}: no such environment{did_you_mean(requested, names)}; "
            f"reconciler.yaml declares {', '.join(names)}",
        )
    return requested


def _refused(preview: Preview, message: str) -> ConfigError:
    at = preview.at
    return ConfigError([Diagnostic(SETTINGS_NAME, at.line, at.col, message)])


def variables_of(preview: Preview, name: str | None, environ: Variables) -> Variables:
    """The environment as the config sees it in this run: ``environ`` plus the chosen
    environment's ``variables`` for ``${var.NAME}`` (their own ``${VAR}``s resolved; a
    problem with one is reported where it is written, when the file is read)."""
    if name is None:
        return environ
    spec = preview.environments.get(name)
    given = spec.get("variables") if isinstance(spec, dict) else None
    values = {}
    for key, value in (given or {}).items() if isinstance(given, dict) else ():
        if isinstance(value, str | int | float | bool) and isinstance(key, str):
            text = _text(value)
            values[key] = interpolate(text, environ)[0] if isinstance(value, str) else text
    return Variables(environ.environ, environ.allowed, values=values, environment=name)


def _text(value: str | int | float | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def unused_paths(preview: Preview, name: str | None) -> list[tuple[PathPart, ...]]:
    """Where in ``reconciler.yaml`` the values this run does not use are: the other
    environments, and a top-level target the chosen one replaces (their unset variables
    are no problem in this run)."""
    environments = preview.environments
    out: list[tuple[PathPart, ...]] = [(ENVIRONMENTS, n) for n in environments if n != name]
    chosen = environments.get(name) if name is not None else None
    out += [(key,) for key in _REPLACED if isinstance(chosen, dict) and key in chosen]
    return out


def connection_paths(name: str | None) -> list[tuple[PathPart, ...]]:
    """Where the connection of this run is written (``validate`` does not need it)."""
    out: list[tuple[PathPart, ...]] = [("target", "encord")]
    if name is not None:
        out.append((ENVIRONMENTS, name, "target", "encord"))
    return out


@dataclass(slots=True)
class Scope:
    """The environment of this run, for the resource files: which of them (and which of
    their ``templates:`` blocks) are config in it."""

    name: str | None
    preview: Preview
    ctx: Context

    def unused_in(self, doc: YamlDoc) -> list[tuple[PathPart, ...]]:
        """The parts of a resource file this run leaves out (``()``: all of it); reports
        ``in_environments`` names the config does not declare."""
        self.check_limits(doc, ())
        if excluded(doc.data, self.name):
            return [()]
        return self.blocks_left_out(doc)

    def blocks_left_out(self, doc: YamlDoc) -> list[tuple[PathPart, ...]]:
        """The ``templates:`` blocks of a file that this run leaves out."""
        data = doc.data
        blocks = data.get(TEMPLATES) if isinstance(data, dict) else None
        out: list[tuple[PathPart, ...]] = []
        for index, block in enumerate(blocks if isinstance(blocks, list) else ()):
            self.check_limits(doc, (TEMPLATES, index))
            if excluded(block, self.name):
                out.append((TEMPLATES, index))
        return out

    def check_limits(self, doc: YamlDoc, path: tuple[PathPart, ...]) -> None:
        data = doc.data
        for part in path:
            data = data[part]
        for index, message in limit_problems(data, self.preview):
            where = (*path, IN_ENVIRONMENTS) if index is None else (*path, IN_ENVIRONMENTS, index)
            self.ctx.report(doc, where, message, at_key=index is None)


def check_environment(written: ParsedFile, settings: Settings, scope: Scope, ctx: Context) -> None:
    """The chosen environment has a target and an ownership id (its own or the top-level
    ones), and no other environment has the same two: both would prune each other's
    objects as their own."""
    name = scope.name
    if name is None or written.skipped((ENVIRONMENTS,)):
        return
    at = scope.preview.positions.get(name, scope.preview.at)
    for key, value in (("target", settings.target), ("ownership", settings.ownership)):
        if value is None and not written.skipped((key,)):
            message = (
                f"environment {name} has no {key}: give it one under environments.{name}."
                f"{key}, or set {key}: at the top of reconciler.yaml"
            )
            ctx.diagnostics.append(Diagnostic(SETTINGS_NAME, at.line, at.col, message))
    if settings.target is None or settings.ownership is None:
        return
    for other in sorted(scope.preview.environments):
        if other != name and _same_organisation(written, other, settings, ctx.root):
            message = (
                f"environments {name} and {other} have the same target and ownership id: "
                "each would prune the other's objects as its own; give each its own "
                "ownership id"
            )
            ctx.diagnostics.append(Diagnostic(SETTINGS_NAME, at.line, at.col, message))


def _same_organisation(written: ParsedFile, other: str, settings: Settings, root: Path) -> bool:
    effective = ParsedFile(
        effective_settings(written.doc, other), effective_bad(written.bad, other)
    )
    theirs = build_settings(effective, Context(root=root))  # their problems: their own runs'
    return theirs.target == settings.target and theirs.ownership == settings.ownership


def effective_settings(doc: YamlDoc, name: str | None) -> YamlDoc:
    """``reconciler.yaml`` as this run reads it: without ``environments:``, the chosen
    environment's target and ownership in place of the top-level ones and its policy keys
    over theirs, each keeping the position where it is written."""
    data = doc.data
    if not isinstance(data, dict) or ENVIRONMENTS not in data:
        return doc
    tree = doc.tree.children if isinstance(doc.tree.children, dict) else {}
    out = {k: v for k, v in data.items() if k != ENVIRONMENTS}
    children = {k: v for k, v in tree.items() if k != ENVIRONMENTS}
    spec = data[ENVIRONMENTS].get(name) if isinstance(data[ENVIRONMENTS], dict) else None
    found = doc.tree.child(ENVIRONMENTS)
    env_node = found[1].child(name) if found is not None and name is not None else None
    if isinstance(spec, dict) and env_node is not None:
        own = env_node[1].children if isinstance(env_node[1].children, dict) else {}
        for key in _REPLACED:
            if key in spec and key in own:
                out[key], children[key] = spec[key], own[key]
        if isinstance(spec.get("policy"), dict) and "policy" in own:
            out["policy"], children["policy"] = _policy(data, tree, spec["policy"], own["policy"])
    return replace(doc, data=out, tree=PosNode(doc.tree.pos, children))


def _policy(
    data: dict[str, Any],
    tree: dict[str, tuple[Pos, PosNode]],
    overrides: dict[str, Any],
    at: tuple[Pos, PosNode],
) -> tuple[dict[str, Any], tuple[Pos, PosNode]]:
    given = data.get("policy")
    base: dict[str, Any] = given if isinstance(given, dict) else {}
    base_node = tree.get("policy")
    base_children = base_node[1].children if base_node is not None else None
    own = at[1].children
    children = {
        **(base_children if isinstance(base_children, dict) else {}),
        **(own if isinstance(own, dict) else {}),
    }
    return {**base, **overrides}, (at[0], PosNode(at[1].pos, children))


def effective_bad(
    bad: Iterable[tuple[PathPart, ...]], name: str | None
) -> frozenset[tuple[PathPart, ...]]:
    """Schema errors of ``reconciler.yaml`` as paths of its effective form: under the chosen
    environment they concern the key it replaces; the environments mapping broken as a
    whole spoils everything."""
    out: set[tuple[PathPart, ...]] = set()
    for path in bad:
        if path[:1] != (ENVIRONMENTS,):
            out.add(path)
        elif len(path) < 3:
            out.add(())
        elif path[1] == name:
            out.add(path[2:])
    return frozenset(out)


def limit_problems(data: Any, preview: Preview) -> list[tuple[int | None, str]]:
    """Problems with the ``in_environments`` names of ``data`` (a file or a block): (index
    of the name or None for the key, message)."""
    names = data.get(IN_ENVIRONMENTS) if isinstance(data, dict) else None
    if not isinstance(names, list):
        return []
    declared = sorted(preview.environments)
    if not declared:
        return [
            (
                None,
                "reconciler.yaml declares no environments; declare them under environments: "
                "there, or remove this key",
            )
        ]
    return [
        (
            i,
            f"no environment {n!r}{did_you_mean(n, declared)}; reconciler.yaml declares "
            f"{', '.join(declared)}",
        )
        for i, n in enumerate(names)
        if isinstance(n, str) and n not in preview.environments
    ]


def excluded(data: Any, name: str | None) -> bool:
    """True when ``data`` (a file or a block) is limited to environments other than ``name``."""
    names = data.get(IN_ENVIRONMENTS) if isinstance(data, dict) else None
    return isinstance(names, list) and name not in names
