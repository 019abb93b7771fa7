"""The kind registry: every kind has a spec, and a spec's phases and operations agree with
what apply runs."""

from __future__ import annotations

import pytest

from reconciler.kinds import PHASES, Phase, all_specs, spec_of
from reconciler.model.addresses import Kind
from reconciler.plan.actions import Action
from reconciler.plan.model import Change
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
    spec = spec_of(kind)
    operations = spec.operations()
    assert set(operations) <= set(PHASES)
    used = set()
    for shape in SHAPES[kind]:
        change = Change(address=f"{kind}:/x", kind=kind, actions=shape)
        for replaced in (False, True):
            work = spec.phases(change, replaced)
            assert work, f"{kind} {shape} runs in no phase"
            assert [a for _, acts in work for a in acts if a in shape]
            for phase, _ in work:
                assert phase in operations, f"{kind} {shape}: no operation for {phase}"
                used.add(phase)
    assert used == set(operations), "an operation no shape of the kind reaches"


def test_a_dataset_is_only_ever_created() -> None:
    """The API cannot delete a dataset or change its description: apply has no route for
    either (the planner never emits them; ``planfile.loads`` refuses them)."""
    assert SHAPES[Kind.DATASET] == frozenset({(Action.CREATE,)})
    assert set(spec_of(Kind.DATASET).operations()) == {Phase.DATASETS}
