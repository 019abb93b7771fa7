"""``Scope``: what a run reads, derived from the desired state."""

from __future__ import annotations

import pytest

from reconciler.live import Scope
from reconciler.model.desired import (
    DesiredDataset,
    DesiredFolder,
    DesiredGroup,
    DesiredState,
    Ownership,
    SandboxTarget,
    Source,
    Target,
)

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
