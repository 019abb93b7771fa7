from __future__ import annotations

from reconciler.model.live import LiveDataRow, LiveDataset, LiveFolder, LiveItem, LiveState


def test_snapshot_json_round_trip_keeps_ambiguity_out_of_paths() -> None:
    live = LiveState(
        folders={
            "f1": LiveFolder(uuid="f1", parent=None, name="a", path="/a"),
            "f2": LiveFolder(uuid="f2", parent="f1", name="dup", path="/a/dup"),
            "f3": LiveFolder(uuid="f3", parent="f1", name="dup", path="/a/dup"),
            "f4": LiveFolder(uuid="f4", parent="f3", name="c", path="/a/dup/c"),
        },
        ambiguous={"/a/dup": ("f2", "f3")},
        items={
            "i1": LiveItem(
                uuid="i1", parent="f1", folder_path="/a", name="x.jpg", item_type="image"
            )
        },
        datasets={"d1": LiveDataset(uuid="d1", title="ds", rows=(LiveDataRow("h1", "i1"),))},
    )
    again = LiveState.from_json(live.to_json())
    assert again.paths == {"/a": "f1"}
    assert again.items["i1"].path == "/a/x.jpg"
    assert again.datasets["d1"].rows[0].item_uuid == "i1"
    assert again.to_json() == live.to_json()
