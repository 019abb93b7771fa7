"""The example GitHub Actions workflows in ``examples/ci/``, run for real.

Each job's steps run in order (``tests/drift_data/actions.py``): the ``run:`` commands under
bash as a runner runs them, with ``gh`` and ``pip`` shimmed, secrets pointing at a sandbox on
a loopback socket, and the official SDK making the out-of-band changes. The story: plan on a
pull request (comment, summary, artifact), apply that reviewed plan on merge, audit clean;
then a plan that went stale before merge is refused, a merge without a reviewed plan is
refused, and the nightly audit fails on drift with a JUnit report.
"""

from __future__ import annotations

import json
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import xmlschema
from drift_data.actions import GhState, JobResult, Runner, load_workflow, run_steps
from encord.user_client import EncordUserClient
from helpers import SandboxServer, running_sandbox, sdk

from reconciler.plan import loads

REPO = Path(__file__).resolve().parents[1]
CI = REPO / "examples" / "ci"
DATA = Path(__file__).parent / "drift_data"
SETTINGS = """\
version: 1
target:
  encord: {domain: https://api.encord.com}   # CI points it elsewhere with ENCORD_DOMAIN
ownership: {id: ci-example}
"""
STORAGE = """\
groups:
  annotators: {{description: People who label}}
folders:
  /ci:
    description: managed from CI
    groups: {{annotators: admin}}
  /ci/raw:
    description: {raw}
items:
  - folder: /ci/raw
    metadata: {{source: camera}}
datasets:
  ci-images:
    description: every raw image
    items:
      - {{folder: /ci/raw}}
"""


# --- the files themselves ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["plan.yml", "apply.yml", "drift.yml"])
def test_every_run_step_is_valid_bash(name: str) -> None:
    steps = run_steps(load_workflow(CI / name), next(iter(load_workflow(CI / name)["jobs"])))
    assert steps
    for step, script in steps:
        checked = subprocess.run(["bash", "-n", "-c", script], capture_output=True, text=True)
        assert checked.returncode == 0, (name, step, checked.stderr)


def test_the_workflows_trigger_and_authenticate_as_documented() -> None:
    plan, apply, drift = (load_workflow(CI / n) for n in ("plan.yml", "apply.yml", "drift.yml"))
    assert "pull_request" in plan["on"]
    assert apply["on"]["push"]["branches"] == ["main"]
    assert drift["on"]["schedule"][0]["cron"] and "workflow_dispatch" in drift["on"]
    for workflow in (plan, apply, drift):
        assert workflow["env"]["ENCORD_SSH_KEY"] == "${{ secrets.ENCORD_SSH_KEY }}"
        # pinned: an unset secret must not let the config choose the host
        assert workflow["env"]["ENCORD_DOMAIN"] == (
            "${{ secrets.ENCORD_DOMAIN || 'https://api.encord.com' }}"
        )
    commands = {
        name: "\n".join(script for _, script in run_steps(wf, next(iter(wf["jobs"]))))
        for name, wf in (("plan", plan), ("apply", apply), ("drift", drift))
    }
    assert "reconciler validate" in commands["plan"]
    assert "--out plan.json --format markdown" in commands["plan"]
    assert 'cat plan.md >> "$GITHUB_STEP_SUMMARY"' in commands["plan"]
    assert "gh pr comment" in commands["plan"]
    assert "reconciler apply plan.json --auto-approve" in commands["apply"]
    assert "reconciler drift" in commands["drift"] and "--junit drift.xml" in commands["drift"]
    assert '>> "$GITHUB_STEP_SUMMARY"' in commands["drift"]


def test_applies_queue_per_organisation_and_wait_for_the_lock() -> None:
    apply = load_workflow(CI / "apply.yml")
    group = apply["concurrency"]["group"]
    assert "reconciler-apply" in group and "vars.ENCORD_ORGANISATION" in group
    assert apply["concurrency"]["cancel-in-progress"] is False  # queue, never cut an apply
    commands = "\n".join(script for _, script in run_steps(apply, "apply"))
    assert "--lock-timeout" in commands
    for name in ("plan.yml", "drift.yml"):  # read-only: they never queue behind an apply
        assert "reconciler-apply" not in str(load_workflow(CI / name).get("concurrency"))


