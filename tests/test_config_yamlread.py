"""The YAML reader: plain data with positions, YAML 1.2 scalars, and bounded hostile input."""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.config import yamlread
from reconciler.config.positions import Pos, YamlDoc, describe_path
from reconciler.config.yamlread import MAX_DEPTH, MAX_FILE_BYTES, parse_yaml, read_yaml


def parse(text: str | bytes, env: dict[str, str] | None = None) -> tuple[YamlDoc | None, list[str]]:
    raw = text.encode() if isinstance(text, str) else text
    doc, problems = parse_yaml(raw, "f.yaml", env or {})
    return doc, [str(p) for p in problems]


def test_positions_of_keys_and_values() -> None:
    doc, problems = parse("a:\n  b: [1, {c: d}]\n  e: x\n")
    assert problems == []
    assert doc is not None
    assert doc.data == {"a": {"b": [1, {"c": "d"}], "e": "x"}}
    assert doc.key_pos(["a", "b"]) == Pos(2, 3)
    assert doc.value_pos(["a", "b"]) == Pos(2, 6)
    assert doc.value_pos(["a", "b", 1]) == Pos(2, 10)
    assert doc.key_pos(["a", "b", 1, "c"]) == Pos(2, 11)
    assert doc.value_pos(["a", "b", 1, "c"]) == Pos(2, 14)
    # a path that does not exist stops at the deepest node that does
    assert doc.value_pos(["a", "missing", 3]) == Pos(2, 3)


def test_columns_count_characters_not_bytes() -> None:
    doc, _ = parse("é: ü\nk: v\n")
    assert doc is not None
    assert doc.value_pos(["é"]) == Pos(1, 4)


def test_yaml_1_2_core_scalars() -> None:
    doc, problems = parse(
        "t: true\nf: False\nn: ~\ne:\ni: 12\nh: 0x1F\no: 0o17\nx: 1.5\ny: 1e3\n"
        "no: no\nyes: on\nd: 2024-05-01\nq: '12'\ns: !!str 12\nv: 1_000\n"
    )
    assert problems == []
    assert doc is not None
    assert doc.data == {
        "t": True,
        "f": False,
        "n": None,
        "e": None,
        "i": 12,
        "h": 31,
        "o": 15,
        "x": 1.5,
        "y": 1000.0,
        "no": "no",
        "yes": "on",
        "d": "2024-05-01",
        "q": "12",
        "s": "12",
        "v": "1_000",
    }


def test_keys_are_their_text() -> None:
    doc, _ = parse("1: a\ntrue: b\n~: c\n")
    assert doc is not None
    assert doc.data == {"1": "a", "true": "b", "~": "c"}


def test_merge_keys_explicit_keys_win() -> None:
    doc, problems = parse(
        "base: &b {x: 1, y: 2}\nother: &o {y: 20, z: 30}\nc:\n  <<: [*b, *o]\n  y: 3\n"
    )
    assert problems == []
    assert doc is not None
    assert doc.data["c"] == {"y": 3, "x": 1, "z": 30}
    # merged keys keep the position where they are written (in the anchor)
    assert doc.key_pos(["c", "x"]) == Pos(1, 11)


def test_bad_merge_source() -> None:
    _, problems = parse("c:\n  <<: 5\n")
    assert problems == ["f.yaml:2:7: '<<' merges a mapping or a list of mappings (e.g. <<: *base)"]


def test_every_duplicate_key_is_reported_and_the_first_kept() -> None:
    doc, problems = parse("a: 1\nb: 2\na: 3\nb: 4\n")
    assert doc is not None
    assert doc.data == {"a": 1, "b": 2}
    assert problems == [
        "f.yaml:3:1: duplicate key 'a' (first at line 1, column 1); YAML keeps only one, "
        "so remove or rename one of them",
        "f.yaml:4:1: duplicate key 'b' (first at line 2, column 1); YAML keeps only one, "
        "so remove or rename one of them",
    ]


def test_collection_keys_are_refused() -> None:
    _, problems = parse("? [a, b]\n: c\n")
    assert problems == ["f.yaml:1:3: a mapping key must be a plain string"]


def test_interpolation_in_values_and_keys() -> None:
    doc, problems = parse(
        "/${ROOT}/x: ${A}\nb: '${MISSING:-dflt}'\nc: $${LITERAL}\nd: ${EMPTY:-e}\n",
        {"ROOT": "teams", "A": "alpha", "EMPTY": ""},
    )
    assert problems == []
    assert doc is not None
    assert doc.data == {"/teams/x": "alpha", "b": "dflt", "c": "${LITERAL}", "d": "e"}


def test_interpolation_problems_point_at_the_reference() -> None:
    _, problems = parse('a: pre ${NOPE} post\nb: "${NOPE2}"\n')
    assert problems == [
        "f.yaml:1:8: environment variable NOPE is not set; set it, or write ${NOPE:-default}",
        "f.yaml:2:5: environment variable NOPE2 is not set; set it, or write ${NOPE2:-default}",
    ]


def test_interpolated_numbers_stay_strings() -> None:
    doc, _ = parse("n: ${N}\n", {"N": "5"})
    assert doc is not None
    assert doc.data == {"n": "5"}


