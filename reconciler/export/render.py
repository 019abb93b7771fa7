"""Documents to file text (YAML and JSONL), and writing them into a directory.

Each YAML file names its JSON Schema for editors by a relative path that resolves wherever the
directory lives: ``config.schema.json`` is written beside it (the packaged schema, which
``reconciler schema`` prints to refresh it after an upgrade). ``.gitignore`` keeps
``.reconciler/`` (the journal, a sandbox database) out of git; an existing ``.gitignore`` is
extended, never replaced.

Strings that contain ``${`` are written as ``$${``: the config loader interpolates ``${VAR}``
in YAML scalars and keys, and an exported description must read back as itself. Manifests are JSON
lines, read without interpolation, so they carry values unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from reconciler.config.scalars import resolve_plain
from reconciler.export.build import Documents
from reconciler.export.errors import ExportError
from reconciler.export.ownership import PLACEHOLDER

SCHEMA_FILE = "config.schema.json"
SCHEMA_COMMENT = f"# yaml-language-server: $schema={SCHEMA_FILE}"
GITIGNORE = ".gitignore"
IGNORED = ".reconciler/"


def schema_text() -> str:
    """The packaged config JSON Schema, as shipped."""
    return resources.files("reconciler.schemas").joinpath(SCHEMA_FILE).read_text("utf-8")


def render(docs: Documents, *, header: str) -> dict[str, str]:
    """Relative file name -> text, in a stable order."""
    files: dict[str, str] = {"reconciler.yaml": _settings(docs, header)}
    if docs.folders:
        files["folders.yaml"] = _yaml({"folders": docs.folders}, _folder_tags(docs, header))
    if docs.groups:
        files["groups.yaml"] = _yaml({"groups": docs.groups}, header)
    if docs.users:
        files["users.yaml"] = _yaml({"users": docs.users}, header)
    if docs.datasets:
        files["datasets.yaml"] = _yaml({"datasets": docs.datasets}, header)
    if docs.metadata_rules or docs.metadata_rows:
        files["items.yaml"] = _items(docs, header)
    if docs.metadata_rows:
        files["manifests/metadata.jsonl"] = jsonl(docs.metadata_rows)
    for name, paths in docs.link_manifests.items():
        files[name] = jsonl([{"path": path} for path in paths])
    if docs.collections:
        files["collections.yaml"] = _yaml({"collections": docs.collections}, header)
    if docs.organisation_tags:
        files["organisation_tags.yaml"] = _yaml(
            {"organisation_tags": docs.organisation_tags}, header
        )
    if docs.metadata_schema is not None:
        files["metadata_schema.yaml"] = _yaml({"metadata_schema": docs.metadata_schema}, header)
    files[SCHEMA_FILE] = schema_text()
    files[GITIGNORE] = IGNORED + "\n"
    return files


def _folder_tags(docs: Documents, header: str) -> str:
    """The organisation tags the app attached to exported folders, as comments: shown, not
    declared (neither the SDK nor the public API can attach a tag to a folder)."""
    if not docs.folder_tags:
        return header
    notes = ["# organisation tags on these folders (set in the Encord app; not managed here):"]
    for path, tags in sorted(docs.folder_tags.items()):
        # ASCII JSON: a live name cannot end the comment (YAML also breaks lines at U+2028)
        shown = ", ".join(json.dumps(tag) for tag in tags)
        notes.append(f"#   {json.dumps(path)}: {shown}")
    return "\n".join([header, *notes])


def _items(docs: Documents, header: str) -> str:
    notes = []
    if docs.metadata_rules:
        notes.append("# a rule: the metadata every item of a folder shares (and items added later)")
    entries: list[dict[str, Any]] = list(docs.metadata_rules)
    if docs.metadata_rows:
        notes.append("# the manifest: what is particular to each item, one JSON object a line")
        entries.append({"manifest": "manifests/metadata.jsonl"})
    return _yaml({"items": entries}, "\n".join([header, *notes]))


def write(files: Mapping[str, str], out: Path, *, force: bool) -> list[Path]:
    """Write every file under ``out``; refuse to overwrite unless ``force``. ``.gitignore``
    is merged: the user's own lines stay."""
    targets = [out / name for name in files]
    existing = [p for p in targets if p.exists() and p.name != GITIGNORE]
    if existing and not force:
        names = ", ".join(str(p) for p in existing[:3]) + (" …" if len(existing) > 3 else "")
        raise ExportError(f"{names} already exists; choose another --out or pass --force")
    try:
        for path, text in zip(targets, files.values(), strict=True):
            path.parent.mkdir(parents=True, exist_ok=True)
            if path.name == GITIGNORE:
                text = _merged_gitignore(path, text)
            path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ExportError(f"cannot write {exc.filename or out}: {exc.strerror}") from None
    return targets


def _merged_gitignore(path: Path, text: str) -> str:
    if not path.exists():
        return text
    old = path.read_text(encoding="utf-8")
    lines = {line.strip().strip("/") for line in old.splitlines()}
    missing = [line for line in text.splitlines() if line.strip("/") not in lines]
    if not missing:
        return old
    return old + ("" if old.endswith("\n") or not old else "\n") + "\n".join(missing) + "\n"


def _settings(docs: Documents, header: str) -> str:
    text = _yaml(docs.settings, header)
    placeholder = f"  id: {PLACEHOLDER}\n"
    note = f"  id: {PLACEHOLDER}  # EDIT: the id reconciler writes into what it creates\n"
    return text.replace(placeholder, note, 1)


class _Dumper(yaml.SafeDumper):
    """PyYAML quotes what YAML 1.1 would not read back as a string; the config loader reads
    YAML 1.2, where ``1e3``, ``0o17`` or ``-.5`` are numbers. Quote those too."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if resolve_plain(value) != value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="'")
    return dumper.represent_str(value)


_Dumper.add_representer(str, _represent_str)


def _yaml(document: Mapping[str, Any], header: str) -> str:
    return f"{SCHEMA_COMMENT}\n{header}\n{_body(document)}"


def render_section(section: str, entries: Mapping[str, Any]) -> str:
    """``section:`` and its entries, as the export writes them (``export --merge``)."""
    return _body({section: entries})


def _body(document: Mapping[str, Any]) -> str:
    return yaml.dump(
        _escape(document),
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=100,
    )


def jsonl(rows: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def _escape(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("${", "$${")
    if isinstance(value, Mapping):
        return {_escape(key): _escape(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_escape(item) for item in value]
    return value
