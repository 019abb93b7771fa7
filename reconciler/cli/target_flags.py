"""The target flags every command that talks to Encord shares (``plan``, ``apply``, ``drift``,
``export``): ``--domain``, ``--ssh-key-file``, ``--bearer-token-file``, ``--sandbox``,
``--concurrency``, ``--retry-seconds``, ``--max-answer-mib``. Resolution rules live in ``reconciler.targets``.

    @cli.command()
    @target_flags
    def plan(..., **target: Any) -> None:
        options = target_options(target, config=desired.target)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import click

from reconciler.encord.options import DEFAULT_RETRY_SECONDS, MAX_RESPONSE_BYTES, RetryOptions
from reconciler.model.desired import Target
from reconciler.targets import TargetOptions

F = TypeVar("F", bound=Callable[..., Any])

_FLAGS = (
    click.option(
        "--domain", metavar="URL", help="Encord API origin (default https://api.encord.com)."
    ),
    click.option(
        "--ssh-key-file",
        type=click.Path(path_type=Path, dir_okay=False),
        help="Ed25519 private key registered with Encord (else ENCORD_SSH_KEY_FILE/ENCORD_SSH_KEY).",
    ),
    click.option(
        "--bearer-token-file",
        type=click.Path(path_type=Path, dir_okay=False),
        help="File holding an Encord bearer token, instead of an SSH key.",
    ),
    click.option(
        "--sandbox",
        "sandbox_path",
        metavar="PATH",
        type=click.Path(path_type=Path, dir_okay=False),
        help="Use the embedded sandbox database at PATH instead of Encord.",
    ),
    click.option(
        "--concurrency",
        type=click.IntRange(1, 64),
        default=16,
        show_default=True,
        help="Requests in flight at once.",
    ),
    click.option(
        "--retry-seconds",
        type=click.FloatRange(0, 3600),
        default=DEFAULT_RETRY_SECONDS,
        show_default=True,
        envvar="RECONCILER_RETRY_SECONDS",
        help="How long one call keeps retrying 429s, 5xx and lost connections (else "
        "RECONCILER_RETRY_SECONDS).",
    ),
    click.option(
        "--max-answer-mib",
        type=click.IntRange(1, 4096),
        default=MAX_RESPONSE_BYTES // 2**20,
        show_default=True,
        envvar="RECONCILER_MAX_ANSWER_MIB",
        help="The largest answer read from Encord, once decompressed (else "
        "RECONCILER_MAX_ANSWER_MIB); a dataset's data rows are read in parts that fit.",
    ),
)


def target_flags(command: F) -> F:
    for flag in reversed(_FLAGS):
        command = flag(command)
    return command


def target_options(params: Mapping[str, Any], *, config: Target | None = None) -> TargetOptions:
    """``TargetOptions`` from the flags above (``params`` may hold other options too)."""
    return TargetOptions(
        domain=params.get("domain"),
        ssh_key_file=params.get("ssh_key_file"),
        bearer_token_file=params.get("bearer_token_file"),
        sandbox=params.get("sandbox_path"),
        config=config,
        concurrency=params.get("concurrency") or 16,
        retry=RetryOptions(max_total_seconds=params.get("retry_seconds", DEFAULT_RETRY_SECONDS)),
        max_response_bytes=params.get("max_answer_mib", MAX_RESPONSE_BYTES // 2**20) * 2**20,
    )
