"""Live text made safe to print: whoever can name a folder must not forge lines in a plan or a
drift report, reorder what a reviewer sees (bidirectional controls) or drive the terminal
(escape sequences).

``printable`` shows every such character as ``⟨U+XXXX⟩`` (newlines too: for one name);
``printable_lines`` does so for a whole rendering but keeps its own newlines and tabs;
``same_length`` replaces them with U+FFFD one for one, for renderings whose size is counted
(the markdown that must fit a pull-request comment). The HTML report does the same in its page.
"""

from __future__ import annotations

import re

# C0 and C1 controls, DEL, bidirectional marks, embeddings, overrides and isolates, zero-width
# characters, the byte-order mark and the Unicode line and paragraph separators.
_OTHERS = "\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff"
_ANY_UNSAFE = re.compile(f"[\x00-\x1f{_OTHERS}]")
_UNSAFE_IN_LINES = re.compile(f"[\x00-\x08\x0b-\x1f{_OTHERS}]")  # keeps \t and \n


def _shown(match: re.Match[str]) -> str:
    return f"⟨U+{ord(match.group(0)):04X}⟩"


def printable(text: str) -> str:
    """``text`` with every unsafe character, newlines included, shown as ``⟨U+XXXX⟩``."""
    return _ANY_UNSAFE.sub(_shown, text)


def printable_lines(text: str) -> str:
    """A rendering with unsafe characters shown, its own newlines and tabs kept."""
    return _UNSAFE_IN_LINES.sub(_shown, text)


def same_length(text: str) -> str:
    """A rendering with unsafe characters (but newlines and tabs) replaced one for one."""
    return _UNSAFE_IN_LINES.sub("\ufffd", text)


_CODE_RUN = re.compile("`+")
_MARKDOWN_ACTIVE = re.compile(r"([\\`<>\[\]|])")


def code_span(text: str) -> str:
    """``text`` as one markdown code span on one line: shown ``printable``, and delimited by
    more backticks than any run inside it, so that no name can close the span early."""
    text = printable(text)
    run = max((len(m) for m in _CODE_RUN.findall(text)), default=0)
    ticks = "`" * (run + 1)
    pad = " " if text[:1] == "`" or text[-1:] == "`" else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def markdown_text(text: str) -> str:
    """``text`` as markdown prose on one line: shown ``printable``, with the characters that
    would open a code span, a link, an image, raw HTML or a table cell escaped."""
    return _MARKDOWN_ACTIVE.sub(r"\\\1", printable(text))


def table_cell(markdown: str) -> str:
    """Markdown (a code span included) safe in a table cell: a ``|`` ends a cell even inside
    a code span unless it is escaped."""
    return markdown.replace("|", "\\|")
