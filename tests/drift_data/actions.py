"""A small GitHub Actions job runner for the example workflows in ``examples/ci/``.

It runs a job's steps in order the way a runner does: ``run:`` steps with
``bash --noprofile --norc -eo pipefail``, the workflow's, job's and step's ``env`` (with
``${{ }}`` expressions evaluated against ``github``, ``secrets``, ``steps`` and ``env``), a
fresh ``$GITHUB_OUTPUT`` per step read back into ``steps.<id>.outputs``, a shared
``$GITHUB_STEP_SUMMARY``, and ``if:`` conditions (``success()`` by default, ``always()``,
``failure()``, ``!``, ``==``, ``!=``, ``&&``, ``||``). ``uses:`` steps are stood in for by
``USES`` below; an action it does not know fails the run, so the workflows cannot quietly
depend on something the test does not exercise. ``gh`` and ``pip`` are the shims in
``shims/`` (first on ``PATH``); ``reconciler`` is the real command.
"""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

SHIMS = Path(__file__).parent / "shims"
STEP_TIMEOUT_S = 300


@dataclass
class StepResult:
    name: str
    outcome: str  # success | failure | skipped
    stdout: str = ""
    stderr: str = ""
    outputs: dict[str, str] = field(default_factory=dict)


@dataclass
class JobResult:
    steps: list[StepResult]
    summary: str
    artifacts: dict[str, Path]
    junit: list[Path]

    @property
    def ok(self) -> bool:
        return all(s.outcome != "failure" for s in self.steps)

    def step(self, name: str) -> StepResult:
        (found,) = [s for s in self.steps if s.name == name]
        return found

    @property
    def log(self) -> str:
        return "\n".join(f"--- {s.name} [{s.outcome}]\n{s.stdout}{s.stderr}" for s in self.steps)


def load_workflow(path: Path) -> dict[str, Any]:
    """The workflow as data; YAML 1.1 reads the ``on:`` key as True, so it is put back."""
    doc = yaml.safe_load(path.read_text())
    if True in doc:
        doc["on"] = doc.pop(True)
    return doc  # type: ignore[no-any-return]


def run_steps(workflow: Mapping[str, Any], job: str) -> list[tuple[str, str]]:
    """``(name, command)`` of each ``run:`` step of ``job``, in order."""
    return [
        (s.get("name", s["run"].splitlines()[0]), s["run"])
        for s in workflow["jobs"][job]["steps"]
        if "run" in s
    ]


# --- expressions ---------------------------------------------------------------------------

_TOKEN = re.compile(
    r"\s*(?:(?P<op>==|!=|&&|\|\||!|\(|\))|(?P<str>'(?:[^']|'')*')|(?P<num>\d+)"
    r"|(?P<name>[A-Za-z_][\w\-]*(?:\.[\w\-]+)*)(?P<call>\(\))?)"
)


class Expression:
    """``a.b.c``, ``'text'``, ``f()``, ``!x``, ``x == y``, ``x != y``, ``x && y``, ``x || y``."""

    def __init__(self, text: str, context: Mapping[str, Any], status: Callable[[str], bool]):
        self.tokens = self._tokenize(text)
        self.context, self.status = context, status
        self.pos = 0

    @staticmethod
    def _tokenize(text: str) -> list[tuple[str, str]]:
        out, pos = [], 0
        while pos < len(text.rstrip()):
            match = _TOKEN.match(text, pos)
            if match is None:
                raise ValueError(f"cannot read expression {text!r} at {pos}")
            kind = next(k for k in ("op", "str", "num", "name") if match.group(k) is not None)
            value = match.group(kind) + ("()" if kind == "name" and match.group("call") else "")
            out.append((kind, value))
            pos = match.end()
        return out

    def value(self) -> Any:
        result = self._or()
        if self.pos != len(self.tokens):
            raise ValueError(f"unexpected {self.tokens[self.pos]}")
        return result

    def _peek(self) -> str | None:
        return self.tokens[self.pos][1] if self.pos < len(self.tokens) else None

    def _or(self) -> Any:
        left = self._and()
        while self._peek() == "||":
            self.pos += 1
            right = self._and()
            left = left or right
        return left

    def _and(self) -> Any:
        left = self._compare()
        while self._peek() == "&&":
            self.pos += 1
            right = self._compare()
            left = left and right
        return left

    def _compare(self) -> Any:
        left = self._unary()
        if self._peek() in ("==", "!="):
            op = self._peek()
            self.pos += 1
            right = self._unary()
            same = str(left).lower() == str(right).lower()
            return same if op == "==" else not same
        return left

    def _unary(self) -> Any:
        if self._peek() == "!":
            self.pos += 1
            return not self._unary()
        if self._peek() == "(":
            self.pos += 1
            inner = self._or()
            self.pos += 1
            return inner
        kind, text = self.tokens[self.pos]
        self.pos += 1
        if kind == "str":
            return text[1:-1].replace("''", "'")
        if kind == "num":
            return int(text)
        if text.endswith("()"):
            return self.status(text[:-2])
        node: Any = self.context
        for part in text.split("."):
            node = node.get(part, "") if isinstance(node, Mapping) else ""
        return node


