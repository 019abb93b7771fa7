"""Imports every command module so that each registers itself on ``cli``."""
from reconciler.cli import sandbox  # noqa: F401
