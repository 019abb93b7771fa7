"""The text of a plan file: the document indented by two spaces, each change on one line, and
that line the change's canonical text (sorted keys, no spaces: ``changetext``).

Until format 1's writer changed here, every value of the file was indented, and Python 3.11's
C encoder cannot indent: the indented writer (``indented.py``) walks each change in Python,
about 45-90 µs a change, half of ``diff``'s own CPU for a plan of 100,000 changes. A change on
one line is written by the C encoder, and the framing around the list of changes is still
written by the indented writer. A plan file reads as a list of one line per change, which
also diffs well.

Each line is exactly the text the checksum hashes for its change, so a file as written here
is checked by hashing its lines as they stand (``canonical_parts``, ``planfile``), not by
parsing the document and encoding it again (a third of loading a large plan), and a line
that is the text of a change just planned is that change (``planfile.JudgedPlan.build``).
The document is the same JSON whatever the layout (same schema, same checksum: the checksum
is over the canonical text of the document, not over the file's whitespace); files laid out
otherwise (by hand, or by the writer before its lines were canonical) are judged the slower
way.
"""

from __future__ import annotations

from collections.abc import Iterator

from reconciler.plan.changetext import change_text
from reconciler.plan.document import plan_document, refs_document
from reconciler.plan.indented import iter_indented
from reconciler.plan.model import Change, Plan

_PLACEHOLDER = "reconciler:changes-go-here"  # where the change lines go in the framing
_QUOTED = '"' + _PLACEHOLDER + '"'
_OPEN = '\n  "changes": [\n    '  # the list's opening, up to its first line
_CLOSE = "\n  ]"  # its end: a raw newline is never inside a JSON string, so never in a line
_EMPTY = '\n  "changes": []'
_BATCH = 1024  # changes per piece: a large plan is written in bounded pieces
_BETWEEN = ",\n    "


def change_line(change: Change, shared: dict[int, str] | None = None) -> str:
    """The change's line: its canonical text (``changetext.change_text``; ``shared`` as
    there)."""
    return change_text(change, refs_document, shared)


def iter_plan_text(plan: Plan) -> Iterator[str]:
    """The plan file's text in pieces (joined, the whole file, ending with a newline)."""
    doc = plan_document(plan, with_changes=False)
    if not plan.changes:  # "changes": [] as the indented writer writes it
        yield from iter_indented(doc)
        yield "\n"
        return
    doc["changes"] = [_PLACEHOLDER]
    framing = "".join(iter_indented(doc))
    # found with the top-level key before it: a raw newline is never inside a JSON string,
    # so no value of the document can look like this
    at = framing.index(_OPEN + _QUOTED) + len(_OPEN)
    yield framing[:at]  # ends with the indentation of the first change
    tail = framing[at + len(_QUOTED) :]
    changes = plan.changes
    shared: dict[int, str] = {}  # texts of shared pieces by id: the plan holds them meanwhile
    for start in range(0, len(changes), _BATCH):
        batch = changes[start : start + _BATCH]
        lines = _BETWEEN.join([change_line(c, shared) for c in batch])
        yield (_BETWEEN + lines) if start else lines
    yield tail + "\n"


def canonical_parts(text: str) -> tuple[str, list[str]] | None:
    """A plan file's text as the writer above lays it out, in two parts: the file with its
    list of changes emptied, and the lines of that list as they stand (joined by commas,
    the inside of the list in the canonical text, when the file is as written). None when
    the file has no such list (no changes, or another layout)."""
    start = text.find(_OPEN)
    if start < 0:
        return None
    first = start + len(_OPEN)
    end = text.find(_CLOSE, first)
    if end < 0:
        return None
    return text[:start] + _EMPTY + text[end + len(_CLOSE) :], text[first:end].split(_BETWEEN)
