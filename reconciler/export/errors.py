"""Errors of ``reconciler export``.

ExportError     the export cannot be made or written (missing or ambiguous root,
                files in the way); one line saying what to do
"""

from __future__ import annotations

from reconciler.errors import ReconcilerError


class ExportError(ReconcilerError):
    """One line for the user: what stops the export and what to do about it."""
