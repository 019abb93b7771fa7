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
            end = pattern.find("]", i + 2 if pattern[i + 1 : i + 2] in ("!", "]") else i + 1)
            if end < 0:
                raise GlobError(f"unclosed '[' in glob {pattern!r}")
            body = pattern[i + 1 : end]
            if body.startswith("!"):
                body = "^" + body[1:]
            out.append("[" + body.replace("\\", "\\\\") + "]")
            i = end + 1
        else:
            out.append(re.escape(char))
            i += 1
    return "".join(out)


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
