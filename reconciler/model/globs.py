"""One glob dialect for the whole tool: ``protect`` paths, ``--only`` addresses, item name
matches and ``owned_keys``.

``**`` matches any run of characters including ``/``; ``*`` and ``?`` stay inside one ``/``
segment; ``[...]`` is a character class. ``/a/**`` matches ``/a`` itself too, so "protect this
subtree" needs one pattern, not two, and it matches the relations an address owns
(``folder-group:/a#annotators``), so ``--only '*:/a/**'`` selects the grants on ``/a`` too.
"""

from __future__ import annotations

import re
from functools import lru_cache


class GlobError(ValueError):
    """A pattern that cannot be compiled (for example an unclosed ``[``)."""


def _translate(pattern: str) -> str:
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        char = pattern[i]
        if pattern.startswith("/**", i) and (i + 3 == n or pattern[i + 3] == "/"):
            # "/a/**" also matches "/a" itself and relations owned by it ("/a#group").
            out.append("(?:[/#].*)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif char == "*":
            out.append("[^/]*")
            i += 1
        elif char == "?":
            out.append("[^/]")
            i += 1
        elif char == "[":
            out.append(_char_class(pattern, i))
            i = pattern.index("]", _class_body_start(pattern, i)) + 1
        else:
            out.append(re.escape(char))
            i += 1
    return "".join(out)


def _class_body_start(pattern: str, i: int) -> int:
    """Index where a ``[...]`` class's closing ``]`` may first appear: after an optional ``!``
    and a leading ``]``, which is a literal (``[]a]``, ``[!]a]``)."""
    start = i + 1
    if pattern[start : start + 1] == "!":
        start += 1
    if pattern[start : start + 1] == "]":
        start += 1
    return start


def _char_class(pattern: str, i: int) -> str:
    body_start = _class_body_start(pattern, i)
    end = pattern.find("]", body_start)
    if end < 0:
        raise GlobError(f"unclosed '[' in glob {pattern!r}")
    negate = pattern[i + 1 : i + 2] == "!"
    body = pattern[i + 2 if negate else i + 1 : end]
    # Escape everything but ranges so "[" or "^" inside a class stays literal (and Python does
    # not warn about possible nested sets).
    escaped = "".join(c if c == "-" else re.escape(c) for c in body)
    return "[" + ("^" if negate else "") + escaped + "]"


@lru_cache(maxsize=4096)
def compile_glob(pattern: str) -> re.Pattern[str]:
    if not pattern:
        raise GlobError("empty glob")
    try:
        return re.compile(_translate(pattern) + r"\Z", re.DOTALL)
    except re.error as exc:
        raise GlobError(f"invalid glob {pattern!r}: {exc}") from exc


def glob_match(pattern: str, text: str) -> bool:
    return compile_glob(pattern).match(text) is not None


def any_match(patterns: tuple[str, ...] | list[str], text: str) -> bool:
    return any(compile_glob(p).match(text) for p in patterns)
