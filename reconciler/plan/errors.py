"""Errors of the planner, in one place.

::

    PlanError                    the desired state cannot be planned (names that do not
                                 resolve, rules that never settle); carries every
                                 ``Diagnostic``, a ``DiagnosticsError`` like ``ConfigError``
    PlanFileError                a plan document that is not JSON, not a plan, of another
                                 format version, or whose checksum does not match

Both are ``ReconcilerError``\\ s (``reconciler.errors``). Refusals are not errors: a plan that
would do damage is still a plan, with ``refusals`` saying what was held back and why (see
``reconciler.plan.model.Refusal``).
"""

from __future__ import annotations

from reconciler.errors import DiagnosticsError, ReconcilerError


class PlanError(DiagnosticsError):
    """The desired state cannot be planned; ``diagnostics`` holds every reason, sorted, with
    files relative to ``root`` (the config directory)."""


class PlanFileError(ReconcilerError):
    """A plan document that cannot be trusted or read; the message says what to do."""
