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
    ExpansionTooLargeError  a file's templates expand past MAX_EXPANDED_NODES

A ``Diagnostic`` (``reconciler.errors``, shared with the planner) is one problem at one
position; ``ConfigError`` is a ``DiagnosticsError``, under the one ``ReconcilerError`` root.
"""

from __future__ import annotations

from reconciler.errors import (
    Diagnostic,
    DiagnosticsError,
    cwd_relative,
    sort_diagnostics,
)

__all__ = [
    "ConfigError",
    "Diagnostic",
    "ExpansionTooLargeError",
    "FileAbortedError",
    "OverlapBudgetError",
    "ScalarError",
    "TooManyFilesError",
    "UnmodelledGlobError",
    "cwd_relative",
    "sort_diagnostics",
]


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


class ExpansionTooLargeError(Exception):
    """A file's templates expand past the cap; reported once, at the block that passed it."""


class ConfigError(DiagnosticsError):
    """The config is invalid. ``diagnostics`` is non-empty, sorted and de-duplicated;
    ``total`` counts every problem found, also those left out of a capped list. ``lines()``
    is what a command prints: a count first when there is more than one problem, then each
    problem with its file relative to the working directory."""
