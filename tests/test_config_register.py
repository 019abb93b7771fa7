"""Registration config: ``folders.<path>.register`` and its manifest (JSONL, CSV), the
cloud-sync additions (``sync: always``, ``metadata_sidecars``), and bounded memory."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from reconciler.config import ConfigError, load_config
from reconciler.config.metadata import SchemaIndex, descriptor
from reconciler.config.registration import default_type, read_register_manifest
from reconciler.model.desired import RegisterRow

SETTINGS = """\
version: 1
target:
  sandbox:
    path: .reconciler/sandbox.sqlite
    integrations: {s3-raw: {provider: s3, root: ./buckets}}
ownership: {id: team-a}
"""


def _read(tmp_path: Path, name: str, text: str, schema: SchemaIndex | None = None):  # type: ignore[no-untyped-def]
    path = tmp_path / name
    path.write_text(text)
    rows, problems = read_register_manifest(path, name, schema)
    return list(rows), [str(p) for p in problems]


def test_rows_default_their_type_and_title_from_the_url(tmp_path: Path) -> None:
    rows, problems = _read(
        tmp_path,
        "m.jsonl",
        '{"url": "s3://b/p/a.JPG", "metadata": {"split": "train"}}\n'
        "\n"
        '{"url": "s3://b/p/v.mp4", "title": "clip.mp4", "type": "video"}\n'
        '{"url": "s3://b/q/scan.nii.gz"}\n'
        '{"url": "s3://b/p/notes", "type": "text"}\n',
    )
    assert problems == []
    assert rows == [
        RegisterRow("s3://b/p/a.JPG", "image", None, {"split": "train"}, "m.jsonl:1"),
        RegisterRow("s3://b/p/v.mp4", "video", "clip.mp4", {}, "m.jsonl:3"),
        RegisterRow("s3://b/q/scan.nii.gz", "nifti", None, {}, "m.jsonl:4"),
        RegisterRow("s3://b/p/notes", "plainText", None, {}, "m.jsonl:5"),
    ]
    assert [r.name for r in rows] == ["a.JPG", "clip.mp4", "scan.nii.gz", "notes"]


def test_every_bad_row_is_reported_at_its_line_and_the_rest_kept(tmp_path: Path) -> None:
    rows, problems = _read(
        tmp_path,
        "m.jsonl",
        '{"url": "s3://b/a.jpg"}\n'
        '{"url": "s3://b/c.xyz"}\n'
        '{"url": "s3://b/d.jpg", "type": "dicomSeries"}\n'
        '{"url": "s3://b/a.jpg", "title": "other.jpg"}\n'
        '{"url": "s3://b/e.jpg", "title": "a.jpg"}\n'
        '{"url": "s3://b/", "type": "image"}\n'
        '{"url": "s3://b/f.jpg", "size": 3}\n'
        '{"url": "s3://b/g.jpg", "metadata": [1]}\n'
        '{"url": "s3://b/h.jpg", "metadata": {"reconciler.owner": "x"}}\n'
        '{"url": "s3://b/i.jpg", "title": "a/b"}\n'
        "[1]\n"
        "{nope\n",
    )
    assert [r.url for r in rows] == ["s3://b/a.jpg"]
    lines = [p.split(":")[1] for p in problems]
    assert lines == [str(n) for n in range(2, 13)]
    assert "cannot tell the type of 'c.xyz'" in problems[0]
    assert "DICOM series cannot be registered from a manifest row" in problems[1]
    assert problems[1].startswith("m.jsonl:3:25: type:")  # at the "type" key
    assert "listed twice" in problems[2]
    assert "title 'a.jpg' is also on line 1" in problems[3]
    assert "names a bucket or prefix" in problems[4]
    assert "unknown key 'size'" in problems[5]


def test_csv_rows_take_url_type_title_and_typed_metadata_columns(tmp_path: Path) -> None:
    schema = SchemaIndex({"n": descriptor("number")}, "reconciler.yaml:1")
    rows, problems = _read(
        tmp_path,
        "m.csv",
        "title,url,n,split\n"
        ",s3://b/a.jpg,1,train\n"
        "bee.png,s3://b/b.png,,\n"
        ",s3://b/c.png,x,val\n"
        ",s3://b/d.png\n",
        schema,
    )
    assert rows == [
        RegisterRow("s3://b/a.jpg", "image", None, {"n": 1, "split": "train"}, "m.csv:2"),
        RegisterRow("s3://b/b.png", "image", "bee.png", {}, "m.csv:3"),
    ]
    assert problems == [
        "m.csv:4:15: column 'n': 'x' is not a number",
        "m.csv:5:1: 2 cells, but the header has 4",
    ]


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("path,split", "header with a 'url' column"),
        ("url,split,split", "column 'split' appears twice"),
        ("url,,x", "empty column name"),
        ("url,reconciler.owner", "ownership marker"),
    ],
)
def test_csv_headers_are_checked(tmp_path: Path, header: str, message: str) -> None:
    rows, problems = _read(tmp_path, "m.csv", header + "\ns3://b/a.jpg,1,2\n")
    assert rows == []
    assert len(problems) == 1 and message in problems[0] and problems[0].startswith("m.csv:1:")


def test_default_type_covers_the_documented_extensions() -> None:
    assert default_type("s3://b/a.tiff") == "image"
    assert default_type("s3://b/a.mov") == "video"
    assert default_type("s3://b/a.flac") == "audio"
    assert default_type("s3://b/a.pdf") == "pdf"
    assert default_type("s3://b/a.txt") == "plainText"
    assert default_type("s3://b/README") is None


def _config(tmp_path: Path, folders: str, manifest: str = "") -> Path:
    (tmp_path / "reconciler.yaml").write_text(SETTINGS)
    (tmp_path / "buckets").mkdir(exist_ok=True)
    (tmp_path / "folders.yaml").write_text(folders)
    (tmp_path / "manifests").mkdir(exist_ok=True)
    (tmp_path / "manifests" / "b.jsonl").write_text(manifest)
    return tmp_path


def test_a_folder_declares_registration_and_cloud_sync_settings(tmp_path: Path) -> None:
    config = _config(
        tmp_path,
        "folders:\n"
        "  /batch:\n"
        "    register: {integration: s3-raw, manifest: manifests/b.jsonl, prune: owned,"
        " metadata: create_only}\n"
        "  /cams:\n"
        "    cloud_sync:\n"
        "      integration: s3-raw\n"
        "      remote_url: s3://raw/cams/\n"
        "      sync: always\n"
        "      metadata_sidecars: {suffix: .metadata.json, paused: true}\n",
        '{"url": "s3://raw/b7/a.jpg"}\n',
    )
    desired = load_config(config)
    registration = desired.folders["/batch"].registration
    assert registration is not None
    assert (registration.integration, registration.manifest) == ("s3-raw", "manifests/b.jsonl")
    assert (registration.metadata, registration.prune) == ("create_only", "owned")
    assert str(registration.source) == "folders.yaml:3"
    assert [r.url for r in registration.rows] == ["s3://raw/b7/a.jpg"]
    cloud = desired.folders["/cams"].cloud_sync
    assert cloud is not None and cloud.sync == "always"
    assert cloud.metadata_sidecars is not None
    assert (cloud.metadata_sidecars.suffix, cloud.metadata_sidecars.paused) == (
        ".metadata.json",
        True,
    )


def test_registration_defaults_to_upsert_and_never_prune(tmp_path: Path) -> None:
    config = _config(
        tmp_path,
        "folders:\n  /batch:\n    register: {integration: s3-raw, manifest: manifests/b.jsonl}\n",
    )
    registration = load_config(config).folders["/batch"].registration
    assert registration is not None
    assert (registration.metadata, registration.prune, len(registration.rows)) == (
        "upsert",
        "never",
        0,
    )


@pytest.mark.parametrize(
    ("folders", "message"),
    [
        (
            "  /batch:\n    register: {integration: s3-raw, manifest: manifests/b.jsonl}\n"
            "    cloud_sync: {integration: s3-raw, remote_url: 's3://raw/x/'}\n",
            "folders.yaml:3:5: /batch: a cloud-synced folder gets its items from its sync",
        ),
        (
            "  /raw:\n    cloud_sync: {integration: s3-raw, remote_url: 's3://raw/x/'}\n"
            "  /raw/batch:\n    register: {integration: s3-raw, manifest: manifests/b.jsonl}\n",
            "folders.yaml:5:5: /raw/batch: inside the cloud-synced folder /raw, whose sync",
        ),
        (
            "  /batch:\n    register: {integration: s3-rw, manifest: manifests/b.jsonl}\n",
            "register integration 's3-rw' is not a sandbox fixture",
        ),
        (
            "  /batch:\n    register: {integration: s3-raw, manifest: manifests/none.jsonl}\n",
            "file manifests/none.jsonl does not exist",
        ),
        (
            "  /batch:\n    register: {integration: s3-raw, manifest: manifests/b.txt}\n",
            "expected a .jsonl or .csv file",
        ),
        (
            "  /batch:\n    register: {integration: s3-raw, manifest: manifests/b.jsonl,"
            " prune: all}\n",
            "register.prune",
        ),
        (
            "  /c:\n    cloud_sync: {integration: s3-raw, remote_url: 's3://raw/x/',"
            " metadata_sidecars: {paused: true}}\n",
            "suffix",
        ),
    ],
)
def test_bad_registrations_are_one_line_each(tmp_path: Path, folders: str, message: str) -> None:
    config = _config(tmp_path, "folders:\n" + folders, '{"url": "s3://raw/b7/a.jpg"}\n')
    with pytest.raises(ConfigError) as raised:
        load_config(config)
    text = [str(d) for d in raised.value.diagnostics]
    assert any(message in line for line in text), text


def test_row_urls_must_fit_the_sandbox_integration(tmp_path: Path) -> None:
    rows = "".join(f'{{"url": "gs://raw/{n}.jpg"}}\n' for n in range(25))
    config = _config(
        tmp_path,
        "folders:\n  /batch:\n    register: {integration: s3-raw, manifest: manifests/b.jsonl}\n",
        '{"url": "s3://raw/ok.jpg"}\n' + rows,
    )
    with pytest.raises(ConfigError) as raised:
        load_config(config)
    text = [str(d) for d in raised.value.diagnostics]
    assert text[0].startswith("folders.yaml:3:5: 5 more rows of manifests/b.jsonl")
    assert text[1].startswith("manifests/b.jsonl:2:1: url 'gs://raw/0.jpg' does not fit")
    assert len(text) == 21


def test_memory_grows_by_a_bounded_amount_per_row(tmp_path: Path) -> None:
    """20,000 rows (the bench reads a million): the rows are kept in compact columns, so
    the peak stays far below what row objects or the file's text would take."""
    count = 20_000
    path = tmp_path / "big.jsonl"
    with path.open("w") as out:
        for n in range(count):
            split = ("train", "val", "test")[n % 3]
            out.write(f'{{"url": "s3://acme-raw/b7/frame-{n:07d}.jpg", "metadata": ')
            out.write(f'{{"split": "{split}", "batch": 7}}}}\n')
    size = path.stat().st_size
    tracemalloc.start()
    try:
        rows, problems = read_register_manifest(path, "big.jsonl", None)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert problems == [] and len(rows) == count
    assert rows.url(count - 1) == f"s3://acme-raw/b7/frame-{count - 1:07d}.jpg"
    assert peak / count < 200, f"{peak / count:.0f} bytes per row"
    assert peak < size * 2.5


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ('{"url": 3}', 'url: expected an object URL like "s3://bucket/path/a.jpg"'),
        ('{"url": "ftp://b/a.jpg"}', "is not an object URL"),
        ('{"url": "s3://b/a.jpg", "title": "a\\u0001b"}', "control characters"),
        ('{"url": "s3://b/a.jpg", "type": 3}', "type: expected one of image"),
        ('{"url": "s3://b/a.jpg", "type": "hologram"}', "unknown item type 'hologram'"),
        ('{"url": "s3://b/a.jpg", "type": "imageGroup"}', "an image group cannot be registered"),
    ],
)
def test_each_row_problem_is_one_line(tmp_path: Path, row: str, message: str) -> None:
    rows, problems = _read(tmp_path, "m.jsonl", row + "\n")
    assert rows == [] and len(problems) == 1
    assert problems[0].startswith("m.jsonl:1:") and message in problems[0]


