"""Finding the config's files: ``reconciler.yaml`` and every ``*.yaml``/``*.yml`` below it.

Skipped: dot-directories and dot-files (``.git/``, ``.reconciler/``), directories that are
sandbox fixture roots (they stand in for buckets and may hold anything), directories with a
``reconciler.yaml`` of their own (another config), and symbolic links to directories (no
loops). The order is fixed: ``reconciler.yaml`` first, then by relative path.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from reconciler.config.errors import TooManyFilesError

SETTINGS_NAME = "reconciler.yaml"
MAX_FILES = 10_000
_SUFFIXES = (".yaml", ".yml")


def resource_files(root: Path, skip_dirs: Iterable[Path]) -> list[Path]:
    """YAML files below ``root`` other than its ``reconciler.yaml``, sorted by relative path."""
    skip = {os.path.normcase(str(p)) for p in skip_dirs}
    found: list[Path] = []
    for directory, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if _descend(Path(directory) / d, d, skip))
        here = Path(directory)
        for name in filenames:
            if name.startswith(".") or not name.endswith(_SUFFIXES):
                continue
            if here == root and name == SETTINGS_NAME:
                continue
            if not (here / name).is_file():  # a FIFO or device would block or never end
                continue
            found.append(here / name)
            if len(found) > MAX_FILES:
                raise TooManyFilesError
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def _descend(path: Path, name: str, skip: set[str]) -> bool:
    if name.startswith("."):
        return False
    if os.path.normcase(str(path.resolve())) in skip:
        return False
    return not (path / SETTINGS_NAME).is_file()
