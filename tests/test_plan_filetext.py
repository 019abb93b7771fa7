"""A plan file (``plan/filetext.py``): the document indented by two spaces, each change one
line, its canonical text; the same document as before, and so the same checksum. A file as
written is judged from its lines as they stand (``planfile._as_written``): any edit that
changes the document is refused, one that does not (whitespace) is not; a line that is the
text of a change of a fresh plan is that change, any other is parsed."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace

import pytest
from helpers.plans import hostile_plan, resealed_as_written, synthetic_plan
from hypothesis import given, settings
from hypothesis import strategies as st
from test_plan_changetext import CHANGES

from reconciler.apply.cost import estimate
from reconciler.kinds.item import ItemPayload
from reconciler.model.addresses import Kind
from reconciler.plan import Plan, planfile
from reconciler.plan.actions import Action
from reconciler.plan.document import canonical_spliced, change_document, plan_document, sealed
from reconciler.plan.errors import PlanFileError
from reconciler.plan.filetext import change_line, iter_plan_text
from reconciler.plan.model import Change
from reconciler.plan.planfile import dumps, loads

INDENTED = json.JSONEncoder(indent=2, ensure_ascii=False, allow_nan=False)


def _canonical(value: object) -> str:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def _line(change: Change) -> str:
    return _canonical(change_document(change))


def _expected(plan: Plan, line: Callable[[object], str] = _canonical) -> str:
    """The layout made with the standard library alone: the indented document, its list of
    changes one ``line`` each (the canonical text; before, ``json.dumps``' default)."""
    doc = plan_document(plan)
    if not doc["changes"]:
        return INDENTED.encode(doc) + "\n"
    lines = ",\n    ".join(line(c) for c in doc["changes"])
    doc["changes"] = ["@@changes@@"]
    return INDENTED.encode(doc).replace('"@@changes@@"', lines) + "\n"


@settings(max_examples=100, deadline=None)
@given(CHANGES)
def test_a_change_line_is_its_documents_canonical_text(change: Change) -> None:
    assert change_line(change) == _line(change)
    assert change_line(change) == _line(change)  # repeated pieces, cached
    assert "\n" not in change_line(change)  # one line, whatever the names hold


@settings(max_examples=30, deadline=None)
@given(st.lists(CHANGES, max_size=4))
def test_a_plan_file_is_the_plan_document_one_line_per_change(changes: list[Change]) -> None:
    plan = sealed(replace(synthetic_plan(0, deletes=0), changes=tuple(changes)))
    text = dumps(plan)
    assert text == _expected(plan)
    assert json.loads(text) == json.loads(json.dumps(plan_document(plan)))


def _with_cost(plan: Plan) -> Plan:
    return sealed(replace(plan, cost=estimate(plan, concurrency=16, latency_ms=180)))


@pytest.mark.parametrize(
    "plan",
    [_with_cost(hostile_plan()), _with_cost(synthetic_plan(2_100, folders=3))],
    ids=["hostile", "synthetic"],
)
def test_plan_files_read_back_as_the_plan_and_large_ones_are_written_in_pieces(
    plan: Plan,
) -> None:
    text = dumps(plan)
    assert text == _expected(plan)
    assert loads(text) == plan
    assert json.loads(text)["cost"] == plan_document(plan)["cost"]
    lines = text.splitlines()
    assert sum(line.startswith('    {"actions":') for line in lines) == len(plan.changes)
    if len(plan.changes) > 2_048:
        assert len(list(iter_plan_text(plan))) > 3


def test_a_plan_without_changes_is_the_indented_document() -> None:
    plan = sealed(synthetic_plan(0, deletes=0))
    assert dumps(plan) == INDENTED.encode(plan_document(plan)) + "\n"
    assert '"changes": []' in dumps(plan)


def test_a_change_line_edited_in_the_file_is_refused() -> None:
    text = dumps(sealed(synthetic_plan(5, folders=2, deletes=1)))
    edited = text.replace('"split":"train"},"path"', '"split":"test"},"path"', 1)
    assert edited != text
    with pytest.raises(PlanFileError, match="plan checksum does not match"):
        loads(edited)


def test_what_json_refuses_is_refused() -> None:
    bad = Change(
        address="item:/a",
        kind=Kind.ITEM,
        actions=(Action.PATCH,),
        after=ItemPayload("/a", {"k": float("nan")}),
    )
    with pytest.raises(ValueError):
        change_line(bad)
    strange = replace(bad, after=ItemPayload("/a", {"k": object()}))
    with pytest.raises(TypeError, match="not JSON serializable"):
        change_line(strange)


def test_a_file_as_written_is_judged_from_its_lines_and_one_laid_out_before_as_it_was(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    plan = _with_cost(synthetic_plan(1_500, folders=3))
    text = dumps(plan)
    # as written: the header parsed, the lines hashed as they stand and parsed only when
    # built; the document is never encoded again from the parsed document
    written = planfile._as_written(text)
    assert written is not None
    head, lines = written
    assert {**head, "changes": [json.loads(line) for line in lines]} == json.loads(text)
    with monkeypatch.context() as patched:
        patched.setattr(planfile, "_sealed_as_read", _not_called)
        assert loads(text) == plan
        assert not planfile.judge(text).parsed
    # the layout of the writer before (``json.dumps``' default per line) and one indented
    # throughout: the same document, judged by encoding it (and still the same plan)
    for laid_out in (_expected(plan, _default_line), INDENTED.encode(json.loads(text))):
        assert planfile._as_written(laid_out) is None
        assert planfile.judge(laid_out).parsed
        assert loads(laid_out) == plan


def _default_line(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def _not_called(*_: object) -> bool:
    raise AssertionError("a file as written was judged by encoding its document again")


_PLAN = _with_cost(synthetic_plan(6, folders=2, deletes=1))
_TEXT = dumps(_PLAN)


@settings(max_examples=400, deadline=None)
@given(
    st.integers(0, len(_TEXT) - 1),
    st.integers(0, 3),
    st.sampled_from([" ", "\n", ",", '"', "}", "]", "[", "{", "0", "x", "\\", ':"a",', '"",']),
)
def test_an_edit_anywhere_is_refused_unless_the_document_is_the_same(
    at: int, removed: int, inserted: str
) -> None:
    """Whatever is cut or added, wherever (a duplicate key, a line split, a list closed
    early): the file is refused, or it is the same document and so the same plan. But for
    its cost: an estimate, outside the checksum by design (``plan/document.py``)."""
    edited = _TEXT[:at] + inserted + _TEXT[at + removed :]
    for fresh in (None, _PLAN, _OTHER):  # its lines parsed, or taken for the fresh changes
        try:
            judged = planfile.judge(edited).build(fresh)
        except PlanFileError:
            continue
        assert replace(judged, cost=None) == replace(_PLAN, cost=None)
        assert _uncosted(json.loads(edited)) == _uncosted(json.loads(_TEXT))


# A fresh plan whose changes are the saved plan's but for the first and the last.
_OTHER = replace(
    _PLAN,
    changes=(
        replace(_PLAN.changes[0], reason="otherwise"),
        *_PLAN.changes[1:-1],
        replace(_PLAN.changes[-1], fingerprint="another"),
    ),
)


def test_a_line_that_is_the_text_of_a_fresh_change_is_that_change_and_no_other_is() -> None:
    judged = planfile.judge(_TEXT).build(_OTHER)
    assert judged == _PLAN
    taken = [a is b for a, b in zip(judged.changes, _OTHER.changes, strict=True)]
    assert taken == [False, *[True] * (len(_PLAN.changes) - 2), False]
    # a change whose text is no line of the file is not taken, whatever its address
    assert planfile.judge(_TEXT).build(replace(_PLAN, changes=_OTHER.changes[:1])) == _PLAN
    # a fresh plan far larger than the saved one (made for a plan with --only): its texts
    # would cost more than parsing the lines, so none is written and nothing is taken
    larger = replace(_OTHER, changes=_OTHER.changes + synthetic_plan(40, folders=2).changes)
    judged = planfile.judge(_TEXT).build(larger)
    assert judged == _PLAN and not {id(c) for c in judged.changes} & {id(c) for c in larger.changes}


def test_a_resealed_line_that_is_not_a_change_is_refused_when_built() -> None:
    """Only a file sealed again by hand gets past judging with such a line; building says
    which change it is and why, in one line."""
    second = json.loads((planfile._as_written(_TEXT) or ({}, ["", ""]))[1][1])
    cases = {
        '{"actions":["patch"]': "change 1 is not one line of JSON",
        json.dumps({**second, "kind": "spaceship"}): "at changes/1/kind: ",
        json.dumps({**second, "extra": 1}): "at changes/1: ",
    }
    for line, expected in cases.items():
        judged = planfile.judge(resealed_as_written(_TEXT, 1, line))  # the checksum holds
        with pytest.raises(PlanFileError, match=expected):
            judged.build(_PLAN)


def _uncosted(doc: dict[str, object]) -> dict[str, object]:
    return {key: value for key, value in doc.items() if key != "cost"}


def test_a_header_value_that_reads_as_the_place_of_the_changes_is_not_judged_as_written() -> None:
    """The lines go into the one place the header's canonical text holds the changes. A
    nested value that reads as that place (sealed by splicing the lines there) leaves two:
    the file is judged the slower way, from the document as parsed, and refused."""
    import hashlib

    from reconciler.plan.document import UNCHECKED, _canonical

    head, lines = planfile._as_written(_TEXT) or ({}, [])
    mark = '"changes":["reconciler:changes-go-here"]'
    assert canonical_spliced({"a": {"changes": ["reconciler:changes-go-here"]}}, "1") is None
    # the text an attacker would hash: the lines spliced into the nested place, found first
    body = {k: v for k, v in head.items() if k not in UNCHECKED}
    body["caller"] = {"changes": ["reconciler:changes-go-here"]}  # "caller" < "changes"
    body["changes"] = ["reconciler:changes-go-here"]
    text = _canonical(body)
    at = text.index(mark)
    assert at < text.rindex(mark)  # the nested one comes first
    hashed = text[:at] + '"changes":[' + ",".join(lines) + "]" + text[at + len(mark) :]
    digest = "sha256:" + hashlib.sha256(hashed.encode()).hexdigest()
    forged = _TEXT.replace(
        '"caller": null', '"caller": {"changes": ["reconciler:changes-go-here"]}', 1
    ).replace(head["checksum"], digest)
    assert forged != _TEXT
    assert planfile._as_written(forged) is None
    with pytest.raises(PlanFileError):
        loads(forged)
