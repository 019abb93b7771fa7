"""Errors of the drift package, in one place.

::

    DriftFileError    a saved drift report that is not JSON, not a drift report, or of
                      another format version

Drift itself is not an error: it is the report's content.
"""

from __future__ import annotations

from reconciler.errors import ReconcilerError


class DriftFileError(ReconcilerError):
    """A saved drift report that cannot be read; the message says what to do."""
