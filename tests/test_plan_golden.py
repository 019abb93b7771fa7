"""Golden plans: one directory per scenario under ``tests/golden/<case>/``.

Each case holds ``config/`` (a real config directory, loaded with ``load_config``),
``live.json`` (``LiveState.from_json``), optionally ``options.json`` (``only``, ``force``),
and the expected plan as JSON (``expected.json``, volatile fields removed) and as text
(``expected.txt``). ``UPDATE_GOLDEN=1 pytest tests/test_plan_golden.py`` rewrites the
expectations; review every change by eye before committing it.
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from reconciler.apply.cost import estimate
from reconciler.config import load_config
from reconciler.model.live import LiveState
from reconciler.plan import (
    PLAN_SCHEMA,
    DiffOptions,
    Plan,
    diff,
    dumps,
    loads,
    plan_document,
    render_markdown,
    render_text,
)

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(p.name for p in GOLDEN.iterdir() if (p / "live.json").is_file())
VOLATILE = ("tool_version", "created_at", "config_dir", "checksum")
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
GOLDEN_LATENCY_MS = 180.0


def plan_case(case: str) -> Plan:
    root = GOLDEN / case
    desired = load_config(root / "config", env={})
    live = LiveState.from_json(json.loads((root / "live.json").read_text()))
    options: dict[str, Any] = {}
    if (root / "options.json").is_file():
        options = json.loads((root / "options.json").read_text())
    plan = diff(
        desired,
        live,
        options=DiffOptions(force=options.get("force", False), only=tuple(options.get("only", ()))),
    )
    # the cost at an injected latency: goldens hold nothing measured, so they stay stable
    return replace(plan, cost=estimate(plan, concurrency=16, latency_ms=GOLDEN_LATENCY_MS))


def stable_document(plan: Plan) -> dict[str, Any]:
    doc = plan_document(plan)
    for key in VOLATILE:
        doc.pop(key)
    return doc


def _check(path: Path, actual: str) -> None:
    if UPDATE:
        path.write_text(actual)
        return
    assert path.is_file(), f"{path} is missing: run with UPDATE_GOLDEN=1 and review it"
    assert actual == path.read_text(), f"{path} differs (UPDATE_GOLDEN=1 to regenerate)"


@pytest.mark.parametrize("case", CASES)
def test_golden_plan(case: str) -> None:
    plan = plan_case(case)
    doc = stable_document(plan)
    _check(GOLDEN / case / "expected.json", json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    _check(GOLDEN / case / "expected.txt", render_text(plan))


@pytest.mark.parametrize("case", CASES)
def test_golden_plan_is_valid_deterministic_and_round_trips(case: str) -> None:
    plan = plan_case(case)
    jsonschema.validate(plan_document(plan), PLAN_SCHEMA)
    assert loads(dumps(plan)) == plan
    assert plan_case(case).checksum == plan.checksum
    assert len(render_markdown(plan)) <= 65_536


def test_golden_cases_are_all_there() -> None:
    wanted = {
        "create-tree", "patch", "move", "move-and-patch", "delete-owned-only",
        "foreign-owned-untouched", "protect", "threshold-exceeded", "empty-read-guard",
        "ambiguous-path", "cloud-sync-create", "cloud-sync-replace-refused", "group-members",
        "grant-revoke", "dataset-link-unlink", "manifest-metadata", "owned-keys",
    }  # fmt: skip
    assert wanted <= set(CASES)
