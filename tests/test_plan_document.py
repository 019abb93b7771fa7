"""The plan as an artifact: schema, plan file, checksum, ``can_apply``, the public surface."""

from __future__ import annotations

import asyncio
import gc
import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from helpers.desired import desired_state, folder
from simulator import Org

import reconciler.plan as plan_pkg
from reconciler.plan import (
    PLAN_SCHEMA,
    Action,
    DiffOptions,
    Plan,
    PlanFileError,
    Refusal,
    can_apply,
    compute_checksum,
    diff,
    dumps,
    loads,
)
from reconciler.plan.actions import is_delete, is_destructive, is_replace, is_role_change

SCHEMA_FILE = Path(__file__).parents[1] / "reconciler" / "schemas" / "plan.schema.json"


def _a_plan() -> Plan:
    org = Org()
    data = org.add_folder(None, "data", metadata={"reconciler.owner": "acme"})
    org.add_folder(data, "old", metadata={"reconciler.owner": "acme"})
    desired = desired_state(folders={"/data": folder("/data", description="All data")})
    return diff(desired, org.live_state(desired.roots()))


def test_the_schema_file_is_the_schema_value_and_a_valid_2020_12_schema() -> None:
    assert json.loads(SCHEMA_FILE.read_text()) == PLAN_SCHEMA
    jsonschema.Draft202012Validator.check_schema(PLAN_SCHEMA)
    assert PLAN_SCHEMA["$id"] == "https://reconciler.dev/schemas/plan/v1.json"


def test_plan_file_round_trip_and_schema() -> None:
    plan = _a_plan()
    text = dumps(plan)
    jsonschema.validate(json.loads(text), PLAN_SCHEMA)
    assert loads(text) == plan
    assert [c.address for c in plan.changes] == ["folder:/data/old", "folder:/data"]
    assert plan.changes[0].actions == (Action.DELETE,)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d["changes"][0].update(reason="harmless?"), "plan checksum does not match"),
        (lambda d: d["changes"].pop(0), "plan checksum does not match"),
        (lambda d: d.update(format_version=2), "plan format version 2 is not supported"),
        (
            lambda d: d["changes"][0].update(actions=["explode"]),
            "not a valid plan file: at changes/0/actions/0",
        ),
        (lambda d: d.pop("summary"), "not a valid plan file: at (root): 'summary' is a required"),
    ],
)
def test_an_edited_plan_file_is_refused(edit: object, message: str) -> None:
    doc = json.loads(dumps(_a_plan()))
    edit(doc)  # type: ignore[operator]
    with pytest.raises(PlanFileError, match=None) as raised:
        loads(json.dumps(doc))
    assert message in str(raised.value)


@pytest.mark.parametrize("value", ['"\\ud800"', "1e400"])
def test_a_value_without_canonical_text_is_refused_not_an_internal_error(value: str) -> None:
    """A lone surrogate or a float out of range (JSON admits both, no encoder writes them):
    a plan file holding one, as written or laid out otherwise, was edited."""
    text = dumps(_a_plan())
    for laid_out in (text, json.dumps(json.loads(text), indent=1)):
        edited = re.sub(r'"target": *"[^"]*"', lambda _: f'"target": {value}', laid_out, count=1)
        assert edited != laid_out
        with pytest.raises(PlanFileError, match=r"checksum does not match|at target: "):
            loads(edited)


@pytest.mark.parametrize(("text", "message"), [("{", "invalid JSON"), ("[1]", "not a JSON object")])
def test_garbage_is_not_a_plan(text: str, message: str) -> None:
    with pytest.raises(PlanFileError) as raised:
        loads(text)
    assert message in str(raised.value)


def test_the_checksum_covers_every_field() -> None:
    plan = _a_plan()
    assert plan.checksum == compute_checksum(plan)
    assert compute_checksum(replace(plan, forced=True)) != plan.checksum
    assert compute_checksum(replace(plan, target="elsewhere")) != plan.checksum


