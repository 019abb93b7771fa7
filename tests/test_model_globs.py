from __future__ import annotations

import re
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.model.globs import GlobError, _tokens, compile_glob, glob_match


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        ("/prod/**", "/prod", True),
        ("/prod/**", "/prod/a/b", True),
        ("/prod/**", "/production", False),
        ("/a/*", "/a/b", True),
        ("/a/*", "/a/b/c", False),
        ("*.mp4", "clip.mp4", True),
        ("*.mp4", "dir/clip.mp4", False),
        ("qa.*", "qa.score", True),
        ("qa.*", "qb.score", False),
        ("img-?.jpg", "img-1.jpg", True),
        ("img-[0-3].jpg", "img-4.jpg", False),
        ("img-[!0-3].jpg", "img-4.jpg", True),
        ("folder:/curated/**", "folder:/curated/cameras", True),
        ("*:/curated/**", "folder-group:/curated#ml", True),
        ("a+b(c)", "a+b(c)", True),
        ("[!]a]x", "bx", True),
        ("[!]a]x", "]x", False),
        ("[]a]x", "]x", True),
        ("[[]x", "[x", True),
        ("[^a]x", "^x", True),
        ("[^a]x", "bx", False),
    ],
)
def test_glob_match(pattern: str, text: str, expected: bool) -> None:
    assert glob_match(pattern, text) is expected


def test_bad_globs_raise() -> None:
    with pytest.raises(GlobError):
        compile_glob("img-[0-3.jpg")
    with pytest.raises(GlobError):
        compile_glob("")


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        ("/a/**/b/*", "/a/b/c", True),
        ("/a/**/b/*", "/a/x/y/b/c", True),
        ("/a/**/b/*", "/a/x/y/b/c/d", False),
        ("/a/**/*.jpg", "/a#g/x.jpg", True),
        ("*:/a/**", "folder-group:/a#ml", True),
        ("*/*.mp4", "cams/clip.mp4", True),
        ("*/*.mp4", "cams/x/clip.mp4", False),
        ("**x*", "a/b/cx", True),
        ("**x*", "a/bx/c", False),
        ("*a*a*", "xaya", True),
        ("*a*a*", "xa/a", False),
    ],
)
def test_globs_with_several_wildcards(pattern: str, text: str, expected: bool) -> None:
    assert glob_match(pattern, text) is expected


def _reference(pattern: str, text: str) -> bool:
    """The plain regular-expression translation: right, but exponential on hostile globs."""
    source = "".join(t.regex for t in _tokens(pattern)) + r"\Z"
    return re.compile(source, re.DOTALL).match(text) is not None


ALPHABET = "ab/#.x"


@settings(max_examples=600, deadline=None)
@given(
    st.lists(
        st.sampled_from(["*", "**", "?", "/**", "a", "b", "/", "#", ".", "[ab]", "[!a]"]),
        min_size=1,
        max_size=8,
    ).map("".join),
    st.text(ALPHABET, max_size=14),
)
def test_every_glob_matches_as_its_regular_expression_does(pattern: str, text: str) -> None:
    assert glob_match(pattern, text) is _reference(pattern, text)


def test_a_glob_built_to_backtrack_is_matched_in_linear_time() -> None:
    # A backtracking engine tries every way to split the name among the eight wildcards:
    # about 16 s per 65-character name before, astronomically long for this one.
    hostile = compile_glob("*a*a*a*a*a*a*a*b")
    name = "a" * 100_000
    outcome: list[bool] = []
    worker = threading.Thread(target=lambda: outcome.append(hostile.match(name)), daemon=True)
    worker.start()
    worker.join(timeout=30)
    assert outcome == [False]
    assert hostile.match("a" * 20 + "b") is True


@settings(max_examples=200, deadline=None)
@given(
    pattern=st.sampled_from(
        ["*.jpg", "*a", "*.j?g", "*[ab]", "a*", "*a*b*", "**.jpg", "*/x", "*", "?.png", "*]"]
    ),
    texts=st.lists(st.text(alphabet="ab./jpgx]", max_size=8), max_size=8),
)
def test_matches_is_match_of_each_text(pattern: str, texts: list[str]) -> None:
    glob = compile_glob(pattern)
    assert glob.matches(texts) == [glob.match(t) for t in texts]


def test_matches_of_a_glob_of_several_wildcards_says_no_where_it_does_not_match() -> None:
    # The automaton answers False (not None) on a miss: a column of "is not None" took
    # every name for a match.
    assert compile_glob("*a*b*").matches(["zzz", "xaxbx"]) == [False, True]
