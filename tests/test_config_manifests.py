"""Manifest readers: streaming, bounded lines, capped reports, shared metadata, CSV typing."""

from __future__ import annotations

from pathlib import Path

from reconciler.config.manifestrows import MAX_REPORTED
from reconciler.config.manifests import MAX_LINE_BYTES, read_item_manifest, read_link_manifest
from reconciler.config.metadata import SchemaIndex, descriptor

SCHEMA = SchemaIndex(
    {
        "n": descriptor("number"),
        "b": descriptor("boolean"),
        "e": descriptor({"type": "enum", "values": ["x", "y"]}),
    },
    "reconciler.yaml:1",
)


def read(tmp_path: Path, name: str, data: bytes, schema: SchemaIndex | None = SCHEMA):  # type: ignore[no-untyped-def]
    path = tmp_path / name
    path.write_bytes(data)
    fmt = "csv" if name.endswith(".csv") else "jsonl"
    rows, problems = read_item_manifest(path, name, fmt, schema)
    return rows.rows, [str(p) for p in problems]


def test_over_long_line_is_skipped_and_numbering_holds(tmp_path: Path) -> None:
    long_line = (
        b'{"path": "/f/long.jpg", "metadata": {"c": "' + b"x" * (MAX_LINE_BYTES + 10) + b'"}}\n'
    )
    data = b'{"path": "/f/a.jpg"}\n' + long_line + b'{"path": "/f/b.jpg", "metadata": {"n": 2}}\n'
    rows, problems = read(tmp_path, "m.jsonl", data)
    assert problems == ["m.jsonl:2:1: line longer than 1024 KiB; skipped"]
    assert {p: e.line for p, e in rows.items()} == {"/f/a.jpg": 1, "/f/b.jpg": 3}


def test_reports_are_capped(tmp_path: Path) -> None:
    data = b"".join(b'{"path": "bad%d"}\n' % i for i in range(MAX_REPORTED + 25))
    rows, problems = read(tmp_path, "m.jsonl", data)
    assert rows == {}
    assert len(problems) == MAX_REPORTED + 1
    assert problems[-1].endswith("25 more problems in this manifest not shown; fix the above first")


def test_equal_metadata_is_shared_but_types_are_kept_apart(tmp_path: Path) -> None:
    data = (
        b'{"path": "/f/a", "metadata": {"s": "train", "k": 1}}\n'
        b'{"path": "/f/b", "metadata": {"s": "train", "k": 1}}\n'
        b'{"path": "/f/c", "metadata": {"s": "train", "k": true}}\n'
        b'{"path": "/f/d", "metadata": {"s": "train", "k": 1.0}}\n'
        b'{"path": "/f/e", "metadata": {"l": [1]}}\n'
    )
    rows, problems = read(tmp_path, "m.jsonl", data, None)
    assert problems == []
    assert rows["/f/a"].metadata is rows["/f/b"].metadata
    assert rows["/f/c"].metadata is not rows["/f/a"].metadata
    assert rows["/f/c"].metadata == {"s": "train", "k": True}
    assert type(rows["/f/d"].metadata["k"]) is float
    assert rows["/f/e"].metadata == {"l": [1]}


def test_invalid_utf8_in_jsonl_and_csv(tmp_path: Path) -> None:
    _, problems = read(tmp_path, "m.jsonl", b'{"path": "/f/a"}\n{"path": "/f/\xff"}\n')
    assert problems == ["m.jsonl:2:1: not UTF-8 text"]
    rows, problems = read(tmp_path, "m.csv", b"path,n\n/f/\xff,1\n/f/b,2\n")
    assert problems == ["m.csv:2:1: not UTF-8 text; manifests must be UTF-8 encoded"]
    assert {p: (e.line, dict(e.metadata)) for p, e in rows.items()} == {"/f/b": (3, {"n": 2})}


def test_csv_typing_quoting_and_line_numbers(tmp_path: Path) -> None:
    data = (
        b"\xef\xbb\xbfpath,n,b,e,note\n"
        b'/f/a,1,true,x,"two\nlines"\n'
        b"/f/b,-2.5e3,False,,\n"
        b"/f/c,nan,true,y,\n"
    )
    rows, problems = read(tmp_path, "m.csv", data)
    assert problems == ["m.csv:5:6: column 'n': 'nan' is not a finite number"]
    assert dict(rows["/f/a"].metadata) == {"n": 1, "b": True, "e": "x", "note": "two\nlines"}
    assert rows["/f/a"].line == 3  # the row ends on line 3
    assert dict(rows["/f/b"].metadata) == {"n": -2500.0, "b": False}


def test_csv_errors_stop_reading(tmp_path: Path) -> None:
    _, problems = read(tmp_path, "m.csv", b'path,n\n/f/a,"unterminated\n')
    assert len(problems) == 1 and problems[0].startswith("m.csv:2:1: invalid CSV:")


def test_empty_files(tmp_path: Path) -> None:
    rows, problems = read(tmp_path, "m.jsonl", b"\n\n")
    assert (rows, problems) == ({}, [])
    rows, problems = read(tmp_path, "m.csv", b"")
    assert problems == [
        "m.csv:1:1: the first line must be a header starting with 'path', like path,split"
    ]


def test_link_manifests(tmp_path: Path) -> None:
    path = tmp_path / "l.txt"
    path.write_bytes(b"/f/a\n  # note\n/f/b\n/f/a\n\xff\n")
    paths, problems = read_link_manifest(path, "l.txt")
    assert paths == frozenset({"/f/a", "/f/b"})
    assert [str(p) for p in problems] == ["l.txt:5:1: not UTF-8 text"]


def test_metadata_schema_spellings_become_wire_descriptors() -> None:
    assert descriptor("number") == {"ty": "number", "format": "F64"}
    for plain in ("boolean", "text", "uuid", "user", "geospatial"):
        assert descriptor(plain) == {"ty": plain}
    assert descriptor("varchar") == {"ty": "varchar", "max_length": 8192}
    assert descriptor({"type": "varchar", "max_length": 12}) == {"ty": "varchar", "max_length": 12}
    assert descriptor("datetime") == {"ty": "datetime", "timezone": "UTC"}
    assert descriptor({"type": "enum", "values": ["a", "b"]}) == {
        "ty": "enum",
        "values": ["a", "b"],
    }
    assert descriptor({"type": "embedding", "size": 8}) == {
        "ty": "embedding",
        "size": 8,
        "api": None,
    }


def test_schema_predicates_agree_with_the_messages() -> None:
    index = SchemaIndex(
        {
            "n": descriptor("number"),
            "b": descriptor("boolean"),
            "t": descriptor("text"),
            "v": descriptor({"type": "varchar", "max_length": 3}),
            "u": descriptor("uuid"),
            "d": descriptor("datetime"),
            "e": descriptor({"type": "enum", "values": ["x"]}),
            "m": descriptor({"type": "embedding", "size": 2}),
            "g": descriptor("geospatial"),
        },
        "s.yaml:1",
    )
    samples = [
        None,
        True,
        0,
        1.5,
        float("inf"),
        "",
        "x",
        "abcd",
        "2024-05-01T12:00:00Z",
        "123e4567-e89b-12d3-a456-426614174000",
        [1, 2],
        [1, "2"],
        {"type": "Point"},
    ]
    for key in index.keys:
        for value in samples:
            assert index.accepts(key, value) is (index.problem(key, value) is None), (key, value)
    assert index.accepts("undeclared", object())
