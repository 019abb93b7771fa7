"""Exceptions of the wire layer.

    ReconcilerError (reconciler.errors)
     ├── UnusableKeyError      a private key that cannot sign (format, passphrase, not Ed25519);
     │                         a ValueError too
     └── SignatureError        a request whose authentication does not verify (sandbox side)

Messages are safe to show and to return to a client: they never contain key material.
"""

from __future__ import annotations

from reconciler.errors import ReconcilerError


class UnusableKeyError(ReconcilerError, ValueError):
    """A private key that cannot be used: not OpenSSH, not Ed25519, or a wrong passphrase."""


class SignatureError(ReconcilerError):
    """A request whose authentication headers do not verify. The message is safe to return."""
