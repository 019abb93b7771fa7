"""Loading a config once per environment, as ``validate`` does without ``--env``: every
environment's problems are gathered into one ``ConfigError`` (what a pre-commit hook needs),
instead of stopping at the first environment that has any."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from reconciler.config.environments import MAX_ENVIRONMENTS
from reconciler.config.errors import ConfigError, Diagnostic
from reconciler.config.loader import environment_names, load_config
from reconciler.model.desired import DesiredState


def load_each_environment(
    path: Path, environment: str | None, check: Callable[[DesiredState], None]
) -> list[DesiredState]:
    """The desired state of ``environment``, or of every declared one when it is None (of
    the config as it is when it declares none), each passed to ``check`` once loaded."""
    declared = environment_names(path)
    if len(declared) > MAX_ENVIRONMENTS:  # the schema refuses them: one load says so
        declared = declared[:1]
    names: list[str | None] = [environment] if environment is not None else [*declared]
    states: list[DesiredState] = []
    problems: list[Diagnostic] = []
    root = None
    for name in names or [None]:
        try:
            desired = load_config(path, connecting=False, environment=name)
            check(desired)
        except ConfigError as exc:
            problems += exc.diagnostics
            root = exc.root
            continue
        states.append(desired)
    if problems:
        raise ConfigError(problems, root=root)
    return states
