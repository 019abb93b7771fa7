"""``reconciler sandbox ...``: create, fill and serve the Encord-compatible sandbox."""

from __future__ import annotations

import contextlib
import ipaddress
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import click

from reconciler.cli.exit_codes import EXIT_OK
from reconciler.cli.main import cli
from reconciler.cli.running import CommandError, run_command
from reconciler.sandbox.options import SandboxOptions
from reconciler.sandbox.provision import (
    DEFAULT_ADMIN_EMAIL,
    add_integration,
    add_user,
    default_key_path,
    init_database,
    write_secret,
)
from reconciler.wire.signing import key_id, private_key_to_openssh
from reconciler.words import plural

DB_OPTION = click.option(
    "--db",
    "db_path",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="Path of the sandbox SQLite database.",
)
ENV = "RECONCILER_SANDBOX_"
ORG_ROLES = {
    "admin": "ADMIN",
    "member": "MEMBER",
    "tasker": "TASKER",
    "workforce-manager": "WORKFORCE_MANAGER",
}


@cli.group()
def sandbox() -> None:
    """A local Encord-compatible API on SQLite (the embedded default target)."""


@sandbox.command()
@DB_OPTION
@click.option("--admin-email", default=DEFAULT_ADMIN_EMAIL, show_default=True)
@click.option(
    "--key-out",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Where to write the admin's OpenSSH Ed25519 private key [default: <db>.admin-key].",
)
def init(db_path: Path, admin_email: str, key_out: Path | None) -> None:
    """Create a sandbox database with an organisation and an admin user."""
    out = key_out or default_key_path(db_path)

    def body() -> None:
        key = init_database(db_path, admin_email=admin_email, key_out=out)
        click.echo(f"created sandbox {db_path} with admin {admin_email}")
        click.echo(f"admin key (key id {key_id(key)}) written to {out}")

    _run("init", body)


@sandbox.command(name="add-user")
@DB_OPTION
@click.option("--email", required=True)
@click.option(
    "--org-role", type=click.Choice(sorted(ORG_ROLES)), help="[default: member for new users]"
)
@click.option(
    "--key-out",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write a new private key here.",
)
@click.option(
    "--token-out",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write a new bearer token here.",
)
def add_user_command(
    db_path: Path, email: str, org_role: str | None, key_out: Path | None, token_out: Path | None
) -> None:
    """Add an organisation member (or give an existing one new credentials)."""
    if key_out is None and token_out is None:
        raise click.UsageError("give --key-out FILE, --token-out FILE or both")
    _run("add-user", lambda: _add_user(db_path, email, org_role, key_out, token_out))


def _add_user(
    db_path: Path, email: str, org_role: str | None, key_out: Path | None, token_out: Path | None
) -> None:
    for path in (key_out, token_out):
        if path is not None and path.exists():
            raise CommandError(f"{path} already exists; choose another file")
    added = add_user(
        db_path,
        email=email,
        org_role=ORG_ROLES[org_role] if org_role else None,
        with_key=key_out is not None,
        with_token=token_out is not None,
    )
    if key_out is not None and added.key is not None:
        write_secret(key_out, private_key_to_openssh(added.key))
    if token_out is not None and added.token is not None:
        write_secret(token_out, added.token + "\n")
    click.echo(f"{'added' if added.created_user else 'updated'} {email}")
    if key_out is not None and added.key is not None:
        click.echo(f"private key (key id {key_id(added.key)}) written to {key_out}")
    if token_out is not None:
        click.echo(f"bearer token written to {token_out}")


@sandbox.command(name="add-integration")
@DB_OPTION
@click.option("--title", required=True)
@click.option("--provider", type=click.Choice(["s3", "gcp", "azure"]), required=True)
@click.option(
    "--root",
    type=click.Path(path_type=Path, file_okay=False),
    required=True,
    help="Directory standing in for the provider's storage.",
)
def add_integration_command(db_path: Path, title: str, provider: str, root: Path) -> None:
    """Add a cloud integration whose buckets are directories under ROOT."""

    def body() -> None:
        integration_uuid = add_integration(db_path, title=title, provider=provider, root=root)
        click.echo(f"added integration {title!r} ({provider}, {root}) as {integration_uuid}")

    _run("add-integration", body)


