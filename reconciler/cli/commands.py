"""Imports every command module so that each registers itself on ``cli``."""

from reconciler.cli import (
    apply,  # noqa: F401
    drift,  # noqa: F401
    export,  # noqa: F401
    plan,  # noqa: F401
    sandbox,  # noqa: F401
    schema,  # noqa: F401
    show,  # noqa: F401
    validate,  # noqa: F401
    whoami,  # noqa: F401
)