def test_empty_and_comment_only_files_hold_nothing() -> None:
    for text in ("", "# only a comment\n", "---\n"):
        doc, problems = parse(text)
        assert problems == []
        assert doc is not None
        assert doc.data is None


def test_describe_path() -> None:
    assert describe_path(("folders", "/a", "groups", "g-1")) == 'folders["/a"].groups["g-1"]'
    assert describe_path(("items", 2, "match", "type")) == "items[2].match.type"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            b"a: \xff\xfe\n",
            "f.yaml:1:4: not UTF-8 text (byte 0xff); YAML files must be UTF-8 encoded",
        ),
        (
            b"a: 1\nb: \x00\n",
            "f.yaml:2:4: character U+0000 is not allowed in YAML (binary data or a control character)",
        ),
        (b"a:\n\tb: 1\n", "f.yaml:2:1: YAML syntax error: a tab character; indent with spaces"),
        (b"- 1\n---\n- 2\n", "f.yaml:2:1: a file holds one YAML document; remove the second '---'"),
        (b"a: *nowhere\n", "f.yaml:1:4: alias *nowhere is not defined above"),
        (b"a: &x [*x]\n", "f.yaml:1:8: alias *x refers to itself"),
    ],
)
def test_hostile_bytes_give_one_diagnostic(raw: bytes, expected: str) -> None:
    doc, problems = parse(raw)
    assert doc is None
    assert problems == [expected]


def test_utf8_bom_is_accepted() -> None:
    doc, problems = parse(b"\xef\xbb\xbfa: 1\n")
    assert problems == []
    assert doc is not None
    assert doc.data == {"a": 1}


# The memory bound is the sharp check: an unbounded expansion of any of these inputs needs
# gigabytes. The time bound is the ceiling for hostile input (30 s); parsing itself
# takes about a second, three or four under a tracer such as CI's coverage.
def _bounded(text: str, *, seconds: float = 30.0, megabytes: float = 64) -> list[str]:
    tracemalloc.start()
    start = time.perf_counter()
    try:
        _, problems = parse(text)
        elapsed = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert elapsed < seconds
    assert peak < megabytes * 1024 * 1024
    return problems


def test_billion_laughs_is_refused_quickly() -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    problems = _bounded("\n".join(lines) + "\n")
    assert len(problems) == 1
    assert "expands to more than 1,000,000 nodes" in problems[0]


def test_quadratic_merge_bomb_is_refused_quickly() -> None:
    base = "base: &b {" + ", ".join(f"k{i}: {i}" for i in range(2000)) + "}\n"
    text = base + "list:\n" + "  - {<<: *b}\n" * 2000
    problems = _bounded(text)
    assert len(problems) == 1
    assert "expands to more than" in problems[0]


# The root counts as a level: the 65th collection is refused, where it opens. libyaml (as
# bundled since PyYAML 6.0.4) can stop first with a limit of its own while reading ahead; the
# position proves that the project's limit decided, whatever the PyYAML version.
@pytest.mark.parametrize(
    ("text", "col"),
    [
        ("x: " + "[" * 1_000_000, 3 + 63 + 1),
        ("x: " + "{a: " * 1_000_000, 3 + 63 * 4 + 1),
        ("- " * 1_000_000, 64 * 2 + 1),
        ("x: [" + "a, " * 400 + "[" * 100_000, 4 + 400 * 3 + 62 + 1),
    ],
)
def test_deep_nesting_is_refused_quickly(text: str, col: int) -> None:
    problems = _bounded(text)
    assert problems == [f"f.yaml:1:{col}: nesting deeper than {MAX_DEPTH} levels"]


def test_a_syntax_error_in_deep_but_allowed_nesting_stays_a_syntax_error() -> None:
    _, problems = parse("x: " + "[" * 60 + "a: b: c\n")
    assert len(problems) == 1
    assert problems[0].startswith("f.yaml:1:") and "YAML syntax error" in problems[0]
    assert "nesting" not in problems[0]


def test_deep_block_nesting_is_refused() -> None:
    text = "".join(" " * i + f"k{i}:\n" for i in range(200))
    problems = _bounded(text)
    assert problems == ["f.yaml:65:65: nesting deeper than 64 levels"]