@sandbox.command(name="seed")
@DB_OPTION
@click.option("--under", required=True, help="Folder path to seed under, e.g. /bench.")
@click.option("--folders", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--items", type=click.IntRange(min=0), default=0, show_default=True)
def seed_command(db_path: Path, under: str, folders: int, items: int) -> None:
    """Bulk-create FOLDERS sub-folders and ITEMS items under a folder."""
    from reconciler.sandbox.seed import seed

    def body() -> None:
        result = seed(db_path, under=under, folders=folders, items=items)
        click.echo(
            f"seeded {plural(result.folders, 'folder')} and {plural(result.items, 'item')} "
            f"under {under} ({result.root_uuid}) in {result.seconds:.2f} s"
        )

    _run("seed", body)


@sandbox.command()
@DB_OPTION
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8765,
    show_default=True,
    help="0: any free port.",
)
@click.option(
    "--latency-ms",
    type=click.FloatRange(min=0),
    default=0.0,
    envvar=f"{ENV}LATENCY_MS",
    show_envvar=True,
)
@click.option(
    "--error-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    envvar=f"{ENV}ERROR_RATE",
    show_envvar=True,
    help="Share of requests answered 500/502/503 before any work.",
)
@click.option(
    "--error-after-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    envvar=f"{ENV}ERROR_AFTER_RATE",
    show_envvar=True,
    help="Share of requests committed, then answered 502.",
)
@click.option(
    "--storm-requests",
    type=click.IntRange(min=0),
    default=0,
    envvar=f"{ENV}STORM_REQUESTS",
    show_envvar=True,
    help="The next N requests get 429.",
)
@click.option(
    "--storm-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    envvar=f"{ENV}STORM_RATE",
    show_envvar=True,
    help="Share of requests answered 429.",
)
@click.option(
    "--storm-retry-after",
    type=click.IntRange(min=0),
    default=1,
    envvar=f"{ENV}STORM_RETRY_AFTER",
    show_envvar=True,
    help="Retry-After seconds of those 429s.",
)
@click.option(
    "--fault-seed",
    type=int,
    default=None,
    envvar=f"{ENV}FAULT_SEED",
    show_envvar=True,
    help="Seed of the fault random stream.",
)
@click.option(
    "--max-skew-seconds",
    type=click.IntRange(min=0),
    default=300,
    envvar=f"{ENV}MAX_SKEW_SECONDS",
    show_default=True,
)
@click.option(
    "--long-poll-cap-seconds",
    type=click.FloatRange(min=0),
    default=55.0,
    envvar=f"{ENV}LONG_POLL_CAP_SECONDS",
    show_default=True,
)
@click.option(
    "--upload-unit-ms",
    type=click.FloatRange(min=0),
    default=0.5,
    envvar=f"{ENV}UPLOAD_UNIT_MS",
    show_default=True,
    help="Time a data-upload job spends on each unit.",
)
@click.option(
    "--upload-workers",
    type=click.IntRange(min=1, max=64),
    default=4,
    envvar=f"{ENV}UPLOAD_WORKERS",
    show_default=True,
    help="Data-upload jobs processed at once.",
)
@click.option(
    "--allow-remote-control",
    is_flag=True,
    help="Answer /_sandbox/ control routes from non-loopback peers.",
)
def serve(db_path: Path, host: str, port: int, fault_seed: int | None, **settings: Any) -> None:
    """Serve the sandbox over HTTP until interrupted."""
    options = SandboxOptions(seed=fault_seed, **settings)

    def body() -> None:
        sock = _listen(host, port)
        try:
            _serve(db_path, sock, options)
        except KeyboardInterrupt:
            pass  # Ctrl-C is the normal way to stop, even before the server is up
        finally:
            sock.close()

    _run("serve", body)


def _run(name: str, body: Callable[[], None]) -> NoReturn:
    """Through the CLI's one catch site (a ``SandboxError`` is one line, exit 1); Ctrl-C
    stays click's "Aborted!"."""

    def run() -> int:
        body()
        return EXIT_OK

    run_command(f"sandbox {name}", run, interrupted=None)


def _listen(host: str, port: int) -> socket.socket:
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        sock = socket.socket(family, kind, proto)
    except OSError as exc:
        raise CommandError(f"cannot listen on {host}:{port}: {exc}") from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise CommandError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    return sock


def _serve(db_path: Path, sock: socket.socket, options: SandboxOptions) -> None:
    import uvicorn

    from reconciler.sandbox.app import close_app, create_app

    app = create_app(db_path, options=options)
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    if not ipaddress.ip_address(host).is_loopback:
        click.echo(f"warning: serving on {host} exposes the sandbox beyond this machine", err=True)
    click.echo(f"reconciler sandbox listening on http://{shown}:{port}")
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    try:
        with contextlib.suppress(KeyboardInterrupt):  # uvicorn re-raises the Ctrl-C it handled
            uvicorn.Server(config).run(sockets=[sock])
    finally:
        close_app(app)  # idempotent; the lifespan normally did it already
