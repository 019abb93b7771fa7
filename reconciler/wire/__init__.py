"""The Encord public API on the wire, shared by our client (``reconciler.encord``) and our
sandbox (``reconciler.sandbox``): DTOs, enum values, query encoding and request signing.

Nothing here does I/O. Keeping both sides on one definition means a protocol mistake shows up
as a failing conformance test against ``../shared/encord-api/captures.jsonl`` and the official
SDK, not as two halves that agree with each other and with nothing else.
"""
