"""One repository, two organisations: staging and prod, each a sandbox served on its own
loopback port, planned and applied through the CLI with different variables; a staging plan
is refused by prod; and a ``for_each`` over 50 sites plans exactly as the same 50 sites
written out by hand (plan JSON compared)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import SandboxServer, run_cli, running_sandbox, sdk

SETTINGS = """\
version: 1
policy: {{prune: owned}}
environments:
  staging:
    target: {{encord: {{domain: "{staging}", ssh_key_file: {staging_key}}}}}
    ownership: {{id: acme-staging}}
    variables: {{root: staging-data, tier: bronze}}
  prod:
    target: {{encord: {{domain: "{prod}", ssh_key_file: {prod_key}}}}}
    ownership: {{id: acme-prod}}
    variables: {{root: data, tier: gold}}
"""
BODY = """\
folders:
  /${var.root}:
    description: "Tier ${var.tier}"
    metadata: {tier: "${var.tier}"}
"""
PROD_ONLY = """\
in_environments: [prod]
folders:
  /${var.root}/audit: {description: prod only}
"""


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, SandboxServer]]:
    with (
        running_sandbox(tmp_path_factory.mktemp("staging")) as staging,
        running_sandbox(tmp_path_factory.mktemp("prod")) as prod,
    ):
        yield {"staging": staging, "prod": prod}


@pytest.fixture(scope="module")
def repo(servers: dict[str, SandboxServer], tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("repo")
    (root / "reconciler.yaml").write_text(
        SETTINGS.format(
            staging=servers["staging"].url,
            staging_key=servers["staging"].key_path,
            prod=servers["prod"].url,
            prod_key=servers["prod"].key_path,
        )
    )
    (root / "main.yaml").write_text(BODY)
    (root / "prod.yaml").write_text(PROD_ONLY)
    return root


ALLOW = {"RECONCILER_ALLOWED_DOMAINS": "127.0.0.1"}


def _cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> Any:
    return run_cli(*args, cwd=cwd, env={**ALLOW, **(env or {})})


def _folders(server: SandboxServer) -> dict[str, Any]:
    storage = sdk(server)
    found = storage.find_storage_folders(page_size=100)
    return {f.name: f for f in found if not f.name.startswith(".reconciler-lock")}


def test_staging_and_prod_plan_and_apply_with_their_own_variables(
    repo: Path, servers: dict[str, SandboxServer]
) -> None:
    staging = _cli("plan", "--env", "staging", "--out", "staging.json", cwd=repo)
    assert staging.returncode == 0, staging.stderr
    doc = json.loads((repo / "staging.json").read_text())
    assert doc["environment"] == "staging" and doc["ownership_id"] == "acme-staging"
    assert [c["address"] for c in doc["changes"]] == ["folder:/staging-data"]

    applied = _cli("apply", "staging.json", "--auto-approve", cwd=repo)
    assert applied.returncode == 0, applied.stderr
    # RECONCILER_ENV chooses the environment as --env does
    prod = _cli("apply", "--auto-approve", cwd=repo, env={"RECONCILER_ENV": "prod"})
    assert prod.returncode == 0, prod.stderr

    staging_live = _folders(servers["staging"])
    prod_live = _folders(servers["prod"])
    assert set(staging_live) == {"staging-data"}
    assert set(prod_live) == {"data", "audit"}  # prod.yaml: in prod only
    assert staging_live["staging-data"].description == "Tier bronze"
    assert prod_live["data"].client_metadata["tier"] == "gold"
    # each environment's journal in its own folder
    assert (repo / ".reconciler" / "journal" / "prod").is_dir()
    again = _cli("plan", "--env", "prod", "--detailed-exitcode", cwd=repo)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "(environment: prod, ownership: acme-prod)" in again.stdout.splitlines()[0]
    audit = _cli("drift", "--format", "json", cwd=repo, env={"RECONCILER_ENV": "prod"})
    assert audit.returncode == 0, audit.stderr  # in sync
    (repo / "drift.json").write_text(audit.stdout)
    assert json.loads(audit.stdout)["environment"] == "prod"
    shown = _cli("show", "--drift", "drift.json", cwd=repo)
    assert "(environment: prod, ownership: acme-prod)" in shown.stdout.splitlines()[0]


def test_a_staging_plan_is_refused_by_prod(repo: Path, servers: dict[str, SandboxServer]) -> None:
    made = _cli("plan", "--env", "staging", "--out", "again.json", cwd=repo)
    assert made.returncode == 0, made.stderr
    before = set(_folders(servers["prod"]))
    refused = _cli("apply", "again.json", "--env", "prod", "--auto-approve", cwd=repo)
    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines() == [
        "Error: again.json was made for environment staging, not for environment prod; make "
        "a plan for prod with `reconciler plan --env prod --out FILE`"
    ]
    assert set(_folders(servers["prod"])) == before


def test_an_unknown_environment_is_one_line_with_a_hint(repo: Path) -> None:
    result = _cli("plan", "--env", "prd", cwd=repo)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "Error: reconciler.yaml:3:1: --env prd: no such environment (did you mean 'prod'?); "
        "reconciler.yaml declares prod, staging"
    ]


SITES = 50
TEMPLATE = """\
x-sites: &sites
{entries}
templates:
  - for_each: *sites
    folders:
      /sites/${{each.key}}:
        description: "Site ${{each.key}} in ${{each.value.region}}"
        metadata: {{region: "${{each.value.region}}"}}
      /sites/${{each.key}}/raw: {{}}
