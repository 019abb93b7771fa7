"""Errors of the config loader, in one place.

::

    ConfigError          the config directory is invalid; ``diagnostics`` holds every
                         problem found (schema and semantic), sorted by file, line, column

Internal signals, never seen outside the package (each already became a diagnostic, or
becomes one where it is caught)::

    FileAbortedError     composing one YAML file cannot go on (alias bomb, depth, ...)
    ScalarError          a tagged scalar that does not read as its tag says
    TooManyFilesError    more YAML files below the config directory than MAX_FILES
    UnmodelledGlobError  a glob the overlap analysis cannot model exactly ("maybe")
    OverlapBudgetError   comparing name globs used up the work one validation may spend

A ``Diagnostic`` is one problem at one position. Positions are 1-based; ``file`` is relative
to the config directory (POSIX separators), so the same config reports the same text on
every machine. Commands print it relative to the working directory instead (``shown``), so
that editors and CI annotators can open the file.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True, order=True)
class Diagnostic:
    """One problem: ``file:line:col: message``. Ordered by file, line, column, message."""

    file: str
    line: int
    col: int
    message: str

    def __str__(self) -> str:
        return f"{_one_line(self.file)}:{self.line}:{self.col}: {_one_line(self.message)}"

    def shown(self, root: str | Path | None) -> str:
        """This diagnostic with its file relative to the working directory; ``root`` is the
        config directory ``file`` is relative to (None: ``file`` is already as given)."""
        where = self.file if root is None else cwd_relative(root, self.file)
        return f"{_one_line(where)}:{self.line}:{self.col}: {_one_line(self.message)}"


def cwd_relative(root: str | Path, file: str) -> str:
    """``root/file`` relative to the working directory (POSIX separators); absolute when
    no relative path exists (another drive)."""
    full = os.path.normpath(os.path.join(root, file))
    try:
        return Path(os.path.relpath(full)).as_posix()
    except ValueError:
        return Path(full).as_posix()


def _one_line(text: str) -> str:
    """Control characters escaped, so that every diagnostic prints as exactly one line."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def sort_diagnostics(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Sorted, without exact duplicates (one mistake reached by two paths prints once)."""
    return sorted(set(diagnostics))


class FileAbortedError(Exception):
    """Composing this file cannot go on; the reason is already a diagnostic."""


class ScalarError(ValueError):
    """A scalar that cannot be read as its tag says; the message names the value."""


class TooManyFilesError(Exception):
    """More YAML files below the config directory than the loader reads."""


class UnmodelledGlobError(Exception):
    """A glob the overlap analysis does not model exactly: it answers "maybe"."""


class OverlapBudgetError(Exception):
    """Comparing name globs used up the work one validation may spend on it."""


class ConfigError(Exception):
    """The config is invalid. ``diagnostics`` is non-empty, sorted and de-duplicated;
    ``total`` counts every problem found, also those left out of a capped list."""

    def __init__(
        self,
        diagnostics: Iterable[Diagnostic],
        *,
        total: int | None = None,
        root: str | Path | None = None,
    ) -> None:
        self.diagnostics = sort_diagnostics(diagnostics)
        self.total = len(self.diagnostics) if total is None else total
        self.root = root  # the config directory the files are relative to, when known
        super().__init__("\n".join(str(d) for d in self.diagnostics))

    def lines(self) -> list[str]:
        """What a command prints: a count first when there is more than one problem, then
        each problem with its file relative to the working directory."""
        shown = [d.shown(self.root) for d in self.diagnostics]
        if self.total == 1:
            return shown
        return [f"{self.total:,} problems in the config:", *shown]
