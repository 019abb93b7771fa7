"""``reconciler export`` end to end on the embedded sandbox: the files it writes, and one-line
errors for every user mistake."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from encord_data.kit import INTEGRATION, embedded, over_socket, served
from helpers import run_cli

from reconciler.wire.enums import DatasetUserRole, StorageUserRole
from reconciler.wire.storage import CloudSyncedFolderParams, PatchItemPayload


async def prepare(tmp_path: Path) -> Path:
    """A small organisation in an embedded sandbox database; returns the database path."""

    async def go() -> None:
        async with embedded(tmp_path) as s:
            c = s.client
            cur = await c.folders.create("curated", description="Curated", metadata={"team": "ml"})
            await c.folders.create("empty", parent=cur.uuid)
            integration = (await c.integrations.list_all())[0]
            params = CloudSyncedFolderParams(
                integration_uuid=integration.integration_uuid, remote_url="s3://acme-raw/cams/"
            )
            cams = await c.folders.create("cams", parent=cur.uuid, cloud_sync=params)
            job = await c.folders.start_sync(cams.uuid)
            await c.folders.wait_for_sync(cams.uuid, job, timeout_seconds=30)
            items = {i.name: i.uuid async for i in c.items.list_recursive(cams.uuid)}
            await c.items.patch_bulk({items["a.jpg"]: PatchItemPayload(client_metadata={"s": "t"})})
            group = await c.groups.create("annotators", "People")
            await c.groups.add_members(group.group_hash, ["alice@example.com"])
            await c.folders.add_groups(cur.uuid, [group.group_hash], StorageUserRole.USER)
            ds = await c.datasets.create("cams-train", description="Train")
            await c.datasets.link_items(
                ds.dataset_uuid, [items["c.png"], items["d.txt"], items["b.jpg"]]
            )
            await c.datasets.add_groups(ds.dataset_uuid, [group.group_hash], DatasetUserRole.USER)

    await go()
    return tmp_path / "embedded.sqlite"


def _read(out: Path) -> dict[str, Any]:
    docs: dict[str, Any] = {}
    for path in sorted(out.rglob("*")):
        if path.is_file():
            text = path.read_text()
            rel = str(path.relative_to(out))
            docs[rel] = (
                [json.loads(x) for x in text.splitlines()]
                if rel.endswith(".jsonl")
                else yaml.safe_load(text)
            )
    return docs


@pytest.mark.anyio
async def test_export_writes_a_config_directory(tmp_path: Path) -> None:
    db = await prepare(tmp_path)
    out = tmp_path / "out"
    result = run_cli("export", "--root", "/curated/", "--sandbox", str(db), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == (
        f"exported /curated from sandbox:{db}: 3 folders, 1 group, 3 users, 1 dataset, "
        "metadata of 1 item (0 rules, 1 manifest row)"
    )
    docs = _read(out)
    assert sorted(docs) == [
        ".gitignore", "config.schema.json", "datasets.yaml", "folders.yaml", "groups.yaml",
        "items.yaml", "manifests/links-cams-train.jsonl", "manifests/metadata.jsonl",
        "reconciler.yaml", "users.yaml",
    ]  # fmt: skip
    assert docs["users.yaml"]["users"]["admin@sandbox.local"] == "admin"
    # relative to the config directory, which is how the config reads them
    assert docs["reconciler.yaml"]["target"] == {
        "sandbox": {
            "path": "../embedded.sqlite",
            "integrations": {INTEGRATION: {"provider": "s3", "root": "../buckets"}},
        }
    }
    assert docs["folders.yaml"]["folders"] == {
        "/curated": {"description": "Curated", "metadata": {"team": "ml"}, "groups": {"annotators": "user"}},
        "/curated/cams": {"cloud_sync": {"integration": INTEGRATION, "remote_url": "s3://acme-raw/cams/", "sync": "never"}},
        "/curated/empty": {},
    }  # fmt: skip
    assert docs["groups.yaml"]["groups"] == {
        "annotators": {
            "description": "People",
            "members": ["admin@sandbox.local", "alice@example.com"],
        }
    }
    train = docs["datasets.yaml"]["datasets"]["cams-train"]
    assert train["items"] == [
        {"folder": "/curated/cams/night", "recursive": True},
        {"manifest": "manifests/links-cams-train.jsonl"},
    ]
    assert (train["groups"], train["unlink"]) == ({"annotators": "user"}, "never")
    assert docs["manifests/links-cams-train.jsonl"] == [{"path": "/curated/cams/b.jpg"}]
    assert docs["manifests/metadata.jsonl"] == [
        {"path": "/curated/cams/a.jpg", "metadata": {"s": "t"}}
    ]


@pytest.mark.anyio
async def test_the_export_validates_against_the_config_schema(tmp_path: Path) -> None:
    import jsonschema

    from reconciler.config.schema import config_schema

    schema = config_schema()
    out = tmp_path / "out"
    result = run_cli(
        "export", "--root", "/curated", "--sandbox", str(await prepare(tmp_path)), "--out", str(out)
    )
    assert result.returncode == 0, result.stderr
    for name, doc in _read(out).items():
        if name.endswith(".yaml"):
            jsonschema.validate(doc, schema)


@pytest.mark.anyio
async def test_existing_files_are_not_overwritten_without_force(tmp_path: Path) -> None:
    db = await prepare(tmp_path)
    out = tmp_path / "out"
    assert (
        run_cli("export", "--root", "/curated", "--sandbox", str(db), "--out", str(out)).returncode
        == 0
    )
    again = run_cli("export", "--root", "/curated", "--sandbox", str(db), "--out", str(out))
    assert again.returncode == 1
    assert again.stderr.strip().splitlines() == [
        f"Error: {out / 'reconciler.yaml'}, {out / 'folders.yaml'}, {out / 'groups.yaml'} … "
        "already exists; choose another --out or pass --force"
    ]
    forced = run_cli(
        "export", "--root", "/curated", "--sandbox", str(db), "--out", str(out), "--force"
    )
    assert forced.returncode == 0, forced.stderr


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("--root", "curated"),
            "Error: --root must be an absolute folder path like /curated, got 'curated'",
        ),
        (("--root", "/missing"), "Error: no folder at /missing in sandbox:{db}"),
        (
            ("--root", "/curated", "--ownership-id", "Team A"),
            "Error: --ownership-id 'Team A': expected 2 to 63 characters of a-z, 0-9, '.', '_' "
            "and '-', starting with a letter or digit",
        ),
        (
            ("--root", "/curated", "--domain", "https://x.test"),
            "Error: use either --sandbox or --domain, not both",
        ),
    ],
)
async def test_mistakes_are_one_line(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    db = await prepare(tmp_path)
    result = run_cli("export", *args, "--sandbox", str(db), "--out", str(tmp_path / "o"))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [message.format(db=db)]
    assert not (tmp_path / "o").exists()


def test_no_target_and_no_database_are_one_line(tmp_path: Path) -> None:
    env = {"ENCORD_DOMAIN": "", "ENCORD_SSH_KEY_FILE": "", "ENCORD_SSH_KEY": ""}
    result = run_cli("export", "--root", "/a", env=env, cwd=tmp_path)
    assert (result.returncode, result.stderr.strip()) == (
        1,
        "Error: no target: pass --sandbox PATH or --domain URL, set ENCORD_DOMAIN, "
        "or set target in reconciler.yaml",
    )
    result = run_cli("export", "--root", "/a", "--sandbox", str(tmp_path / "none.sqlite"))
    assert (result.returncode, result.stderr.strip()) == (
        1,
        f"Error: no sandbox database at {tmp_path / 'none.sqlite'}",
    )
    assert not (tmp_path / "none.sqlite").exists()


@pytest.mark.anyio
async def test_verbose_and_debug_logs_show_requests_without_key_material(tmp_path: Path) -> None:
    db = await prepare(tmp_path)
    result = run_cli(
        "-vv", "export", "--root", "/curated", "--sandbox", str(db), "--out", str(tmp_path / "o")
    )
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if "reconciler.encord.session" in line]
    assert any(" GET /v2/public/storage/folders/" in line and line.endswith("ms") for line in lines)
    assert any("POST /public datarows 200" in line for line in lines)
    assert any(line.startswith("INFO httpx: HTTP Request:") for line in result.stderr.splitlines())
    key_text = Path(f"{db}.admin-key").read_text()
    for secret in key_text.splitlines()[1:-1]:
        assert secret not in result.stderr and secret not in result.stdout
    assert "encord-sig=:" not in result.stderr  # no signature (or any header) is logged


@pytest.mark.anyio
@pytest.mark.slow
async def test_export_over_the_network_with_flags_and_with_environment(tmp_path: Path) -> None:
    with served(tmp_path) as server:

        async def go() -> None:
            async with over_socket(server) as s:
                top = await s.client.folders.create("net", description="over a socket")
                await s.client.folders.create("child", parent=top.uuid, metadata={"k": 1})

        await go()
        flags = ("--domain", server.url, "--ssh-key-file", str(server.key_path))
        by_flags = run_cli("export", "--root", "/net", *flags, "--out", str(tmp_path / "a"))
        env = {"ENCORD_DOMAIN": server.url, "ENCORD_SSH_KEY": server.key_text}
        by_env = run_cli("export", "--root", "/net", "--out", str(tmp_path / "b"), env=env)
    for result, out in ((by_flags, tmp_path / "a"), (by_env, tmp_path / "b")):
        assert result.returncode == 0, result.stderr
        docs = _read(out)
        assert docs["reconciler.yaml"]["target"] == {"encord": {"domain": server.url}}
        assert docs["folders.yaml"]["folders"] == {
            "/net": {"description": "over a socket"},
            "/net/child": {"metadata": {"k": 1}},
        }
        assert server.key_text.splitlines()[1] not in result.stdout + result.stderr


@pytest.mark.anyio
async def test_nothing_written_names_a_path_of_this_machine(tmp_path: Path) -> None:
    """The directory is meant for git: no absolute path, however the paths were given."""
    db = await prepare(tmp_path)
    out = tmp_path / "deep" / "out"
    result = run_cli("export", "--root", "/curated", "--sandbox", str(db), "--out", str(out))
    assert result.returncode == 0, result.stderr
    for path in out.rglob("*"):
        if path.is_file():
            assert str(tmp_path) not in path.read_text(), path
    assert run_cli("validate", str(out)).returncode == 0  # the relative paths resolve
    # from another working directory, with a relative --sandbox and --out
    again = run_cli(
        "export", "--root", "/curated", "--sandbox", "embedded.sqlite", "--out", "o2", cwd=tmp_path
    )
    assert again.returncode == 0, again.stderr
    target = yaml.safe_load((tmp_path / "o2" / "reconciler.yaml").read_text())["target"]
    assert target["sandbox"]["path"] == "../embedded.sqlite"


@pytest.mark.anyio
async def test_gitignore_keeps_the_state_directory_out_and_an_existing_one_is_extended(
    tmp_path: Path,
) -> None:
    db = await prepare(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / ".gitignore").write_text("*.log")  # the user's own, without a final newline
    result = run_cli("export", "--root", "/curated", "--sandbox", str(db), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert (out / ".gitignore").read_text() == "*.log\n.reconciler/\n"
    forced = run_cli(
        "export", "--root", "/curated", "--sandbox", str(db), "--out", str(out), "--force"
    )
    assert forced.returncode == 0, forced.stderr
    assert (out / ".gitignore").read_text() == "*.log\n.reconciler/\n"  # not twice


@pytest.mark.anyio
async def test_schema_command_prints_what_the_export_references(tmp_path: Path) -> None:
    from reconciler.config.schema import config_schema

    printed = run_cli("schema")
    assert printed.returncode == 0, printed.stderr
    assert json.loads(printed.stdout) == config_schema()
    db = await prepare(tmp_path)
    out = tmp_path / "out"
    assert (
        run_cli("export", "--root", "/curated", "--sandbox", str(db), "--out", str(out)).returncode
        == 0
    )
    for path in out.glob("*.yaml"):
        reference = path.read_text().splitlines()[0].split("$schema=", 1)[1]
        assert (path.parent / reference).read_text() == printed.stdout


@pytest.mark.anyio
async def test_ownership_id_flag_and_items_flag(tmp_path: Path) -> None:
    db = await prepare(tmp_path)
    out = tmp_path / "out"
    result = run_cli(
        "export", "--root", "/curated", "--sandbox", str(db), "--out", str(out),
        "--ownership-id", "team-a", "--items", "none",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert yaml.safe_load((out / "reconciler.yaml").read_text())["ownership"] == {"id": "team-a"}
    assert not (out / "items.yaml").exists() and not (out / "manifests/metadata.jsonl").exists()
    bad = run_cli("export", "--root", "/curated", "--sandbox", str(db), "--items", "all")
    assert bad.returncode != 0 and "Traceback" not in bad.stderr