def test_huge_file_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    with path.open("wb") as handle:
        handle.write(b"items:\n")
        handle.write(b"  - {folder: /a, metadata: {k: v}}\n" * (MAX_FILE_BYTES // 30))
    tracemalloc.start()
    try:
        doc, problems = read_yaml(path, "big.yaml", {})
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert doc is None
    assert [str(p) for p in problems] == [
        "big.yaml:1:1: file is larger than 5 MB, the limit for one YAML file; split it into "
        "several files, or move item metadata into a manifest"
    ]
    assert peak < 2 * MAX_FILE_BYTES


def test_a_large_legitimate_file_parses_in_bounded_time() -> None:
    text = "folders:\n" + "".join(
        f"  /f{i}:\n    description: folder number {i}\n    metadata: {{k: {i}}}\n"
        for i in range(20_000)
    )
    start = time.perf_counter()
    doc, problems = parse(text)
    assert problems == []
    assert doc is not None
    assert len(doc.data["folders"]) == 20_000
    assert time.perf_counter() - start < 10


def test_unreadable_file(tmp_path: Path) -> None:
    doc, problems = read_yaml(tmp_path / "missing.yaml", "missing.yaml", {})
    assert doc is None
    # one diagnostic at the file; the reason is the operating system's words
    assert len(problems) == 1
    assert str(problems[0]).startswith("missing.yaml:1:1: cannot read file: ")


def test_unquoted_reference_in_a_flow_mapping_gets_a_hint() -> None:
    _, problems = parse("ownership: {id: ${OWNER}}\n", {"OWNER": "ab"})
    assert len(problems) == 1
    assert problems[0].startswith("f.yaml:1:18: YAML syntax error")
    assert problems[0].endswith("; inside { } or [ ], quote values holding ${...}")
    doc, problems = parse('ownership: {id: "${OWNER}"}\n', {"OWNER": "ab"})
    assert problems == [] and doc is not None and doc.data == {"ownership": {"id": "ab"}}


YAMLISH = st.lists(
    st.sampled_from(
        [
            "a",
            ":",
            " ",
            "\n",
            "  ",
            "-",
            "[",
            "]",
            "{",
            "}",
            ",",
            "&x",
            "*x",
            "<<",
            "!!str",
            "!!int",
            "'",
            '"',
            "#",
            "?",
            "|",
            ">",
            "${A}",
            "$${",
            "\t",
            "\r",
            "---",
            "...",
            "1.5",
            "~",
            "\xff",
            "\x00",
            "é",
            "%YAML 1.2",
            "!tag",
        ]
    ),
    max_size=40,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=200), YAMLISH.map(str.encode)))
def test_any_bytes_give_data_or_diagnostics_never_an_exception(raw: bytes) -> None:
    doc, problems = parse_yaml(raw, "f.yaml", {"A": "a"})
    assert doc is not None or problems
    for problem in problems:
        assert problem.line >= 1 and problem.col >= 1 and problem.message
        assert "\n" not in str(problem)


# The frequent mistakes, in plain words at the line to fix (the parser notices most of them a
# line later). Both parsers (libyaml and pure Python) give the same diagnostic.
SYNTAX_MISTAKES = [
    (
        "folders:\n  /a:\n    description: hello\n      metadata: {k: v}\n",
        "4:7: 'metadata' is indented deeper than 'description' on line 3, which already has a "
        "value; indent it to column 5 like 'description'",
    ),
    (
        "groups:\n  annotators\n    members: [a@b.co]\n",
        "2:3: 'annotators' has no ':' after it, so the next line reads as part of it; "
        "write 'annotators:' if it is a key",
    ),
    (
        "folders:\n  /a\n  /b: {}\n",
        "2:3: '/a' has no ':' after it, so the next line reads as part of it; "
        "write '/a:' if it is a key",
    ),
    (
        "folders:\n  /a:\n    description: note: this\n",
        "3:18: the value of 'description' holds ': '; put the value in quotes",
    ),
    (
        "folders:\n  /a:\n    description: x\n   metadata: {k: v}\n",
        "4:4: 'metadata' at column 4 lines up with nothing above (the mapping at line 2 has its "
        "entries at column 3); move it to column 5 (like line 3) or column 3 (like line 2)",
    ),
    (
        "items:\n  - folder: /a\n  metadata: {k: v}\n",
        "3:3: 'metadata' at column 3 lines up with nothing above (the list at line 2 has its "
        "entries at column 3); move it to column 5 (like line 2)",
    ),
    (
        "a: 1\n- b\n",
        "2:1: a '-' list item where the mapping at line 1 expects a key; put the list under a "
        "key that ends with ':', indented deeper than the key",
    ),
    ('a: "unclosed\nb: 1\n', "1:4: this quote is never closed; add the closing quote"),
    (
        "a: [1, 2\nb: 1\n",
        "1:4: this '[' is never closed, or a ',' is missing inside it; add the ']' or the ','",
    ),
    ("a: @x\n", "1:4: a value cannot start with '@'; put it in quotes"),
    ("a: *\n", "1:4: '*' starts an alias (*name); put a value starting with '*' in quotes"),
]


@pytest.mark.parametrize("loader", ["CSafeLoader", "SafeLoader"])
@pytest.mark.parametrize(("text", "expected"), SYNTAX_MISTAKES)
def test_frequent_syntax_mistakes_in_plain_words(
    text: str, expected: str, loader: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(yamlread, "_Loader", getattr(yaml, loader))
    doc, problems = parse(text)
    assert doc is None
    where, message = expected.split(": ", 1)
    assert problems == [f"f.yaml:{where}: YAML syntax error: {message}"]


def test_files_are_parsed_by_libyaml_where_pyyaml_has_it() -> None:
    """The C parser (PyYAML's wheels bundle libyaml) is several times faster than the pure
    Python one; the tests above check both give the same documents and positions."""
    assert yaml.__with_libyaml__
    assert yamlread._Loader is yaml.CSafeLoader
