"""``reconciler.yaml`` settings: version, target, ownership and policy.

Relative paths in the target (the sandbox database, fixture integration roots, an SSH key
file) are relative to the config directory and become absolute in the model, so the
desired state means the same whatever the working directory.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler.config.context import Context, ParsedFile
from reconciler.config.files import FileGlobs
from reconciler.model.desired import (
    EncordTarget,
    Ownership,
    Policy,
    SandboxIntegration,
    SandboxTarget,
    SandboxUser,
    Source,
    Target,
)

DEFAULT_SANDBOX_PATH = ".reconciler/sandbox.sqlite"


@dataclass(frozen=True, slots=True)
class Settings:
    """What ``reconciler.yaml`` declares (None where it is missing or broken)."""

    target: Target | None
    ownership: Ownership | None
    policy: Policy | None
    version: int
    users_policy_source: Source | None = None  # where policy.users is written


def build_settings(parsed: ParsedFile, ctx: Context) -> Settings:
    data = parsed.doc.data if isinstance(parsed.doc.data, dict) else {}
    target = None if parsed.skipped(("target",)) else _target(parsed, data.get("target"), ctx)
    ownership = None
    if not parsed.skipped(("ownership",)) and isinstance(data.get("ownership"), dict):
        ownership = Ownership(id=data["ownership"]["id"])
    policy = None
    users_source = None
    if not parsed.skipped(("policy",)):
        spec = data.get("policy") or {}
        policy = _policy(parsed, spec, ctx)
        if "users" in spec:
            users_source = parsed.doc.source(("policy", "users"))
    return Settings(target, ownership, policy, 1, users_source)


def _policy(parsed: ParsedFile, spec: dict[str, Any], ctx: Context) -> Policy | None:
    protect = tuple(spec.get("protect", ()))
    if not ctx.check_globs(parsed.doc, ("policy", "protect"), protect):
        return None
    fields = {k: v for k, v in spec.items() if k != "protect"}
    return Policy(protect=protect, **fields)


def _target(parsed: ParsedFile, spec: Any, ctx: Context) -> Target | None:
    if not isinstance(spec, dict):
        return None
    if "encord" in spec:
        encord = spec["encord"] or {}
        key_file = encord.get("ssh_key_file")
        return Target(
            encord=EncordTarget(
                domain=encord.get("domain", EncordTarget().domain),
                ssh_key_file=None if key_file is None else _absolute(ctx.root, key_file),
            )
        )
    sandbox = spec["sandbox"] or {}
    integrations = []
    for title, fixture in (sandbox.get("integrations") or {}).items():
        root = _absolute(ctx.root, fixture["root"])
        if not Path(root).is_dir():
            where = ("target", "sandbox", "integrations", title, "root")
            ctx.report(parsed.doc, where, f"directory {fixture['root']} does not exist")
        integrations.append(
            SandboxIntegration(title=title, provider=fixture["provider"], root=root)
        )
    users = tuple(
        SandboxUser(email=u["email"], role=u.get("role", "MEMBER"))
        for u in sandbox.get("users") or ()
    )
    path = _absolute(ctx.root, sandbox.get("path", DEFAULT_SANDBOX_PATH))
    return Target(sandbox=SandboxTarget(path=path, integrations=tuple(integrations), users=users))


def file_globs(parsed: ParsedFile | None, ctx: Context) -> FileGlobs:
    """``include`` and ``exclude``; the default for one that is absent or invalid."""
    data = parsed.doc.data if parsed is not None else None
    if parsed is None or not isinstance(data, dict):
        return FileGlobs()
    given: dict[str, tuple[str, ...]] = {}
    for key in ("include", "exclude"):
        value = data.get(key)
        if value is None or parsed.skipped((key,)):
            continue
        if ctx.check_globs(parsed.doc, (key,), value):
            given[key] = tuple(value)
    return FileGlobs(**given)


def fixture_roots(data: Any, root: Path) -> list[Path]:
    """Fixture directories named in reconciler.yaml, read leniently: even when the settings
    have schema errors, the directories standing in for buckets are not searched for YAML."""
    try:
        integrations = data["target"]["sandbox"]["integrations"]
        roots = [i["root"] for i in integrations.values() if isinstance(i, dict)]
    except (KeyError, TypeError, AttributeError):
        return []
    out = []
    for value in roots:
        if isinstance(value, str) and value:
            try:
                out.append(Path(_absolute(root, value)).resolve())
            except (OSError, RuntimeError, ValueError):
                continue
    return out


def _absolute(root: Path, value: str) -> str:
    path = Path(value).expanduser()
    return str(path if path.is_absolute() else root / path)
