"""Finding the config's files: ``reconciler.yaml`` and the YAML files it includes.

``include`` and ``exclude`` in ``reconciler.yaml`` are globs over paths relative to the
config directory (``*`` stays in one directory, ``**`` crosses them, ``**/`` at the start
also matches no directory). A file is read when it ends in ``.yaml`` or ``.yml``, matches
an ``include`` glob and no ``exclude`` glob. The defaults read every YAML file except those
of well-known tools that often sit beside a config (a ``mkdocs.yml`` is not config).

Never read, whatever the globs: dot-directories and dot-files (``.git/``, ``.reconciler/``),
directories that are sandbox fixture roots (they stand in for buckets and may hold anything),
directories with a ``reconciler.yaml`` of their own (another config), and symbolic links to
directories (no loops). The order is fixed: ``reconciler.yaml`` first, then by relative path.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from reconciler.config.errors import TooManyFilesError
from reconciler.model.globs import Glob, compile_glob

SETTINGS_NAME = "reconciler.yaml"
MAX_FILES = 10_000
_SUFFIXES = (".yaml", ".yml")
DEFAULT_INCLUDE = ("**/*.yaml", "**/*.yml")
DEFAULT_EXCLUDE = (
    "**/mkdocs.y*ml",
    "**/docker-compose*.y*ml",
    "**/compose.y*ml",
    "**/codecov.y*ml",
)


@dataclass(frozen=True, slots=True)
class FileGlobs:
    """Which YAML files below the config directory are config (``include`` less ``exclude``)."""

    include: tuple[str, ...] = DEFAULT_INCLUDE
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE

    def selects(self, rel: str) -> bool:
        path = "/" + rel
        return _any(self.include, path) and not _any(self.exclude, path)


def _any(patterns: tuple[str, ...], path: str) -> bool:
    return any(_compiled(p).match(path) for p in patterns)


def _compiled(pattern: str) -> Glob:
    # Matched against "/" + the relative path, so that a leading "**/" (which the glob
    # dialect reads as "/**/") also matches files at the top of the config directory.
    return compile_glob("/" + pattern.removeprefix("/"))


def resource_files(root: Path, skip_dirs: Iterable[Path], globs: FileGlobs) -> list[Path]:
    """YAML files below ``root`` that ``globs`` select, other than its ``reconciler.yaml``,
    sorted by relative path."""
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
            if not globs.selects((here / name).relative_to(root).as_posix()):
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