# --- the story -----------------------------------------------------------------------------


def write_config(workspace: Path, *, raw: str = "raw camera dumps") -> None:
    workspace.mkdir(parents=True, exist_ok=True)
    (workspace / "reconciler.yaml").write_text(SETTINGS)
    (workspace / "storage.yaml").write_text(STORAGE.format(raw=raw))


class Repository:
    """One checkout (the runner's workspace path never changes, as on GitHub) and the jobs
    that run in it."""

    def __init__(self, tmp_path: Path, server: SandboxServer) -> None:
        self.workspace = tmp_path / "work" / "repo"
        self.gh = GhState(tmp_path / "gh")
        self.secrets = {
            "ENCORD_DOMAIN": server.url,
            "ENCORD_SSH_KEY": server.key_text,
            "RECONCILER_PLAN_KEY": "ci-plan-key-for-tests",  # plans travel signed
        }

    def job(self, workflow: str, job: str, **github: Any) -> JobResult:
        context = {"repository": "acme/encord-config", "token": "ghs_test", **github}
        runner = Runner(self.workspace, context, self.secrets, self.gh.directory)
        return runner.run(CI / workflow, job)

    def pull_request(self, number: int, head: str) -> JobResult:
        event = {"pull_request": {"number": number, "head": {"sha": head}}}
        result = self.job("plan.yml", "plan", event_name="pull_request", event=event, sha=head)
        self.gh.add_run("plan.yml", head, ok=result.ok, artifacts=result.artifacts)
        return result

    def merge(self, sha: str) -> JobResult:
        return self.job("apply.yml", "apply", event_name="push", sha=sha)

    def nightly(self) -> JobResult:
        return self.job("drift.yml", "drift", event_name="schedule", sha="main")


def folder(uc: EncordUserClient, path: str) -> Any:
    parts = path.strip("/").split("/")
    (current,) = [
        f
        for f in uc.find_storage_folders(search=parts[0])
        if f.parent_uuid is None and f.name == parts[0]  # not the apply lock's folder
    ]
    for part in parts[1:]:
        (current,) = [f for f in current.list_subfolders() if f.name == part]
    return current


def junit_cases(path: Path) -> dict[str, bool]:
    for name in ("JUnit.xsd", "jenkins-junit-10.xsd"):
        xmlschema.XMLSchema(str(DATA / name)).validate(str(path))
    return {
        case.attrib["name"]: case.find("failure") is not None
        for case in ET.fromstring(path.read_text()).iter("testcase")
    }


