"""One glob dialect for the whole tool: ``protect`` paths, ``--only`` addresses, item name
matches and ``owned_keys``.

``**`` matches any run of characters including ``/``; ``*`` and ``?`` stay inside one ``/``
segment; ``[...]`` is a character class. ``/a/**`` matches ``/a`` itself too, so "protect this
subtree" needs one pattern, not two, and it matches the relations an address owns
(``folder-group:/a#annotators``), so ``--only '*:/a/**'`` selects the grants on ``/a`` too.

Matching costs time linear in the text whatever the pattern: a glob with at most one
unbounded wildcard is a regular expression (backtracking over one wildcard is linear), and
any other runs on a lazily built automaton (``_Automaton``), so ``*a*a*a*a*a*a*a*b`` cannot
make a backtracking engine try every way of splitting a long name.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from itertools import repeat

from reconciler.errors import ReconcilerError


class GlobError(ReconcilerError, ValueError):
    """A pattern that cannot be compiled (for example an unclosed ``[``)."""


# A token is one piece of a glob: its regex source and how the automaton steps over it.
_STAR = "star"  # *      any run inside one segment; loops on characters other than "/"
_ANY = "any"  # **     any run; loops on every character
_SUBTREE = "subtree"  # /** at the end of a segment: nothing, or "/" or "#" then any run
_ONE = "one"  # a character test (a literal, "?" or a class), then the next token


@dataclass(frozen=True, slots=True)
class _Token:
    """One step of a glob: a run (``*``, ``**``, ``/**``) or a one-character test."""

    kind: str
    regex: str  # this token as a regular expression
    test: re.Pattern[str] | None = None  # for _ONE but a literal: the one-character test
    # for _ONE: the character itself when it is a literal, compared without a compiled
    # pattern (a pattern per character was most of compiling the default include globs)
    literal: str | None = None


def _tokens(pattern: str) -> list[_Token]:
    out: list[_Token] = []
    i, n = 0, len(pattern)
    while i < n:
        char = pattern[i]
        if pattern.startswith("/**", i) and (i + 3 == n or pattern[i + 3] == "/"):
            # "/a/**" also matches "/a" itself and relations owned by it ("/a#group").
            out.append(_Token(_SUBTREE, "(?:[/#].*)?"))
            i += 3
        elif pattern.startswith("**", i):
            out.append(_Token(_ANY, ".*"))
            i += 2
        elif char == "*":
            out.append(_Token(_STAR, "[^/]*"))
            i += 1
        else:
            if char == "?":
                regex, i = "[^/]", i + 1
            elif char == "[":
                regex = _char_class(pattern, i)
                i = pattern.index("]", _class_body_start(pattern, i)) + 1
            else:
                out.append(_Token(_ONE, re.escape(char), literal=char))
                i += 1
                continue
            out.append(_Token(_ONE, regex, re.compile(regex, re.DOTALL)))
    return out


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


class Glob:
    """A compiled glob. ``match(text)`` is True when the whole of ``text`` matches."""

    __slots__ = ("_automaton", "_regex", "pattern")

    def __init__(self, pattern: str, tokens: list[_Token]) -> None:
        self.pattern = pattern
        wildcards = sum(1 for t in tokens if t.kind != _ONE)
        source = "".join(t.regex for t in tokens) + r"\Z"
        try:
            regex = re.compile(source, re.DOTALL)
        except re.error as exc:
            raise GlobError(f"invalid glob {pattern!r}: {exc}") from exc
        self._regex: re.Pattern[str] | None = regex if wildcards <= 1 else None
        self._automaton = None if self._regex is not None else _Automaton(tokens)

    def match(self, text: str) -> bool:
        if self._regex is not None:
            return self._regex.match(text) is not None
        assert self._automaton is not None
        return self._automaton.match(text)

    def matches(self, texts: list[str]) -> list[bool]:
        """``match`` of each text, a column at a time (C-level ``map``, no Python frame per
        text but the automaton's). ``*`` then a literal (``*.jpg``, the usual item name
        match) is a suffix without ``/`` before it: ``endswith`` and a ``/`` test."""
        suffix = self.pattern[1:]
        if self.pattern[:1] == "*" and suffix and not _SPECIAL.intersection(suffix):
            ends = map(str.endswith, texts, repeat(suffix))
            slashed = map(operator.contains, texts, repeat("/"))
            return list(map(operator.gt, ends, slashed))  # ends and not slashed
        if self._regex is not None:
            return list(map(operator.is_not, map(self._regex.match, texts), repeat(None)))
        assert self._automaton is not None
        return list(map(self._automaton.match, texts))

    def __repr__(self) -> str:
        return f"Glob({self.pattern!r})"


_SPECIAL = frozenset("*?[/")  # a suffix holding none of these is a literal


class GlobSet:
    """Several globs: ``match(text)`` is True when any of them matches."""

    __slots__ = ("globs",)

    def __init__(self, patterns: Iterable[str]) -> None:
        self.globs = tuple(compile_glob(p) for p in sorted(set(patterns)))

    def match(self, text: str) -> bool:
        return any(g.match(text) for g in self.globs)


@lru_cache(maxsize=4096)
def compile_glob(pattern: str) -> Glob:
    if not pattern:
        raise GlobError("empty glob")
    return Glob(pattern, _tokens(pattern))


def glob_match(pattern: str, text: str) -> bool:
    return compile_glob(pattern).match(text)


def any_match(patterns: tuple[str, ...] | list[str], text: str) -> bool:
    return any(compile_glob(p).match(text) for p in patterns)


_MAX_STATES = 4096  # automaton states kept between matches; past it the cache starts over


class _Automaton:
    """A deterministic automaton built on demand from the glob's tokens (as RE2 does).

    A state is the set of token positions the text read so far can have reached; position
    ``len(tokens)`` is the end, so a state holding it accepts. Each (state, character) step is
    computed once and cached, so matching is one dictionary lookup per character; the cache is
    bounded, and starting it over never changes an answer, only its cost.
    """

    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.end = len(tokens)
        self._reset()

    def _reset(self) -> None:
        self.sets: list[frozenset[int]] = []
        self.ids: dict[frozenset[int], int] = {}
        self.steps: list[dict[str, int]] = []
        self.accepts: list[bool] = []
        self.start = self._state(self._closure({0}))

    def match(self, text: str) -> bool:
        state = self.start
        for char in text:
            step = self.steps[state].get(char)
            if step is None:
                step = self._step(state, char)
            if step < 0:
                return False
            state = step
        return self.accepts[state]

    def _step(self, state: int, char: str) -> int:
        positions = self.sets[state]
        after: set[int] = set()
        for i in positions:
            after.update(self._advance(i, char))
        if not after:
            self.steps[state][char] = -1
            return -1
        if len(self.sets) >= _MAX_STATES:
            self._reset()
            state = self._state(positions)
        target = self._state(self._closure(after))
        self.steps[state][char] = target
        return target

    def _advance(self, i: int, char: str) -> tuple[int, ...]:
        """Positions reached from position ``i`` by reading ``char``."""
        if i > self.end:  # inside the run of a "/**": every character continues it
            return (i,)
        if i == self.end:
            return ()
        token = self.tokens[i]
        if token.kind == _ONE:
            if token.literal is not None:
                return (i + 1,) if char == token.literal else ()
            assert token.test is not None
            return (i + 1,) if token.test.match(char) else ()
        if token.kind == _STAR:
            return (i,) if char != "/" else ()
        if token.kind == _ANY:
            return (i,)
        # _SUBTREE: "/" or "#" starts the run, which then continues as "**" would.
        return (self._run(i),) if char in "/#" else ()

    def _run(self, i: int) -> int:
        """The position inside the run of the "/**" token at position ``i``."""
        return self.end + 1 + i

    def _closure(self, positions: set[int]) -> frozenset[int]:
        """Add the positions reachable without reading: past a wildcard that matches nothing."""
        out: set[int] = set()
        todo = list(positions)
        while todo:
            i = todo.pop()
            if i in out:
                continue
            out.add(i)
            if i > self.end:  # inside the run of the "/**" at i - end - 1: it may end here
                todo.append(i - self.end)
            elif i < self.end and self.tokens[i].kind != _ONE:
                todo.append(i + 1)
        return frozenset(out)

    def _state(self, positions: frozenset[int]) -> int:
        known = self.ids.get(positions)
        if known is not None:
            return known
        self.ids[positions] = len(self.sets)
        self.sets.append(positions)
        self.steps.append({})
        self.accepts.append(self.end in positions)
        return len(self.sets) - 1
