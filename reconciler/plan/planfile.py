"""Plan files as text: ``dumps`` for ``--out``/``--format json``, ``loads`` for apply.

``loads`` refuses (``PlanFileError``, one line each) text that is not JSON, a document that
does not match the schema, another format version, and a checksum that does not match the
content: apply must run exactly what was reviewed. The schema is checked by the schema itself
compiled to plain checks (``schemacheck``: about the cost of walking the document once);
``jsonschema`` is asked only to say what is wrong with a document that fails them.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Callable, Iterator
from json.scanner import make_scanner
from typing import Any

from reconciler.collector import collector_paused
from reconciler.plan.changetext import change_text
from reconciler.plan.document import (
    UNCHECKED,
    canonical_spliced,
    changes_from,
    compute_checksum,
    document_checksum,
    plan_from_document,
    refs_document,
)
from reconciler.plan.errors import PlanFileError
from reconciler.plan.filetext import canonical_parts, iter_plan_text
from reconciler.plan.model import FORMAT_VERSION, Change, Plan
from reconciler.plan.schema import PLAN_SCHEMA
from reconciler.plan.shapes import odd_shapes
from reconciler.schemacheck import compile_schema


def dumps(plan: Plan) -> str:
    """The plan document as key-stable JSON text, indented but for each change, which is
    one line (``filetext``); it ends with a newline."""
    return "".join(iter_dumps(plan))


def iter_dumps(plan: Plan) -> Iterator[str]:
    """``dumps`` in pieces, so a large plan is written without one huge string."""
    yield from iter_plan_text(plan)  # indented, each change on one line


def loads(text: str) -> Plan:
    """The plan a plan file holds, or ``PlanFileError``: ``judge`` then ``JudgedPlan.build``."""
    return judge(text).build()


class JudgedPlan:
    """A plan file judged good: valid JSON of this format, of the schema's shape, and sealed
    (its checksum holds over the document as read). Its ``Plan`` is built on demand
    (``build``), so that ``reconciler apply`` can judge the file before it takes the lock and
    build the plan inside it. The header fields read here are already covered by the
    checksum.

    A file laid out as ``dumps`` writes it is judged by hashing its change lines as they
    stand (``_as_written``); they are parsed only when the plan is built, and a line that is
    the very text of a change of the plan ``build`` is given (the re-check's fresh plan, in
    ``reconciler apply``) is that change, not parsed at all. Such a line is the text this
    reconciler writes for a change it made, so it needs no shape check either; every other
    line is parsed and checked against the schema's ``change`` there. So of such a file only
    a change line that is not the shape of a change, in a file sealed again by hand after
    editing, is refused by ``build`` rather than by ``judge``. Any other file (laid out
    otherwise) is parsed and shape-checked whole by ``judge``: it is ``parsed``, and built
    beside a read (``build_between``)."""

    __slots__ = (
        "_doc",
        "_lines",
        "_plan",
        "checksum",
        "config_dir",
        "created_at",
        "environment",
        "forced",
        "takeover",
    )

    def __init__(
        self, doc: dict[str, Any], plan: Plan | None, lines: list[str] | None = None
    ) -> None:
        self._doc, self._plan, self._lines = doc, plan, lines
        self.checksum: str = doc["checksum"]
        self.environment: str | None = doc.get("environment")
        self.config_dir: str = doc.get("config_dir", "")
        self.created_at: str | None = doc.get("created_at")
        self.forced: bool = bool(doc.get("forced", False))
        self.takeover: bool = bool(doc.get("takeover", False))

    @property
    def parsed(self) -> bool:
        """Its changes were parsed and judged with the rest (a file not laid out as written)."""
        return self._lines is None

    def build(self, fresh: Plan | None = None) -> Plan:
        """The ``Plan``, built once; ``PlanFileError`` for a change this reconciler does not
        make (only a file re-sealed by hand after editing gets this far with one). ``fresh``:
        a plan whose changes are taken for the lines that are their very text."""
        if self._plan is None:
            with collector_paused():  # millions of small acyclic containers (a third of it)
                if self._lines is None:
                    self._keep(_built(self._doc))
                else:
                    self._keep(_built(self._doc, _from_lines(self._lines, fresh)))
        assert self._plan is not None
        return self._plan

    async def build_between(self, spent: list[float]) -> Plan:
        """``build`` (without a fresh plan), ``SLICE`` changes at a time, letting the event
        loop run between slices: beside a read (``reconciler apply``'s re-check of a
        ``parsed`` file), the building fills the time the read waits for answers, and an
        answer waits at most one slice (about 7 ms). Cancelled, it leaves nothing behind, and
        a later call starts again. ``spent``: the slices' own wall and CPU seconds are added
        to its two numbers."""
        if self._plan is None:
            lines, docs = self._lines, self._doc["changes"]
            size = len(docs) if lines is None else len(lines)
            made: list[Change] = []
            with collector_paused():  # as ``build``; the read pauses it too
                for start in range(0, size, SLICE):
                    wall, cpu = time.perf_counter(), time.process_time()
                    if lines is None:
                        made.extend(_changes(docs[start : start + SLICE]))
                    else:
                        made.extend(_from_lines(lines[start : start + SLICE], None, start))
                    spent[0] += time.perf_counter() - wall
                    spent[1] += time.process_time() - cpu
                    await asyncio.sleep(0)
                self._keep(_built(self._doc, tuple(made)))
        assert self._plan is not None
        return self._plan

    def _keep(self, plan: Plan) -> None:
        self._plan = _checked(plan)
        self._doc, self._lines = {}, None  # the changes live on in the plan


SLICE = 1024  # changes built between two turns of the event loop (``build_between``)


def judge(text: str) -> JudgedPlan:
    """The plan file judged (``JudgedPlan``), or ``PlanFileError``: all of its checks that
    refuse a corrupt or edited file. The cycle collector is paused meanwhile (see ``build``)."""
    with collector_paused():
        return _judge(text)


def _judge(text: str) -> JudgedPlan:
    written = _as_written(text)
    doc: Any = _parsed(text) if written is None else written[0]
    if not isinstance(doc, dict):
        raise PlanFileError("not a plan file: the document is not a JSON object")
    version = doc.get("format_version")
    if version != FORMAT_VERSION:
        raise PlanFileError(
            f"plan format version {version!r} is not supported (this reconciler reads "
            f"{FORMAT_VERSION}); make the plan again with this version"
        )
    if not _valid_shape(doc):
        _explain_shape(doc)
    if written is not None:
        return JudgedPlan(doc, None, written[1])
    if _sealed_as_read(doc):
        return JudgedPlan(doc, None)
    plan = _built(doc)  # judged as before: by the checksum of the plan rebuilt from it
    if _checksum_of(plan) != plan.checksum:
        raise PlanFileError(
            "plan checksum does not match its content: the file was edited after it was "
            "made; make a new plan and review it"
        )
    return JudgedPlan(doc, _checked(plan))


def _parsed(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise PlanFileError(f"not a plan file: invalid JSON ({exc})") from None
    except RecursionError:  # the C scanner recurses: a tampered file nested without end
        raise PlanFileError("not a plan file: JSON nested too deeply") from None


def _as_written(text: str) -> tuple[dict[str, Any], list[str]] | None:
    """The header and the change lines of a file laid out as ``dumps`` writes it whose
    checksum holds; None for any other file (then judged as before, and refused there if it
    must be). The header is the rest of the file parsed, its list of changes left empty.

    The file's change lines are the changes' canonical text (``filetext``), so the canonical
    text of the whole document is the header's (small: parsed and encoded) with the lines
    spliced in as they stand, and neither the lines nor the document are encoded again. Sound
    whatever the file holds: the header is the value its own hashed text parses to (JSON
    round-trips), the lines go into the one place that text holds the changes (a header
    with two is judged the slower way), and when ``build`` takes them they are each a whole
    JSON value (one that is not is refused there), so the document they make is the one
    sealed."""
    parts = canonical_parts(text)
    if parts is None:
        return None
    rest, lines = parts
    try:
        head = json.loads(rest)
    except (ValueError, RecursionError):
        return None
    if not isinstance(head, dict) or not isinstance(head.get("checksum"), str):
        return None
    try:  # a value no encoder writes (a float out of range, a lone surrogate): not sealed
        spliced = canonical_spliced(head, ",".join(lines))
        canonical = None if spliced is None else spliced.encode("utf-8")
    except ValueError:  # UnicodeEncodeError is one
        return None
    if canonical is None or "sha256:" + hashlib.sha256(canonical).hexdigest() != head["checksum"]:
        return None
    head["changes"] = []  # the lines stand for it (another "changes" key was not hashed)
    return head, lines


def _from_lines(lines: list[str], fresh: Plan | None, first: int = 0) -> tuple[Change, ...]:
    """The changes of these change lines (the first of them the plan's change ``first``): a
    change of ``fresh`` whose text a line is, else the line parsed, checked against the
    schema's change and built."""
    known = _by_text(fresh.changes) if fresh is not None and _pays(fresh, lines) else {}
    out = [known.get(line) for line in lines]
    missing = [n for n, change in enumerate(out) if change is None]
    if missing:
        docs = [_line_document(first + n, lines[n]) for n in missing]
        for n, change in zip(missing, _changes(docs), strict=True):
            out[n] = change
    return tuple(out)  # type: ignore[arg-type]  # none is None by now


def _pays(fresh: Plan, lines: list[str]) -> bool:
    """Whether writing every fresh change's text can cost less than parsing the lines: a
    text costs about a quarter of what a line parsed, checked and built does (4 against 16
    µs), so not for a few lines against a large fresh plan (one made with ``--only``)."""
    return len(fresh.changes) <= 4 * len(lines)


def _by_text(changes: tuple[Change, ...]) -> dict[str, Change]:
    shared: dict[int, str] = {}  # texts of shared pieces (``change_text``)
    return {change_text(change, refs_document, shared): change for change in changes}


def _line_document(n: int, line: str) -> dict[str, Any]:
    """Change ``n``'s line parsed: a whole JSON value, the line entire (else the lines do
    not make the sealed list), of the schema's ``change``."""
    try:
        doc, end = _scan(line, 0)  # the C scanner: no whitespace around a line as written
    except (StopIteration, ValueError, RecursionError):
        end = -1
    if end != len(line):
        raise PlanFileError(
            f"not a valid plan file: change {n} is not one line of JSON; make the plan again"
        )
    if not _valid_change(doc):
        _explain_change(n, doc)
    return doc  # type: ignore[no-any-return]


# json.loads' own C scanner, without its wrapping: a value at an index, and where it ends
_scan: Callable[[str, int], tuple[Any, int]] = make_scanner(json.JSONDecoder())  # type: ignore[arg-type]  # typeshed's stub


def _built(doc: dict[str, Any], changes: tuple[Change, ...] | None = None) -> Plan:
    try:
        return plan_from_document(doc, changes)
    except _UNFIT as exc:
        raise _unfit(exc) from None


def _changes(docs: list[dict[str, Any]]) -> list[Change]:
    try:
        return changes_from(docs)
    except _UNFIT as exc:
        raise _unfit(exc) from None


_UNFIT = (KeyError, TypeError, ValueError)  # a payload without its kind's fields


def _unfit(exc: Exception) -> PlanFileError:
    return PlanFileError(
        f"not a valid plan file: a change does not hold what its kind needs ({exc!r}); "
        "make the plan again with this version"
    )


def _checked(plan: Plan) -> Plan:
    odd = odd_shapes(plan.changes)
    if odd:
        raise PlanFileError(
            f"not a plan this reconciler can apply: {odd[0]} is not a change it makes; "
            "make the plan again with this version"
        )
    return plan


_valid_shape = compile_schema(PLAN_SCHEMA)


def _sealed_as_read(doc: dict[str, Any]) -> bool:
    """The checksum holds over the document exactly as read. A plan file is the plan's
    document, so this is what the planner hashed, without rebuilding the document from the
    ``Plan``; the plan applied is made from this same document, so it covers what runs. A
    file that fails it is judged as before, by the checksum of the plan rebuilt from it."""
    body = {key: value for key, value in doc.items() if key not in UNCHECKED}
    try:
        return document_checksum(body) == doc.get("checksum")
    except ValueError:  # a value no encoder writes: see ``_checksum_of``
        return False


def _checksum_of(plan: Plan) -> str | None:
    """``compute_checksum``, or None for a plan holding a value that has no canonical text
    (a float out of range, a lone surrogate): no plan file this reconciler wrote holds one."""
    try:
        return compute_checksum(plan)
    except ValueError:  # UnicodeEncodeError is one
        return None


def _explain_shape(doc: Any, schema: dict[str, Any] = PLAN_SCHEMA, at: str = "") -> None:
    """Why the document (or at ``at``, a part of it) fails the schema, in jsonschema's
    words (loaded only for this)."""
    import jsonschema

    problem = jsonschema.validators.Draft202012Validator(schema).iter_errors(doc)
    first = min(problem, key=lambda e: list(e.absolute_path), default=None)
    if first is not None:
        where = "/".join([*([at] if at else []), *(str(p) for p in first.absolute_path)])
        raise PlanFileError(f"not a valid plan file: at {where or '(root)'}: {first.message}")


_CHANGE_SCHEMA = {**PLAN_SCHEMA["$defs"]["change"], "$defs": PLAN_SCHEMA["$defs"]}
_valid_change = compile_schema(_CHANGE_SCHEMA)


def _explain_change(n: int, doc: Any) -> None:
    _explain_shape(doc, _CHANGE_SCHEMA, f"changes/{n}")