def test_an_unsealed_plan_is_the_same_plan_without_its_checksum() -> None:
    """``DiffOptions(seal=False)`` (verification, a saved plan's re-check) skips only the
    checksum: every change and refusal is the one the sealed plan holds."""
    org = Org()
    data = org.add_folder(None, "data", metadata={"reconciler.owner": "acme"})
    org.add_folder(data, "old", metadata={"reconciler.owner": "acme"})
    desired = desired_state(folders={"/data": folder("/data", description="All data")})
    live = org.live_state(desired.roots())
    sealed = diff(desired, live)
    unsealed = diff(desired, live, options=DiffOptions(seal=False))
    assert sealed.checksum == compute_checksum(sealed) and sealed.checksum.startswith("sha256:")
    assert unsealed.checksum == ""
    assert replace(unsealed, checksum=sealed.checksum) == sealed


def test_can_apply_is_the_one_rule() -> None:
    plan = _a_plan()
    assert can_apply(plan)
    refused = replace(plan, refusals=(Refusal("delete-threshold", "too many", (), False, 1),))
    assert not can_apply(refused)
    assert can_apply(refused, force=True)
    assert can_apply(replace(refused, forced=True))


def test_action_predicates() -> None:
    assert is_replace((Action.DELETE, Action.CREATE, Action.SYNC))
    assert not is_delete((Action.DELETE, Action.CREATE))
    assert is_delete((Action.DELETE,))
    assert is_destructive((Action.UNLINK,)) and is_destructive((Action.REVOKE, Action.GRANT))
    assert not is_destructive((Action.MOVE, Action.PATCH))
    assert is_role_change((Action.REVOKE, Action.GRANT))
    assert [a.value for a in Action] == [
        "create", "patch", "move", "delete", "link", "unlink", "grant", "revoke", "sync",
        "adopt", "release",
    ]  # fmt: skip


def test_public_surface_is_pinned() -> None:
    assert plan_pkg.__all__ == [
        "FORMAT_VERSION", "PLAN_SCHEMA", "Action", "Change", "Deferral", "DiffOptions",
        "FieldDiff", "Plan", "PlanError", "PlanFileError", "Refs", "Refusal",
        "Summary", "can_apply", "canonical", "compute_checksum", "diff", "dumps", "equivalent",
        "is_destructive", "is_replace", "loads", "plan_document", "plan_from_document",
        "render_markdown", "render_text",
    ]  # fmt: skip