def evaluate(text: str, context: Mapping[str, Any], status: Callable[[str], bool]) -> Any:
    return Expression(text, context, status).value()


def substitute(value: Any, context: Mapping[str, Any], status: Callable[[str], bool]) -> str:
    def one(match: re.Match[str]) -> str:
        result = evaluate(match.group(1), context, status)
        return "" if result is None else str(result)

    return re.sub(r"\$\{\{\s*(.*?)\s*\}\}", one, str(value))


# --- the runner ----------------------------------------------------------------------------


@dataclass
class Runner:
    """Runs one job of one workflow in ``workspace`` with the given ``github`` context and
    ``secrets``; ``gh_state`` is the shim's state directory (pull requests, runs, artifacts)."""

    workspace: Path
    github: dict[str, Any]
    secrets: dict[str, str]
    gh_state: Path
    extra_path: tuple[str, ...] = ()
    matrix: dict[str, Any] = field(default_factory=dict)  # this job's entry of its matrix

    def run(self, workflow_path: Path, job: str) -> JobResult:
        workflow = load_workflow(workflow_path)
        spec = workflow["jobs"][job]
        temp = self.workspace.parent / f".runner-{workflow_path.stem}-{job}"
        shutil.rmtree(temp, ignore_errors=True)
        temp.mkdir(parents=True)
        self._summary = temp / "summary.md"
        self._summary.write_text("")
        self._artifacts = temp / "artifacts"
        self._junit: list[Path] = []
        self._steps: dict[str, dict[str, Any]] = {}
        self._failed = False
        self._temp = temp
        results = []
        for index, step in enumerate(spec["steps"]):
            results.append(self._step(index, step, workflow, spec))
        artifacts = (
            {p.name: p for p in self._artifacts.iterdir()} if self._artifacts.exists() else {}
        )
        return JobResult(results, self._summary.read_text(), artifacts, self._junit)

    def _context(self, env: Mapping[str, str]) -> dict[str, Any]:
        return {
            "github": self.github,
            "secrets": self.secrets,
            "steps": self._steps,
            "env": env,
            "matrix": self.matrix,
        }

    def _status(self, name: str) -> bool:
        return {
            "always": True,
            "success": not self._failed,
            "failure": self._failed,
            "cancelled": False,
        }[name]

    def _env(self, *layers: Mapping[str, Any] | None) -> dict[str, str]:
        env: dict[str, str] = {}
        for layer in layers:
            for key, value in (layer or {}).items():
                env[key] = substitute(value, self._context(env), self._status)
        return env

    def _step(
        self,
        index: int,
        step: Mapping[str, Any],
        workflow: Mapping[str, Any],
        job: Mapping[str, Any],
    ) -> StepResult:
        name = step.get("name") or step.get("uses") or step["run"].splitlines()[0]
        env = self._env(workflow.get("env"), job.get("env"), step.get("env"))
        condition = str(step.get("if", "success()"))
        condition = re.sub(r"^\$\{\{\s*(.*?)\s*\}\}$", r"\1", condition.strip())
        if not evaluate(condition, self._context(env), self._status):
            return StepResult(name, "skipped")
        if "uses" in step:
            inputs = {
                k: substitute(v, self._context(env), self._status)
                for k, v in (step.get("with") or {}).items()
            }
            result = self._uses(name, step["uses"], inputs)
        else:
            result = self._shell(name, index, step["run"], env)
        if "id" in step:
            self._steps[step["id"]] = {"outputs": result.outputs, "outcome": result.outcome}
        if result.outcome == "failure":
            self._failed = True
        return result

    def _shell(self, name: str, index: int, script: str, env: Mapping[str, str]) -> StepResult:
        output = self._temp / f"output-{index}"
        output.write_text("")
        full = {
            "PATH": os.pathsep.join(
                [str(SHIMS), *self.extra_path, str(Path(sys.executable).parent), "/usr/bin", "/bin"]
            ),
            "HOME": str(self._temp),
            "LANG": "C.UTF-8",
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_WORKSPACE": str(self.workspace),
            "GITHUB_OUTPUT": str(output),
            "GITHUB_STEP_SUMMARY": str(self._summary),
            "GITHUB_SHA": str(self.github.get("sha", "")),
            "GITHUB_REPOSITORY": str(self.github.get("repository", "")),
            "GITHUB_EVENT_NAME": str(self.github.get("event_name", "")),
            "RUNNER_TEMP": str(self._temp),
            "GH_SHIM_STATE": str(self.gh_state),
            **env,
        }
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
            cwd=self.workspace,
            env=full,
            capture_output=True,
            text=True,
            timeout=STEP_TIMEOUT_S,
            check=False,
        )
        outcome = "success" if done.returncode == 0 else "failure"
        return StepResult(name, outcome, done.stdout, done.stderr, _outputs(output.read_text()))

    def _uses(self, name: str, action: str, inputs: Mapping[str, str]) -> StepResult:
        handler = USES.get(action.split("@", 1)[0])
        if handler is None:
            raise AssertionError(f"the test runner does not know the action {action}")
        problem = handler(self, inputs)
        return StepResult(name, "failure" if problem else "success", stderr=problem or "")

    # --- stand-ins for actions --------------------------------------------------------------

    def upload_artifact(self, inputs: Mapping[str, str]) -> str | None:
        # One pattern a line, as the real action takes them.
        patterns = [line.strip() for line in inputs["path"].splitlines() if line.strip()]
        found = [Path(p) for pattern in patterns for p in glob.glob(str(self.workspace / pattern))]
        if not found:
            missing = inputs.get("if-no-files-found", "warn")
            return f"no files at {inputs['path']}" if missing == "error" else None
        target = self._artifacts / inputs["name"]
        target.mkdir(parents=True, exist_ok=True)
        for path in found:
            shutil.copy2(path, target / path.name)
        return None

    def junit_report(self, inputs: Mapping[str, str]) -> str | None:
        for path in glob.glob(str(self.workspace / inputs["report_paths"])):
            ET.parse(path)  # a report the action could not parse fails the step
            self._junit.append(Path(path))
        return None