@pytest.mark.slow
@pytest.mark.sdk
def test_plan_on_a_pull_request_apply_on_merge_then_a_clean_audit(tmp_path: Path) -> None:
    with running_sandbox(tmp_path, seeds=(("/ci/raw", 3),)) as server:
        repo = Repository(tmp_path, server)
        write_config(repo.workspace)

        planned = repo.pull_request(1, "aaa111")
        assert planned.ok, planned.log
        assert planned.step("Plan").outputs == {"exit_code": "2"}  # changes
        (comment,) = repo.gh.comments()
        assert comment["pr"] == "1" and comment["body"].startswith("### reconciler plan for ")
        assert "+ group:annotators" in comment["body"]
        assert "folder-group:/ci#annotators" in comment["body"]
        assert comment["body"] in planned.summary
        assert len(comment["body"]) <= 65_536
        saved = planned.artifacts["reconciler-plan-aaa111"] / "plan.json"
        plan = loads(saved.read_text())  # a valid, untampered plan file
        assert plan.target == server.url and plan.changes

        repo.gh.merged("mmm111", 1, "aaa111")
        applied = repo.merge("mmm111")
        assert applied.ok, applied.log
        assert (
            "Applying the plan reviewed on aaa111" in applied.step("Find the reviewed plan").stdout
        )
        assert "Verified: a fresh plan is empty" in applied.step("Apply").stdout
        uc = sdk(server)
        assert folder(uc, "/ci").description == "managed from CI"
        assert folder(uc, "/ci/raw").description == "raw camera dumps"
        items = folder(uc, "/ci/raw").list_items()
        assert {i.client_metadata.get("source") for i in items} == {"camera"}

        audited = repo.nightly()
        assert audited.ok, audited.log
        assert audited.step("Audit").outputs == {"exit_code": "0"}
        assert "**In sync.**" in audited.summary
        assert audited.step("Fail on drift").stdout.strip() == "In sync."
        (report,) = audited.junit
        cases = junit_cases(report)
        assert "folder:/ci/raw" in cases and not any(cases.values())
        assert "reconciler-drift" in audited.artifacts

        # --- a plan reviewed on a pull request goes stale before the merge ----------------
        write_config(repo.workspace, raw="reviewed raw dumps")
        second = repo.pull_request(2, "bbb222")
        assert second.ok, second.log
        folder(uc, "/ci/raw").update(description="edited by hand")
        repo.gh.merged("mmm222", 2, "bbb222")
        stale = repo.merge("mmm222")
        assert not stale.ok
        assert stale.step("Find the reviewed plan").outcome == "success"
        assert stale.step("Apply").outcome == "failure"
        assert "folder:/ci/raw" in stale.step("Apply").stdout
        assert "changed since the plan" in stale.step("Apply").stdout
        assert folder(uc, "/ci/raw").description == "edited by hand"  # nothing overwritten

        # --- merges without a reviewed plan are refused, not planned afresh ----------------
        direct = repo.merge("ddd333")  # a push that came from no pull request
        assert not direct.ok and direct.step("Apply").outcome == "skipped"
        assert "did not come from a pull request" in direct.step("Find the reviewed plan").stdout
        repo.gh.merged("mmm444", 4, "eee444")  # a pull request whose plan never succeeded
        unplanned = repo.merge("mmm444")
        assert not unplanned.ok and unplanned.step("Apply").outcome == "skipped"
        assert (
            "no successful plan run for eee444" in unplanned.step("Find the reviewed plan").stdout
        )
        assert folder(uc, "/ci/raw").description == "edited by hand"

        # --- the nightly audit now fails, with the drift in the summary and the JUnit report --
        drifted = repo.nightly()
        assert not drifted.ok
        assert drifted.step("Audit").outcome == "success"  # the report is always published
        assert drifted.step("Audit").outputs == {"exit_code": "2"}
        assert drifted.step("Publish the JUnit report").outcome == "success"
        assert drifted.step("Fail on drift").outcome == "failure"
        assert "drift: Encord no longer matches the config" in drifted.step("Fail on drift").stdout
        assert "**1 drifted** (1 changed)" in drifted.summary
        (report,) = drifted.junit
        assert {name for name, failed in junit_cases(report).items() if failed} == {
            "folder:/ci/raw"
        }


def test_a_refused_plan_is_commented_but_not_kept_for_apply(tmp_path: Path) -> None:
    """A config the plan cannot accept: the job fails, reviewers still get the reason in a
    comment, and no artifact exists for apply to pick up."""
    workspace = tmp_path / "work" / "repo"
    workspace.mkdir(parents=True)
    (workspace / "reconciler.yaml").write_text(SETTINGS)
    (workspace / "storage.yaml").write_text("folders:\n  /ci:\n    colour: blue\n")
    gh = GhState(tmp_path / "gh")
    event = {"pull_request": {"number": 9, "head": {"sha": "fff999"}}}
    github = {"repository": "acme/encord-config", "token": "t", "event": event, "sha": "fff999"}
    result = Runner(workspace, github, {"ENCORD_SSH_KEY": ""}, gh.directory).run(
        CI / "plan.yml", "plan"
    )
    assert not result.ok
    assert result.step("Validate").outcome == "failure"
    assert "storage.yaml:3:5" in result.step("Validate").stdout
    assert result.step("Plan").outcome == "skipped"
    assert result.step("Comment the plan on the pull request").outcome == "success"
    assert gh.comments() == []  # no plan.md, nothing to post
    assert result.step("Keep the plan for apply").outcome == "skipped"
    assert result.artifacts == {}
    assert json.loads((gh.directory / "state.json").read_text())["runs"] == []
