"""Counted nouns for what users read: ``plural(1, "change")`` is "1 change", never
"1 changes" or "1 change(s)". Renderers and the CLI share it so every output agrees."""

from __future__ import annotations


def plural(count: int, one: str, many: str | None = None, *, thousands: bool = False) -> str:
    """``count`` and the noun (phrase) that agrees with it; ``many`` defaults to ``one + "s"``;
    ``thousands`` writes 12,345 rather than 12345."""
    noun = one if count == 1 else (many if many is not None else one + "s")
    return f"{count:,} {noun}" if thousands else f"{count} {noun}"
