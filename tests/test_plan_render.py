"""Renderers: Terraform-style text, and markdown that always fits a PR comment while keeping
every delete visible."""

from __future__ import annotations

import re

import pytest

from reconciler.model import addresses as addr
from reconciler.plan import Action, Change, Plan, Refs, Refusal, render_markdown, render_text
from reconciler.plan.document import sealed
from reconciler.plan.model import FieldDiff, summarise
from reconciler.plan.order import ordered

LIMIT = 65_536


def _plan(changes: list[Change], refusals: tuple[Refusal, ...] = ()) -> Plan:
    final = ordered(changes)
    return sealed(
        Plan(
            tool_version="test",
            target="sandbox:/tmp/x",
            ownership_id="acme",
            changes=final,
            summary=summarise(final),
            refusals=refusals,
            checksum="",
        )
    )


def _folder_delete(path: str, items: int = 0) -> list[Change]:
    out = [
        Change(
            address=addr.item(f"{path}/i{n:05d}.jpg"),
            kind=addr.Kind.ITEM,
            actions=(Action.DELETE,),
            before={"path": f"{path}/i{n:05d}.jpg", "metadata": {}},
            reason=f"inside folder {path}, which is deleted",
            refs=Refs(uuid=f"item-{path}-{n}"),
        )
        for n in range(items)
    ]
    out.append(
        Change(
            address=addr.folder(path),
            kind=addr.Kind.FOLDER,
            actions=(Action.DELETE,),
            before={"path": path},
            reason="not declared; prune: owned",
            depends_on=tuple(c.address for c in out),
            refs=Refs(uuid=f"folder-{path}"),
        )
    )
    return out


def _patch(n: int) -> Change:
    path = f"/big/part{n // 1000:03d}/item{n:06d}.jpg"
    return Change(
        address=addr.item(path),
        kind=addr.Kind.ITEM,
        actions=(Action.PATCH,),
        before={"path": path, "metadata": {"split": "val"}},
        after={"path": path, "metadata": {"split": "train"}},
        diff=(FieldDiff(("metadata", "split"), "change", "val", "train"),),
        source="items.yaml:3",
        refs=Refs(uuid=f"u{n}"),
    )


def test_text_uses_terraform_symbols_and_lists_deletes_first() -> None:
    changes = [
        *_folder_delete("/old", items=2),
        _patch(1),
        Change(
            address="folder:/new",
            kind="folder",
            actions=(Action.MOVE, Action.PATCH),
            previous_address="folder:/was",
            before={"path": "/was", "description": "a"},
            after={"path": "/new", "description": "b"},
            diff=(
                FieldDiff(("path",), "change", "/was", "/new"),
                FieldDiff(("description",), "change", "a", "b"),
            ),
        ),
        Change(
            address="folder:/made",
            kind="folder",
            actions=(Action.CREATE, Action.SYNC),
            after={"path": "/made", "name": "made", "description": "d"},
        ),
        Change(
            address="dataset-user:ds#a@x.com",
            kind="dataset-user",
            actions=(Action.REVOKE, Action.GRANT),
            before={"role": "user"},
            after={"role": "admin"},
            diff=(FieldDiff(("role",), "change", "user", "admin"),),
        ),
    ]
    text = render_text(_plan(changes))
    heads = [line.strip() for line in text.splitlines() if re.match(r"^  \S", line)]
    assert heads == [
        "- item:/old/i00001.jpg",
        "- item:/old/i00000.jpg",
        "- folder:/old",
        "+ folder:/made (then sync)",
        "→ folder:/new (from folder:/was)",
        "~ item:/big/part000/item000001.jpg  [items.yaml:3]",
        "~ dataset-user:ds#a@x.com",
    ]
    assert '        description: "a" → "b"' in text
    assert '        metadata.split: "val" → "train"' in text
    assert text.index("Deletes and replacements:") < text.index("Changes:")
    assert text.rstrip().endswith(
        "Plan: 1 to create, 2 to change, 1 to move, 3 to delete, 0 to replace, 0 to link, "
        "0 to unlink, 0 to grant, 0 to revoke, 1 to sync."
    )


@pytest.mark.slow
def test_markdown_of_100000_changes_fits_and_keeps_every_delete() -> None:
    changes = [_patch(n) for n in range(100_000)]
    deleted_folders = [f"/gone/f{n:03d}" for n in range(300)]
    for n, path in enumerate(deleted_folders):
        changes += _folder_delete(path, items=n % 7)
    changes.append(
        Change(
            address="group:old-team",
            kind="group",
            actions=(Action.DELETE,),
            before={"name": "old-team"},
            refs=Refs(uuid="g"),
        )
    )
    plan = _plan(
        changes,
        (Refusal("delete-threshold", "too many deletes", ("folder:/gone/f000",), False, 1),),
    )
    text = render_markdown(plan)
    assert len(text) <= LIMIT
    for path in deleted_folders:
        assert f"- folder:{path}" in text
    assert "- group:old-team" in text
    assert "(and 6 items inside)" in text  # item deletes summarised on their folder's line
    assert "<details><summary>Changes (100000)</summary>" in text
    assert re.search(r"… and \d+ more \(see the JSON plan\)", text)
    assert "**delete-threshold**: too many deletes" in text
    assert text.index("Deletes and replacements") < text.index("<details>")


@pytest.mark.slow
def test_markdown_groups_deletes_when_even_the_folder_lines_do_not_fit() -> None:
    changes: list[Change] = []
    for team in range(40):
        for n in range(600):
            changes += _folder_delete(f"/org/team{team:02d}/run{n:04d}", items=1)
    text = render_markdown(_plan(changes))
    assert len(text) <= LIMIT
    for team in range(40):  # every delete still visible, as a counted group
        assert f"- 600 folders under /org/team{team:02d}/ (with 600 items inside)" in text


def test_markdown_of_an_empty_plan() -> None:
    text = render_markdown(_plan([]))
    assert "No changes. The organisation matches the configuration." in text
    assert "<details>" not in text
