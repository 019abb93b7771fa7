"""Desired and live state as plain typed values, addresses and globs. No I/O here."""
