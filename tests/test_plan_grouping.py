"""Grouped text: alike changes fold into one block; nothing destructive is ever folded away."""

from __future__ import annotations

import pytest
from helpers import payloads
from helpers.plans import sealed_plan

from reconciler.kinds.link import LinkPayload
from reconciler.model import addresses as addr
from reconciler.plan import Action, Change, Refs, Refusal, render_text
from reconciler.plan.grouping import GROUP_AT, VARIES, Group, group_changes
from reconciler.plan.model import FieldDiff


def _patch(n: int, *, source: str = "items.yaml:3", before: object = "val") -> Change:
    path = f"/big/part{n // 1000:03d}/item{n:06d}.jpg"
    return Change(
        address=addr.item(path),
        kind=addr.Kind.ITEM,
        actions=(Action.PATCH,),
        before=payloads.item(path, {"split": before}),
        after=payloads.item(path, {"split": "train"}),
        diff=(FieldDiff(("metadata", "split"), "change", before, "train"),),
        source=source,
        refs=Refs(uuid=f"u{n}"),
    )


def _add_key(n: int, source: str) -> Change:
    path = f"/cams/c{n:06d}.mp4"
    return Change(
        address=addr.item(path),
        kind=addr.Kind.ITEM,
        actions=(Action.PATCH,),
        before=payloads.item(path),
        after=payloads.item(path, {"modality": "video"}),
        diff=(FieldDiff(("metadata", "modality"), "add", None, "video"),),
        source=source,
        refs=Refs(uuid=f"c{n}"),
    )


def _unlink(n: int) -> Change:
    path = f"/big/part000/item{n:06d}.jpg"
    return Change(
        address=addr.link("train", path),
        kind=addr.Kind.LINK,
        actions=(Action.UNLINK,),
        before=LinkPayload(path),
        source="datasets.yaml:7",
        reason="no longer selected",
        refs=Refs(dataset_uuid="d", item_uuid=f"u{n}", data_hashes=(f"h{n}",)),
    )


def _item_delete(n: int) -> Change:
    path = f"/old/i{n:04d}.jpg"
    return Change(
        address=addr.item(path),
        kind=addr.Kind.ITEM,
        actions=(Action.DELETE,),
        before=payloads.item(path),
        reason="not declared; prune: owned",
        refs=Refs(uuid=f"old{n}"),
    )


@pytest.mark.slow
def test_100000_changes_from_three_rules_print_in_under_100_lines_with_every_destructive_one() -> (
    None
):
    changes = [_patch(n) for n in range(60_000)]
    changes += [_patch(n, source="items.yaml:9") for n in range(60_000, 80_000)]
    changes += [_add_key(n, "items.yaml:14") for n in range(20_000)]
    changes += [_unlink(n) for n in range(30)] + [_item_delete(n) for n in range(20)]
    text = render_text(sealed_plan(changes))
    lines = text.splitlines()
    assert len(lines) < 100 + 50  # 50 destructive changes, each on its own line
    assert len([x for x in lines if x.strip().startswith("- ")]) == 50
    for n in range(30):
        assert f"  - link:train#/big/part000/item{n:06d}.jpg  [datasets.yaml:7]" in lines
    for n in range(20):
        assert f"  - item:/old/i{n:04d}.jpg" in lines
    assert "  ~ 60000 × item  [items.yaml:3]" in lines
    assert "  ~ 20000 × item  [items.yaml:9]" in lines
    assert "  ~ 20000 × item  [items.yaml:14]" in lines
    assert '        metadata.modality: + "video"' in lines
    assert "      … and 59997 more" in lines
    assert "      item:/big/part000/item000000.jpg" in lines


@pytest.mark.slow
def test_without_destructive_changes_100000_changes_print_in_under_100_lines() -> None:
    changes = [_patch(n, source=f"items.yaml:{3 + n % 3}") for n in range(100_000)]
    assert len(render_text(sealed_plan(changes)).splitlines()) < 100


def test_a_plan_of_heterogeneous_changes_prints_as_in_full() -> None:
    changes = [_patch(n, source=f"items.yaml:{n}") for n in range(6)]
    changes += [_add_key(n, "items.yaml:40") for n in range(GROUP_AT - 1)]
    plan = sealed_plan(changes)
    assert render_text(plan) == render_text(plan, detail="full")
    assert "×" not in render_text(plan)


def test_the_shared_diff_says_which_values_vary() -> None:
    changes = [_patch(n, before=f"v{n % 2}") for n in range(GROUP_AT)]
    lines = render_text(sealed_plan(changes)).splitlines()
    assert '        metadata.split: (varies) → "train"' in lines
    (group,) = group_changes(sealed_plan(changes).changes)
    assert isinstance(group, Group) and group.diff[0].before is VARIES


def test_manifest_rows_group_by_manifest_file_with_their_line_range() -> None:
    changes = [_patch(n, source=f"manifests/splits.jsonl:{n + 1}") for n in range(40)]
    lines = render_text(sealed_plan(changes)).splitlines()
    assert "  ~ 40 × item  [manifests/splits.jsonl:1-40]" in lines


def test_detail_full_lists_every_change() -> None:
    changes = [_patch(n) for n in range(50)]
    text = render_text(sealed_plan(changes), detail="full")
    assert text.count("  ~ item:/big/") == 50
    assert "×" not in text


def test_detail_summary_prints_only_the_counts() -> None:
    changes = [_patch(n) for n in range(50)] + [_unlink(1)]
    refusal = Refusal("change-threshold", "too many", (), False, 50)
    text = render_text(sealed_plan(changes, (refusal,)), detail="summary")
    assert "item:" not in text and "link:" not in text
    rows = [line.split() for line in text.splitlines()]
    assert ["change", "50"] in rows
    assert ["unlink", "1"] in rows
    assert ["refusals", "(refused", "unless", "--force)", "1"] in rows
    assert text.rstrip().splitlines()[-1].startswith("Plan: 0 to create, 50 to change")


def test_alike_creates_group_with_their_shared_and_varying_values() -> None:
    changes = [
        Change(
            address=f"folder:/synced/s{n}",
            kind=addr.Kind.FOLDER,
            actions=(Action.CREATE, Action.SYNC),
            after=payloads.folder(f"/synced/s{n}", description=f"d{n}", metadata={"team": "ml"}),
            source="folders.yaml:20",
        )
        for n in range(GROUP_AT)
    ]
    lines = render_text(sealed_plan(changes)).splitlines()
    assert f"  + {GROUP_AT} × folder (then sync)  [folders.yaml:20]" in lines
    assert "        description: (varies)" in lines
    assert '        metadata: {"team": "ml"}' in lines  # the shared value, shown as it is
