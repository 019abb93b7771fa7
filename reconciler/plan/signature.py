"""Plans authenticated with a key from CI secrets, beside their checksum.

The checksum proves a plan file was not edited by accident, but anyone can recompute it
after editing. With ``RECONCILER_PLAN_KEY`` set, ``plan --out PLAN`` also writes
``PLAN.sig``: ``hmac-sha256:`` + the HMAC of the checksum under that key; and ``apply PLAN``
refuses a plan whose signature is missing or does not verify. The key lives only in the CI
secrets of the jobs that plan and apply, never in the repository, so a pull request can
neither forge a signature nor read one back.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from pathlib import Path

from reconciler.errors import ReconcilerError

KEY_VARIABLE = "RECONCILER_PLAN_KEY"
PREFIX = "hmac-sha256:"


class PlanSignatureError(ReconcilerError):
    """The plan's signature is missing or wrong; the message says what to do."""


def signature_path(plan_file: Path) -> Path:
    return plan_file.with_name(plan_file.name + ".sig")


def plan_key(env: Mapping[str, str]) -> bytes | None:
    value = env.get(KEY_VARIABLE, "")
    return value.encode("utf-8") if value else None


def sign(checksum: str, key: bytes) -> str:
    return PREFIX + hmac.new(key, checksum.encode("ascii"), hashlib.sha256).hexdigest()


def check_signature(plan_file: Path, checksum: str, key: bytes) -> None:
    """Raise ``PlanSignatureError`` unless ``PLAN.sig`` holds the checksum's signature."""
    where = signature_path(plan_file)
    try:
        given = where.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        raise PlanSignatureError(
            f"{KEY_VARIABLE} is set but {where} cannot be read: keep the .sig file that "
            "plan --out wrote beside the plan (the CI artifact), or plan again"
        ) from None
    if not hmac.compare_digest(given, sign(checksum, key)):
        raise PlanSignatureError(
            f"{where} does not authenticate this plan under {KEY_VARIABLE}: it was not made "
            "with this key, or was changed; make a new plan in CI and review it"
        )
