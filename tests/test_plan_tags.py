"""Planning organisation tags: what is created, what prune may delete (only tags proven
ours), what is withheld (a description the API cannot change), and what is left alone."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.desired import OTHER, OWNER, desired_state, src

from reconciler.config import ConfigError, load_config
from reconciler.model.desired import DesiredTag, Policy, PruneMode
from reconciler.model.live import LiveState, LiveTag
from reconciler.plan import DiffOptions, diff
from reconciler.plan.actions import Action


def _tags(**declared: str | None) -> dict[str, DesiredTag]:
    return {
        n: DesiredTag(name=n, description=d, source=src(2, "tags.yaml"))
        for n, d in declared.items()
    }


def _live(*tags: LiveTag, complete: bool = True) -> LiveState:
    return LiveState(organisation_tags={t.uuid: t for t in tags}, complete=complete)


OURS = LiveTag("t-ours", "ours", f"Retired [managed by reconciler: {OWNER}]")
HAND = LiveTag("t-hand", "hand", "made in the app")
FOREIGN = LiveTag("t-foreign", "foreign", f"[managed by reconciler: {OTHER}]")
SILENT = LiveTag("t-silent", "silent", None)  # a listing that gives no description


def test_declared_and_missing_is_created_with_our_ownership_tag() -> None:
    plan = diff(desired_state(organisation_tags=_tags(night="At night", bare=None)), _live())
    after = {c.address: dict(c.after or {}) for c in plan.changes}
    assert after == {
        "organisation-tag:bare": {
            "name": "bare",
            "description": f"[managed by reconciler: {OWNER}]",
        },
        "organisation-tag:night": {
            "name": "night",
            "description": f"At night [managed by reconciler: {OWNER}]",
        },
    }
    assert all(c.actions == (Action.CREATE,) and c.source == "tags.yaml:2" for c in plan.changes)


@pytest.mark.parametrize("prune", ["owned", "all"])
def test_prune_deletes_only_tags_proven_ours(prune: PruneMode) -> None:
    policy = Policy(prune=prune, max_delete_ratio=1)
    desired = desired_state(organisation_tags={}, policy=policy)
    plan = diff(desired, _live(OURS, HAND, FOREIGN, SILENT))
    assert [(c.address, c.actions) for c in plan.changes] == [
        ("organisation-tag:ours", (Action.DELETE,))
    ]
    assert plan.changes[0].refs.uuid == "t-ours"
    assert not plan.refusals


def test_prune_never_and_an_undeclared_tag_set_delete_nothing() -> None:
    never = desired_state(organisation_tags={}, policy=Policy(prune="never"))
    assert diff(never, _live(OURS)).changes == ()
    unmanaged = desired_state()  # no organisation_tags: tags are not managed at all
    assert diff(unmanaged, _live(OURS)).changes == ()


def test_an_incomplete_read_withholds_the_delete() -> None:
    desired = desired_state(organisation_tags={}, policy=Policy(max_delete_ratio=1))
    plan = diff(desired, _live(OURS, complete=False))
    assert plan.changes == ()
    assert [r.code for r in plan.refusals] == ["listing-guard"]


def test_a_description_that_differs_is_withheld_with_what_to_do() -> None:
    desired = desired_state(organisation_tags=_tags(ours="Still in use", hand="made in the app"))
    plan = diff(desired, _live(OURS, HAND))
    assert plan.changes == ()
    (refusal,) = plan.refusals
    assert (refusal.code, refusal.withheld) == ("unsupported", True)
    assert refusal.addresses == ("organisation-tag:ours",)
    assert "'Retired'" in refusal.message and "'Still in use'" in refusal.message
    assert "tags.yaml:2" in refusal.message


def test_a_foreign_tag_is_explained_as_foreign_and_unknown_descriptions_are_not_compared() -> None:
    desired = desired_state(organisation_tags=_tags(foreign="mine now", silent="anything"))
    plan = diff(desired, _live(FOREIGN, SILENT))
    assert plan.changes == ()
    assert [r.code for r in plan.refusals] == ["foreign-owned"]


def test_tag_deletes_count_towards_the_delete_threshold() -> None:
    many = [LiveTag(f"t{n}", f"tag{n}", f"[managed by reconciler: {OWNER}]") for n in range(12)]
    desired = desired_state(organisation_tags=_tags(tag0=""))
    plan = diff(desired, _live(*many), options=DiffOptions())
    assert plan.summary.delete == 11
    assert [r.code for r in plan.refusals] == ["delete-threshold"]


def test_config_reads_tags_from_several_files_and_reports_a_second_declaration(
    tmp_path: Path,
) -> None:
    (tmp_path / "reconciler.yaml").write_text(
        "version: 1\ntarget: {encord: {domain: https://api.encord.com}}\nownership: {id: xy}\n"
    )
    (tmp_path / "a.yaml").write_text("organisation_tags:\n  night: At night\n  free:\n")
    (tmp_path / "b.yaml").write_text("organisation_tags: {}\n")
    tags = load_config(tmp_path, env={}).organisation_tags
    assert tags is not None
    assert {n: (t.description, str(t.source)) for n, t in tags.items()} == {
        "night": ("At night", "a.yaml:2"),
        "free": (None, "a.yaml:3"),
    }
    (tmp_path / "b.yaml").write_text("organisation_tags:\n  night: again\n  bad: [1]\n")
    with pytest.raises(ConfigError) as error:
        load_config(tmp_path, env={})
    text = str(error.value)
    assert "b.yaml:2:3: organisation_tags.night: organisation tag night is declared twice " in text
    assert "(also at a.yaml:2:3)" in text
    assert "b.yaml:3:8: organisation_tags.bad:" in text
