"""Property: whatever is done to a valid config, validation returns well-formed diagnostics
(one line each, ``file:line:col: message``, positions inside the file), never an exception,
and quickly. A config with no diagnostics loads into a DesiredState.

Mutations work on the data (delete, insert, retype a node) and on the text (garbage bytes,
tabs, aliases and anchors, deep brackets, truncation, duplicated lines).
"""

from __future__ import annotations

import re
import shutil
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.config import ConfigError, load_config, validate_config

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
LINE = re.compile(r"^(?P<file>[^\n]+?):(?P<line>\d+):(?P<col>\d+): (?P<message>[^\n]+)$")

SEEDS = {
    name: {
        str(p.relative_to(EXAMPLES / name)): p.read_bytes()
        for p in sorted((EXAMPLES / name).rglob("*"))
        if p.is_file() and "buckets" not in p.parts and p.suffix in (".yaml", ".jsonl")
    }
    for name in ("quickstart", "realistic")
}

TEXT = st.characters(exclude_categories=["Cs"])
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 10_000),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.sampled_from(
        ["", "/a", "/a/", "user", "admin", "*.jpg", "[x", "${NOPE}", "$${X}", "s3://b/p/"]
    ),
    st.text(TEXT, max_size=12),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(TEXT, max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)
GARBAGE = st.one_of(
    st.binary(min_size=1, max_size=8),
    st.sampled_from(
        [
            b"\t",
            b"\x00",
            b"\xff\xfe",
            b": ",
            b"- ",
            b"&a ",
            b"*a",
            b"<<: *a\n",
            b"[" * 80,
            b"{",
            b"'",
            b'"',
            b"\n---\n",
            b"!!python/object:os.system ",
            b"${",
            b"\xef\xbb\xbf",
            b"\r",
        ]
    ),
)


def _nodes(data: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(data, dict):
        for key, value in data.items():
            out += _nodes(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            out += _nodes(value, (*path, index))
    return out


def _mutate_data(data: Any, draw: Any) -> Any:
    paths = _nodes(data)
    target = draw(st.sampled_from(paths))
    action = draw(st.sampled_from(["delete", "insert", "retype"]))
    if not target:
        return draw(VALUES) if action == "retype" else data
    parent = data
    for part in target[:-1]:
        parent = parent[part]
    last = target[-1]
    if action == "delete":
        del parent[last]
    elif action == "retype":
        parent[last] = draw(VALUES)
    elif isinstance(parent, dict):
        parent[draw(st.text(TEXT, max_size=10))] = draw(VALUES)
    else:
        parent.insert(last, draw(VALUES))
    return data


def _load(raw: bytes) -> Any:
    """The file's data when it is still plain YAML (earlier mutations may have broken it)."""
    try:
        return yaml.safe_load(raw)
    except (yaml.YAMLError, ValueError):
        return None


@st.composite
def mutated_configs(draw: Any) -> dict[str, bytes]:
    files = dict(SEEDS[draw(st.sampled_from(sorted(SEEDS)))])
    for _ in range(draw(st.integers(1, 3))):
        name = draw(st.sampled_from(sorted(files)))
        raw = files[name]
        kind = draw(st.sampled_from(["data", "garbage", "truncate", "duplicate"]))
        data = _load(raw) if kind == "data" and name.endswith(".yaml") else None
        if data is not None:
            data = _mutate_data(data, draw)
            raw = yaml.safe_dump(data, allow_unicode=True, sort_keys=False).encode()
        elif kind in ("garbage", "data"):
            at = draw(st.integers(0, len(raw)))
            raw = raw[:at] + draw(GARBAGE) + raw[at:]
        elif kind == "truncate":
            raw = raw[: draw(st.integers(0, len(raw)))]
        else:
            lines = raw.splitlines(keepends=True) or [b""]
            at = draw(st.integers(0, len(lines) - 1))
            raw = b"".join(lines[: at + 1] + lines[at:])
        files[name] = raw
    return files


def _check(diagnostics: list[Any], files: dict[str, bytes]) -> None:
    for diagnostic in diagnostics:
        text = str(diagnostic)
        match = LINE.match(text)
        assert match, text
        assert diagnostic.line >= 1 and diagnostic.col >= 1, text
        assert diagnostic.message.strip(), text
        raw = files.get(diagnostic.file)
        if raw is not None and diagnostic.file.endswith(".yaml"):
            lines = raw.decode("utf-8", "replace").splitlines()  # \r alone breaks a line too
            assert diagnostic.line <= len(lines) + 2, text


@pytest.mark.slow
@settings(
    max_examples=150,
    deadline=timedelta(seconds=5),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(mutated_configs())
def test_mutated_configs_give_only_diagnostics(files: dict[str, bytes]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "config"
        for name, raw in files.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(raw)
        for fixture in ("buckets", "buckets/s3", "buckets/gcs"):
            (root / fixture).mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        diagnostics = validate_config(root, env={})
        assert time.perf_counter() - start < 5
        _check(diagnostics, files)
        if not diagnostics:
            state = load_config(root, env={})
            assert state.ownership.id
        else:
            with pytest.raises(ConfigError):
                load_config(root, env={})
        shutil.rmtree(root)


def test_unmutated_seeds_are_valid(tmp_path: Path) -> None:
    for name, files in SEEDS.items():
        root = tmp_path / name
        for rel, raw in files.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_bytes(raw)
        for fixture in ("buckets", "buckets/s3", "buckets/gcs"):
            (root / fixture).mkdir(parents=True, exist_ok=True)
        assert validate_config(root, env={}) == []
