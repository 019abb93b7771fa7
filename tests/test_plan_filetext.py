"""A plan file (``plan/filetext.py``): the document indented by two spaces, each change one
line of the C encoder; the same document as before, and so the same checksum."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from helpers.plans import hostile_plan, synthetic_plan
from hypothesis import given, settings
from hypothesis import strategies as st
from test_plan_changetext import CHANGES

from reconciler.apply.cost import estimate
from reconciler.kinds.item import ItemPayload
from reconciler.model.addresses import Kind
from reconciler.plan import Plan, filetext
from reconciler.plan.actions import Action
from reconciler.plan.document import change_document, plan_document, sealed
from reconciler.plan.errors import PlanFileError
from reconciler.plan.filetext import change_line, iter_plan_text
from reconciler.plan.model import Change
from reconciler.plan.planfile import dumps, loads

INDENTED = json.JSONEncoder(indent=2, ensure_ascii=False, allow_nan=False)


def _line(change: Change) -> str:
    return json.dumps(change_document(change), ensure_ascii=False, allow_nan=False)


def _expected(plan: Plan) -> str:
    """The layout made with the standard library alone: the indented document, its list of
    changes one ``json.dumps`` line each."""
    doc = plan_document(plan)
    if not doc["changes"]:
        return INDENTED.encode(doc) + "\n"
    lines = ",\n    ".join(json.dumps(c, ensure_ascii=False) for c in doc["changes"])
    doc["changes"] = ["@@changes@@"]
    return INDENTED.encode(doc).replace('"@@changes@@"', lines) + "\n"


@settings(max_examples=100, deadline=None)
@given(CHANGES)
def test_a_change_line_is_its_document_dumped_by_json(change: Change) -> None:
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
    assert sum(line.startswith('    {"address": ') for line in lines) == len(plan.changes)
    if len(plan.changes) > 2_048:
        assert len(list(iter_plan_text(plan))) > 3


def test_a_plan_without_changes_is_the_indented_document() -> None:
    plan = sealed(synthetic_plan(0, deletes=0))
    assert dumps(plan) == INDENTED.encode(plan_document(plan)) + "\n"
    assert '"changes": []' in dumps(plan)


def test_a_change_line_edited_in_the_file_is_refused() -> None:
    text = dumps(sealed(synthetic_plan(5, folders=2, deletes=1)))
    edited = text.replace(
        '"after": {"path": "/big/part-000/frame-000000.jpg", "metadata": {"split": "train"',
        '"after": {"path": "/big/part-000/frame-000000.jpg", "metadata": {"split": "test"',
        1,
    )
    assert edited != text
    with pytest.raises(PlanFileError, match="plan checksum does not match"):
        loads(edited)


def test_what_json_refuses_is_refused_and_past_the_bound_pieces_are_encoded_each(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
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
    monkeypatch.setattr(filetext, "_REPEATED", {})
    monkeypatch.setattr(filetext, "_MAX_REPEATED", 0)
    plain = Change(address="item:/b", kind=Kind.ITEM, actions=(Action.PATCH,), reason="r")
    assert change_line(plain) == _line(plain)
    assert filetext._REPEATED == {}
