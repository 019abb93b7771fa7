"""``reconciler.drift.render_markdown``: fits a PR comment or a job summary (65,536 characters)
by construction, worst first, the long tail folded into ``<details>`` with counts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.config import load_config
from reconciler.drift import AuditOptions, Drift, DriftKind, DriftReport, Unmanaged, audit
from reconciler.drift.checks import POLICY
from reconciler.drift.model import Check
from reconciler.drift.render_markdown import LIMIT, render_markdown
from reconciler.model.desired import OWNER_KEY
from reconciler.model.live import LiveFolder, LiveItem, LiveState
from reconciler.plan import diff
from reconciler.plan.actions import Action
from reconciler.plan.model import FieldDiff, Refusal

ITEMS = 10_000


def _ten_thousand_drifted_items(tmp_path: Path) -> DriftReport:
    (tmp_path / "reconciler.yaml").write_text(
        "version: 1\ntarget: {sandbox: {path: s.sqlite}}\nownership: {id: md}\n"
    )
    (tmp_path / "items.yaml").write_text(
        "folders:\n  /big:\n    description: big\n"
        "items:\n  - folder: /big\n    metadata: {split: train, reviewed: true}\n"
    )
    desired = load_config(tmp_path)
    big = LiveFolder(uuid="f-big", parent=None, name="big", path="/big", description="big")
    items = {
        f"i{n}": LiveItem(
            uuid=f"i{n}",
            parent="f-big",
            folder_path="/big",
            name=f"frame-{n:06d}-{'x' * 40}.jpg",
            item_type="IMAGE",
            metadata={"split": "test", OWNER_KEY: "md"},
        )
        for n in range(ITEMS)
    }
    live = LiveState(
        target="https://api.encord.com",
        scope=("/big",),
        folders={"f-big": big},
        paths={"/big": "f-big"},
        items=items,
        listing_counts={"/big": ITEMS + 1},
    )
    plan = diff(desired, live)
    return audit(plan, desired, live, options=AuditOptions(checked_at="2024-05-01T03:00:00+00:00"))


def test_ten_thousand_drifted_items_fit_and_are_counted(tmp_path: Path) -> None:
    report = _ten_thousand_drifted_items(tmp_path)
    assert len(report.drift) == ITEMS
    assert {d.kind for d in report.drift} == {DriftKind.METADATA}
    text = render_markdown(report)
    assert len(text) <= LIMIT
    assert f"**{ITEMS} drifted** ({ITEMS} metadata)" in text
    assert f"<details><summary>Item metadata and links ({ITEMS})</summary>" in text
    shown = text.count("~ metadata")
    assert 50 < shown < ITEMS
    assert f"… and {ITEMS - shown} more (see `reconciler drift --format json`)" in text
    assert f"| `rule:/big` | {ITEMS} |" in text  # counts per declared object
    assert _fences_balanced(text)


def _fences_balanced(text: str) -> bool:
    fences = re.findall(r"^(`{3,})(\w*)$", text, flags=re.MULTILINE)
    stack: list[str] = []
    for ticks, lang in fences:
        if stack and ticks == stack[-1] and not lang:
            stack.pop()
        else:
            stack.append(ticks)
    return not stack and text.count("<details>") == text.count("</details>")


def _entry(kind: DriftKind, n: int, *, long: int = 0, destructive: bool = False) -> Drift:
    actions = (Action.DELETE,) if destructive else (Action.PATCH,)
    name = f"obj-{n:05d}" + "y" * long
    address = f"folder:/r/{name}" if kind is not DriftKind.METADATA else f"item:/r/{name}.jpg"
    return Drift(
        kind=kind,
        address=address,
        check=POLICY if kind is DriftKind.EXTRA else f"folder:/r/{name}",
        source=None if kind is DriftKind.EXTRA else f"folders.yaml:{n + 1}",
        fields=tuple(
            FieldDiff(("metadata", f"k{i}"), "change", "a" * long, "b``` `" * 3) for i in range(5)
        ),
        actions=actions,
        summary="s" * (long // 2),
        related=tuple(f"item:/r/{name}/{j}.jpg" for j in range(3)),
    )


def _report(entries: list[Drift], *, unmanaged: int = 0, refusals: int = 0) -> DriftReport:
    return DriftReport(
        tool_version="0.1.0",
        target="https://api.encord.com",
        ownership_id="md",
        config_dir="/repo",
        checked_at=None,
        only=(),
        drift=tuple(entries),
        unmanaged=tuple(Unmanaged(f"folder:/r/hand-{n}", "/r", n) for n in range(unmanaged)),
        refusals=tuple(
            Refusal(code="protected", message="m" * 900, addresses=(f"folder:/p/{n}",))
            for n in range(refusals)
        ),
        checks=(Check(POLICY, "policy", "reconciler.yaml:1"),),
    )


def test_worst_first_and_destructive_entries_open_on_the_page() -> None:
    entries = [_entry(DriftKind.METADATA, n) for n in range(300)]
    entries += [_entry(DriftKind.CHANGED, n) for n in range(300, 320)]
    entries += [_entry(DriftKind.EXTRA, n, destructive=True) for n in range(320, 330)]
    entries += [_entry(DriftKind.ACCESS, n) for n in range(330, 335)]
    entries.sort(key=lambda d: (d.severity, d.address))
    text = render_markdown(_report(entries))
    deletes = text.index("#### Fixed by deleting")
    access = text.index("#### Access and membership (5)")
    changed = text.index("<details><summary>Changed and missing (20)</summary>")
    items = text.index("<details><summary>Item metadata and links (300)</summary>")
    assert deletes < access < changed < items
    assert "#### Fixed by deleting (extra, replaced, renamed by hand) (10)" in text
    first_fold = text.index("<details>")
    assert all(text.index(f"folder:/r/obj-{n:05d}") < first_fold for n in range(320, 335))
    assert "also covers 3 planned changes (3 item)" in text


@pytest.mark.parametrize(
    ("entries", "long", "unmanaged", "refusals"),
    [
        (20_000, 0, 0, 0),
        (3_000, 600, 0, 0),
        (100, 5_000, 10_000, 500),
        (0, 0, 50_000, 0),
    ],
)
def test_any_report_fits_the_limit(entries: int, long: int, unmanaged: int, refusals: int) -> None:
    kinds = list(DriftKind)
    drift = [
        _entry(
            kinds[n % len(kinds)],
            n,
            long=long,
            destructive=kinds[n % len(kinds)] is DriftKind.EXTRA,
        )
        for n in range(entries)
    ]
    drift.sort(key=lambda d: (d.severity, d.address))
    text = render_markdown(_report(drift, unmanaged=unmanaged, refusals=refusals))
    assert len(text) <= LIMIT
    assert _fences_balanced(text)
    assert text.rstrip().endswith("_")  # the footer survived: nothing was cut blindly


@settings(max_examples=40, deadline=None)
@given(
    counts=st.lists(st.integers(0, 400), min_size=8, max_size=8),
    long=st.integers(0, 2_000),
    limit=st.integers(2_000, LIMIT),
)
def test_the_bound_holds_for_any_mix_and_any_limit(
    counts: list[int], long: int, limit: int
) -> None:
    drift: list[Drift] = []
    for kind, count in zip(DriftKind, counts, strict=True):
        drift += [
            _entry(kind, len(drift) + n, long=long, destructive=kind is DriftKind.EXTRA)
            for n in range(count)
        ]
    drift.sort(key=lambda d: (d.severity, d.address))
    text = render_markdown(
        _report(drift, unmanaged=counts[0], refusals=counts[1] % 30), limit=limit
    )
    assert len(text) <= limit
    assert _fences_balanced(text)


def test_in_sync_says_so() -> None:
    text = render_markdown(_report([]))
    assert "**In sync.** 1 declared object matches the organisation." in text  # not "All 1 …s"
    assert "<details>" not in text
