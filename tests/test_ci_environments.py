"""The example workflows for a config with environments (``examples/ci/environments/``), run
for real: a plan per environment in a matrix on a pull request, then on merge apply-staging
and, only after it, apply-prod, each against its own sandbox; a prod job handed the staging
plan refuses it in one line and changes nothing."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from drift_data.actions import GhState, JobResult, Runner, load_workflow, run_steps
from helpers import SandboxServer, running_sandbox, sdk

CI = Path(__file__).resolve().parents[1] / "examples" / "ci" / "environments"
ENVIRONMENTS = ("staging", "prod")
SETTINGS = """\
version: 1
target:
  encord: {domain: https://api.encord.com}   # CI points each environment elsewhere
policy: {prune: owned}
environments:
  staging:
    ownership: {id: ci-staging}
    variables: {label: staging copy}
  prod:
    ownership: {id: ci-prod}
    variables: {label: the real thing}
"""
STORAGE = """\
folders:
  /ci:
    description: "${var.label}"
"""


@pytest.mark.parametrize("name", ["plan.yml", "apply.yml"])
def test_every_run_step_is_valid_bash(name: str) -> None:
    workflow = load_workflow(CI / name)
    for job in workflow["jobs"]:
        for step, script in run_steps(workflow, job):
            checked = subprocess.run(["bash", "-n", "-c", script], capture_output=True, text=True)
            assert checked.returncode == 0, (name, job, step, checked.stderr)


def test_plans_run_per_environment_and_prod_applies_after_staging() -> None:
    plan, apply = load_workflow(CI / "plan.yml"), load_workflow(CI / "apply.yml")
    job = plan["jobs"]["plan"]
    assert job["strategy"]["matrix"]["environment"] == list(ENVIRONMENTS)
    assert job["strategy"]["fail-fast"] is False
    assert job["env"]["RECONCILER_ENV"] == "${{ matrix.environment }}"
    assert set(apply["jobs"]) == {"apply-staging", "apply-prod"}
    assert apply["jobs"]["apply-prod"]["needs"] == "apply-staging"
    assert apply["jobs"]["apply-prod"]["environment"] == "prod"
    for name in ENVIRONMENTS:
        assert apply["jobs"][f"apply-{name}"]["env"]["RECONCILER_ENV"] == name


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, SandboxServer]]:
    with (
        running_sandbox(tmp_path_factory.mktemp("ci-staging")) as staging,
        running_sandbox(tmp_path_factory.mktemp("ci-prod")) as prod,
    ):
        yield {"staging": staging, "prod": prod}


class Repository:
    def __init__(self, tmp_path: Path, servers: dict[str, SandboxServer]) -> None:
        self.workspace = tmp_path / "work" / "repo"
        self.workspace.mkdir(parents=True)
        (self.workspace / "reconciler.yaml").write_text(SETTINGS)
        (self.workspace / "storage.yaml").write_text(STORAGE)
        self.held = tmp_path / "held"
        self.gh = GhState(tmp_path / "gh")
        self.secrets = {"RECONCILER_PLAN_KEY": "ci-plan-key-for-tests"}
        for name, server in servers.items():
            self.secrets[f"ENCORD_SSH_KEY_{name.upper()}"] = server.key_text
            self.secrets[f"ENCORD_DOMAIN_{name.upper()}"] = server.url

    def runner(self, github: dict[str, Any], matrix: dict[str, Any] | None = None) -> Runner:
        context = {"repository": "acme/encord-config", "token": "ghs_test", **github}
        return Runner(self.workspace, context, self.secrets, self.gh.directory, matrix=matrix or {})

    def pull_request(self, number: int, head: str) -> dict[str, JobResult]:
        """One plan.yml run: its matrix jobs, and their artifacts kept as one run's."""
        event = {"pull_request": {"number": number, "head": {"sha": head}}}
        github = {"event_name": "pull_request", "event": event, "sha": head}
        results, artifacts = {}, {}
        for name in ENVIRONMENTS:
            result = self.runner(github, {"environment": name}).run(CI / "plan.yml", "plan")
            results[name] = result
            for artifact, path in result.artifacts.items():  # the runner reuses its temp
                artifacts[artifact] = shutil.copytree(path, self.held / artifact)
        ok = all(r.ok for r in results.values())
        self.gh.add_run("plan.yml", head, ok=ok, artifacts=artifacts)
        return results

    def merge(self, sha: str, job: str) -> JobResult:
        return self.runner({"event_name": "push", "sha": sha}).run(CI / "apply.yml", job)


def _description(server: SandboxServer) -> str:
    (folder,) = [f for f in sdk(server).find_storage_folders(search="ci") if f.name == "ci"]
    return str(folder.description)


@pytest.mark.slow
@pytest.mark.sdk
def test_plan_each_environment_then_apply_staging_then_prod(
    tmp_path: Path, servers: dict[str, SandboxServer]
) -> None:
    repo = Repository(tmp_path, servers)
    planned = repo.pull_request(1, "aaa111")
    for name in ENVIRONMENTS:
        assert planned[name].ok, planned[name].log
        assert planned[name].step("Plan").outputs == {"exit_code": "2"}
        assert f"## Environment: {name}" in planned[name].summary
    bodies = [c["body"] for c in repo.gh.comments()]
    assert len(bodies) == 2  # one comment per environment, each naming its organisation
    assert f"plan for `{servers['staging'].url}`" in bodies[0]
    assert f"plan for `{servers['prod'].url}`" in bodies[1]

    repo.gh.merged("mmm111", 1, "aaa111")
    staging = repo.merge("mmm111", "apply-staging")
    assert staging.ok, staging.log
    assert _description(servers["staging"]) == "staging copy"
    prod = repo.merge("mmm111", "apply-prod")
    assert prod.ok, prod.log
    assert _description(servers["prod"]) == "the real thing"

    # A prod job handed the staging plan (a mislabelled artifact) refuses it.
    staging_plan = repo.held / "reconciler-plan-staging-bbb222"
    repo.gh.merged("mmm222", 2, "bbb222")
    (repo.workspace / "storage.yaml").write_text(STORAGE.replace("/ci:", "/ci2:"))
    repo.pull_request(2, "bbb222")
    mixed = tmp_path / "mixed" / "reconciler-plan-prod-bbb222"
    mixed.mkdir(parents=True)
    shutil.copy(staging_plan / "plan-staging.json", mixed / "plan-prod.json")
    shutil.copy(staging_plan / "plan-staging.json.sig", mixed / "plan-prod.json.sig")
    repo.gh.add_run("plan.yml", "bbb222", ok=True, artifacts={mixed.name: mixed})
    refused = repo.merge("mmm222", "apply-prod")
    assert not refused.ok
    assert refused.step("Apply").outcome == "failure"
    assert "was made for environment staging, not for environment prod" in (
        refused.step("Apply").stdout + refused.step("Apply").stderr
    )
    assert {f.name for f in sdk(servers["prod"]).find_storage_folders(search="ci2")} == set()
