"""Config loading: YAML files with source positions → a validated ``DesiredState``.

Public interface::

    load_config(path, *, env=None) -> DesiredState       raises ConfigError (all diagnostics)
    validate_config(path, *, env=None) -> list[Diagnostic]   empty when valid
    reconciler.config.schema.config_schema() -> dict     the JSON Schema (schemas/config.schema.json)
"""

from reconciler.config.errors import ConfigError, Diagnostic
from reconciler.config.loader import load_config, validate_config

__all__ = ["ConfigError", "Diagnostic", "load_config", "validate_config"]
