"""The dependency rules of ARCHITECTURE.md, read from the source with ``ast``.

Each rule is a sentence of ARCHITECTURE.md; when one fails, either the change breaks the
architecture or the document must change with it (in the same commit, saying why).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "reconciler"


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, "plan/diff.py"
    target: str  # the imported module, "reconciler.apply.engine" or "httpx"
    lazy: bool  # inside a function (or under TYPE_CHECKING): not run at import time


def _imports(path: Path) -> Iterator[Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    module = path.relative_to(PACKAGE).as_posix()
    yield from _walk(tree.body, module, lazy=False)


def _walk(body: list[ast.stmt], module: str, *, lazy: bool) -> Iterator[Import]:
    for node in body:
        if isinstance(node, ast.Import):
            yield from (Import(module, alias.name, lazy) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield Import(module, node.module, lazy)
        elif _deferred(node):
            yield from _walk(getattr(node, "body", []), module, lazy=True)
        else:
            for field in ("body", "orelse", "finalbody", "handlers"):
                inner = getattr(node, field, None)
                if isinstance(inner, list):
                    yield from _walk(inner, module, lazy=lazy)


def _deferred(node: ast.stmt) -> bool:
    """A function body or a ``TYPE_CHECKING`` block: its imports do not run with the module."""
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        return True
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


ALL = [i for path in sorted(PACKAGE.rglob("*.py")) for i in _imports(path)]


def _package(imp: Import) -> str:
    return imp.module.split("/", 1)[0] if "/" in imp.module else imp.module


def _violations(packages: set[str], forbidden: tuple[str, ...], *, lazy_ok: bool) -> list[str]:
    return sorted(
        f"{i.module} imports {i.target}"
        for i in ALL
        if _package(i) in packages
        and (not i.lazy or not lazy_ok)
        and any(i.target == f or i.target.startswith(f + ".") for f in forbidden)
    )


IO_LIBRARIES = ("httpx", "click", "yaml", "ruamel", "rich", "starlette", "uvicorn", "anyio")


def test_only_the_client_speaks_http() -> None:
    speakers = {i.module for i in ALL if i.target == "httpx" or i.target.startswith("httpx.")}
    # targets.py parses the configured domain with httpx's URL type; it sends nothing.
    assert "encord/session.py" in speakers  # the rule reads what it is meant to read
    assert sorted(m for m in speakers if not m.startswith("encord/") and m != "targets.py") == []


@pytest.mark.parametrize("package", ["model", "plan", "drift", "kinds"])
def test_the_pure_core_does_no_io(package: str) -> None:
    """model, plan, drift and the kind registry take values and return values."""
    forbidden = (
        *IO_LIBRARIES,
        "reconciler.encord",
        "reconciler.live",
        "reconciler.cli",
        "reconciler.config",
        "reconciler.sandbox",
    )
    assert _violations({package}, forbidden, lazy_ok=False) == []


def test_the_planner_never_imports_apply() -> None:
    assert _violations({"plan", "model", "drift"}, ("reconciler.apply",), lazy_ok=False) == []


def test_the_registry_names_apply_operations_only_on_use() -> None:
    """kinds/ names apply's operations inside functions: the planner loads the registry
    without loading apply (see reconciler/kinds/__init__.py)."""
    assert _violations({"kinds"}, ("reconciler.apply", "reconciler.plan"), lazy_ok=True) == []


def test_the_sandbox_shares_only_the_wire_with_the_tool() -> None:
    """The sandbox stands in for Encord: it must not agree with our client by sharing its
    code, only the wire definitions (and the error root, the sandbox target's settings)."""
    tool = tuple(
        f"reconciler.{p}"
        for p in ("config", "plan", "apply", "live", "encord", "drift", "export", "kinds", "cli")
    )
    assert _violations({"sandbox"}, tool, lazy_ok=False) == []


def test_only_the_command_line_prints() -> None:
    """The engine emits events and never prints; cli/ renders them (the sandbox's own
    server command logs through logging)."""
    printers = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = path.relative_to(PACKAGE).as_posix()
        if module.startswith("cli/"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and ast.unparse(node.func) in (
                "print",
                "click.echo",
                "sys.stdout.write",
                "sys.stderr.write",
            ):
                printers.append(f"{module}:{node.lineno}")
    assert printers == []
