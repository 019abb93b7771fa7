from __future__ import annotations

import pytest

from reconciler.model.globs import GlobError, compile_glob, glob_match


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