def test_long_lines_bad_csv_and_unreadable_files_are_reported(tmp_path: Path) -> None:
    from reconciler.config.manifests import MAX_LINE_BYTES

    long_row = '{"url": "s3://b/' + "x" * MAX_LINE_BYTES + '.jpg"}\n'
    rows, problems = _read(tmp_path, "m.jsonl", long_row + '{"url": "s3://b/a.jpg"}\n')
    assert [r.source for r in rows] == ["m.jsonl:2"]
    assert problems == ["m.jsonl:1:1: line longer than 1024 KiB; skipped"]
    rows, problems = _read(tmp_path, "m.csv", 'url\ns3://b/a.jpg\n"s3://b/"b.jpg\n')
    assert [r.url for r in rows] == ["s3://b/a.jpg"]
    assert len(problems) == 1 and "invalid CSV" in problems[0]
    missing, problems2 = read_register_manifest(tmp_path / "none.jsonl", "none.jsonl", None)
    assert len(missing) == 0 and "cannot read manifest" in str(problems2[0])


def test_register_urls_are_checked_against_the_fixture_provider(tmp_path: Path) -> None:
    config = _config(
        tmp_path,
        "folders:\n  /batch:\n    register: {integration: s3-raw, manifest: manifests/b.jsonl}\n"
        "  /other:\n    register: {integration: 00000000-0000-4000-8000-000000000001,"
        " manifest: manifests/b.jsonl}\n",
        '{"url": "s3:///a.jpg"}\n{"url": "s3://b/../a.jpg", "title": "x.jpg"}\n',
    )
    with pytest.raises(ConfigError) as raised:
        load_config(config)
    text = [str(d) for d in raised.value.diagnostics]
    assert any("names a bucket or prefix" in t for t in text), text
    assert any("'..' segments" in t for t in text), text
