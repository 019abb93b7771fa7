"""Renderers: Terraform-style text, and markdown that always fits a PR comment while keeping
every delete visible."""

from __future__ import annotations

import dataclasses
import re

import pytest
from helpers import payloads
from helpers.plans import sealed_plan

from reconciler.kinds.access import RolePayload
from reconciler.kinds.group import GroupPayload
from reconciler.kinds.link import LinkPayload
from reconciler.model import addresses as addr
from reconciler.plan import Action, Change, Refs, Refusal, render_markdown, render_text
from reconciler.plan.model import FieldDiff

LIMIT = 65_536


def _folder_delete(path: str, items: int = 0) -> list[Change]:
    out = [
        Change(
            address=addr.item(f"{path}/i{n:05d}.jpg"),
            kind=addr.Kind.ITEM,
            actions=(Action.DELETE,),
            before=payloads.item(f"{path}/i{n:05d}.jpg"),
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
            before=payloads.folder(path),
            reason="not declared; prune: owned",
            depends_on=tuple(c.address for c in out),
            refs=Refs(uuid=f"folder-{path}"),
        )
    )
    return out


def _patch(n: int, source: str = "items.yaml:3") -> Change:
    path = f"/big/part{n // 1000:03d}/item{n:06d}.jpg"
    return Change(
        address=addr.item(path),
        kind=addr.Kind.ITEM,
        actions=(Action.PATCH,),
        before=payloads.item(path, {"split": "val"}),
        after=payloads.item(path, {"split": "train"}),
        diff=(FieldDiff(("metadata", "split"), "change", "val", "train"),),
        source=source,
        refs=Refs(uuid=f"u{n}"),
    )


def test_text_uses_terraform_symbols_and_lists_deletes_first() -> None:
    changes = [
        *_folder_delete("/old", items=2),
        _patch(1),
        Change(
            address="folder:/new",
            kind=addr.Kind.FOLDER,
            actions=(Action.MOVE, Action.PATCH),
            previous_address="folder:/was",
            before=payloads.folder("/was", description="a"),
            after=payloads.folder("/new", description="b"),
            diff=(
                FieldDiff(("path",), "change", "/was", "/new"),
                FieldDiff(("description",), "change", "a", "b"),
            ),
        ),
        Change(
            address="folder:/made",
            kind=addr.Kind.FOLDER,
            actions=(Action.CREATE, Action.SYNC),
            after=payloads.folder("/made", description="d"),
        ),
        Change(
            address="dataset-user:ds#a@x.com",
            kind=addr.Kind.DATASET_USER,
            actions=(Action.REVOKE, Action.GRANT),
            before=RolePayload("user"),
            after=RolePayload("admin"),
            diff=(FieldDiff(("role",), "change", "user", "admin"),),
        ),
    ]
    text = render_text(sealed_plan(changes))
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
    # Each change from its own line: nothing groups, so the fold must truncate.
    changes = [_patch(n, source=f"items.yaml:{n}") for n in range(100_000)]
    deleted_folders = [f"/gone/f{n:03d}" for n in range(300)]
    for n, path in enumerate(deleted_folders):
        changes += _folder_delete(path, items=n % 7)
    changes.append(
        Change(
            address="group:old-team",
            kind=addr.Kind.GROUP,
            actions=(Action.DELETE,),
            before=GroupPayload("old-team", "", ()),
            refs=Refs(uuid="g"),
        )
    )
    plan = sealed_plan(
        changes,
        (Refusal("delete-threshold", "too many deletes", ("folder:/gone/f000",), False, 1),),
    )
    text = render_markdown(plan)
    assert len(text) <= LIMIT
    for path in deleted_folders:
        assert f"- folder:{path}" in text
    assert "- group:old-team" in text
    assert "(and 6 items inside)" in text  # item deletes summarised on their folder's line
    assert text.count("#   not declared; prune: owned") == 300  # each with its reason
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
    text = render_markdown(sealed_plan(changes))
    assert len(text) <= LIMIT
    for team in range(40):  # every delete still visible, as a counted group
        assert f"- 600 folders under /org/team{team:02d}/ (with 600 items inside)" in text


def test_markdown_of_an_empty_plan() -> None:
    text = render_markdown(sealed_plan([]))
    assert "No changes. The organisation matches the configuration." in text
    assert "<details>" not in text


def _unlink(n: int, dataset: str = "train") -> Change:
    path = f"/big/part{n // 1000:03d}/item{n:06d}.jpg"
    return Change(
        address=addr.link(dataset, path),
        kind=addr.Kind.LINK,
        actions=(Action.UNLINK,),
        before=LinkPayload(path),
        source="datasets.yaml:7",
        reason="not selected by any selector; unlink: owned",
        refs=Refs(dataset_uuid="d", item_uuid=f"u{n}", data_hashes=(f"h{n}",)),
    )


