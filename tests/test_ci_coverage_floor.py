"""The coverage floor only rises: the committed floor is never below an earlier committed one,
the ratchet raises it and never lowers it, and CI measures what the README says it runs."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RATCHET = ROOT / ".ci" / "coverage-ratchet"


def _floor(text: str) -> float:
    return float(tomllib.loads(text)["tool"]["coverage"]["report"]["fail_under"])


def _committed_floors() -> list[tuple[str, float]]:
    """(commit, floor) for every commit that changed pyproject.toml and had a floor."""
    git = shutil.which("git")
    assert git, "git is needed to compare the coverage floor with the committed ones"
    log = subprocess.run(
        [git, "log", "--format=%H", "--", "pyproject.toml"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    floors = []
    for commit in log.stdout.split():
        shown = subprocess.run(
            [git, "show", f"{commit}:pyproject.toml"],
            cwd=ROOT, capture_output=True, text=True, check=True,
        )  # fmt: skip
        report = tomllib.loads(shown.stdout).get("tool", {}).get("coverage", {}).get("report")
        if report and "fail_under" in report:
            floors.append((commit[:12], float(report["fail_under"])))
    return floors


def test_the_floor_is_never_below_a_committed_one() -> None:
    floor = _floor((ROOT / "pyproject.toml").read_text())
    committed = _committed_floors()
    assert committed, "no committed pyproject.toml has [tool.coverage.report] fail_under"
    highest = max(committed, key=lambda c: c[1])
    assert floor >= highest[1], (
        f"pyproject.toml: fail_under = {floor} is below {highest[1]}, the floor committed in "
        f"{highest[0]}; the floor only rises: add tests instead of lowering it"
    )


def _ratchet(pyproject: Path, total: float) -> str:
    done = subprocess.run(
        [sys.executable, str(RATCHET), "--total", str(total), "--pyproject", str(pyproject)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_ratchet_raises_the_floor_below_the_total_and_never_lowers_it(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    original = (ROOT / "pyproject.toml").read_text()
    pyproject.write_text(original)
    start = _floor(original)
    higher = min(start + 5.0, 100.0)
    assert "raised" in _ratchet(pyproject, higher)
    raised = _floor(pyproject.read_text())
    assert start < raised < higher  # a margin below the total, for timing-dependent branches
    assert "stays" in _ratchet(pyproject, raised - 2.0)
    assert _floor(pyproject.read_text()) == raised
    # only the floor's line changed
    lines = zip(original.splitlines(), pyproject.read_text().splitlines(), strict=True)
    changed = [new for old, new in lines if old != new]
    assert changed == [f"fail_under = {raised:.1f}"]


def test_ci_runs_the_test_command_the_readme_gives() -> None:
    run = (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    steps = [
        "python -m coverage run -m pytest -q",
        "python -m coverage combine",
        "python -m coverage report",
    ]
    for step in steps:
        assert step in run, f".ci/run does not run `{step}`"
        assert step in readme, f"README.md does not give `{step}`, which .ci/run runs"
    # pytest's own exit status decides: `set -e` stops the script when pytest fails or
    # collects nothing (exit 5), before the report could print a reassuring total.
    assert run.startswith("#!/usr/bin/env bash") and "set -euo pipefail" in run
