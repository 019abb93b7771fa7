"""Bundling: steps of one phase grouped into bulk calls and waves (pure)."""

from __future__ import annotations

import dataclasses

import pytest
from helpers import payloads
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.apply.bundles import bundle_phase
from reconciler.apply.phases import Phase, Step, steps_of
from reconciler.kinds.access import RolePayload
from reconciler.kinds.link import LinkPayload
from reconciler.model import addresses as addr
from reconciler.plan.actions import Action
from reconciler.plan.model import Change, FieldDiff, Refs

META = (FieldDiff(("metadata", "k"), "add", None, 1),)


def _steps(changes: list[Change], phase: Phase) -> list[Step]:
    return [s for s in steps_of(changes) if s.phase == phase]


def _item_patch(n: int, parent: str = "f1") -> Change:
    return Change(
        address=addr.item(f"/a/{n:05}.jpg"),
        kind=addr.Kind.ITEM,
        actions=(Action.PATCH,),
        before=payloads.item(f"/a/{n:05}.jpg"),
        after=payloads.item(f"/a/{n:05}.jpg", {"k": 1}),
        diff=META,
        refs=Refs(uuid=f"i{n}", from_parent_uuid=parent),
    )


def test_item_patches_travel_1000_per_call_in_one_wave() -> None:
    steps = _steps([_item_patch(n) for n in range(2500)], Phase.PATCH_ITEMS)
    waves = bundle_phase(Phase.PATCH_ITEMS, steps)
    assert len(waves) == 1
    assert [len(b) for b in waves[0]] == [1000, 1000, 500]
    assert [s.key for b in waves[0] for s in b.steps] == [s.key for s in steps]


def test_item_moves_group_by_source_and_target() -> None:
    def move(n: int, source: str, target: str | None, target_path: str) -> Change:
        return Change(
            address=addr.item(f"{target_path}/{n}.jpg"),
            kind=addr.Kind.ITEM,
            actions=(Action.MOVE,),
            before=payloads.item(f"/src/{n}.jpg"),
            after=payloads.item(f"{target_path}/{n}.jpg"),
            depends_on=() if target else (addr.folder(target_path),),
            refs=Refs(
                uuid=f"i{n}", from_parent_uuid=source, parent_uuid=target, parent_path=target_path
            ),
        )

    changes = [
        move(1, "s1", "t1", "/t1"),
        move(2, "s1", "t1", "/t1"),
        move(3, "s2", "t1", "/t1"),
        move(4, "s1", None, "/new"),  # into a folder this plan creates
    ]
    waves = bundle_phase(Phase.MOVE_ITEMS, _steps(changes, Phase.MOVE_ITEMS))
    assert len(waves) == 1
    groups = {b.key: sorted(s.change.refs.uuid or "" for s in b.steps) for b in waves[0]}
    assert groups == {
        ("move-items", "s1", "t1"): ["i1", "i2"],
        ("move-items", "s2", "t1"): ["i3"],
        ("move-items", "s1", "folder:/new"): ["i4"],
    }


def _folder(
    path: str, *actions: Action, uuid: str | None = None, parent: str | None = None
) -> Change:
    before = payloads.folder(path) if uuid else None
    return Change(
        address=addr.folder(path),
        kind=addr.Kind.FOLDER,
        actions=actions,
        before=before,
        after=None if Action.DELETE in actions else payloads.folder(path),
        refs=Refs(uuid=uuid, from_parent_uuid=parent, parent_path=addr.parent_path(path)),
    )


def test_creates_run_parents_first_and_deletes_children_first() -> None:
    creates = [_folder(p, Action.CREATE) for p in ("/a/b/c", "/a", "/x", "/a/b")]
    waves = bundle_phase(Phase.CREATE_FOLDERS, _steps(creates, Phase.CREATE_FOLDERS))
    assert [sorted(b.steps[0].address for b in w) for w in waves] == [
        ["folder:/a", "folder:/x"],
        ["folder:/a/b"],
        ["folder:/a/b/c"],
    ]
    deletes = [
        _folder(p, Action.DELETE, uuid=f"u{n}") for n, p in enumerate(("/a", "/a/b/c", "/a/b"))
    ]
    waves = bundle_phase(Phase.DELETE_FOLDERS, _steps(deletes, Phase.DELETE_FOLDERS))
    assert [[b.steps[0].address for b in w] for w in waves] == [
        ["folder:/a/b/c"],
        ["folder:/a/b"],
        ["folder:/a"],
    ]


def test_replace_phase_deletes_items_then_folders_deepest_first() -> None:
    item = Change(
        address="item:/s/sub/x.jpg",
        kind=addr.Kind.ITEM,
        actions=(Action.DELETE,),
        before=payloads.item("/s/sub/x.jpg"),
        refs=Refs(uuid="i1", from_parent_uuid="sub"),
    )
    sub = _folder("/s/sub", Action.DELETE, uuid="sub", parent="s")
    sub = dataclasses.replace(sub, depends_on=("item:/s/sub/x.jpg",))
    old = Change(
        address="folder:/s",
        kind=addr.Kind.FOLDER,
        actions=(Action.DELETE, Action.CREATE),
        before=payloads.folder("/s"),
        after=payloads.folder("/s"),
        depends_on=("folder:/s/sub",),
        refs=Refs(uuid="s"),
    )
    waves = bundle_phase(Phase.REPLACE, _steps([item, sub, old], Phase.REPLACE))
    assert [[s.address for b in w for s in b.steps] for w in waves] == [
        ["item:/s/sub/x.jpg"],
        ["folder:/s/sub"],
        ["folder:/s"],
    ]


