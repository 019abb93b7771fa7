"""The root of every error the tool reports to a user, and the one ``Diagnostic``.

::

    ReconcilerError                 what a command reports: ``lines()``, one problem a line
     ├── DiagnosticsError           problems at positions in the config (``Diagnostic``)
     │    ├── ConfigError           the config is invalid (``config/errors.py``)
     │    └── PlanError             the desired state cannot be planned (``plan/errors.py``)
     ├── PlanFileError              a saved plan that cannot be read or trusted
     ├── PlanSignatureError         a saved plan whose signature does not verify
     ├── DriftFileError             a saved drift report that cannot be read
     ├── TargetError                no usable target or credentials (``targets.py``)
     ├── EncordError                talking to Encord failed (``encord/errors.py``, a tree)
     ├── ApplyError                 apply cannot start or go on (``apply/errors.py``, a tree)
     ├── ExportError                an export cannot be made or written
     ├── GlobError                  an address or name glob that does not compile
     ├── UnusableKeyError           a private key that cannot sign (``wire/errors.py``)
     ├── SignatureError             a request whose signature does not verify (sandbox side)
     ├── SandboxError               the sandbox's set-up commands and API (a tree)
     └── CommandError               a command's own refusal (``cli/running.py``)

The CLI catches ``ReconcilerError`` in one place (``cli/running.run_command``) and prints
``lines()`` with exit code 1. Anything else that reaches it is a bug: "internal error", and
the traceback only with ``-vv``.

Internal signals stay outside this tree on purpose: each is raised and caught inside its own
package and never reaches a command (``tests/test_errors.py`` holds the list and checks that
each has a handler): ``FileAbortedError``, ``ScalarError``, ``TooManyFilesError``,
``UnmodelledGlobError``, ``OverlapBudgetError``, ``ExpansionTooLargeError`` (the config loader: each already is, or
becomes, a diagnostic), ``NoFixpointError`` (the planner: becomes a diagnostic) and
``StepError`` (apply: fails one bundle's steps, reported as a failure, never raised on) and
``UnitFailedError`` (the sandbox's data-upload jobs: one unit's error in the job's answer).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path


class ReconcilerError(Exception):
    """Base of every error a command reports. ``str()`` is one line: what is wrong, where,
    and what to do; ``lines()`` is what the command prints (one problem a line)."""

    def lines(self) -> tuple[str, ...]:
        return (str(self),)


class ContextError(ReconcilerError):
    """Another ``ReconcilerError`` with where it happened in front (``within``)."""


@contextlib.contextmanager
def within(prefix: str, *kinds: type[ReconcilerError]) -> Iterator[None]:
    """Errors of ``kinds`` (default: all) raised in the block read ``prefix: message``; the
    same error raised by a read and by a lock says which of them failed."""
    caught: tuple[type[ReconcilerError], ...] = kinds or (ReconcilerError,)
    try:
        yield
    except caught as error:
        raise ContextError(f"{prefix}: {error}") from error


@dataclass(frozen=True, slots=True, order=True)
class Diagnostic:
    """One problem: ``file:line:col: message``. Ordered by file, line, column, message.

    Positions are 1-based; ``file`` is relative to the config directory (POSIX separators),
    so the same config reports the same text on every machine. Commands print it relative
    to the working directory instead (``shown``), so that editors and CI annotators can open
    the file.
    """

    file: str
    line: int
    col: int
    message: str

    def __str__(self) -> str:
        return self.shown(None)

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


class DiagnosticsError(ReconcilerError):
    """Problems at positions in the config. ``diagnostics`` is non-empty, sorted and
    de-duplicated; ``total`` counts every problem found, also those left out of a capped
    list; ``root`` is the config directory the files are relative to, when known."""

    def __init__(
        self,
        diagnostics: Iterable[Diagnostic],
        *,
        total: int | None = None,
        root: str | Path | None = None,
    ) -> None:
        self.diagnostics = sort_diagnostics(diagnostics)
        self.total = len(self.diagnostics) if total is None else total
        self.root = root
        super().__init__("\n".join(str(d) for d in self.diagnostics))

    def lines(self) -> tuple[str, ...]:
        """A count first when there is more than one problem, then each problem with its
        file relative to the working directory."""
        shown = tuple(d.shown(self.root) for d in self.diagnostics)
        if self.total == 1:
            return shown
        return (f"{self.total:,} problems in the config:", *shown)
