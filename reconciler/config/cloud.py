"""Cloud-synced folders against the sandbox's fixture integrations.

Only checkable for sandbox targets (a real organisation's integrations are resolved at plan
time): the integration must be a fixture title (or a UUID), and the remote URL's scheme
must fit its provider, as the sandbox maps it onto the fixture directory:
``s3://bucket/p/``, ``gs://bucket/p/``, ``https://account.blob.core.windows.net/container/p/``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from reconciler.config.context import Context
from reconciler.model.addresses import is_under
from reconciler.model.desired import (
    DesiredFolder,
    Registration,
    SandboxIntegration,
    Source,
    Target,
)

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")
SCHEMES = {"s3": "s3://", "gcp": "gs://", "azure": "https://"}
_EXAMPLES = {
    "s3": "s3://bucket/prefix/",
    "gcp": "gs://bucket/prefix/",
    "azure": "https://account.blob.core.windows.net/container/prefix/",
}


def check_cloud_syncs(
    folders: Iterable[DesiredFolder], target: Target | None, ctx: Context
) -> None:
    if target is None or target.sandbox is None:
        return
    fixtures = {i.title: i for i in target.sandbox.integrations}
    for folder in folders:
        sync = folder.cloud_sync
        if sync is None or _UUID.match(sync.integration):
            continue
        fixture = fixtures.get(sync.integration)
        if fixture is None:
            ctx.report_at(sync.source, _unknown(folder.path, sync.integration, fixtures))
            continue
        problem = _url_problem(sync.remote_url, fixture)
        if problem is not None:
            ctx.report_at(sync.source, f"{folder.path}: cloud_sync.remote_url {problem}")


def check_registrations(
    folders: Iterable[DesiredFolder], target: Target | None, ctx: Context
) -> None:
    """A folder is filled by a cloud sync or by registration, not both; against the sandbox,
    the integration is a fixture and every row's URL fits its provider."""
    folders = list(folders)
    synced = [f.path for f in folders if f.cloud_sync is not None]
    for folder in folders:
        register = folder.registration
        if register is None:
            continue
        above = (
            folder.path
            if folder.cloud_sync is not None
            else next((p for p in synced if is_under(folder.path, p)), None)
        )
        if above == folder.path:
            ctx.report_at(
                register.source,
                f"{folder.path}: a cloud-synced folder gets its items from its sync; register "
                "into a generic folder (remove register: or cloud_sync:)",
            )
        elif above is not None:
            ctx.report_at(
                register.source,
                f"{folder.path}: inside the cloud-synced folder {above}, whose sync mirrors its "
                "whole subtree; register into a folder outside it (move the folder or remove "
                "register:)",
            )
        if target is None or target.sandbox is None or _UUID.match(register.integration):
            continue
        fixtures = {i.title: i for i in target.sandbox.integrations}
        fixture = fixtures.get(register.integration)
        if fixture is None:
            message = _unknown(folder.path, register.integration, fixtures, "register")
            ctx.report_at(register.source, message)
            continue
        _check_row_urls(register, fixture, ctx)


def _check_row_urls(register: Registration, fixture: SandboxIntegration, ctx: Context) -> None:
    rows, reported = register.rows, 0
    for n in range(len(rows)):
        problem = _url_problem(rows.url(n), fixture)
        if problem is None:
            continue
        reported += 1
        if reported <= _MAX_URL_PROBLEMS:
            ctx.report_at(Source(file=rows.file, line=rows.lines[n]), f"url {problem}")
    if reported > _MAX_URL_PROBLEMS:
        rest = reported - _MAX_URL_PROBLEMS
        ctx.report_at(
            register.source, f"{rest} more rows of {rows.file} do not fit the integration"
        )


_MAX_URL_PROBLEMS = 20


def _unknown(
    path: str, name: str, fixtures: dict[str, SandboxIntegration], what: str = "cloud_sync"
) -> str:
    message = (
        f"{path}: {what} integration {name!r} is not a sandbox fixture; declare it under "
        "target.sandbox.integrations"
    )
    import difflib  # here: only a config with a mistake needs a hint

    close = difflib.get_close_matches(name, list(fixtures), n=1)
    if close:
        return message + f" (did you mean {close[0]!r}?)"
    if fixtures:
        return message + f" (declared: {', '.join(sorted(fixtures))})"
    return message


def _url_problem(url: str, fixture: SandboxIntegration) -> str | None:
    scheme = SCHEMES[fixture.provider]
    if not url.startswith(scheme):
        return (
            f"{url!r} does not fit integration {fixture.title!r} (provider {fixture.provider}): "
            f"expected a URL like {_EXAMPLES[fixture.provider]}"
        )
    rest = url[len(scheme) :]
    if fixture.provider == "azure":
        host, _, rest = rest.partition("/")
        if not host.endswith(".blob.core.windows.net"):
            return f"{url!r}: expected {_EXAMPLES['azure']}"
    segments = rest.split("/")
    if not segments[0]:
        return f"{url!r} names no bucket: expected {_EXAMPLES[fixture.provider]}"
    if any(s in (".", "..") for s in segments):
        return f"{url!r} has '.' or '..' segments; the sandbox refuses URLs leaving the bucket"
    return None