"""
HAND = """\
  /sites/site-{i:02d}:
    description: "Site site-{i:02d} in {region}"
    metadata: {{region: "{region}"}}
  /sites/site-{i:02d}/raw: {{}}
"""


def _region(i: int) -> str:
    return ("eu", "us", "ap")[i % 3]


def test_a_for_each_over_50_sites_plans_as_the_hand_written_config(
    tmp_path: Path, servers: dict[str, SandboxServer]
) -> None:
    settings = "version: 1\ntarget: {encord: {}}\nownership: {id: sites}\n"
    entries = "\n".join(f"  site-{i:02d}: {{region: {_region(i)}}}" for i in range(SITES))
    templated, hand = tmp_path / "templated", tmp_path / "hand"
    for path, body in (
        (templated, TEMPLATE.format(entries=entries)),
        (hand, "folders:\n" + "".join(HAND.format(i=i, region=_region(i)) for i in range(SITES))),
    ):
        path.mkdir()
        (path / "reconciler.yaml").write_text(settings)
        (path / "sites.yaml").write_text(body)
    server = servers["staging"]
    flags = ("--domain", server.url, "--ssh-key-file", str(server.key_path))
    plans = []
    for path in (templated, hand):
        result = run_cli("plan", "--format", "json", "--out", "plan.json", *flags, cwd=path)
        assert result.returncode == 0, result.stderr
        plans.append(json.loads(result.stdout))
    # a plan of a config without environments is not applied as one of an environment's
    refused = run_cli("apply", "plan.json", "--env", "prod", *flags, cwd=hand)
    assert refused.returncode == 1
    assert refused.stderr.splitlines() == [
        "Error: plan.json was made for a config without environments, not for environment "
        "prod; make a plan for prod with `reconciler plan --env prod --out FILE`"
    ]
    made, written = plans
    assert made["summary"]["create"] == 2 * SITES + 1  # and their parent, /sites
    sources = [c.pop("source") for c in made["changes"]]
    [c.pop("source") for c in written["changes"]]
    assert made["changes"] == written["changes"]
    assert sources[0].startswith("sites.yaml:") and "(for_each entry 'site-" in sources[0]
    for volatile in ("created_at", "checksum", "config_dir"):
        made.pop(volatile), written.pop(volatile)
    for cost in (made["cost"], written["cost"]):  # what each read just measured
        cost.pop("latency_ms"), cost.pop("seconds"), cost.pop("object_ms")
        cost.pop("client_ms", None)  # written only when measured
    assert made == written


def test_render_prints_the_expanded_config_for_an_environment(repo: Path) -> None:
    result = _cli("render", "--env", "prod", cwd=repo)
    assert result.returncode == 0, result.stderr
    assert "/data/audit:" in result.stdout and "id: acme-prod" in result.stdout
    assert "environments" not in result.stdout and "in_environments" not in result.stdout
    staging = _cli("render", "--env", "staging", cwd=repo)
    assert "/staging-data:" in staging.stdout and "audit" not in staging.stdout