def test_folder_moves_go_to_shallow_targets_first_grouped_by_parent() -> None:
    def move(path: str, uuid: str, parent_uuid: str | None) -> Change:
        return Change(
            address=addr.folder(path),
            kind=addr.Kind.FOLDER,
            actions=(Action.MOVE,),
            refs=Refs(uuid=uuid, parent_uuid=parent_uuid, parent_path=addr.parent_path(path)),
        )

    changes = [move("/y/x", "X", "Y"), move("/y", "Y", None), move("/y/z", "Z", "Y")]
    waves = bundle_phase(Phase.MOVE_FOLDERS, _steps(changes, Phase.MOVE_FOLDERS))
    assert [[(b.key, len(b)) for b in w] for w in waves] == [
        [(("move-folders", None), 1)],
        [(("move-folders", "Y"), 2)],
    ]


def _grant(folder: str, group: str, role: str, folder_uuid: str | None) -> Change:
    return Change(
        address=addr.folder_group(folder, group),
        kind=addr.Kind.FOLDER_GROUP,
        actions=(Action.GRANT,),
        after=RolePayload(role),
        depends_on=() if folder_uuid else (addr.folder(folder),),
        refs=Refs(folder_uuid=folder_uuid, group_hash=f"h-{group}"),
    )


def test_grants_group_by_object_and_role() -> None:
    changes = [
        _grant("/a", "g1", "user", "A"),
        _grant("/a", "g2", "user", "A"),
        _grant("/a", "g3", "admin", "A"),
        _grant("/new", "g1", "user", None),
    ]
    waves = bundle_phase(Phase.GRANTS, _steps(changes, Phase.GRANTS))
    keys = {b.key: len(b) for b in waves[0]}
    assert keys == {
        ("grant", "A", "user"): 2,
        ("grant", "A", "admin"): 1,
        ("grant", "folder:/new", "user"): 1,
    }


def _unlink(n: int, hashes: int, dataset: str = "D") -> Change:
    return Change(
        address=addr.link("ds", f"/a/{n}.jpg"),
        kind=addr.Kind.LINK,
        actions=(Action.UNLINK,),
        refs=Refs(
            dataset_uuid=dataset,
            item_uuid=f"i{n}",
            data_hashes=tuple(f"h{n}-{k}" for k in range(hashes)),
        ),
    )


def test_unlinks_fill_calls_by_hash_count_without_splitting_a_change() -> None:
    changes = [_unlink(1, 600), _unlink(2, 300), _unlink(3, 200), _unlink(4, 1), _unlink(5, 1, "E")]
    waves = bundle_phase(Phase.UNLINK, _steps(changes, Phase.UNLINK), size=1000)
    sizes = [(b.key, [len(s.change.refs.data_hashes) for s in b.steps]) for b in waves[0]]
    assert sizes == [
        (("unlink", "D"), [600, 300]),
        (("unlink", "D"), [200, 1]),
        (("unlink", "E"), [1]),
    ]


def test_links_go_per_dataset_in_large_batches() -> None:
    changes = [
        Change(
            address=addr.link("ds", f"/a/{n}.jpg"),
            kind=addr.Kind.LINK,
            actions=(Action.LINK,),
            after=LinkPayload(f"/a/{n}.jpg"),
            depends_on=("dataset:new",) if n % 2 else (),
            refs=Refs(dataset_uuid=None if n % 2 else "D", item_uuid=f"i{n}"),
        )
        for n in range(2100)
    ]
    waves = bundle_phase(Phase.LINK, _steps(changes, Phase.LINK))
    assert sorted((str(b.key[1]), len(b)) for b in waves[0]) == [
        ("D", 50),
        ("D", 1000),
        ("dataset:new", 50),
        ("dataset:new", 1000),
    ]


def test_a_phase_refuses_steps_of_another() -> None:
    steps = _steps([_item_patch(1)], Phase.PATCH_ITEMS)
    with pytest.raises(ValueError, match="another phase"):
        bundle_phase(Phase.MOVE_ITEMS, steps)
    assert bundle_phase(Phase.MOVE_ITEMS, []) == []


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from("abc"), st.integers(0, 3)), min_size=1, max_size=60),
    st.integers(1, 7),
)
def test_item_deletes_partition_exactly_by_parent(
    parents: list[tuple[str, int]], size: int
) -> None:
    changes = [
        Change(
            address=addr.item(f"/{p}/{n}-{k}.jpg"),
            kind=addr.Kind.ITEM,
            actions=(Action.DELETE,),
            before=payloads.item(f"/{p}/{n}-{k}.jpg"),
            refs=Refs(uuid=f"{p}{n}-{k}", from_parent_uuid=p),
        )
        for k, (p, n) in enumerate(parents)
    ]
    steps = _steps(changes, Phase.DELETE_ITEMS)
    waves = bundle_phase(Phase.DELETE_ITEMS, steps, size=size)
    assert len(waves) == 1
    seen = [s.key for b in waves[0] for s in b.steps]
    assert sorted(seen) == sorted(s.key for s in steps)  # every step exactly once
    for bundle in waves[0]:
        assert 1 <= len(bundle) <= size
        assert {s.change.refs.from_parent_uuid for s in bundle.steps} == {bundle.key[1]}
    per_parent = {p: sum(1 for q, _ in parents if q == p) for p, _ in parents}
    calls = {p: -(-count // size) for p, count in per_parent.items()}
    assert len(waves[0]) == sum(calls.values())  # the fewest calls per parent
