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
from collections.abc import Iterator
from typing import Any

from reconciler.collector import collector_paused
from reconciler.plan.document import (
    UNCHECKED,
    canonical_spliced,
    changes_from,
    compute_checksum,
    document_checksum,
    plan_from_document,
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
    build the plan while the lock's confirmation waits. The header fields read here are
    already covered by the checksum."""

    __slots__ = ("_doc", "_plan", "checksum", "config_dir", "created_at", "environment")

    def __init__(self, doc: dict[str, Any], plan: Plan | None) -> None:
        self._doc, self._plan = doc, plan
        self.checksum: str = doc["checksum"]
        self.environment: str | None = doc.get("environment")
        self.config_dir: str = doc.get("config_dir", "")
        self.created_at: str | None = doc.get("created_at")

    def build(self) -> Plan:
        """The ``Plan``, built once; ``PlanFileError`` for a change this reconciler does not
        make (only a file re-sealed by hand after editing gets this far with one)."""
        if self._plan is None:
            with collector_paused():  # millions of small acyclic containers (a third of it)
                self._keep(_built(self._doc))
        assert self._plan is not None
        return self._plan

    async def build_between(self, spent: list[float]) -> Plan:
        """``build``, ``SLICE`` changes at a time, letting the event loop run between slices:
        beside a read (``reconciler apply``'s re-check), the building fills the time the read
        waits for answers, and an answer waits at most one slice (about 7 ms). Cancelled, it
        leaves nothing behind, and a later call starts again. ``spent``: the slices' own wall
        and CPU seconds are added to its two numbers."""
        if self._plan is None:
            docs, made = self._doc["changes"], []
            with collector_paused():  # as ``build``; the read pauses it too
                for start in range(0, len(docs), SLICE):
                    wall, cpu = time.perf_counter(), time.process_time()
                    made.extend(_changes(docs[start : start + SLICE]))
                    spent[0] += time.perf_counter() - wall
                    spent[1] += time.process_time() - cpu
                    await asyncio.sleep(0)
                self._keep(_built(self._doc, tuple(made)))
        assert self._plan is not None
        return self._plan

    def _keep(self, plan: Plan) -> None:
        self._plan = _checked(plan)
        self._doc = {}  # the changes live on in the plan; the parsed copy need not


SLICE = 1024  # changes built between two turns of the event loop (``build_between``)


def judge(text: str) -> JudgedPlan:
    """The plan file judged (``JudgedPlan``), or ``PlanFileError``: all of its checks that
    refuse a corrupt or edited file. The cycle collector is paused meanwhile (see ``build``)."""
    with collector_paused():
        return _judge(text)


def _judge(text: str) -> JudgedPlan:
    doc: Any = _sealed_as_written(text)
    sealed = doc is not None
    if not sealed:
        doc = _parsed(text)
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
    if sealed or _sealed_as_read(doc):
        return JudgedPlan(doc, None)
    plan = _built(doc)  # judged as before: by the checksum of the plan rebuilt from it
    if compute_checksum(plan) != plan.checksum:
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


def _sealed_as_written(text: str) -> dict[str, Any] | None:
    """The document of a file laid out as ``dumps`` writes it whose checksum holds, parsed
    from the very bytes the checksum was found to hold over; None for any other file (then
    judged as before, and refused there if it must be).

    The file's change lines are the changes' canonical text (``filetext``), so the canonical
    text of the whole document is the rest of the file (small: parsed and encoded) with the
    lines spliced in as they stand, and neither the lines nor the document are encoded
    again. Sound whatever the file holds: the document returned is parsed from the bytes
    hashed, so a file whose parts do not fit together this way fails the checksum, or
    parses to exactly the document that was sealed."""
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
    canonical = canonical_spliced(head, lines)
    if "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest() != head["checksum"]:
        return None
    try:
        doc = json.loads(canonical)
    except (ValueError, RecursionError):  # hashed as the checksum says, yet not JSON
        return None
    if not isinstance(doc, dict):
        return None
    for key in UNCHECKED:  # as read: the cost (its shape is judged with the rest)
        if key in head:
            doc[key] = head[key]
    return doc


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
    return document_checksum(body) == doc.get("checksum")


def _explain_shape(doc: dict[str, Any]) -> None:
    """Why the document fails the schema, in jsonschema's words (loaded only for this)."""
    import jsonschema

    problem = jsonschema.validators.Draft202012Validator(PLAN_SCHEMA).iter_errors(doc)
    first = min(problem, key=lambda e: list(e.absolute_path), default=None)
    if first is not None:
        where = "/".join(str(p) for p in first.absolute_path) or "(root)"
        raise PlanFileError(f"not a valid plan file: at {where}: {first.message}")
