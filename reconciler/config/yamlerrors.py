"""PyYAML's syntax errors in plain words, at the line to fix.

The parser reports where it noticed a problem, which for the most frequent mistakes is a
line after the one to fix: a key without ``:`` glues the next line onto it, and a line
indented deeper than a ``key: value`` above it becomes part of that value, so both surface
as "mapping values are not allowed" on the next line. Each frequent case is recognised from
the error's kind and the text around it, and explained where the fix goes; anything else
keeps the parser's own words. libyaml and the pure-Python parser word their errors
differently, so the kinds are matched on the words both use.
"""

from __future__ import annotations

import re

import yaml

from reconciler.config.errors import Diagnostic

PREFIX = "YAML syntax error: "
_KEY = re.compile(r"(?:- +)*([^\s#'\"][^#]*?|'[^']*'|\"[^\"]*\"):(?:\s|$)")


def syntax_error(exc: yaml.MarkedYAMLError, rel: str, text: str) -> Diagnostic:
    mark = exc.problem_mark or exc.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    lines = text.split("\n")
    if 0 < line <= len(lines) and lines[line - 1][col - 1 : col] == "\t":
        return Diagnostic(rel, line, col, PREFIX + "a tab character; indent with spaces")
    problem, context = exc.problem or "", exc.context or ""
    explained = None
    if "mapping values are not allowed" in problem:
        explained = _colon(lines, line, col)
    elif "block mapping" in context or "block collection" in context:
        explained = _misaligned(lines, line, exc.context_mark, "block mapping" in context)
    elif "quoted scalar" in context and "end of stream" in problem:
        explained = _unclosed_quote(exc.context_mark)
    elif "flow" in context and exc.context_mark is not None:
        explained = _unclosed_flow(lines, exc.context_mark, "mapping" in context)
    elif "alias" in context and exc.context_mark is not None:
        mark = exc.context_mark
        message = "'*' starts an alias (*name); put a value starting with '*' in quotes"
        explained = (mark.line + 1, mark.column + 1, message)
    elif "cannot start any token" in problem and 0 < line <= len(lines):
        char = lines[line - 1][col - 1 : col]
        message = f"a value cannot start with {char!r}; put it in quotes"
        explained = (line, col, message)
    if explained is not None:
        at_line, at_col, message = explained
        return Diagnostic(rel, at_line, at_col, PREFIX + message)
    return Diagnostic(rel, line, col, PREFIX + _parser_words(exc, line, col, lines))


def _parser_words(exc: yaml.MarkedYAMLError, line: int, col: int, lines: list[str]) -> str:
    message = exc.problem or "invalid YAML"
    ctx = exc.context_mark
    if exc.context and ctx is not None and (ctx.line, ctx.column) != (line - 1, col - 1):
        message += f" {exc.context} (started at line {ctx.line + 1}, column {ctx.column + 1})"
    context_line = lines[ctx.line] if ctx is not None and ctx.line < len(lines) else ""
    if "flow" in (exc.context or "") and "${" in context_line:
        message += "; inside { } or [ ], quote values holding ${...}"
    return message


def _indent(text: str) -> int:
    return len(text) - len(text.lstrip(" "))


def _colon(lines: list[str], line: int, col: int) -> tuple[int, int, str] | None:
    """A ':' the parser did not expect: a value holding ': ' on its own line, or a key
    glued onto the line above (missing ':' there, or indented deeper than its sibling)."""
    if not 0 < line <= len(lines):
        return None
    here = lines[line - 1]
    start = _indent(here)
    key = _KEY.match(here, start)
    if key is not None and key.end(1) < col - 1:
        value_col = key.end() + 1 + _indent(here[key.end() :])
        return (
            line,
            value_col,
            f"the value of {key.group(1)!r} holds ': '; put the value in quotes",
        )
    above = _previous(lines, line)
    if above is None:
        return None
    previous = lines[above - 1]
    name = here[start : col - 1].strip()
    found = _KEY.match(previous, _indent(previous))
    if found is None:
        word = previous.strip()
        return (
            above,
            _indent(previous) + 1,
            f"{word!r} has no ':' after it, so the next line reads as part of it; "
            f"write '{word}:' if it is a key",
        )
    if previous[found.end() :].strip() and start > found.start(1):
        sibling = found.group(1)
        return (
            line,
            start + 1,
            f"{name!r} is indented deeper than {sibling!r} on line {above}, which already has "
            f"a value; indent it to column {found.start(1) + 1} like {sibling!r}",
        )
    return None


def _previous(lines: list[str], line: int) -> int | None:
    """The 1-based number of the nearest line above that holds more than a comment."""
    for number in range(line - 1, 0, -1):
        stripped = lines[number - 1].strip()
        if stripped and not stripped.startswith("#"):
            return number
    return None


def _misaligned(
    lines: list[str], line: int, context: yaml.Mark | None, is_map: bool
) -> tuple[int, int, str] | None:
    """A line whose indentation fits no open mapping or list: name the columns that fit."""
    if context is None or not 0 < line <= len(lines) or not lines[line - 1].strip():
        return None
    here = lines[line - 1]
    column = _indent(here) + 1
    word = here.strip().split(":")[0].strip()
    what = "mapping" if is_map else "list"
    if is_map and word.startswith("-"):
        message = (
            f"a '-' list item where the mapping at line {context.line + 1} expects a key; "
            "put the list under a key that ends with ':', indented deeper than the key"
        )
        return line, column, message
    fits = [(context.column + 1, context.line + 1)]
    above = _previous(lines, line)
    if above is not None and not word.startswith("-"):
        previous = lines[above - 1]
        item = re.match(r" *(?:- +)*", previous)
        fits.append((item.end() + 1 if item else _indent(previous) + 1, above))
    choices = " or ".join(
        f"column {c} (like line {n})" for c, n in sorted(set(fits), reverse=True) if c != column
    )
    if not choices:
        return None
    return (
        line,
        column,
        f"{word!r} at column {column} lines up with nothing above (the {what} at line "
        f"{context.line + 1} has its entries at column {context.column + 1}); "
        f"move it to {choices}",
    )


def _unclosed_flow(lines: list[str], mark: yaml.Mark, is_map: bool) -> tuple[int, int, str] | None:
    """An unclosed ``[`` or ``{``; a ``${...}`` in it gets the quoting hint instead, since
    the interpolated text is not there for the parser (it sees ``{`` and ``}``)."""
    if mark.line < len(lines) and "${" in lines[mark.line]:
        return None
    bracket, close = ("{", "}") if is_map else ("[", "]")
    return (
        mark.line + 1,
        mark.column + 1,
        f"this {bracket!r} is never closed, or a ',' is missing inside it; "
        f"add the {close!r} or the ','",
    )


def _unclosed_quote(context: yaml.Mark | None) -> tuple[int, int, str] | None:
    if context is None:
        return None
    return (
        context.line + 1,
        context.column + 1,
        "this quote is never closed; add the closing quote",
    )
