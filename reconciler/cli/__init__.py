"""Command line: the only place that prints. Each command group lives in its own module."""

from reconciler.cli.main import main

__all__ = ["main"]
