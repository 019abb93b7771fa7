"""End to end over a loopback socket: selectors, rules and manifest rows that match nothing.

A served sandbox holds 40 items in ``/raw/cameras/rear``, all linked into a dataset declared
with ``unlink: all``. A typo in the selector's folder (``/raw/cameras/raer``) must be a plan
error naming the selector's ``file:line`` and the closest existing path, never "40 to
unlink"; a selector that exists but matches nothing must not drive unlinks; unlinking most
of a dataset is refused unless ``--force`` and listed first; manifest rows that match no item
are counted and listed.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from helpers import flags, run_cli, running_sandbox

from reconciler.drift.schema import drift_schema
from reconciler.plan import PLAN_SCHEMA, loads

SETTINGS = """\
version: 1
target:
  encord: {domain: https://api.encord.com}
ownership: {id: selectors-e2e}
"""
DATASETS = """\
folders:
  /raw: {}
  /raw/cameras: {}
datasets:
  rear-cams:
    description: Rear cameras
    unlink: all
    items:
      - {folder: SELECTED}
"""
MANIFEST_RULES = """\
items:
  - manifest: manifests/rows.jsonl
"""
ROWS = [
    {"path": "/raw/cameras/rear/item-0000000.jpg", "metadata": {"split": "train"}},
    {"path": "/raw/cameras/rear/missing.jpg", "metadata": {"split": "val"}},
]


def _config(root: Path, selected: str, *, manifest_policy: str | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    settings = SETTINGS
    if manifest_policy is not None:
        settings += f"policy: {{manifest_unmatched: {manifest_policy}}}\n"
    (root / "reconciler.yaml").write_text(settings)
    (root / "datasets.yaml").write_text(DATASETS.replace("SELECTED", selected))
    return root


def _seeded(tmp_path: Path) -> None:
    """Init the database and put 40 items under /raw/cameras/rear before the server starts."""
    db, key = tmp_path / "sandbox.sqlite", tmp_path / "admin.key"
    init = run_cli(
        "sandbox", "init", "--db", str(db), "--admin-email", "admin@example.com",
        "--key-out", str(key),
    )  # fmt: skip
    assert init.returncode == 0, init.stderr
    seeded = run_cli(
        "sandbox", "seed", "--db", str(db), "--under", "/raw/cameras/rear", "--items", "40"
    )
    assert seeded.returncode == 0, seeded.stderr


@pytest.mark.slow
def test_a_typo_with_unlink_all_is_an_error_and_mass_unlinks_are_refused(tmp_path: Path) -> None:
    _seeded(tmp_path)
    with running_sandbox(tmp_path, init=False) as server:
        target = flags(server)
        config = _config(tmp_path / "config", "/raw/cameras/rear")
        applied = run_cli("apply", str(config), "--auto-approve", *target)
        assert applied.returncode == 0, applied.stdout + applied.stderr

        _config(config, "/raw/cameras/raer")
        typo = run_cli("plan", str(config), *target)

        _config(config, "/raw/cameras")  # exists, holds no item directly
        empty_out = tmp_path / "empty.json"
        empty = run_cli("plan", str(config), "--out", str(empty_out), *target)
        empty_drift = run_cli("drift", str(config), "--format", "json", *target)

        (config / "datasets.yaml").write_text(
            DATASETS.replace(
                "{folder: SELECTED}",
                '{folder: /raw/cameras/rear, match: {name: "item-000000*.jpg"}}',
            )
        )
        most_out = tmp_path / "most.json"
        most = run_cli("plan", str(config), "--out", str(most_out), *target)
        most_md = run_cli("plan", str(config), "--format", "markdown", *target)
        forced = run_cli("plan", str(config), "--force", *target)

    # The typo: a plan error at the selector's line, with the closest existing path.
    assert typo.returncode == 1
    assert "to unlink" not in typo.stdout
    assert "Traceback" not in typo.stderr
    assert "datasets.yaml:9:" in typo.stderr
    assert "/raw/cameras/raer does not exist" in typo.stderr
    assert "closest existing path: /raw/cameras/rear" in typo.stderr

    # A selector that exists but matches nothing: a warning, and no unlink.
    assert empty.returncode == 1, empty.stderr
    plan = loads(empty_out.read_text())
    jsonschema.validate(json.loads(empty_out.read_text()), PLAN_SCHEMA)
    assert plan.summary.unlink == 0
    assert any("matches no item" in w and "datasets.yaml:9" in w for w in plan.warnings)
    (held,) = [r for r in plan.refusals if r.code == "selector-unlink"]
    assert held.withheld and held.count == 40
    assert "matches no item" in empty.stdout
    report = json.loads(empty_drift.stdout)
    jsonschema.validate(report, drift_schema())
    assert any("matches no item" in w for w in report["warnings"])

    # Unlinking 30 of 40 links: refused unless --force, listed first everywhere.
    assert most.returncode == 1, most.stderr
    plan = loads(most_out.read_text())
    assert plan.summary.unlink == 30
    (limit,) = [r for r in plan.refusals if r.code == "unlink-threshold"]
    assert not limit.withheld and limit.count == 30 and len(limit.addresses) == 30
    assert all(c.actions == ("unlink",) for c in plan.changes[:30])
    assert most.stdout.index("Deletes, replacements, unlinks and revokes:") < most.stdout.index(
        "Refusals"
    )
    assert most.stdout.count("  - link:rear-cams#/raw/cameras/rear/") == 30
    head = most_md.stdout.split("<details>", 1)[0]
    assert head.count("- link:rear-cams#/raw/cameras/rear/") == 30
    assert forced.returncode == 0, forced.stderr


@pytest.mark.slow
def test_manifest_rows_that_match_no_item_are_listed_and_can_be_an_error(tmp_path: Path) -> None:
    _seeded(tmp_path)
    with running_sandbox(tmp_path, init=False) as server:
        target = flags(server)
        config = _config(tmp_path / "config", "/raw/cameras/rear")
        (config / "items.yaml").write_text(MANIFEST_RULES)
        (config / "manifests").mkdir()
        rows = "".join(json.dumps(row) + "\n" for row in ROWS)
        (config / "manifests" / "rows.jsonl").write_text(rows)
        out = tmp_path / "plan.json"
        warned = run_cli("plan", str(config), "--out", str(out), *target)
        markdown = run_cli("plan", str(config), "--format", "markdown", *target)
        drift = run_cli("drift", str(config), *target)
        _config(config, "/raw/cameras/rear", manifest_policy="error")
        refused = run_cli("plan", str(config), *target)

    assert warned.returncode == 0, warned.stderr
    line = "manifest row manifests/rows.jsonl:2: /raw/cameras/rear/missing.jpg matches no item"
    assert line in warned.stdout
    assert "1 manifest row matches no item" in warned.stdout
    assert line in loads(out.read_text()).warnings
    assert line in markdown.stdout
    assert line in drift.stdout
    assert refused.returncode == 1
    assert "manifest-unmatched" in refused.stdout
    assert "/raw/cameras/rear/missing.jpg" in refused.stdout
