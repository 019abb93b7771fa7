"""Phases: which part of which change runs when (pure)."""

from __future__ import annotations

from reconciler.apply.phases import PHASES, Phase, replaced_contents, steps_of
from reconciler.model import addresses as addr
from reconciler.plan.actions import Action
from reconciler.plan.model import Change, FieldDiff, Refs


def _change(address: str, *actions: Action, **fields: object) -> Change:
    return Change(address=address, kind=addr.kind_of(address), actions=actions, **fields)  # type: ignore[arg-type]


def _phases(change: Change) -> list[tuple[str, tuple[str, ...]]]:
    return [(str(s.phase), tuple(str(a) for a in s.actions)) for s in steps_of([change])]


def test_phases_follow_the_domain_order() -> None:
    assert [str(p) for p in PHASES] == [
        "schema",
        "tags",
        "create-ahead",
        "move-out",
        "replace",
        "create-folders",
        "folder-config",
        "register",
        "sync",
        "patch-folders",
        "move-folders",
        "move-items",
        "patch-items",
        "users",
        "groups",
        "grants",
        "datasets",
        "dataset-grants",
        "link",
        "unlink",
        "collections",
        "collection-add",
        "collection-remove",
        "revoke",
        "delete-collections",
        "delete-items",
        "delete-folders",
        "delete-groups",
        "delete-tags",
        "remove-users",
    ]


def test_a_moved_and_edited_folder_is_patched_then_moved() -> None:
    change = _change(
        "folder:/b",
        Action.MOVE,
        Action.PATCH,
        previous_address="folder:/a",
        diff=(FieldDiff(("metadata", "k"), "add", None, 1),),
    )
    assert _phases(change) == [("patch-folders", ("patch",)), ("move-folders", ("move",))]


def test_a_synced_create_is_created_then_synced() -> None:
    change = _change("folder:/s", Action.CREATE, Action.SYNC)
    assert _phases(change) == [("create-folders", ("create",)), ("sync", ("sync",))]


def test_a_replacement_deletes_first_and_its_contents_go_with_it() -> None:
    inner_item = _change(
        "item:/s/x.jpg", Action.DELETE, refs=Refs(uuid="i1", from_parent_uuid="sub")
    )
    inner_folder = _change(
        "folder:/s/sub", Action.DELETE, depends_on=("item:/s/x.jpg",), refs=Refs(uuid="sub")
    )
    pruned = _change("item:/other/y.jpg", Action.DELETE, refs=Refs(uuid="i2"))
    replaced = _change(
        "folder:/s",
        Action.DELETE,
        Action.CREATE,
        Action.SYNC,
        depends_on=("folder:/s/sub",),
        refs=Refs(uuid="old"),
    )
    changes = [inner_item, inner_folder, pruned, replaced]
    assert replaced_contents(changes) == frozenset({0, 1})
    steps = steps_of(changes)
    phases = {(s.address, str(s.phase)) for s in steps}
    assert phases == {
        ("item:/s/x.jpg", "replace"),
        ("folder:/s/sub", "replace"),
        ("item:/other/y.jpg", "delete-items"),
        ("folder:/s", "replace"),
        ("folder:/s", "create-folders"),
        ("folder:/s", "sync"),
    }
    ranks = [s.phase.rank for s in steps]
    assert ranks == sorted(ranks)


def _leaving(to: str, *, parent_uuid: str | None, depends_on: tuple[str, ...]) -> Change:
    parent = to.rsplit("/", 1)[0] or None
    refs = Refs(uuid="a", parent_uuid=parent_uuid, parent_path=parent, from_parent_uuid="old")
    return _change(f"folder:{to}", Action.MOVE, refs=refs, depends_on=depends_on)


def _replacing(path: str, *, waits_for: str) -> Change:
    refs = Refs(uuid="old")
    return _change(
        f"folder:{path}", Action.DELETE, Action.CREATE, refs=refs, depends_on=(waits_for,)
    )


