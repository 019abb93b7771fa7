"""One error root: every exception the package defines for a user is a ``ReconcilerError``;
the few internal signals that are not are each caught inside the package."""

from __future__ import annotations

import ast
import importlib
import inspect
import logging
import pkgutil
from pathlib import Path

import pytest

import reconciler
from reconciler.cli.running import run_command
from reconciler.config import ConfigError
from reconciler.errors import (
    ContextError,
    Diagnostic,
    DiagnosticsError,
    ReconcilerError,
    within,
)
from reconciler.plan import PlanError

PACKAGE = Path(reconciler.__file__).parent

# Raised and caught inside one package, never shown to a user as such (reconciler/errors.py).
INTERNAL = {
    "FileAbortedError",
    "ScalarError",
    "TooManyFilesError",
    "UnmodelledGlobError",
    "OverlapBudgetError",
    "ExpansionTooLargeError",
    "NoFixpointError",
    "StepError",
    "UnitFailedError",
}


def _exception_classes() -> dict[str, type[BaseException]]:
    found: dict[str, type[BaseException]] = {}
    for module in pkgutil.walk_packages(reconciler.__path__, "reconciler."):
        if module.name.endswith("__main__"):
            continue
        for name, value in vars(importlib.import_module(module.name)).items():
            if (
                inspect.isclass(value)
                and issubclass(value, BaseException)
                and value.__module__.startswith("reconciler.")
            ):
                found[name] = value
    return found


def _handled_names() -> set[str]:
    """Every exception name an ``except`` clause in the package names."""
    names: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ExceptHandler) and node.type is not None:
                for part in ast.walk(node.type):
                    if isinstance(part, ast.Name):
                        names.add(part.id)
                    elif isinstance(part, ast.Attribute):
                        names.add(part.attr)
    return names


def test_every_exception_the_package_defines_derives_from_reconciler_error() -> None:
    classes = _exception_classes()
    assert len(classes) > 30  # the walk found the package's errors, not an empty set
    outside = sorted(
        name
        for name, cls in classes.items()
        if not issubclass(cls, ReconcilerError) and name not in INTERNAL
    )
    assert outside == [], f"derive these from ReconcilerError (or list them as internal): {outside}"


def test_the_internal_signals_stay_internal() -> None:
    classes = _exception_classes()
    assert set(classes) >= INTERNAL, "an internal signal was renamed or removed: update the list"
    assert not any(issubclass(classes[name], ReconcilerError) for name in INTERNAL)
    assert _handled_names() >= INTERNAL, "an internal signal that nothing catches reaches users"


def test_the_roots_of_before_are_all_under_one() -> None:
    from reconciler.apply import ApplyError
    from reconciler.cli.running import CommandError
    from reconciler.drift.errors import DriftFileError
    from reconciler.encord import EncordError
    from reconciler.export.errors import ExportError
    from reconciler.model.globs import GlobError
    from reconciler.plan import PlanFileError
    from reconciler.plan.signature import PlanSignatureError
    from reconciler.sandbox.errors import SandboxError
    from reconciler.targets import TargetError
    from reconciler.wire.errors import SignatureError, UnusableKeyError

    roots = (
        ConfigError, TargetError, PlanError, PlanFileError, PlanSignatureError, ExportError,
        ApplyError, DriftFileError, EncordError, CommandError, SignatureError,
        UnusableKeyError, GlobError, SandboxError,
    )  # fmt: skip
    assert all(issubclass(root, ReconcilerError) for root in roots)
    # those that were ValueErrors still are, for the code that catches them as such
    assert issubclass(GlobError, ValueError) and issubclass(UnusableKeyError, ValueError)


def test_config_and_plan_problems_are_one_diagnostic_rendered_one_way(tmp_path: Path) -> None:
    at = Diagnostic("folders.yaml", 3, 5, "no group\nnamed x")
    assert str(at) == "folders.yaml:3:5: no group\\nnamed x"  # control characters escaped
    for kind in (ConfigError, PlanError):
        error = kind([at, at], root=tmp_path / "cfg")
        assert isinstance(error, DiagnosticsError)
        assert error.diagnostics == [at]  # de-duplicated
        (line,) = error.lines()
        assert line.endswith("cfg/folders.yaml:3:5: no group\\nnamed x")
    two = PlanError([Diagnostic("b.yaml", 1, 1, "b"), Diagnostic("a.yaml", 9, 1, "a")])
    assert two.lines() == ("2 problems in the config:", "a.yaml:9:1: a", "b.yaml:1:1: b")


def test_within_says_where_an_error_happened() -> None:
    from reconciler.encord import EncordError
    from reconciler.targets import TargetError

    try:
        with within("cannot read the organisation at sandbox:x", EncordError):
            raise EncordError("timed out")
    except ContextError as error:
        assert error.lines() == ("cannot read the organisation at sandbox:x: timed out",)
    else:
        raise AssertionError("not raised")
    try:  # other errors pass unchanged
        with within("cannot read", EncordError):
            raise TargetError("no target")
    except TargetError as error:
        assert str(error) == "no target"


def _catch_sites() -> list[tuple[str, str]]:
    """``(module, function)`` of every ``except`` in ``reconciler.cli`` that catches a
    ``ReconcilerError`` (or a subclass), its names looked up in the module's namespace."""
    sites = []
    for path in sorted((PACKAGE / "cli").glob("*.py")):
        module = importlib.import_module(f"reconciler.cli.{path.stem}")
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(function):
                if isinstance(node, ast.ExceptHandler) and node.type is not None:
                    caught = [_resolve(module, part) for part in _names(node.type)]
                    if any(inspect.isclass(c) and issubclass(c, ReconcilerError) for c in caught):
                        sites.append((module.__name__, function.name))
    return sites


def _names(node: ast.expr) -> list[ast.expr]:
    return list(node.elts) if isinstance(node, ast.Tuple) else [node]


def _resolve(module: object, node: ast.expr) -> object:
    if isinstance(node, ast.Name):
        return vars(module).get(node.id)
    if isinstance(node, ast.Attribute):
        return getattr(_resolve(module, node.value), node.attr, None)
    return None


def test_the_cli_catches_reconciler_errors_in_one_place() -> None:
    assert _catch_sites() == [("reconciler.cli.running", "run_command")]


def test_no_command_reports_an_error_around_the_catch_site() -> None:
    """``click.ClickException`` would print its own "Error:" line past ``run_command``."""
    raised = [
        path.name
        for path in (PACKAGE / "cli").glob("*.py")
        if "ClickException" in path.read_text(encoding="utf-8")
    ]
    assert raised == []


def test_an_internal_error_is_one_line_and_its_traceback_a_debug_record(
    caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    """``-vv`` shows the traceback (``running`` imports ``logging`` only on this path)."""

    def body() -> int:
        raise ValueError("boom")

    with caplog.at_level(logging.DEBUG), pytest.raises(SystemExit) as stopped:
        run_command("probe", body)
    assert stopped.value.code == 1
    assert capsys.readouterr().err == (
        "Error: internal error: ValueError: boom (run with -vv for details)\n"
    )
    [record] = [r for r in caplog.records if r.name == "reconciler.cli.running"]
    assert record.levelno == logging.DEBUG and record.getMessage() == "probe failed"
    assert record.exc_info is not None and record.exc_info[0] is ValueError
