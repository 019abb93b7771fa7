"""Benchmark: how big each rendering of a plan is, in lines and bytes, at 10, 1,000 and
100,000 changes (and the CPU time it takes to render).

The plans are built in memory, as the planner would build them:

* 10 changes: heterogeneous (each from its own line of YAML: patches, creates, a move, a
  link, an unlink, a delete), the kind of plan a small pull request makes;
* 1,000 and 100,000 changes: item metadata patches from three rules, plus 10 unlinks from
  one dataset selector and a deleted folder with 9 items (every one of those 20 destructive
  changes must stay visible in every rendering).

    python bench/bench_render.py                      # 10, 1000, 100000
    python bench/bench_render.py --sizes 10 1000
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from reconciler.kinds.folder import FolderPayload
from reconciler.kinds.item import ItemPayload
from reconciler.kinds.link import LinkPayload
from reconciler.model import addresses as addr
from reconciler.plan import Action, Change, FieldDiff, Plan, Refs, render_markdown, render_text
from reconciler.plan.document import sealed
from reconciler.plan.model import summarise
from reconciler.plan.order import ordered
from reconciler.plan.planfile import dumps

try:  # the HTML report, where it exists
    from reconciler.plan.render_html import render_html
except ImportError:  # pragma: no cover
    render_html = None  # type: ignore[assignment]


def _patch(n: int, source: str) -> Change:
    path = f"/curated/cams/part{n // 1000:03d}/clip{n:06d}.mp4"
    return Change(
        address=addr.item(path),
        kind=addr.Kind.ITEM,
        actions=(Action.PATCH,),
        before=ItemPayload(path, {"split": "val"}),
        after=ItemPayload(path, {"split": "train"}),
        diff=(FieldDiff(("metadata", "split"), "change", "val", "train"),),
        source=source,
        refs=Refs(uuid=f"item-{n}", from_parent_uuid="p"),
    )


def _unlink(n: int) -> Change:
    path = f"/curated/cams/part000/clip{n:06d}.mp4"
    return Change(
        address=addr.link("cameras-train", path),
        kind=addr.Kind.LINK,
        actions=(Action.UNLINK,),
        before=LinkPayload(path),
        source="datasets.yaml:7",
        reason="not selected by any selector; unlink: owned",
        refs=Refs(dataset_uuid="d", item_uuid=f"item-{n}", data_hashes=(f"h{n}",)),
    )


def _deleted_folder(items: int) -> list[Change]:
    out = [
        Change(
            address=addr.item(f"/scratch/old/x{n}.jpg"),
            kind=addr.Kind.ITEM,
            actions=(Action.DELETE,),
            before=ItemPayload(f"/scratch/old/x{n}.jpg", {}),
            reason="inside folder /scratch/old, which is deleted",
            refs=Refs(uuid=f"old-{n}"),
        )
        for n in range(items)
    ]
    out.append(
        Change(
            address=addr.folder("/scratch/old"),
            kind=addr.Kind.FOLDER,
            actions=(Action.DELETE,),
            before=FolderPayload("/scratch/old", "old", "", {}),
            reason=f"not declared; prune: owned; lost with it: {items} items, 0 dataset links",
            depends_on=tuple(c.address for c in out),
            refs=Refs(uuid="old"),
        )
    )
    return out


def _small() -> list[Change]:
    changes = [_patch(n, f"items.yaml:{3 + n}") for n in range(5)]
    changes.append(
        Change(
            address="folder:/curated/new",
            kind=addr.Kind.FOLDER,
            actions=(Action.CREATE,),
            after=FolderPayload("/curated/new", "new", "New", {}),
            source="folders.yaml:4",
        )
    )
    changes.append(
        Change(
            address="folder:/curated/b",
            kind=addr.Kind.FOLDER,
            actions=(Action.MOVE,),
            previous_address="folder:/raw/b",
            before=FolderPayload("/raw/b", "b", "", {}),
            after=FolderPayload("/curated/b", "b", "", {}),
            diff=(FieldDiff(("path",), "change", "/raw/b", "/curated/b"),),
            source="folders.yaml:9",
        )
    )
    changes.append(
        Change(
            address=addr.link("cameras-train", "/curated/x.mp4"),
            kind=addr.Kind.LINK,
            actions=(Action.LINK,),
            after=LinkPayload("/curated/x.mp4"),
            source="datasets.yaml:9",
        )
    )
    changes.append(_unlink(1))
    changes += _deleted_folder(0)
    return changes


def plan_of(size: int) -> Plan:
    if size <= 10:
        changes = _small()[:size]
    else:
        destructive = [_unlink(n) for n in range(10)] + _deleted_folder(9)
        rest = size - len(destructive)
        changes = [_patch(n, f"items.yaml:{3 + 6 * (n % 3)}") for n in range(rest)] + destructive
    final = ordered(changes)
    return sealed(
        Plan(
            tool_version="bench",
            target="https://api.encord.com",
            ownership_id="acme",
            changes=final,
            summary=summarise(final),
            checksum="",
        )
    )


def renderers() -> dict[str, Callable[[Plan], str]]:
    out: dict[str, Callable[[Plan], str]] = {
        "text (grouped)": render_text,
        "text --detail full": lambda p: render_text(p, detail="full"),
        "text --detail summary": lambda p: render_text(p, detail="summary"),
        "markdown": render_markdown,
        "json": dumps,
    }
    if render_html is not None:
        out["html"] = render_html
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 1000, 100_000])
    args = parser.parse_args()
    print("| changes | rendering | lines | bytes | CPU seconds |")
    print("|---:|---|---:|---:|---:|")
    for size in args.sizes:
        plan = plan_of(size)
        for name, render in renderers().items():
            started = time.process_time()
            text = render(plan)
            seconds = time.process_time() - started
            size_bytes = len(text.encode("utf-8"))
            print(
                f"| {size:,} | {name} | {text.count(chr(10)):,} | {size_bytes:,} | {seconds:.2f} |"
            )


if __name__ == "__main__":
    main()
