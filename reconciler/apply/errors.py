"""Errors of the apply engine, in one place; ``ApplyError`` is a ``ReconcilerError``.

::

    ApplyError               apply cannot start or go on at all; the message says what to do
     ├── JournalError        the journal cannot be used: missing for --resume, already
     │                       present for a fresh run, locked by another apply, unreadable
     ├── TargetMismatchError a saved plan made for another target
     └── LockError           the organisation lock (``lock.py``)
          ├── LockHeldError  another apply holds it and did not let go in time
          └── LockLostError  this apply no longer holds it: it stops before the next phase

Failures of single changes are not exceptions: they are reported in ``ApplyResult.failures``
(and as ``StepFailed`` events) while independent work goes on. ``StepError`` is what an
operation raises internally to fail the steps of one bundle with a message of its own: the
executor catches it, so it stays outside the ``ReconcilerError`` tree (``reconciler.errors``).
"""

from __future__ import annotations

from collections.abc import Mapping

from reconciler.errors import ReconcilerError


class ApplyError(ReconcilerError):
    """Apply cannot run; one line saying what is wrong and what to do."""


class JournalError(ApplyError):
    """The journal is missing, already used, locked or unreadable."""


class TargetMismatchError(ApplyError):
    """A saved plan was made for another target than the one apply would write to."""


class LockError(ApplyError):
    """The organisation lock could not be taken or kept."""


class LockHeldError(LockError):
    """Another apply holds the lock; the message names its holder, run id and since when."""


class LockLostError(LockError):
    """The lock was taken over (expired or forced) or cannot be confirmed any more."""


class StepError(Exception):
    """One bundle's steps cannot be applied, for a reason that is not an API error.

    Raised by operations (a sync that ended in error, an API that has no such call, a
    folder that holds something the plan did not show); the executor fails the bundle's
    steps with this message and goes on. ``failed`` (step key -> message), when given,
    names the only steps that failed: a bulk call the API carried out for the others (a
    collection's ``failedItems``); the executor acknowledges the rest.
    """

    def __init__(self, message: str, *, failed: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.failed = failed
