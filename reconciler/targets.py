"""Which Encord a command talks to, and with which credentials: flags beat the environment,
the environment beats ``reconciler.yaml``.

* The kind of target: ``--sandbox PATH`` or ``--domain URL`` on the command line; else
  ``ENCORD_DOMAIN`` in the environment (a real Encord); else the config's ``target``.
* Encord domain: ``--domain``, ``ENCORD_DOMAIN``, ``target.encord.domain``, then
  ``https://api.encord.com``. ``ENCORD_DOMAIN`` set but empty (an unset CI secret) means the
  default, never the config's domain. The config is written by whoever opens a pull request,
  so a domain taken from it must be ``https://`` on ``encord.com`` or a subdomain, or a host
  the operator lists in ``RECONCILER_ALLOWED_DOMAINS`` (comma-separated): a config alone
  cannot send requests signed with the organisation's key to a host of its choosing.
* Encord credentials: ``--ssh-key-file`` or ``--bearer-token-file``; else
  ``ENCORD_SSH_KEY_FILE``, ``ENCORD_SSH_KEY`` (key text) or ``ENCORD_BEARER_TOKEN``; else
  ``target.encord.ssh_key_file``.
* The embedded sandbox runs in-process (``httpx.ASGITransport``): the same client, the same
  wire protocol, no socket. Its fixtures (integrations, users) come from the config's
  ``target.sandbox`` even when ``--sandbox`` gives another database path.

Nothing here prints; problems are ``TargetError`` with one line saying what to do.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import httpx

from reconciler.encord import (
    Auth,
    BearerAuth,
    ClientOptions,
    EncordClient,
    RetryOptions,
    UnusableCredentialsError,
    key_auth_from_file,
    key_auth_from_text,
)
from reconciler.encord.auth import KeyAuth, bearer_auth_from_file
from reconciler.encord.options import DEFAULT_DOMAIN, MAX_RESPONSE_BYTES
from reconciler.errors import ReconcilerError
from reconciler.model.desired import SandboxIntegration, SandboxTarget, Target

SANDBOX_ORIGIN = "http://sandbox.local"
ENCORD_HOST = "encord.com"


class TargetError(ReconcilerError):
    """No usable target or credentials; the message says which flag or variable to set."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TargetOptions:
    """What a command was told about its target. ``None`` means "not given there"."""

    domain: str | None = None
    ssh_key_file: Path | None = None
    bearer_token_file: Path | None = None
    sandbox: Path | None = None
    config: Target | None = None  # reconciler.yaml's target, when a config was loaded
    env: Mapping[str, str] | None = field(default=None, repr=False)  # default: os.environ
    concurrency: int = 16
    retry: RetryOptions = field(default_factory=RetryOptions)
    max_response_bytes: int = MAX_RESPONSE_BYTES


@dataclass(frozen=True, slots=True)
class Resolved:
    """The decision, before anything is opened: an Encord domain or a sandbox database."""

    kind: str  # "encord" | "sandbox"
    domain: str | None = None
    sandbox: SandboxTarget | None = None

    @property
    def label(self) -> str:
        """How plans and messages name the target."""
        if self.sandbox is not None:
            return f"sandbox:{self.sandbox.path}"
        return self.domain or DEFAULT_DOMAIN


def resolve(options: TargetOptions) -> Resolved:
    env = os.environ if options.env is None else options.env
    if options.sandbox is not None and options.domain is not None:
        raise TargetError("use either --sandbox or --domain, not both")
    config = options.config
    if options.sandbox is not None:
        return Resolved("sandbox", sandbox=_sandbox_target(options.sandbox, config))
    if options.domain is not None or env.get("ENCORD_DOMAIN"):
        return Resolved("encord", domain=_domain(options, env, config))
    if config is not None and config.sandbox is not None:
        return Resolved("sandbox", sandbox=config.sandbox)
    if config is not None and config.encord is not None:
        return Resolved("encord", domain=_domain(options, env, config))
    raise TargetError(
        "no target: pass --sandbox PATH or --domain URL, set ENCORD_DOMAIN, "
        "or set target in reconciler.yaml"
    )


def connect(options: TargetOptions) -> EncordClient:
    """An open client for the resolved target; use it as ``async with``."""
    resolved = resolve(options)
    if resolved.sandbox is not None:
        if options.ssh_key_file is not None or options.bearer_token_file is not None:
            raise TargetError(
                "--ssh-key-file and --bearer-token-file apply to --domain, not --sandbox"
            )
        return _sandbox_client(resolved, options)
    env = os.environ if options.env is None else options.env
    auth = _credentials(options, env, resolved.label)
    return EncordClient(
        ClientOptions(
            domain=resolved.label,
            auth=auth,
            concurrency=options.concurrency,
            retry=options.retry,
            max_response_bytes=options.max_response_bytes,
        )
    )


