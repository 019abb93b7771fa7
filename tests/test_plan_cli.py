"""``reconciler plan`` through the command line: against a sandbox served on a loopback
socket (it must only read) and against the embedded sandbox of a config (exit codes, formats,
refusals, one-line errors)."""

from __future__ import annotations

import json
import re
import shutil
import textwrap
from pathlib import Path

import jsonschema
import pytest
from helpers import run_cli, running_sandbox

from reconciler.plan import PLAN_SCHEMA, loads

SETTINGS = """\
version: 1
target:
  encord: {domain: https://api.encord.com}
ownership: {id: plan-cli}
"""
RESOURCES = """\
folders:
  /team:
    description: Team space
    metadata: {team: ml}
    groups: {ops: admin}
  /team/raw: {}
groups:
  ops:
    description: Operators
    members: [admin@example.com]
datasets:
  team-set:
    description: Everything under /team
    groups: {ops: admin}
    items:
      - {folder: /team, recursive: true}
"""
READS = {"POST /public dataset", "POST /public datarows"}  # v1 queries with query_method GET


def _config(root: Path, resources: str = RESOURCES, settings: str = SETTINGS) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "reconciler.yaml").write_text(settings)
    (root / "resources.yaml").write_text(resources)
    return root


@pytest.mark.slow
def test_plan_against_a_served_sandbox_only_reads(tmp_path: Path) -> None:
    with running_sandbox(tmp_path) as server:
        flags = ("--domain", server.url, "--ssh-key-file", str(server.key_path))
        config = _config(tmp_path / "config")
        applied = run_cli("apply", str(config), "--auto-approve", *flags)
        assert applied.returncode == 0, applied.stderr
        same = run_cli("plan", str(config), "--detailed-exitcode", *flags)
        assert same.returncode == 0, same.stderr
        assert "No changes. The organisation matches the configuration." in same.stdout

        edited = RESOURCES.replace("description: Team space", "description: Team space v2")
        edited = edited.replace("  /team/raw: {}\n", "  /team/raw: {}\n  /team/new: {}\n")
        (config / "resources.yaml").write_text(edited)
        server.reset_stats()
        out = tmp_path / "plan.json"
        changed = run_cli("plan", str(config), "--detailed-exitcode", "--out", str(out), *flags)
        stats = server.stats()

    assert changed.returncode == 2, changed.stderr
    assert "~ folder:/team" in changed.stdout and "+ folder:/team/new" in changed.stdout
    plan = loads(out.read_text())
    assert plan.summary.create == 1 and plan.summary.change == 1
    assert plan.target == server.url
    routes = {k for k in stats if k != "total"}
    assert stats["total"] > 0
    writes = {r for r in routes if not r.startswith("GET ") and r not in READS}
    assert writes == set(), f"plan sent writes: {writes}"


def _embedded(tmp_path: Path, resources: str = RESOURCES) -> Path:
    settings = textwrap.dedent(
        """\
        version: 1
        target:
          sandbox:
            path: .reconciler/sandbox.sqlite
        ownership: {id: plan-cli}
        """
    )
    resources = resources.replace("members: [admin@example.com]", "members: []")
    return _config(tmp_path / "config", resources, settings)


def test_exit_codes_and_formats_on_the_embedded_sandbox(tmp_path: Path) -> None:
    config = _embedded(tmp_path)
    text = run_cli("plan", str(config))
    assert text.returncode == 0, text.stderr
    assert text.stdout.startswith("reconciler plan for sandbox:")
    summary, cost = text.stdout.rstrip().splitlines()[-2:]
    assert summary == (
        "Plan: 4 to create, 0 to change, 0 to move, 0 to delete, 0 to replace, 0 to link, "
        "0 to unlink, 2 to grant, 0 to revoke, 0 to sync."
    )
    # what applying will cost, at the latency this very read measured
    assert re.fullmatch(
        r"Applying: 12 requests in 5 phases, about [0-9.]+ (s|min) at the [0-9.]+ ms latency"
        r"( and [0-9.]+ (µs|ms) an object)? just measured\.",
        cost,
    ), cost
    detailed = run_cli("plan", str(config), "--detailed-exitcode")
    assert detailed.returncode == 2
    doc = json.loads(run_cli("plan", str(config), "--format", "json").stdout)
    jsonschema.validate(doc, PLAN_SCHEMA)
    assert [c["address"] for c in doc["changes"]][:3] == [
        "group:ops",
        "folder:/team",
        "folder:/team/raw",
    ]
    markdown = run_cli("plan", str(config), "--format", "markdown")
    assert markdown.stdout.startswith("### reconciler plan for `sandbox:")
    assert "<details><summary>Creates (4)</summary>" in markdown.stdout
    only = json.loads(run_cli("plan", str(config), "--format", "json", "--only", "group:*").stdout)
    assert [c["address"] for c in only["changes"]] == ["group:ops"]


