"""The text of a plan file: the document indented by two spaces, each change on one line.

Until format 1's writer changed here, every value of the file was indented, and Python 3.11's
C encoder cannot indent: the indented writer (``indented.py``) walks each change in Python,
about 45-90 µs a change, half of ``diff``'s own CPU for a plan of 100,000 changes. A change on
one line is one call of the C encoder (``json.dumps``' default separators, keys in the
document's order), and the framing around the list of changes is still written by the
indented writer. The document is the same JSON (same schema, same checksum: the checksum is
over the canonical text of the parsed document, not over the file's whitespace), and a plan
file reads as a list of one line per change, which also diffs well.
"""

from __future__ import annotations

from _json import encode_basestring, make_encoder  # the C string and flat encoders
from collections.abc import Callable, Iterator
from typing import Any

from reconciler.kinds.payload import encoded
from reconciler.plan.document import plan_document, refs_document
from reconciler.plan.indented import iter_indented
from reconciler.plan.model import Change, Plan


def _no_default(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


# json.dumps(value, ensure_ascii=False, allow_nan=False) as one C encoder, built once: keys
# in their order, ", " and ": " between items, no circular-reference markers (a change's
# document is JSON data by construction, ``canonical``).
_LINE = make_encoder(None, _no_default, encode_basestring, None, ": ", ", ", False, False, False)
_PLACEHOLDER = "reconciler:changes-go-here"  # where the change lines go in the framing
_QUOTED = encode_basestring(_PLACEHOLDER)
_MARKER = '\n  "changes": [\n    ' + _QUOTED
_BATCH = 1024  # changes per piece: a large plan is written in bounded pieces
_BETWEEN = ",\n    "


def _json(value: Any) -> str:
    return "".join(_LINE(value, 0))


def _or_null(value: str | None) -> str:
    return "null" if value is None else encode_basestring(value)


def _repeated(value: Any, encode: Callable[[Any], str]) -> str:
    """Actions, kinds and reasons: a handful of distinct values, each encoded once."""
    text = _REPEATED.get(value)
    if text is None:
        text = encode(value)
        if len(_REPEATED) < _MAX_REPEATED:
            _REPEATED[value] = text
    return text


_REPEATED: dict[Any, str] = {}
_MAX_REPEATED = 4096


def change_line(change: Change) -> str:
    """``change_document(change)`` as one line of JSON, written from its pieces (the
    document's keys in their order) rather than built as a dict and encoded whole."""
    after, before, diff = change.after, change.before, change.diff
    return "".join(
        (
            '{"address": ',
            encode_basestring(change.address),
            ', "previous_address": ',
            _or_null(change.previous_address),
            ', "kind": ',
            _repeated(change.kind, encode_basestring),
            ', "actions": ',
            _repeated(change.actions, lambda a: _json([str(x) for x in a])),
            ', "before": ',
            "null" if before is None else _json(encoded(before)),
            ', "after": ',
            "null" if after is None else _json(encoded(after)),
            ', "diff": ',
            _json(
                [
                    {"path": list(d.path), "op": d.op, "before": d.before, "after": d.after}
                    for d in diff
                ]
            )
            if diff
            else "[]",
            ', "source": ',
            _or_null(change.source),
            ', "reason": ',
            _repeated(change.reason, encode_basestring),
            ', "fingerprint": ',
            _or_null(change.fingerprint),
            ', "depends_on": ',
            _json(list(change.depends_on)) if change.depends_on else "[]",
            ', "refs": ',
            _json(refs_document(change.refs)),
            "}",
        )
    )


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
    at = framing.index(_MARKER) + len(_MARKER) - len(_QUOTED)
    yield framing[:at]  # ends with the indentation of the first change
    tail = framing[at + len(_QUOTED) :]
    changes = plan.changes
    for start in range(0, len(changes), _BATCH):
        batch = changes[start : start + _BATCH]
        lines = _BETWEEN.join([change_line(c) for c in batch])
        yield (_BETWEEN + lines) if start else lines
    yield tail + "\n"
