"""Golden diagnostics: each ``tests/config_cases/<case>/`` is a broken config directory with
the exact output of ``validate_config`` beside it in ``expected.txt``.

The config directory path is written as ``<case>`` so the text is the same on every machine.
Run with ``UPDATE_GOLDEN=1`` to rewrite ``expected.txt`` after a deliberate change (then
review the diff: the goldens are the specification of the messages).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reconciler.config import validate_config

CASES = Path(__file__).parent / "config_cases"
ENV = {"CASE_DOMAIN": "https://api.encord.com", "CASE_ROOT": "teams"}


def _cases() -> list[str]:
    return sorted(p.name for p in CASES.iterdir() if p.is_dir())


def render(case: Path) -> str:
    diagnostics = validate_config(case, env=ENV)
    return "".join(str(d).replace(str(case.resolve()), "<case>") + "\n" for d in diagnostics)


@pytest.mark.parametrize("name", _cases())
def test_golden_diagnostics(name: str) -> None:
    case = CASES / name
    actual = render(case)
    expected_file = case / "expected.txt"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        expected_file.write_text(actual, encoding="utf-8")
    assert actual, f"{name}: a broken config must produce diagnostics"
    assert actual == expected_file.read_text(encoding="utf-8")


def test_enough_cases() -> None:
    assert len(_cases()) >= 20