def _phase_of(changes: list[Change]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for step in steps_of(changes):
        out.setdefault(step.address, set()).add(str(step.phase))
    return out


def test_a_folder_leaving_a_replaced_one_moves_out_before_the_replacement() -> None:
    leaving = _leaving("/x/a", parent_uuid="x", depends_on=())
    assert _phase_of([leaving, _replacing("/s", waits_for="folder:/x/a")]) == {
        "folder:/x/a": {"move-out"},
        "folder:/s": {"replace", "create-folders"},
    }


def test_where_a_folder_leaving_a_replaced_one_goes_is_created_ahead_ancestors_too() -> None:
    top = _change("folder:/n", Action.CREATE, refs=Refs(parent_path=None))
    mid = _change(
        "folder:/n/m", Action.CREATE, refs=Refs(parent_path="/n"), depends_on=("folder:/n",)
    )
    leaving = _leaving("/n/m/a", parent_uuid=None, depends_on=("folder:/n/m",))
    other = _change("folder:/o", Action.CREATE, refs=Refs(parent_path=None))
    changes = [top, mid, leaving, other, _replacing("/s", waits_for="folder:/n/m/a")]
    assert _phase_of(changes) == {
        "folder:/n": {"create-ahead"},
        "folder:/n/m": {"create-ahead"},
        "folder:/n/m/a": {"move-out"},
        "folder:/o": {"create-folders"},  # not needed before the replacement: not pulled ahead
        "folder:/s": {"replace", "create-folders"},
    }


def test_a_folder_going_under_the_replaced_path_waits_for_the_replacement() -> None:
    """Where it goes is made after the replacement: it cannot leave first (apply refuses to
    delete the old folder while it is still inside; nothing is lost)."""
    inner = _change(
        "folder:/s/n", Action.CREATE, refs=Refs(parent_path="/s"), depends_on=("folder:/s",)
    )
    leaving = _leaving("/s/n/a", parent_uuid=None, depends_on=("folder:/s/n",))
    changes = [inner, leaving, _replacing("/s", waits_for="folder:/s/n/a")]
    assert _phase_of(changes) == {
        "folder:/s/n": {"create-folders"},
        "folder:/s/n/a": {"move-folders"},
        "folder:/s": {"replace", "create-folders"},
    }


def test_a_renamed_item_move_also_patches_its_name() -> None:
    moved = _change(
        "item:/b/new.jpg",
        Action.MOVE,
        previous_address="item:/a/old.jpg",
        before={"path": "/a/old.jpg", "metadata": {}},
        after={"path": "/b/new.jpg", "metadata": {}},
    )
    kept_name = _change(
        "item:/b/x.jpg",
        Action.MOVE,
        before={"path": "/a/x.jpg", "metadata": {}},
        after={"path": "/b/x.jpg", "metadata": {}},
    )
    assert _phases(moved) == [("move-items", ("move",)), ("patch-items", ("patch",))]
    assert _phases(kept_name) == [("move-items", ("move",))]


def test_role_changes_are_one_step_and_revokes_wait_for_grants() -> None:
    user_role = _change("dataset-user:d#a@x.io", Action.REVOKE, Action.GRANT)
    group_role = _change("folder-group:/a#g", Action.GRANT, before={"role": "user"})
    revoke = _change("dataset-group:d#g", Action.REVOKE)
    assert _phases(user_role) == [("dataset-grants", ("revoke", "grant"))]
    assert _phases(group_role) == [("grants", ("grant",))]
    assert _phases(revoke) == [("revoke", ("revoke",))]
    assert Phase.GRANTS.rank < Phase.REVOKE.rank
    assert Phase.DATASET_GRANTS.rank < Phase.REVOKE.rank


def test_every_kind_has_a_phase_and_deletes_come_last() -> None:
    changes = [
        _change("metadata-schema:organisation", Action.PATCH),
        _change("group:g", Action.CREATE),
        _change("group:old", Action.DELETE),
        _change("dataset:d", Action.CREATE),
        _change("link:d#/a/x.jpg", Action.LINK),
        _change("link:d#/a/y.jpg", Action.UNLINK),
        _change("folder:/gone", Action.DELETE),
        _change("item:/a/x.jpg", Action.PATCH),
    ]
    order = [(s.address, str(s.phase)) for s in steps_of(changes)]
    assert order == [
        ("metadata-schema:organisation", "schema"),
        ("item:/a/x.jpg", "patch-items"),
        ("group:g", "groups"),
        ("dataset:d", "datasets"),
        ("link:d#/a/x.jpg", "link"),
        ("link:d#/a/y.jpg", "unlink"),
        ("folder:/gone", "delete-folders"),
        ("group:old", "delete-groups"),
    ]


def test_step_keys_name_plan_positions_or_deferred_addresses() -> None:
    changes = [_change("item:/a/x.jpg", Action.PATCH), _change("item:/a/x.jpg", Action.DELETE)]
    assert [s.key for s in steps_of(changes)] == ["0:patch-items", "1:delete-items"]
    deferred = steps_of([_change("item:/s/y.jpg", Action.PATCH)], prefix="d")
    assert [s.key for s in deferred] == ["d:item:/s/y.jpg:patch-items"]
    assert deferred[0].change_key == "d:item:/s/y.jpg"
