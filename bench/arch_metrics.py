"""Architecture figures for issue 12, read from the source with ``ast`` (nothing is imported).

    python bench/arch_metrics.py [--root reconciler] [--top 10] [--json FILE]

* modules per kind: the modules that mention a kind, by ``Kind.X``, its address builder
  (``addr.folder(…)``) or its address string (``"folder-group"``). The sandbox is left out: it
  is the server's model, with its own names, not the tool's.
* untyped payload reads: subscripts and ``.get`` calls on a change's ``before``/``after``
  (``change.after["name"]``, ``(c.before or {}).get("x")``, ``after["path"]``): each is a read
  of an ``Any`` out of a dict whose shape only a comment states.
* largest functions: by lines, with their module.
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

KINDS = {
    "FOLDER": ("folder", "folder"),
    "ITEM": ("item", "item"),
    "GROUP": ("group", "group"),
    "FOLDER_GROUP": ("folder-group", "folder_group"),
    "DATASET": ("dataset", "dataset"),
    "DATASET_GROUP": ("dataset-group", "dataset_group"),
    "DATASET_USER": ("dataset-user", "dataset_user"),
    "LINK": ("link", "link"),
    "METADATA_SCHEMA": ("metadata-schema", "METADATA_SCHEMA"),
}
# Single-word kind names ("folder", "item") are everyday words in strings; only the
# hyphenated ones are unambiguous as string literals.
_LITERALS = {value: name for name, (value, _) in KINDS.items() if "-" in value}
_BUILDERS = {builder: name for name, (_, builder) in KINDS.items()}
_ADDRESS_MODULES = {"addr", "addresses"}
_PAYLOAD_NAMES = {"before", "after"}


def _kinds_in(tree: ast.AST) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            base = node.value
            base_name = base.id if isinstance(base, ast.Name) else getattr(base, "attr", "")
            if base_name == "Kind" and node.attr in KINDS:
                found.add(node.attr)
            elif base_name in _ADDRESS_MODULES and node.attr in _BUILDERS:
                found.add(_BUILDERS[node.attr])
        elif isinstance(node, ast.Constant) and node.value in _LITERALS:
            found.add(_LITERALS[node.value])
    return found


def _is_payload(node: ast.AST) -> bool:
    """``x.after``, ``after``, or ``(x.after or {})``."""
    if isinstance(node, ast.Attribute):
        return node.attr in _PAYLOAD_NAMES
    if isinstance(node, ast.Name):
        return node.id in _PAYLOAD_NAMES
    if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or):
        return _is_payload(node.values[0])
    return False


def _is_payload_read(node: ast.AST) -> bool:
    if isinstance(node, ast.Subscript):
        return _is_payload(node.value)
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "get"
        and _is_payload(node.func.value)
    )


def _payload_reads(tree: ast.AST) -> int:
    return sum(1 for node in ast.walk(tree) if _is_payload_read(node))


def _functions(tree: ast.AST, module: str) -> list[tuple[int, str]]:
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            lines = (node.end_lineno or node.lineno) - node.lineno + 1
            out.append((lines, f"{module}::{node.name}"))
    return out


def measure(root: Path, top: int) -> dict[str, Any]:
    per_kind: dict[str, list[str]] = {name: [] for name in KINDS}
    reads: Counter[str] = Counter()
    functions: list[tuple[int, str]] = []
    for path in sorted(root.rglob("*.py")):
        module = path.relative_to(root.parent).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        functions.extend(_functions(tree, module))
        if "/sandbox/" in module:
            continue
        for kind in _kinds_in(tree):
            per_kind[kind].append(module)
        if n := _payload_reads(tree):
            reads[module] = n
    functions.sort(reverse=True)
    return {
        "modules_per_kind": {k: len(v) for k, v in per_kind.items()},
        "modules_per_kind_detail": per_kind,
        "untyped_payload_reads": sum(reads.values()),
        "untyped_payload_reads_by_module": dict(reads.most_common()),
        "largest_functions": [{"lines": n, "function": f} for n, f in functions[:top]],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path("reconciler"))
    parser.add_argument("--top", type=int, default=10)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    figures = measure(args.root, args.top)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(_text(figures))
    return 0


def _text(figures: dict[str, Any]) -> str:
    lines = ["modules mentioning each kind:"]
    for kind, n in figures["modules_per_kind"].items():
        lines.append(f"  {kind.lower().replace('_', '-'):<16} {n}")
    lines.append(f"untyped before/after reads: {figures['untyped_payload_reads']}")
    for module, n in figures["untyped_payload_reads_by_module"].items():
        lines.append(f"  {n:>3}  {module}")
    lines.append("largest functions:")
    for row in figures["largest_functions"]:
        lines.append(f"  {row['lines']:>3} lines  {row['function']}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
