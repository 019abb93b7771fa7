"""What the builders share: the config root, the diagnostics so far, the metadata schema,
and element checks that need a YAML position (globs, metadata values, paths, files).

Every check reports and returns False instead of raising, so one run lists every problem.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconciler.config.errors import Diagnostic
from reconciler.config.metadata import SchemaIndex, reserved_key_problem
from reconciler.config.paths import PATH_MESSAGE, is_path
from reconciler.config.positions import PathPart, YamlDoc, describe_path
from reconciler.model.desired import Source, Target
from reconciler.model.globs import GlobError, compile_glob

Path_ = tuple[PathPart, ...]


@dataclass(slots=True)
class ParsedFile:
    """A file that parsed, with the data paths its schema errors concern."""

    doc: YamlDoc
    bad: frozenset[Path_] = frozenset()
    # Every prefix of a bad path, so "is an error under this path" is one lookup: a file with
    # thousands of schema errors must not cost errors x nodes.
    _above_bad: frozenset[Path_] = field(init=False)

    def __post_init__(self) -> None:
        self._above_bad = frozenset(b[:n] for b in self.bad for n in range(len(b) + 1))

    def skipped(self, path: Path_) -> bool:
        """True when a schema error lies at, under or above ``path`` (then it is not built)."""
        if path in self._above_bad:
            return True
        return any(path[:n] in self.bad for n in range(len(path)))


@dataclass(slots=True)
class Context:
    """What building one config shares: its directory, the diagnostics, the metadata schema
    and the target."""

    root: Path  # the config directory, absolute and resolved
    diagnostics: list[Diagnostic] = field(default_factory=list)
    schema: SchemaIndex | None = None
    target: Target | None = None

    def report(self, doc: YamlDoc, path: Path_, message: str, *, at_key: bool = False) -> None:
        pos = doc.key_pos(path) if at_key else doc.value_pos(path)
        where = describe_path(path)
        text = f"{where}: {message}" if where else message
        origin = doc.origin(path)
        if origin is not None:
            text += f" ({origin})"
        self.diagnostics.append(Diagnostic(doc.file, pos.line, pos.col, text))

    def report_at(self, source: Source, message: str) -> None:
        if source.entry is not None:
            message += f" ({source.entry})"
        self.diagnostics.append(Diagnostic(source.file, source.line, source.col, message))

    def check_globs(self, doc: YamlDoc, path: Path_, patterns: Iterable[str]) -> bool:
        ok = True
        for index, pattern in enumerate(patterns):
            ok = self.check_glob(doc, (*path, index), pattern) and ok
        return ok

    def check_glob(self, doc: YamlDoc, path: Path_, pattern: str) -> bool:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # e.g. "possible nested set" for '[[a]'
                compile_glob(pattern)
        except GlobError as exc:
            self.report(doc, path, f"bad glob: {exc}")
            return False
        except Warning as exc:
            self.report(doc, path, f"ambiguous glob {pattern!r} ({exc}); escape it differently")
            return False
        return True

    def check_path(self, doc: YamlDoc, path: Path_, value: str, *, at_key: bool = False) -> bool:
        """The schema's pattern lets a trailing newline through (``$``); this does not."""
        if is_path(value):
            return True
        self.report(doc, path, PATH_MESSAGE, at_key=at_key)
        return False

    def check_metadata(
        self, doc: YamlDoc, path: Path_, metadata: Mapping[str, Any], *, to_set: bool
    ) -> bool:
        """Values against the schema; keys to set must not be the ownership marker."""
        ok = True
        for key, value in metadata.items():
            problem = reserved_key_problem(key) if to_set else None
            if problem is None and self.schema is not None:
                problem = self.schema.problem(key, value)
            if problem is not None:
                self.report(doc, (*path, key), problem, at_key=True)
                ok = False
        return ok

    def resolve_file(self, doc: YamlDoc, path: Path_, value: str) -> tuple[Path, str] | None:
        """A file named relative to ``doc``'s file: (absolute path, path relative to root)."""
        base = (self.root / doc.file).parent
        try:
            target = (base / value).resolve()
            rel = target.relative_to(self.root).as_posix()
        except (OSError, RuntimeError):
            self.report(doc, path, f"cannot resolve {value!r}")
            return None
        except ValueError:
            self.report(doc, path, f"{value!r} is outside the config directory")
            return None
        if not target.is_file():
            self.report(doc, path, f"file {rel} does not exist (paths are relative to {doc.file})")
            return None
        return target, rel