def _domain(options: TargetOptions, env: Mapping[str, str], config: Target | None) -> str:
    if options.domain is not None:
        domain = options.domain
    elif "ENCORD_DOMAIN" in env:  # even empty: an unset secret must not defer to the config
        domain = env["ENCORD_DOMAIN"] or DEFAULT_DOMAIN
    elif config is not None and config.encord is not None and config.encord.domain:
        domain = _trusted_config_domain(config.encord.domain, env)
    else:
        domain = DEFAULT_DOMAIN
    domain = domain.rstrip("/")
    if not domain.startswith(("http://", "https://")):
        raise TargetError(f"domain must start with https:// (or http://), got {domain!r}")
    return domain


def _trusted_config_domain(domain: str, env: Mapping[str, str]) -> str:
    host = httpx.URL(domain).host if domain.startswith(("http://", "https://")) else ""
    allowed = {h.strip().lower() for h in env.get("RECONCILER_ALLOWED_DOMAINS", "").split(",")}
    if host in allowed - {""}:
        return domain
    if domain.startswith("https://") and (host == ENCORD_HOST or host.endswith("." + ENCORD_HOST)):
        return domain
    raise TargetError(
        f"target.encord.domain {domain!r} is not an https:// Encord domain (*.{ENCORD_HOST}); "
        "a config cannot choose where signed requests go: pass --domain or set ENCORD_DOMAIN, "
        f"or list {host or 'the host'} in RECONCILER_ALLOWED_DOMAINS"
    )


def _credentials(options: TargetOptions, env: Mapping[str, str], label: str) -> Auth:
    try:
        if options.ssh_key_file is not None:
            return key_auth_from_file(options.ssh_key_file)
        if options.bearer_token_file is not None:
            return bearer_auth_from_file(options.bearer_token_file)
        if env.get("ENCORD_SSH_KEY_FILE"):
            return key_auth_from_file(Path(env["ENCORD_SSH_KEY_FILE"]).expanduser())
        if env.get("ENCORD_SSH_KEY"):
            return key_auth_from_text(env["ENCORD_SSH_KEY"], source="ENCORD_SSH_KEY")
        if env.get("ENCORD_BEARER_TOKEN"):
            return BearerAuth(env["ENCORD_BEARER_TOKEN"].strip())
        config = options.config
        if config is not None and config.encord is not None and config.encord.ssh_key_file:
            return key_auth_from_file(Path(config.encord.ssh_key_file).expanduser())
    except UnusableCredentialsError as exc:
        raise TargetError(str(exc)) from None
    raise TargetError(
        f"no credentials for {label}: pass --ssh-key-file, or set ENCORD_SSH_KEY_FILE "
        "or ENCORD_SSH_KEY (an Ed25519 key registered with Encord)"
    )


def _sandbox_target(path: Path, config: Target | None) -> SandboxTarget:
    absolute = str(path.expanduser().resolve())
    if config is not None and config.sandbox is not None:
        return replace(config.sandbox, path=absolute)
    return SandboxTarget(path=absolute)


def _sandbox_client(resolved: Resolved, options: TargetOptions) -> EncordClient:
    # Imported here: only sandbox runs pay for loading the sandbox server.
    from reconciler.sandbox.embedded import open_embedded
    from reconciler.sandbox.errors import ProvisionError

    assert resolved.sandbox is not None
    try:
        sandbox = open_embedded(resolved.sandbox)
    except (ProvisionError, OSError, sqlite3.Error) as exc:
        raise TargetError(f"cannot open the sandbox at {resolved.sandbox.path}: {exc}") from None
    client = EncordClient(
        ClientOptions(
            domain=SANDBOX_ORIGIN,
            auth=KeyAuth(sandbox.private_key),
            transport=httpx.ASGITransport(app=sandbox.app),
            concurrency=options.concurrency,
            retry=options.retry,
            max_response_bytes=options.max_response_bytes,
            label=resolved.label,
        )
    )
    client.close_with(sandbox.close)
    return client


def sandbox_integrations(path: str) -> tuple[SandboxIntegration, ...]:
    """The cloud integrations of a sandbox database (title, provider, bucket directory): what
    an exported ``target.sandbox`` must declare as fixtures for its cloud-synced folders."""
    from reconciler.sandbox.store import sync
    from reconciler.sandbox.store.db import Database

    try:
        db = Database.open(Path(path))
    except (OSError, sqlite3.Error) as exc:
        raise TargetError(f"cannot open the sandbox at {path}: {exc}") from None
    try:
        with db.read() as conn:
            rows = sync.list_integrations(conn, (), ())
            return tuple(
                SandboxIntegration(title=r["title"], provider=r["provider"], root=r["root"])
                for r in rows
            )
    finally:
        db.close()
