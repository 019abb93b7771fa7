"""The kind registry: every kind has a spec, and a spec's phases and operations agree with
what apply runs."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from reconciler.kinds import PHASES, Phase, all_specs, spec_of
from reconciler.kinds.folder import FolderPayload
from reconciler.kinds.group import GroupPayload
from reconciler.kinds.item import ItemPayload
from reconciler.kinds.payload import Payload
from reconciler.model import addresses as addr
from reconciler.model.addresses import Kind
from reconciler.model.live import content_fingerprint
from reconciler.plan import PlanFileError, compute_checksum, dumps, loads
from reconciler.plan.actions import Action
from reconciler.plan.model import Change, Plan, summarise
from reconciler.plan.shapes import SHAPES


def test_every_kind_has_a_spec_of_its_own() -> None:
    assert {spec.kind for spec in all_specs()} == set(Kind)
    for kind in Kind:
        assert spec_of(kind).kind is kind


def test_display_ranks_are_distinct_and_deletes_put_contents_first() -> None:
    ranks = [spec.display_rank for spec in all_specs()]
    assert len(set(ranks)) == len(ranks)
    delete = {kind: spec_of(kind).delete_rank for kind in Kind}
    assert delete[Kind.ITEM] < delete[Kind.FOLDER] < delete[Kind.GROUP]


@pytest.mark.parametrize("kind", list(Kind))
def test_every_shape_runs_in_phases_the_kind_has_operations_for(kind: Kind) -> None:
    """Every action of every shape is carried out in a phase of ``PHASES`` that the kind
    has an operation for, and every operation of the kind is reached by some shape."""
    spec = spec_of(kind)
    operations = spec.operations()
    assert set(operations) <= set(PHASES)
    used = set()
    for shape in SHAPES[kind]:
        change = Change(address=f"{kind}:/x", kind=kind, actions=shape)
        for replaced in (False, True):
            work = spec.phases(change, replaced)
            assert work, f"{kind} {shape} runs in no phase"
            assert {a for _, acts in work for a in acts} == set(shape), f"{kind} {shape}"
            for phase, _ in work:
                assert phase in operations, f"{kind} {shape}: no operation for {phase}"
                used.add(phase)
    assert used == set(operations), "an operation no shape of the kind reaches"


def test_a_dataset_is_only_ever_created() -> None:
    """The API cannot delete a dataset or change its description: apply has no route for
    either (the planner never emits them; ``planfile.loads`` refuses them)."""
    assert SHAPES[Kind.DATASET] == frozenset({(Action.CREATE,)})
    assert set(spec_of(Kind.DATASET).operations()) == {Phase.DATASETS}


def test_group_payload_is_the_plan_json_both_ways() -> None:
    doc = {"name": "qa", "description": "QA [x]", "members": ["a@x.io", "b@x.io"]}
    payload = spec_of(Kind.GROUP).decode(doc)
    assert payload == GroupPayload("qa", "QA [x]", ("a@x.io", "b@x.io"))
    assert isinstance(payload, GroupPayload)
    assert payload.encode() == doc
    assert list(payload.encode()) == ["name", "description", "members"]  # JSON key order


def _group_plan_text() -> str:
    group = Change(
        address=addr.group("qa"),
        kind=Kind.GROUP,
        actions=(Action.CREATE,),
        after=GroupPayload("qa", "", ("a@x.io",)),
    )
    plan = Plan(
        tool_version="0",
        target="t",
        ownership_id="o",
        changes=(group,),
        summary=summarise((group,)),
        checksum="",
    )
    return dumps(replace(plan, checksum=compute_checksum(plan)))


def test_a_saved_plan_loads_back_typed_and_equal() -> None:
    text = _group_plan_text()
    plan = loads(text)
    assert isinstance(plan.changes[0].after, GroupPayload)
    assert plan.changes[0].after.members == ("a@x.io",)
    assert dumps(plan) == text


def test_a_payload_without_its_fields_is_refused_in_one_line() -> None:
    doc = json.loads(_group_plan_text())
    del doc["changes"][0]["after"]["members"]
    doc["checksum"] = "sha256:" + "0" * 64  # decoding fails before the checksum is compared
    with pytest.raises(PlanFileError, match="does not hold what its kind needs"):
        loads(json.dumps(doc))


def test_item_payload_is_the_plan_json_both_ways() -> None:
    doc = {"path": "/a/x.jpg", "metadata": {"k": 1}}
    payload = spec_of(Kind.ITEM).decode(doc)
    assert payload == ItemPayload("/a/x.jpg", {"k": 1})
    assert isinstance(payload, ItemPayload)
    assert payload.name == "x.jpg"
    assert payload.encode() == doc
    with pytest.raises(TypeError):
        spec_of(Kind.ITEM).decode({"path": "/a/x.jpg", "metadata": [1]})


def test_a_payload_fingerprints_as_its_plan_json() -> None:
    """Fingerprints are compared between planning (payloads) and apply (what it reads)."""
    payload = GroupPayload("qa", "", ("a@x.io",))
    assert content_fingerprint(payload) == content_fingerprint(payload.encode())


def test_the_registry_imports_neither_the_planner_nor_apply() -> None:
    code = (
        "import sys, reconciler.kinds as k; "
        "print(sorted(m for m in sys.modules if m.startswith(('reconciler.plan', "
        "'reconciler.apply', 'reconciler.drift'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(
    "doc",
    [
        {"path": "/a", "name": "a", "description": "", "metadata": {"k": 1}},
        {"path": "/a", "name": "a", "description": "d", "metadata": {}, "cloud_sync": None},
        {
            "path": "/a",
            "name": "a",
            "description": "",
            "metadata": {},
            "cloud_sync": {
                "integration": "s3",
                "integration_uuid": "u",
                "remote_url": "s3://b/a",
                "sync": "on_create",
            },
        },
    ],
)
def test_folder_payload_is_the_plan_json_both_ways(doc: dict[str, object]) -> None:
    """A folder's cloud sync is left out (patch, move), null (generic) or shown; ``sync``
    only on the desired side: each comes back exactly."""
    payload = spec_of(Kind.FOLDER).decode(doc)
    assert isinstance(payload, FolderPayload)
    assert payload.encode() == doc
    assert list(payload.encode()) == list(doc)
    cloud = payload.cloud
    assert (cloud is not None) == bool(doc.get("cloud_sync"))
    if cloud is not None:
        assert "sync" not in payload.without_sync().encode()["cloud_sync"]


def _golden_payloads() -> list[tuple[Kind, dict[str, object]]]:
    out = []
    for path in sorted((Path(__file__).parent / "golden").glob("*/expected.json")):
        for change in json.loads(path.read_text())["changes"]:
            for side in ("before", "after"):
                if change[side] is not None:
                    out.append((Kind(change["kind"]), change[side]))
    return out


def test_every_payload_in_the_golden_plans_decodes_typed_and_encodes_back() -> None:
    payloads = _golden_payloads()
    assert {kind for kind, _ in payloads} == set(Kind), "a kind no golden plan shows"
    for kind, doc in payloads:
        payload = spec_of(kind).decode(doc)
        assert isinstance(payload, Payload)
        assert payload.encode() == doc
        assert list(payload.encode()) == list(doc)
