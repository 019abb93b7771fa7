"""Hostile configs: each is refused or handled in bounded time, with one diagnostic per problem.

Each case would take minutes or longer with an algorithm that is quadratic (or worse) in
its input; the bound here is a generous ceiling for a loaded machine, not a benchmark.
"""

from __future__ import annotations

import string
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest
from helpers import run_cli

from reconciler.config import ConfigError, load_config

T = TypeVar("T")
CEILING_S = 90.0
SETTINGS = "version: 1\ntarget: {sandbox: {path: s.sqlite}}\nownership: {id: hostile}\n"


def within(seconds: float, work: Callable[[], T]) -> T:
    outcome: list[T] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            outcome.append(work())
        except BaseException as exc:  # handed back to the test
            failure.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f"still running after {seconds:.0f} s"
    if failure:
        raise failure[0]
    return outcome[0]


def refusal(root: Path) -> ConfigError:
    def load() -> ConfigError:
        with pytest.raises(ConfigError) as info:
            load_config(root)
        return info.value

    return within(CEILING_S, load)


def write(root: Path, body: str) -> Path:
    root.mkdir()
    (root / "reconciler.yaml").write_text(SETTINGS)
    (root / "hostile.yaml").write_text(body)
    return root


@pytest.mark.slow
def test_twenty_thousand_schema_errors_are_each_reported(tmp_path: Path) -> None:
    # 157 s before: every built node was checked against every schema error.
    lines = ["folders:"] + [f"  /f{i}: {{bogus{i}: 1}}" for i in range(20_000)]
    error = refusal(write(tmp_path / "c", "\n".join(lines) + "\n"))
    assert error.total == 20_000
    assert all("unknown key" in d.message for d in error.diagnostics[:1000])


@pytest.mark.slow
def test_hundreds_of_long_overlapping_name_globs_stop_with_one_line(tmp_path: Path) -> None:
    # Minutes before: every pair of 123-token globs was walked in full.
    pool = string.ascii_letters + string.digits
    lines = ["items:"]
    for i in range(200):
        glob = "*" + "a*" * 60 + f"[{pool[i % 62]}]{pool[i // 62]}"
        lines += ["  - folder: /a", f'    match: {{name: "{glob}"}}', f"    metadata: {{k: {i}}}"]
    error = refusal(write(tmp_path / "c", "\n".join(lines) + "\n"))
    (problem,) = error.diagnostics
    assert problem.file == "hostile.yaml"
    assert "conflict checks stopped here" in problem.message


def test_a_manifest_row_nested_without_end_is_one_diagnostic(tmp_path: Path) -> None:
    # "internal error: RecursionError" before.
    root = write(tmp_path / "c", "items:\n  - manifest: rows.jsonl\n")
    deep = '{"path": "/a/b.jpg", "metadata": {"k": ' + "[" * 100_000 + "]" * 100_000 + "}}"
    inside_a_string = '{"path": "/a/c.jpg", "metadata": {"k": "' + "[" * 1000 + '"}}'
    (root / "rows.jsonl").write_text(deep + "\n" + inside_a_string + "\n")
    (problem,) = refusal(root).diagnostics
    assert (problem.file, problem.line) == ("rows.jsonl", 1)
    assert "nested more than" in problem.message


def test_a_plan_file_nested_without_end_is_one_line(tmp_path: Path) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text("[" * 200_000 + "]" * 200_000)
    result = run_cli("show", str(plan))
    assert result.returncode == 1
    assert "nested too deeply" in result.stderr and "Traceback" not in result.stderr


def test_a_config_too_large_in_total_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    # Twelve files just under the per-file limit took 4.6 GB, then a MemoryError.
    root = write(tmp_path / "c", "folders: {}\n")
    line = "  /f{i}: {{description: " + "x" * 60 + "}}\n"
    body = "folders:\n" + "".join(line.format(i=i) for i in range(50_000))  # ~4 MB
    for n in range(12):
        (root / f"part{n:02d}.yaml").write_text(body.replace("/f", f"/p{n}/f"))
    (problem,) = refusal(root).diagnostics
    assert "add up to" in problem.message and "MB limit" in problem.message