def test_a_refused_plan_exits_1_unless_forced(tmp_path: Path) -> None:
    config = _embedded(tmp_path)
    assert run_cli("apply", str(config), "--auto-approve").returncode == 0
    shrunk = RESOURCES.replace(
        "    groups: {ops: admin}\n  /team/raw", "    groups: {}\n  /team/raw"
    )
    (config / "resources.yaml").write_text(
        shrunk.replace("members: [admin@example.com]", "members: []")
    )
    refused = run_cli("plan", str(config), "--detailed-exitcode")
    assert refused.returncode == 1
    assert "! [no-admin, withheld] folder:/team would be left without an admin" in refused.stdout
    assert refused.stderr.strip().splitlines()[-1] == (
        "Error: the plan has 1 refusal, listed with the plan; resolve them, or pass --force "
        "to accept what the plan holds"
    )
    forced = run_cli("plan", str(config), "--detailed-exitcode", "--force")
    assert forced.returncode == 0, forced.stderr  # the revoke is withheld: nothing left to do
    assert "(overridden by --force)" in forced.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("plan", "{missing}"), "no such file or directory; pass the config directory"),
        (("plan", "{config}", "--only", "[oops"), "--only '[oops': unclosed '[' in glob"),
        (("plan", "{config}", "--format", "yaml"), "Invalid value for '--format'"),
    ],
)
def test_user_errors_are_one_line_and_exit_1(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    config = _embedded(tmp_path)
    values = {"missing": str(tmp_path / "nope"), "config": str(config)}
    result = run_cli(*(a.format(**values) for a in args))
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_names_that_do_not_resolve_are_listed_with_file_and_line(tmp_path: Path) -> None:
    broken = RESOURCES.replace(
        "groups: {ops: admin}\n  /team/raw", "groups: {nobody: admin}\n  /team/raw"
    )
    config = _embedded(tmp_path, broken)
    result = run_cli("plan", "config", cwd=config.parent)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "Error: config/resources.yaml:5:5: unknown group 'nobody': declare it under 'groups:' or "
        "create it in Encord"
    ]
    assert result.stdout == ""


def test_detail_summary_prints_only_the_counts(tmp_path: Path) -> None:
    config = _embedded(tmp_path)
    summary = run_cli("plan", str(config), "--detail", "summary")
    assert summary.returncode == 0, summary.stderr
    rows = [line.split() for line in summary.stdout.splitlines()]
    assert ["create", "4"] in rows and ["grant", "2"] in rows
    assert "folder:/team" not in summary.stdout


RENAME_SETTINGS = "version: 1\ntarget:\n  sandbox: {path: unused.sqlite}\nownership: {id: ren}\n"


@pytest.mark.slow
def test_a_folder_renamed_out_of_band_gets_drifts_previously_hint(tmp_path: Path) -> None:
    """Someone else (here another config of ours, with ``previously:``) renames /r/old to
    /r/new in Encord; planning the config that still declares /r/old explains the delete and
    create it shows, as drift does, in text after the plan and on stderr beside JSON."""
    sandbox = ("--sandbox", str(tmp_path / "shared.sqlite"))
    ours = _config(tmp_path / "ours", "folders:\n  /r: {}\n  /r/old: {description: data}\n")
    (ours / "reconciler.yaml").write_text(RENAME_SETTINGS)
    assert run_cli("apply", str(ours), "--auto-approve", *sandbox).returncode == 0
    theirs = _config(tmp_path / "theirs", "folders:\n  /r/new: {previously: [/r/old]}\n")
    (theirs / "reconciler.yaml").write_text(RENAME_SETTINGS)
    renamed = run_cli("apply", str(theirs), "--auto-approve", *sandbox)
    assert renamed.returncode == 0, renamed.stdout + renamed.stderr

    note = (
        "Note: folder:/r/old is live at /r/new (renamed in Encord; it carries our ownership "
        "marker, it has the declared description); this plan creates /r/old anew and deletes "
        "/r/new with what it holds. To keep it, rename it back in Encord or declare "
        "previously: [/r/new]"
    )
    plan = run_cli("plan", str(ours), *sandbox)
    assert plan.returncode == 0, plan.stderr
    assert plan.stdout.splitlines()[-1] == note
    applying = run_cli("apply", str(ours), "--format", "json", *sandbox)  # no terminal: stops
    assert applying.returncode == 1
    assert note in applying.stderr.splitlines()
    assert all(json.loads(line) for line in applying.stdout.splitlines())


@pytest.mark.slow
def test_one_rule_over_20000_items_prints_in_under_100_lines(tmp_path: Path) -> None:
    """The trial of issue 16: a metadata rule and a dataset selector over 20,000 items."""
    config = tmp_path / "config"
    shutil.copytree(Path(__file__).parent / "apply_data" / "small", config)
    db = config / ".reconciler" / "sandbox.sqlite"
    db.parent.mkdir()
    init = run_cli(
        "sandbox", "init", "--db", str(db), "--admin-email", "admin@example.com",
        "--key-out", str(tmp_path / "admin.key"),
    )  # fmt: skip
    assert init.returncode == 0, init.stderr
    seed = run_cli("sandbox", "seed", "--db", str(db), "--under", "/team/raw", "--items", "20000")
    assert seed.returncode == 0, seed.stderr
    text = run_cli("plan", str(config), timeout=600)
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert len(lines) < 100
    assert any(line.startswith("  ~ 20000 × item  [items.yaml:") for line in lines)
    assert any(line.startswith("  + 20000 × link  [items.yaml:") for line in lines)
    assert lines[-2].startswith("Plan: 2 to create, 20001 to change, 0 to move, 0 to delete")
    assert lines[-1].startswith("Applying: ")