def test_a_plan_file_is_checked_as_read_without_rebuilding_its_document(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The checksum of the document as read is the planner's: ``loads`` needs no second
    ``plan_document`` (which costs as much as the checksum itself at 100,000 changes)."""
    import reconciler.plan.planfile as planfile

    plan = _a_plan()
    text = dumps(plan)

    def rebuilt(_plan: Plan) -> str:
        raise AssertionError("the document was rebuilt to check its checksum")

    monkeypatch.setattr(planfile, "compute_checksum", rebuilt)
    assert loads(text) == plan
    edited = json.loads(text)
    edited["changes"][0]["reason"] = "harmless?"
    with pytest.raises(AssertionError, match="rebuilt"):  # as read, it fails: judged as before
        loads(json.dumps(edited))


def test_a_document_sealed_as_written_loads_even_without_optional_keys() -> None:
    from reconciler.plan.document import document_checksum

    doc = json.loads(dumps(_a_plan()))
    del doc["warnings"], doc["checksum"]  # an older writer's document, hashed as it wrote it
    doc["checksum"] = document_checksum(doc)
    assert loads(json.dumps(doc)).changes == _a_plan().changes
    doc["forced"] = True  # and an edit still breaks it
    with pytest.raises(PlanFileError, match="checksum does not match"):
        loads(json.dumps(doc))


@pytest.mark.parametrize("size", [0, 1, 1024, 2500])
def test_the_checksum_fed_in_batches_is_that_of_the_whole_document(size: int) -> None:
    from helpers.plans import hostile_plan, synthetic_plan

    from reconciler.plan.document import document_checksum, plan_document

    for plan in (synthetic_plan(size, folders=3, deletes=min(size, 10)), hostile_plan()):
        whole = document_checksum(plan_document(plan, with_checksum=False))
        assert compute_checksum(plan) == whole


@pytest.mark.parametrize("size", [0, 1, 1024, 2500])
def test_fingerprints_read_from_the_changes_and_hashed_in_batches_are_the_documents(
    size: int,
) -> None:
    from dataclasses import replace

    from helpers.plans import synthetic_plan

    from reconciler.plan.document import document_checksum, plan_document
    from reconciler.plan.model import Fingerprints

    plan = synthetic_plan(size, folders=3, deletes=min(size, 10))
    marked = tuple(  # a third without one; texts the encoder escapes
        replace(c, fingerprint=f'é"{n}\u2028') if n % 3 else c for n, c in enumerate(plan.changes)
    )
    read = replace(plan, changes=marked, fingerprints=Fingerprints(marked))
    held = replace(read, fingerprints={c.address: c.fingerprint for c in marked if c.fingerprint})
    assert read.fingerprints == held.fingerprints and len(read.fingerprints) == len(
        held.fingerprints
    )
    assert [read.fingerprints[a] for a in held.fingerprints] == list(held.fingerprints.values())
    whole = document_checksum(plan_document(held, with_checksum=False))
    assert compute_checksum(read) == compute_checksum(held) == whole
    assert plan_document(read) == plan_document(held)
    assert repr(read.fingerprints) == f"Fingerprints({held.fingerprints!r})"


def test_loading_a_plan_file_runs_without_the_cycle_collector_and_restores_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from helpers.plans import synthetic_plan

    from reconciler.plan import planfile
    from reconciler.plan.document import sealed

    text = dumps(sealed(synthetic_plan(30, folders=3, deletes=0)))
    seen: list[bool] = []
    for step in ("plan_from_document", "canonical_spliced"):  # the checksum, the build
        real = getattr(planfile, step)

        def watched(*args: Any, real: Any = real) -> Any:
            seen.append(gc.isenabled())
            return real(*args)

        monkeypatch.setattr(planfile, step, watched)
    try:
        plan = loads(text)
        assert gc.isenabled()
        gc.disable()
        loads(text)
        assert not gc.isenabled()  # left as the caller had it
    finally:
        gc.enable()
    assert seen == [False, False, False, False]
    assert plan.summary.change == 30


def test_a_plan_file_is_judged_whole_before_its_plan_is_built(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``judge`` makes every check that refuses a corrupt or edited file without building the
    ``Plan`` (``reconciler apply`` builds it while the lock confirms); ``build`` builds once."""
    from reconciler.plan import planfile

    plan = replace(_a_plan(), environment="prod", config_dir="../config")
    plan = replace(plan, checksum=compute_checksum(plan))
    text = dumps(plan)
    from reconciler.plan.document import plan_from_document

    built: list[int] = []

    def counted(doc: Any, changes: Any = None) -> Plan:
        built.append(1)
        return plan_from_document(doc, changes)

    monkeypatch.setattr(planfile, "plan_from_document", counted)
    judged = planfile.judge(text)
    assert built == []
    assert (judged.checksum, judged.environment, judged.config_dir) == (
        plan.checksum,
        "prod",
        "../config",
    )
    assert judged.build() == plan and judged.build() is judged.build() and built == [1]
    # built a slice at a time beside a read: the same plan
    again, spent = planfile.judge(text), [0.0, 0.0]
    assert asyncio.run(again.build_between(spent)) == plan and built == [1, 1]
    assert again.build() is again.build() and built == [1, 1] and spent[1] > 0
    edited = json.loads(text)
    edited["environment"] = "staging"
    for bad in (json.dumps(edited), text[:-20], "[]"):
        with pytest.raises(PlanFileError):
            planfile.judge(bad)
