"""Can two name globs match one name? A sound test: "no" is always right.

Both globs become token lists (``*``/``**`` any run, ``?`` any character, ``[...]`` a class,
anything else a literal), each over-approximating its glob (``*`` may also cross ``/``,
which item names never contain), and a breadth-first walk over pairs of positions looks for
a string both accept. Classes are compared on the characters they mention plus printable
ASCII; when that finds no common character and a class is negated, the answer is "maybe"
(yes), so the test never misses a real overlap. Very long globs are not analysed (yes).

A walk costs up to (tokens of one + 1) x (tokens of the other + 1) states, so hostile configs
(hundreds of long globs in one folder) could cost minutes: callers pass an ``OverlapBudget``
shared by one validation, and ``OverlapBudgetError`` stops the comparisons when it runs out.
"""

from __future__ import annotations

import re
import string
import warnings
from collections import deque
from dataclasses import dataclass
from functools import lru_cache

from reconciler.config.errors import OverlapBudgetError, UnmodelledGlobError
from reconciler.model.globs import Glob, GlobError, compile_glob

_MAX_STATES = 250_000
_PRINTABLE = string.printable


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str  # "star" | "any" | "lit" | "class"
    text: str = ""  # the literal character, or the class source "[...]"

    def accepts(self, char: str) -> bool:
        if self.kind == "lit":
            return char == self.text
        if self.kind == "class":
            regex = _class_regex(self.text)
            return regex is None or regex.match(char) is not None
        return True


@lru_cache(maxsize=1024)
def _class_regex(text: str) -> re.Pattern[str] | None:
    """``[...]`` as ``model.globs`` translates it, or None when it is not self-contained."""
    body = text[1:-1]
    if body.startswith("!"):
        body = "^" + body[1:]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return re.compile("[" + body.replace("\\", "\\\\") + r"]\Z", re.DOTALL)
    except re.error:
        return None


def _tokens(pattern: str) -> list[_Tok]:
    out: list[_Tok] = []
    i, n = 0, len(pattern)
    while i < n:
        char = pattern[i]
        if char == "*":
            while i < n and pattern[i] == "*":
                i += 1
            out.append(_Tok("star"))
            continue
        if char == "?":
            out.append(_Tok("any"))
        elif char == "[":
            end = pattern.find("]", i + 2 if pattern[i + 1 : i + 2] in ("!", "]") else i + 1)
            if end < 0 or _class_regex(pattern[i : end + 1]) is None:
                raise UnmodelledGlobError
            out.append(_Tok("class", pattern[i : end + 1]))
            i = end
        else:
            out.append(_Tok("lit", char))
        i += 1
    return out


@lru_cache(maxsize=65_536)
def _intersect(a: _Tok, b: _Tok) -> bool:
    if a.kind == "lit":
        return b.accepts(a.text)
    if b.kind == "lit":
        return a.accepts(b.text)
    if a.kind != "class" or b.kind != "class":
        return True
    candidates = set(a.text) | set(b.text) | set(_PRINTABLE)
    if any(a.accepts(c) and b.accepts(c) for c in candidates):
        return True
    return a.text.startswith("[!") or b.text.startswith("[!")


class OverlapBudget:
    """How many pairs of positions glob comparisons may still visit."""

    __slots__ = ("left",)

    def __init__(self, states: int) -> None:
        self.left = states

    def spend(self, states: int) -> None:
        self.left -= states


_WALKS: dict[tuple[str, str], bool] = {}  # answers of finished walks, across budgets


def may_overlap(first: str, second: str, budget: OverlapBudget | None = None) -> bool:
    """False only when no string matches both globs (both must compile).

    Raises ``OverlapBudgetError`` when ``budget`` is spent before a walk it needs."""
    if first == second:
        return True
    if is_literal(first) or is_literal(second):
        literal, pattern = (first, second) if is_literal(first) else (second, first)
        regex = _glob_regex(pattern)
        return regex is None or regex.match(literal)
    shape_a, shape_b = _shape(first), _shape(second)
    if shape_a is None or shape_b is None:
        return True
    (a, pa, sa), (b, pb, sb) = shape_a, shape_b
    prefixes_agree = pa.startswith(pb) or pb.startswith(pa)
    if not (prefixes_agree and (sa.endswith(sb) or sb.endswith(sa))):
        return False  # a common name would start with both prefixes and end with both suffixes
    if (len(a) + 1) * (len(b) + 1) > _MAX_STATES:
        return True
    known = _WALKS.get((first, second))
    if known is not None:
        return known
    if budget is not None and budget.left <= 0:
        raise OverlapBudgetError
    answer, visited = _walk(a, b)
    if budget is not None:
        budget.spend(visited)
    if len(_WALKS) >= 65_536:
        _WALKS.clear()
    _WALKS[first, second] = _WALKS[second, first] = answer
    return answer


@lru_cache(maxsize=65_536)
def _shape(pattern: str) -> tuple[list[_Tok], str, str] | None:
    """Tokens, literal prefix and literal suffix; None when the glob is not modelled."""
    try:
        tokens = _tokens(pattern)
    except UnmodelledGlobError:
        return None
    return tokens, _literal_run(tokens), _literal_run(tokens[::-1])[::-1]


def _glob_regex(pattern: str) -> Glob | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return compile_glob(pattern)
    except GlobError:
        return None


def _literal_run(tokens: list[_Tok]) -> str:
    out = []
    for token in tokens:
        if token.kind != "lit":
            break
        out.append(token.text)
    return "".join(out)


def _walk(a: list[_Tok], b: list[_Tok]) -> tuple[bool, int]:
    """Breadth-first search for a pair of end positions reached by one string; also how many
    pairs it visited."""
    seen = {(0, 0)}
    queue = deque([(0, 0)])
    while queue:
        i, j = queue.popleft()
        if i == len(a) and j == len(b):
            return True, len(seen)
        for step in _steps(a, b, i, j):
            if step not in seen:
                seen.add(step)
                queue.append(step)
    return False, len(seen)


def _steps(a: list[_Tok], b: list[_Tok], i: int, j: int) -> list[tuple[int, int]]:
    out = []
    star_a = i < len(a) and a[i].kind == "star"
    star_b = j < len(b) and b[j].kind == "star"
    if star_a:
        out.append((i + 1, j))  # the star matches nothing more
    if star_b:
        out.append((i, j + 1))
    if i < len(a) and j < len(b):
        if star_a and not star_b:
            out.append((i, j + 1))  # the star eats b's character
        elif star_b and not star_a:
            out.append((i + 1, j))
        elif not star_a and _intersect(a[i], b[j]):
            out.append((i + 1, j + 1))
    return out


@lru_cache(maxsize=65_536)
def is_literal(pattern: str) -> bool:
    return re.search(r"[*?\[]", pattern) is None
