"""``Scope``: what a run reads, derived from the desired state, and what the reader then reads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from encord_data.kit import embedded

from reconciler.live import Scope, read_live
from reconciler.model.desired import (
    OWNER_KEY,
    CloudSync,
    DesiredDataset,
    DesiredFolder,
    DesiredGroup,
    DesiredState,
    DesiredUser,
    MetadataRule,
    MetadataSchema,
    Ownership,
    Policy,
    SandboxTarget,
    Source,
    Target,
)
from reconciler.model.live import LiveState
from reconciler.plan import DiffOptions, diff
from reconciler.wire.enums import StorageUserRole

SRC = Source(file="reconciler.yaml", line=1)


def test_scope_from_desired_reads_the_roots_declared_datasets_and_groups() -> None:
    desired = DesiredState(
        root_dir="/cfg",
        target=Target(sandbox=SandboxTarget(path="/cfg/s.sqlite")),
        ownership=Ownership(id="acme"),
        source=SRC,
        folders={
            "/a/b": DesiredFolder(path="/a/b", source=SRC),
            "/a/b/c": DesiredFolder(path="/a/b/c", source=SRC, previously=("/old/c",)),
            "/z": DesiredFolder(path="/z", source=SRC),
        },
        groups={"annotators": DesiredGroup(name="annotators", source=SRC)},
        datasets={"train": DesiredDataset(title="train", source=SRC)},
    )
    scope = Scope.from_desired(desired)
    assert scope.roots == ("/a/b", "/old/c", "/z")
    assert scope.datasets == frozenset({"train"}) and scope.groups == frozenset({"annotators"})
    assert scope.wants_dataset("train") and not scope.wants_dataset("other")
    assert scope.wants_members("annotators") and not scope.wants_members("other")
    # Groups tagged with our id may be pruned: their members are read, so the plan shows and
    # fingerprints the members a delete removes (and apply re-reads the same).
    assert scope.wants_members("old", "leaving [managed by reconciler: acme]")
    assert not scope.wants_members("theirs", "x [managed by reconciler: someone-else]")
    everything = Scope(roots=("/a",), datasets=None, groups=None)
    assert everything.wants_dataset("any") and everything.wants_members("any")


@pytest.mark.parametrize("root", ["a", "/a/", "//a", ""])
def test_scope_roots_must_be_absolute_folder_paths(root: str) -> None:
    with pytest.raises(ValueError, match="absolute folder path"):
        Scope(roots=(root,))


# --- reading only what the config can change (issue 19, goal 4) ------------------------------

OWNED = "left behind [managed by reconciler: acme]"


def _desired(**parts: Any) -> DesiredState:
    return DesiredState(
        root_dir="/cfg",
        target=Target(sandbox=SandboxTarget(path="/cfg/s.sqlite")),
        ownership=Ownership(id="acme"),
        source=SRC,
        **parts,
    )


def _metadata_only() -> DesiredState:
    return _desired(rules=(MetadataRule(folder="/m", metadata={"k": "v"}, source=SRC),))


def test_a_metadata_only_config_reads_no_roles_users_integrations_or_schema() -> None:
    scope = Scope.from_desired(_metadata_only())
    assert not scope.folder_roles and not scope.read_users
    assert not scope.read_integrations and not scope.read_metadata_schema
    # Groups are still listed (prune may delete ours); the members of ours are read.
    assert scope.may_prune_group("old", OWNED) and not scope.may_prune_group("x", "theirs")


@pytest.mark.parametrize(
    ("parts", "wanted"),
    [
        ({"folders": {"/m": DesiredFolder(path="/m", groups={}, source=SRC)}}, "folder_roles"),
        ({"users": {"a@x.com": DesiredUser(email="a@x.com", role="MEMBER", source=SRC)}}, "read_users"),
        ({"groups": {"g": DesiredGroup(name="g", members=("a@x.com",), source=SRC)}}, "read_users"),
        ({"groups": {"g": DesiredGroup(name="g", members=(), source=SRC)}}, "read_users"),
        ({"datasets": {"d": DesiredDataset(title="d", users={"a@x.com": "user"}, source=SRC)}}, "read_users"),
        ({"datasets": {"d": DesiredDataset(title="d", users={}, source=SRC)}}, "read_users"),
        ({"groups": {"g": DesiredGroup(name="g", source=SRC)}}, None),
        ({"policy": Policy(users="authoritative")}, "read_users"),
        ({"metadata_schema": MetadataSchema(keys={"k": {"ty": "text"}}, source=SRC)}, "read_metadata_schema"),
        (
            {
                "folders": {
                    "/m": DesiredFolder(
                        path="/m",
                        cloud_sync=CloudSync(integration="s3", remote_url="s3://b/", source=SRC),
                        source=SRC,
                    )
                }
            },
            "read_integrations",
        ),
    ],
)  # fmt: skip
def test_a_config_that_declares_a_kind_reads_what_it_needs(
    parts: dict[str, Any], wanted: str | None
) -> None:
    scope = Scope.from_desired(_desired(**parts))
    read = {
        name: getattr(scope, name)
        for name in ("folder_roles", "read_users", "read_integrations", "read_metadata_schema")
    }
    assert read == {name: name == wanted for name in read}
    # A group declared is not ours to prune, whatever its description says.
    assert not Scope.from_desired(
        _desired(groups={"old": DesiredGroup(name="old", source=SRC)})
    ).may_prune_group("old", OWNED)


def _role_reads(stats: dict[str, int]) -> int:
    return stats.get("GET /v2/public/storage/folders/{uuid}/groups", 0)


_ORG_READS = ("integrations", "metadata")  # the organisation lists a metadata-only config skips


@pytest.mark.anyio
async def test_role_reads_follow_what_the_config_declares(tmp_path: Path) -> None:
    """Counted by the sandbox: a metadata-only config reads no folder roles and none of the
    organisation lists it cannot change; a config declaring folder roles reads every folder's;
    a group we may prune makes the metadata-only config read them all again (its delete is
    judged by the grants it takes away)."""
    async with embedded(tmp_path) as s:
        c = s.client
        m = await c.folders.create("m")
        a = await c.folders.create("a", parent=m.uuid)
        await c.folders.create("b", parent=m.uuid)

        async def reads(desired: DesiredState) -> tuple[dict[str, int], LiveState]:
            await s.reset_stats()
            live = await read_live(c, Scope.from_desired(desired))
            return await s.stats(), live

        stats, live = await reads(_metadata_only())
        assert _role_reads(stats) == 0 and live.folder_groups == {}
        assert [k for k in stats if any(w in k for w in _ORG_READS)] == []
        assert stats["GET /v2/public/organisation/users"] == 1  # who the caller is, once
        assert len(live.folders) == 3 and live.complete

        declared = DesiredFolder(path="/m", groups={}, source=SRC)
        stats, live = await reads(_desired(folders={"/m": declared}))
        assert _role_reads(stats) == 3 and set(live.folder_groups) == set(live.folders)

        group = await c.groups.create("old", OWNED)
        await c.folders.add_groups(a.uuid, [group.group_hash], StorageUserRole.ADMIN)
        stats, live = await reads(_metadata_only())
        assert _role_reads(stats) == 3
        assert live.folder_groups[str(a.uuid)] == {str(group.group_hash): "admin"}
        # ... and the plan withholds deleting the group that holds /m/a's only admin grant.
        plan = diff(_metadata_only(), live, options=DiffOptions())
        assert [r.code for r in plan.refusals if r.withheld] == ["no-admin"]


@pytest.mark.anyio
async def test_duplicates_of_ours_have_their_roles_read_so_healing_keeps_the_one_with_grants(
    tmp_path: Path,
) -> None:
    async with embedded(tmp_path) as s:
        c = s.client
        m = await c.folders.create("m")
        ours = {OWNER_KEY: "acme"}
        older = await c.folders.create("dup", parent=m.uuid, metadata=ours)
        newer = await c.folders.create("dup", parent=m.uuid, metadata=ours)
        await c.folders.create("other", parent=m.uuid)
        group = await c.groups.create("theirs", "not ours")
        await c.folders.add_groups(newer.uuid, [group.group_hash], StorageUserRole.USER)
        desired = _desired(
            folders={"/m/dup": DesiredFolder(path="/m/dup", source=SRC)},
            rules=_metadata_only().rules,
        )
        await s.reset_stats()
        live = await read_live(c, Scope.from_desired(desired))
        assert _role_reads(await s.stats()) == 2  # the two duplicates, nothing else
        plan = diff(desired, live, options=DiffOptions())
    deletes = [c.refs.uuid for c in plan.changes if c.is_delete]
    assert deletes == [str(older.uuid)]