USES: dict[str, Callable[[Runner, Mapping[str, str]], str | None]] = {
    "actions/checkout": lambda runner, inputs: None,  # the workspace is the checkout
    "actions/setup-python": lambda runner, inputs: None,  # the test's interpreter is used
    "actions/upload-artifact": Runner.upload_artifact,
    "mikepenz/action-junit-report": Runner.junit_report,
}


def _outputs(text: str) -> dict[str, str]:
    """``name=value`` lines and ``name<<DELIMITER`` blocks, as ``$GITHUB_OUTPUT`` holds them."""
    out: dict[str, str] = {}
    lines = iter(text.splitlines())
    for line in lines:
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            key, delimiter = line.split("<<", 1)
            block = []
            for inner in lines:
                if inner == delimiter:
                    break
                block.append(inner)
            out[key] = "\n".join(block)
        elif "=" in line:
            key, value = line.split("=", 1)
            out[key] = value
    return out


class GhState:
    """What the ``gh`` shim knows: pull requests by merge commit, workflow runs with their
    artifacts, and the comments it was asked to post."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / "state.json"
        if not self.path.exists():
            self._save({"pulls": {}, "runs": []})

    def _load(self) -> dict[str, Any]:
        return json.loads(self.path.read_text())  # type: ignore[no-any-return]

    def _save(self, state: Mapping[str, Any]) -> None:
        self.path.write_text(json.dumps(state, indent=2))

    def merged(self, merge_sha: str, number: int, head_sha: str) -> None:
        state = self._load()
        state["pulls"][merge_sha] = [{"number": number, "head": {"sha": head_sha}}]
        self._save(state)

    def add_run(
        self, workflow: str, head_sha: str, *, ok: bool, artifacts: Mapping[str, Path]
    ) -> int:
        state = self._load()
        run_id = 1000 + len(state["runs"])
        stored = {}
        for name, source in artifacts.items():
            target = self.directory / "artifacts" / str(run_id) / name
            shutil.copytree(source, target)
            stored[name] = str(target)
        state["runs"].append(
            {
                "databaseId": run_id,
                "workflowName": workflow,
                "headSha": head_sha,
                "conclusion": "success" if ok else "failure",
                "artifacts": stored,
            }
        )
        self._save(state)
        return run_id

    def comments(self) -> list[dict[str, Any]]:
        log = self.directory / "comments.jsonl"
        if not log.exists():
            return []
        return [json.loads(line) for line in log.read_text().splitlines()]