def _revoke(n: int) -> Change:
    return Change(
        address=addr.folder_group(f"/team{n}", "old-admins"),
        kind=addr.Kind.FOLDER_GROUP,
        actions=(Action.REVOKE,),
        before=RolePayload("admin"),
        source=f"folders.yaml:{n + 1}",
        reason="not declared in an authoritative groups map",
        refs=Refs(folder_uuid=f"f{n}", group_hash="g"),
    )


def test_markdown_gives_each_delete_unlink_and_revoke_its_reason_and_source() -> None:
    replaced = Change(
        address="folder:/synced",
        kind=addr.Kind.FOLDER,
        actions=(Action.DELETE, Action.CREATE, Action.SYNC),
        before=payloads.folder("/synced"),
        after=payloads.folder("/synced"),
        source="folders.yaml:12",
        reason="remote URL changed; lost: the folder's UUID, 3 items, 2 dataset links",
        refs=Refs(uuid="s"),
    )
    changes = [*_folder_delete("/old", items=2), replaced, _unlink(1), _revoke(1)]
    text = render_markdown(sealed_plan(changes))
    lines = text.splitlines()
    at = lines.index("- folder:/old  (and 2 items inside)")
    assert lines[at + 1] == "#   not declared; prune: owned"
    at = lines.index("-/+ folder:/synced  [folders.yaml:12]")
    assert lines[at + 1] == "#   " + replaced.reason
    at = lines.index("- link:train#/big/part000/item000001.jpg  [datasets.yaml:7]")
    assert lines[at + 1] == "#   not selected by any selector; unlink: owned"
    at = lines.index("- folder-group:/team1#old-admins  [folders.yaml:2]")
    assert lines[at + 1] == "#   not declared in an authoritative groups map"
    assert text.index("#### Unlinks and revokes (2)") < text.find("<details>") or (
        "<details>" not in text
    )


@pytest.mark.slow
def test_markdown_keeps_100000_unlinks_visible_as_counted_groups() -> None:
    changes = [_unlink(n, dataset=f"set{n % 4}") for n in range(100_000)]
    changes += [_revoke(n) for n in range(3)]
    text = render_markdown(sealed_plan(changes))
    assert len(text) <= LIMIT
    assert "<details>" not in text  # nothing destructive is folded away
    lines = text.splitlines()
    assert lines.count("- 100000 × link unlinked  [datasets.yaml:7]") == 1
    for n in range(3):
        assert f"- 1 × folder-group revoked  [folders.yaml:{n + 1}]" in lines


@pytest.mark.slow
def test_markdown_folds_each_group_of_alike_changes_into_its_own_details() -> None:
    changes = [_patch(n, source=f"items.yaml:{3 + n % 3}") for n in range(100_000)]
    text = render_markdown(sealed_plan(changes))
    assert len(text) <= LIMIT
    for line in (3, 4, 5):
        count = len(range(line - 3, 100_000, 3))
        assert (
            f"<details><summary><code>~ {count} × item  [items.yaml:{line}]</code></summary>"
            in text
        )
    assert text.count('metadata.split: "val" → "train"') == 3
    assert text.count("  … and ") == 3
    assert "see the JSON plan" not in text  # everything fits once grouped


def test_markdown_of_a_golden_plan_carries_every_destructive_reason() -> None:
    from test_plan_golden import CASES, plan_case

    for case in CASES:
        plan = plan_case(case)
        text = render_markdown(plan)
        for change in plan.changes:
            if change.is_destructive and change.reason and change.kind != "item":
                assert f"#   {change.reason}" in text, (case, change.address)
            if change.is_destructive and change.source:
                assert f"  [{change.source}]" in text, (case, change.address)


def test_live_names_cannot_forge_lines_or_reorder_text() -> None:
    """Whoever can name a folder must not add lines to a plan, hide text behind a
    right-to-left override or send terminal escape sequences."""
    from reconciler.drift.lines import unmanaged_line
    from reconciler.drift.model import Unmanaged
    from reconciler.plan.render_markdown import render_markdown
    from reconciler.plan.render_text import render_text

    forged = "/raw/x\n  - folder:/prod  [prod.yaml:1]\u202eevil\x1b[2J\x00"
    plan = dataclasses.replace(
        sealed_plan(_folder_delete(forged, items=1)), unmanaged=(f"folder:{forged}/other",)
    )
    text = render_text(plan, detail="full")
    assert "\u202e" not in text and "\x1b" not in text and "\x00" not in text
    assert "\n  - folder:/prod" not in text
    assert "⟨U+000A⟩" in text and "⟨U+202E⟩" in text
    markdown = render_markdown(plan)
    assert "\u202e" not in markdown and "\x1b" not in markdown
    line = unmanaged_line(Unmanaged(address=f"folder:{forged}", root="/raw"))
    assert "\n" not in line and "⟨U+001B⟩" in line
