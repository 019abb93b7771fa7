"""``export --merge``: what an export finds and a config does not declare yet, added to it.

Only name-keyed sections are merged (``folders``, ``groups``, ``datasets``, ``collections``,
``organisation_tags``, ``metadata_schema``): an entry whose name the config already declares
is never touched, whatever its content, and nothing is reordered. The new entries are
inserted as text at the end of the section in the file that holds most of it (or the file
the export would write, created when missing), so every byte already written stays as it
was, comments included. A section written in flow style (``folders: {...}``) cannot take
lines: its new entries go to a file of their own (``<section>.merged.yaml``). Item metadata
is not merged (absent means unmanaged, so the merged config still plans to nothing), and
neither is ``reconciler.yaml``; organisation tags and the metadata schema only into a config
that declares them already.

Before anything is written, each changed file is read back: it must hold the data it held,
plus the new entries.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconciler.config.yamlread import parse_yaml
from reconciler.export.build import Documents
from reconciler.export.errors import ExportError
from reconciler.export.render import SCHEMA_COMMENT, SCHEMA_FILE, jsonl, render_section
from reconciler.model.desired import DesiredState

SECTIONS = ("folders", "groups", "datasets", "collections", "organisation_tags", "metadata_schema")
# Organisation-wide, not under the roots: merged only into a config that manages them already
# (declaring them is what opts a config in, e.g. to pruning its tags).
_OPT_IN = ("organisation_tags", "metadata_schema")


@dataclass(slots=True)
class Merge:
    """``files``: relative path -> its whole new text; ``added``: section -> names added."""

    files: dict[str, str] = field(default_factory=dict)
    added: dict[str, list[str]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def merge(desired: DesiredState, docs: Documents, root: Path) -> Merge:
    out = Merge()
    for section in SECTIONS:
        if section in _OPT_IN and getattr(desired, section) is None:
            continue
        declared = _declared(desired, section)
        found = _found(docs, section)
        new = {name: entry for name, entry in found.items() if name not in declared}
        if new:
            _add(out, root, section, new, _home(desired, section))
    _link_manifests(out, docs, root)
    if docs.metadata_rules or docs.metadata_rows:
        out.warnings.append(
            "item metadata the export found is not merged (what the config does not declare "
            "stays unmanaged); export without --merge into another directory to see it"
        )
    return out


def _declared(desired: DesiredState, section: str) -> Mapping[str, Any]:
    if section == "metadata_schema":
        return {} if desired.metadata_schema is None else desired.metadata_schema.keys
    found: Mapping[str, Any] | None = getattr(desired, section)
    return found or {}


def _found(docs: Documents, section: str) -> Mapping[str, Any]:
    found: Mapping[str, Any] | None = getattr(docs, section)
    return found or {}


def _home(desired: DesiredState, section: str) -> str:
    """The file that declares most of the section, else the one the export writes."""
    if section == "metadata_schema":
        files = [] if desired.metadata_schema is None else [desired.metadata_schema.source.file]
    else:
        files = [entry.source.file for entry in _declared(desired, section).values()]
    if not files:
        return f"{section}.yaml"
    return Counter(files).most_common(1)[0][0]


def _add(out: Merge, root: Path, section: str, new: dict[str, Any], home: str) -> None:
    path = root / home
    text = out.files.get(home) or (path.read_text(encoding="utf-8") if path.is_file() else None)
    snippet = render_section(section, new)
    if text is None:
        merged: str | None = _new_file(root, snippet)
    else:
        merged = _inserted(text, section, snippet)
    if merged is None:  # flow style: the section cannot take lines
        home = f"{section}.merged.yaml"
        if (root / home).exists():
            raise ExportError(f"{home} already exists in {root}; merge it into the config first")
        text, merged = None, _new_file(root, snippet)
    _check(text, merged, section, new, home)
    out.files[home] = merged
    out.added[section] = sorted(new)


def _new_file(root: Path, snippet: str) -> str:
    header = f"{SCHEMA_COMMENT}\n" if (root / SCHEMA_FILE).is_file() else ""
    return f"{header}# added by reconciler export --merge\n{snippet}"


_BLOCK_START = re.compile(r"(?P<key>[^\s#:][^:#]*?):[ \t]*(#.*)?$")


def _inserted(text: str, section: str, snippet: str) -> str | None:
    """``text`` with the snippet's entries at the end of ``section`` (a block mapping at the
    top level), appended as a new section when the file has none; None for flow style."""
    lines = text.splitlines(keepends=True)
    starts = [n for n, line in enumerate(lines) if line.startswith(f"{section}:")]
    if not starts:
        gap = "" if not text or text.endswith("\n\n") else ("\n" if text.endswith("\n") else "\n\n")
        return text + gap + snippet
    start = starts[0]
    found = _BLOCK_START.match(lines[start].rstrip("\r\n"))
    if found is None or found.group("key") != section:
        return None
    last, indent = start, None
    for n in range(start + 1, len(lines)):
        line = lines[n]
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line[0] not in " \t":
            break
        last = n
        indent = indent or line[: len(line) - len(line.lstrip())]
    entries = snippet.splitlines(keepends=True)[1:]  # below "section:", indented by two
    shifted = [(indent or "  ") + line[2:] if line.strip() else line for line in entries]
    if not lines[last].endswith("\n"):
        lines[last] += "\n"
    return "".join(lines[: last + 1] + shifted + lines[last + 1 :])


def _check(before: str | None, after: str, section: str, new: Mapping[str, Any], rel: str) -> None:
    """The merged file holds what it held, plus the new entries of ``section``."""
    old = _data(before, rel) if before is not None else {}
    merged = _data(after, rel)
    kept = {k: v for k, v in merged.items() if k != section} == {
        k: v for k, v in old.items() if k != section
    }
    entries = merged.get(section) or {}
    previous = old.get(section) or {}
    same = all(entries.get(k) == v for k, v in previous.items())
    if not (kept and same and set(entries) == set(previous) | set(new)):
        raise ExportError(
            f"{rel}: the new {section} entries could not be added without changing what is "
            "there; nothing was written"
        )


def _data(text: str, rel: str) -> dict[str, Any]:
    doc, problems = parse_yaml(text.encode("utf-8"), rel, {})
    if doc is None or not isinstance(doc.data, dict | None):
        first = problems[0] if problems else f"{rel}: not a YAML mapping"
        raise ExportError(f"cannot merge into {rel}: {first}")
    return doc.data or {}


def _link_manifests(out: Merge, docs: Documents, root: Path) -> None:
    """The manifests of the datasets and collections added (their item lists), never over
    an existing file."""
    added = [
        (title, entry)
        for section in ("datasets", "collections")
        for title, entry in _found(docs, section).items()
        if title in out.added.get(section, ())
    ]
    for title, entry in added:
        for selector in entry.get("items", ()):
            name = selector.get("manifest")
            if name is None:
                continue
            if (root / name).exists():
                raise ExportError(
                    f"{name} already exists in {root}: {title!r} needs it for its items; "
                    "move it away and merge again"
                )
            out.files[name] = jsonl([{"path": path} for path in docs.link_manifests[name]])
