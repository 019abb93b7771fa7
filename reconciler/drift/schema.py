"""The JSON Schema (2020-12) of the drift document, read from the package's
``schemas/drift.schema.json`` (installed with the package; ``schemas/`` at the top of the
repository is a link to the same directory). Bump ``$id`` (``v2``) and ``FORMAT_VERSION``
together when the document changes incompatibly.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any


@cache
def drift_schema() -> dict[str, Any]:
    text = resources.files("reconciler").joinpath("schemas/drift.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema
