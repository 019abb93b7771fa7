"""Plans built in code: a sealed plan from a list of changes (for the renderers), one with
hostile live names, a large one built by the real planner (a metadata rule over N items,
plus folders it deletes), a large synthetic one, the day-two edits of examples/realistic, and
a plan file as written with one change line replaced and sealed again by hand."""

from __future__ import annotations

import hashlib
from pathlib import Path

from helpers import payloads
from reconciler.config import load_config
from reconciler.kinds.access import RolePayload
from reconciler.model.addresses import Kind
from reconciler.model.desired import OWNER_KEY
from reconciler.model.live import LiveFolder, LiveItem, LiveState
from reconciler.plan import Change, FieldDiff, Plan, Refusal, diff
from reconciler.plan.actions import Action
from reconciler.plan.document import canonical_spliced, sealed
from reconciler.plan.model import summarise
from reconciler.plan.order import ordered
from reconciler.plan.planfile import _as_written


def sealed_plan(changes: list[Change], refusals: tuple[Refusal, ...] = ()) -> Plan:
    """``changes`` in the planner's order, summarised and sealed as ``reconciler plan`` would."""
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


# Each one tries something: close the data's <script>, inject markup or an attribute, break
# out of a JS string, hide or reorder text (bidi override, zero-width), fake a new line.
HOSTILE = (
    "</script><script>window.pwned=1</script>",
    '<img src=x onerror="window.pwned=2">&amp;"quoted"\'single\'',
    "line one\nline two\r\u2028",
    "invoice\u202egpj.exe",
    "zero\u200bwidth\u2066isolate\u2069",
    "<!--",
)


def hostile_plan() -> Plan:
    """Every kind of change, each on an object whose name is one of ``HOSTILE``."""
    changes: list[Change] = []
    for n, name in enumerate(HOSTILE):
        path = f"/data/{name}"
        changes.append(
            Change(
                address=f"folder:{path}",
                kind=Kind.FOLDER,
                actions=(Action.DELETE,),
                before=payloads.folder(path, name=name, description=name),
                source=None,
                reason=f"not declared; {name}",
            )
        )
        changes.append(
            Change(
                address=f"item:{path}/{name}.jpg",
                kind=Kind.ITEM,
                actions=(Action.PATCH,),
                before=payloads.item(f"{path}/{name}.jpg", {name: 1}),
                after=payloads.item(f"{path}/{name}.jpg", {name: 2}),
                diff=(FieldDiff(("metadata", name), "change", 1, 2),),
                source=f"items.yaml:{n + 1}",
                reason=name,
            )
        )
    changes.append(
        Change(
            address=f"dataset-user:{HOSTILE[1]}#{HOSTILE[0]}@example.com",
            kind=Kind.DATASET_USER,
            actions=(Action.REVOKE,),
            before=RolePayload("admin"),
            reason=HOSTILE[3],
        )
    )
    refusal = Refusal(
        code="protected", message=HOSTILE[0], addresses=(f"folder:/data/{HOSTILE[1]}",)
    )
    return Plan(
        tool_version="0",
        target=HOSTILE[0],
        ownership_id=HOSTILE[1],
        changes=tuple(changes),
        summary=summarise(tuple(changes)),
        checksum="sha256:0",
        refusals=(refusal,),
    )


def many_item_plan(directory: Path, items: int, *, extra_folders: int = 20) -> Plan:
    """A plan made by ``diff``: one rule sets metadata on ``items`` items in /big (patches),
    and ``extra_folders`` undeclared owned folders are pruned (deletes)."""
    (directory / "reconciler.yaml").write_text(
        "version: 1\ntarget: {sandbox: {path: s.sqlite}}\nownership: {id: md}\n"
        "policy: {max_delete_ratio: 1.0, max_change_ratio: 1.0}\n"
    )
    (directory / "items.yaml").write_text(
        "folders:\n  /big:\n    description: big\n"
        "items:\n  - folder: /big\n    metadata: {split: train, reviewed: true}\n"
    )
    desired = load_config(directory)
    big = LiveFolder(uuid="f-big", parent=None, name="big", path="/big", description="big")
    folders = {"f-big": big}
    for n in range(extra_folders):
        uuid = f"f-old-{n}"
        folders[uuid] = LiveFolder(
            uuid=uuid,
            parent="f-big",
            name=f"old-{n:03d}",
            path=f"/big/old-{n:03d}",
            metadata={OWNER_KEY: "md"},
        )
    per_folder = items // 10
    live_items = {
        f"i{n}": LiveItem(
            uuid=f"i{n}",
            parent="f-big",
            folder_path="/big",
            name=f"camera-{n % 10}/frame-{n:06d}.jpg".replace("/", "-"),
            item_type="IMAGE",
            metadata={"split": "test" if n // max(per_folder, 1) % 2 else "val", OWNER_KEY: "md"},
        )
        for n in range(items)
    }
    live = LiveState(
        target="https://api.encord.com",
        scope=("/big",),
        folders=folders,
        paths={f.path: uuid for uuid, f in folders.items()},
        items=live_items,
        listing_counts={"/big": items + 1 + extra_folders},
    )
    return diff(desired, live)


def synthetic_plan(changes: int, *, folders: int = 100, deletes: int = 10) -> Plan:
    """``changes`` item patches spread over ``folders`` folders, and ``deletes`` folder
    deletes: the shape of a large plan, made in a second (the planner takes a minute)."""
    out: list[Change] = [
        Change(
            address=f"folder:/big/old-{n:03d}",
            kind=Kind.FOLDER,
            actions=(Action.DELETE,),
            before=payloads.folder(f"/big/old-{n:03d}"),
            reason="not declared; prune: owned and it carries our ownership marker",
        )
        for n in range(deletes)
    ]
    for n in range(changes):
        path = f"/big/part-{n % folders:03d}/frame-{n:06d}.jpg"
        before = payloads.item(path, {"split": "val", OWNER_KEY: "md"})
        after = payloads.item(path, {"split": "train", OWNER_KEY: "md"})
        out.append(
            Change(
                address=f"item:{path}",
                kind=Kind.ITEM,
                actions=(Action.PATCH,),
                before=before,
                after=after,
                diff=(FieldDiff(("metadata", "split"), "change", "val", "train"),),
                source="items.yaml:5",
                reason="declared metadata differs",
            )
        )
    return Plan(
        tool_version="0",
        target="https://api.encord.com",
        ownership_id="md",
        changes=tuple(out),
        summary=summarise(tuple(out)),
        checksum="sha256:0",
    )


# A second day on examples/realistic: a folder dropped from the config (pruned), one renamed,
# one described anew, a dataset's selection and grants changed, the camera rule's source moved.
DAY_TWO_EDITS: dict[str, tuple[tuple[str, str], ...]] = {
    "folders/curated.yaml": (
        (
            "  /curated/edge-cases:\n    description: Hard examples found in review\n"
            "    groups: {data-qa: admin, labeling-ops: user}\n",
            "",
        ),
        ("description: Highway scenes", "description: Highway and motorway scenes"),
        (
            "  /curated/driving/urban:\n    description: Urban scenes",
            "  /curated/driving/city:\n    description: Urban scenes\n"
            "    previously: [/curated/driving/urban]",
        ),
    ),
    "datasets.yaml": (
        ("match: {metadata: {split: val}}", "match: {metadata: {split: train}}"),
        ("groups: {labeling-ops: user, perception-ml: admin}", "groups: {perception-ml: admin}"),
    ),
    "items.yaml": (("source: s3://acme-raw/cameras/}", "source: s3://acme-raw/cameras-v2/}"),),
}


def edit_day_two(config: Path) -> None:
    """Apply ``DAY_TWO_EDITS`` to a copy of examples/realistic (each edit must apply)."""
    for name, edits in DAY_TWO_EDITS.items():
        path = config / name
        text = path.read_text()
        for old, new in edits:
            assert old in text, f"{name}: {old!r} not found; update DAY_TWO_EDITS"
            text = text.replace(old, new, 1)
        path.write_text(text)


def resealed_as_written(text: str, index: int, line: str) -> str:
    """The plan file ``text`` (as ``dumps`` writes it) with change line ``index`` replaced by
    ``line`` and its checksum made again, still laid out as written: judged by its lines, so
    only its build can refuse such a line."""
    written = _as_written(text)
    assert written is not None
    head, lines = written
    old, lines[index] = lines[index], line
    canonical = canonical_spliced(head, ",".join(lines))
    assert canonical is not None
    digest = "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()
    return text.replace(old, line).replace(head["checksum"], digest)
