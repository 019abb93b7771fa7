"""load_config end to end: examples, merging across files, positions, targets, manifests."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from reconciler.config import ConfigError, load_config, validate_config
from reconciler.model.desired import ManifestEntry, Source

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"

SETTINGS = """\
version: 1
target:
  sandbox: {}
ownership: {id: team-a}
"""


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def test_quickstart_loads_clean() -> None:
    state = load_config(EXAMPLES / "quickstart", env={})
    assert state.root_dir == str((EXAMPLES / "quickstart").resolve())
    assert state.ownership.id == "quickstart"
    sandbox = state.target.sandbox
    assert sandbox is not None and state.target.encord is None
    assert sandbox.path == str((EXAMPLES / "quickstart" / ".reconciler/sandbox.sqlite").resolve())
    assert [(i.title, i.provider, i.root) for i in sandbox.integrations] == [
        ("demo-bucket", "s3", str((EXAMPLES / "quickstart" / "buckets").resolve()))
    ]
    assert [u.email for u in sandbox.users] == ["ada@example.com", "grace@example.com"]
    (alan,) = state.users.values()  # the annotator the quickstart adds through users:
    assert (alan.email, alan.role, alan.member_type) == ("alan@example.com", "TASKER", "external")
    assert list(state.folders) == ["/quickstart", "/quickstart/curated", "/quickstart/raw"]
    raw = state.folders["/quickstart/raw"]
    assert raw.cloud_sync is not None
    assert (raw.cloud_sync.integration, raw.cloud_sync.remote_url, raw.cloud_sync.sync) == (
        "demo-bucket",
        "s3://demo/raw/",
        "on_create",
    )
    assert dict(state.folders["/quickstart"].groups or {}) == {
        "annotators": "user",
        "reviewers": "admin",
    }
    assert set(state.groups) == {"annotators", "reviewers"}
    assert len(state.rules) == 1 and state.rules[0].match.types == ("image",)
    dataset = state.datasets["quickstart-images"]
    assert dataset.items[0].folder == "/quickstart/raw" and dataset.items[0].recursive
    assert validate_config(EXAMPLES / "quickstart", env={}) == []


def test_realistic_loads_clean() -> None:
    state = load_config(EXAMPLES / "realistic", env={})
    assert set(state.groups) == {"perception-ml", "labeling-ops", "data-qa"}
    assert len(state.datasets) == 4
    # users.yaml declares everyone; the sandbox fixture is only the key plans run as
    assert [u.email for u in state.target.sandbox.users] == ["admin@sandbox.local"]  # type: ignore[union-attr]
    assert (
        len(state.users) == 8 and state.users["sara.novak@acme.example"].member_type == "external"
    )
    assert (state.policy.users, state.policy.min_admins) == ("additive", 2)
    assert state.policy.protect == ("/raw/**",)
    assert state.policy.max_delete_ratio == 0.2
    assert {i.provider for i in state.target.sandbox.integrations} == {"s3", "gcp"}  # type: ignore[union-attr]
    assert state.folders["/curated/driving"].previously == ("/curated/road-scenes",)
    # rules keep file order; the manifest is typed by the schema
    assert [r.folder for r in state.rules][:2] == ["/raw/cameras", "/raw/cameras/front"]
    manifest = state.manifests[0]
    assert manifest.file == "manifests/qa-review.jsonl" and manifest.format == "jsonl"
    assert manifest.owned_keys == ("qa.*",)
    row = manifest.entries.rows["/raw/lidar/previews/sweep_0001.png"]
    assert row.metadata == {
        "qa.reviewer": "ivan.petrov@acme.example",
        "qa.score": 0.97,
        "qa.status": "approved",
    }
    assert state.metadata_schema is not None
    assert state.metadata_schema.keys["qa.status"] == {
        "ty": "enum",
        "values": ["pending", "approved", "rejected"],
    }
    assert state.metadata_schema.keys["qa.score"] == {"ty": "number", "format": "F64"}
    assert state.metadata_schema.keys["qa.reviewer"] == {"ty": "varchar", "max_length": 320}
    assert state.metadata_schema.source == Source(file="items.yaml", line=3, col=1)
    # the fixture buckets are skipped when looking for YAML and are inside the roots
    assert "/raw" in state.roots() and "/curated" in state.roots()


def test_resources_merge_across_files_in_path_order(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "reconciler.yaml": SETTINGS + "items:\n  - {folder: /z, metadata: {k: 0}}\n",
            "b/rules.yaml": "items:\n  - {folder: /b, metadata: {k: 2}}\n",
            "a.yml": "items:\n  - {folder: /a, metadata: {k: 1}}\nfolders:\n  /a: ~\n",
            ".hidden/x.yaml": "items: [{folder: /hidden, metadata: {k: 9}}]\n",
            "sub/reconciler.yaml": "version: 1\n",  # another config: skipped
            "sub/inner.yaml": "folders: {/inner: {}}\n",
            "notes.txt": "folders: {/txt: {}}\n",
        },
    )
    state = load_config(tmp_path, env={})
    assert [r.folder for r in state.rules] == ["/z", "/a", "/b"]
    assert [r.source.file for r in state.rules] == ["reconciler.yaml", "a.yml", "b/rules.yaml"]
    assert list(state.folders) == ["/a"]


def test_path_may_name_reconciler_yaml(tmp_path: Path) -> None:
    write(tmp_path, {"reconciler.yaml": SETTINGS})
    assert load_config(tmp_path / "reconciler.yaml", env={}).root_dir == str(tmp_path.resolve())
    (tmp_path / "other.yaml").write_text("folders: {}\n")
    assert [str(d) for d in validate_config(tmp_path / "other.yaml", env={})] == [
        "other.yaml:1:1: expected a config directory or its reconciler.yaml, not this file"
    ]


def test_folder_sources_and_field_sources(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "reconciler.yaml": SETTINGS,
            "folders/tree.yaml": """\
                folders:
                  /a:
                    description: d
                    metadata: {x: 1}
                    groups: {g: admin}
                    previously: /old-a
                    cloud_sync:
                      integration: 11111111-2222-3333-4444-555555555555
                      remote_url: s3://b/p/
                """,
        },
    )
    folder = load_config(tmp_path, env={}).folders["/a"]
    assert folder.source == Source(file="folders/tree.yaml", line=2, col=3)
    assert {k: (s.line, s.col) for k, s in folder.field_sources.items()} == {
        "description": (3, 5),
        "metadata": (4, 5),
        "groups": (5, 5),
        "previously": (6, 5),
        "cloud_sync": (7, 5),
    }
    assert folder.previously == ("/old-a",)
    assert folder.cloud_sync is not None and folder.cloud_sync.source.line == 7


def test_absent_fields_stay_none_and_empty_ones_stay_empty(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "reconciler.yaml": SETTINGS
            + "folders:\n  /a: ~\n  /b: {groups: {}, metadata: {}}\n"
            + "groups:\n  g: ~\n  h: {members: []}\ndatasets:\n  d: ~\n",
        },
    )
    state = load_config(tmp_path, env={})
    a, b = state.folders["/a"], state.folders["/b"]
    assert (a.description, a.metadata, a.groups) == (None, None, None)
    assert (b.metadata, b.groups) == ({}, {})
    assert state.groups["g"].members is None and state.groups["h"].members == ()
    assert state.datasets["d"].groups is None and state.datasets["d"].items == ()


def test_encord_target_and_interpolation(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "reconciler.yaml": """\
                version: 1
                target:
                  encord:
                    domain: ${DOMAIN:-https://api.encord.com}
                    ssh_key_file: keys/${WHO}.pem
                ownership: {id: "${OWNER}"}
                variables: [DOMAIN, WHO, OWNER]
                """,
        },
    )
    state = load_config(tmp_path, env={"WHO": "ci", "OWNER": "team-b"})
    assert state.target.encord is not None
    assert state.target.encord.domain == "https://api.encord.com"
    assert state.target.encord.ssh_key_file == str(tmp_path.resolve() / "keys" / "ci.pem")
    assert state.ownership.id == "team-b"
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path, env={"WHO": "ci"})
    assert [str(d) for d in info.value.diagnostics] == [
        "reconciler.yaml:6:18: environment variable OWNER is not set; set it, or write ${OWNER:-default}"
    ]


def test_env_defaults_to_the_process_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, {"reconciler.yaml": SETTINGS.replace("team-a", '"${RECONCILER_VAR_TEAM}"')})
    monkeypatch.setenv("RECONCILER_VAR_TEAM", "from-env")
    assert load_config(tmp_path).ownership.id == "from-env"


def test_jsonl_and_csv_manifests(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "reconciler.yaml": SETTINGS
            + """\
metadata_schema:
  score: number
  ok: boolean
  tags: {type: embedding, size: 2}
""",
            "items/items.yaml": """\
                items:
                  - manifest: ../m/rows.jsonl
                    owned_keys: ["qa.*"]
                  - manifest: ../m/rows.csv
                    mode: replace
                """,
            "m/rows.jsonl": (
                '{"path": "/f/a.jpg", "metadata": {"score": 1, "qa.x": "y"}}\n\n'
                '{"path": "/f/b.jpg", "previously": "/old/b.jpg"}\n'
            ),
            "m/rows.csv": 'path,previously,score,ok,tags,label\n/f/c.jpg,,2.5,TRUE,"[1, 2]",x\n'
            "/f/d.jpg,/old/d.jpg,,,,\n",
        },
    )
    state = load_config(tmp_path, env={})
    jsonl, csv = state.manifests
    assert (jsonl.file, jsonl.format, jsonl.mode, jsonl.owned_keys) == (
        "m/rows.jsonl",
        "jsonl",
        "merge",
        ("qa.*",),
    )
    assert dict(jsonl.entries.rows) == {
        "/f/a.jpg": ManifestEntry({"score": 1, "qa.x": "y"}, 1, None),
        "/f/b.jpg": ManifestEntry({}, 3, "/old/b.jpg"),
    }
    assert (csv.file, csv.format, csv.mode) == ("m/rows.csv", "csv", "replace")
    assert dict(csv.entries.rows) == {
        "/f/c.jpg": ManifestEntry(
            {"score": 2.5, "ok": True, "tags": [1, 2], "label": "x"}, 2, None
        ),
        "/f/d.jpg": ManifestEntry({}, 3, "/old/d.jpg"),
    }
    assert jsonl.source == Source(file="items/items.yaml", line=2, col=5)
    assert "/f" in state.roots() and "/old" in state.roots()


def test_dataset_link_manifests(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "reconciler.yaml": SETTINGS
            + """\
datasets:
  d:
    items:
      - {manifest: links.txt}
      - {manifest: links.jsonl}
""",
            "links.txt": "# exported links\n/f/a.jpg\n\n/f/b.jpg\r\n",
            "links.jsonl": '{"path": "/g/c.jpg"}\n',
        },
    )
    selectors = load_config(tmp_path, env={}).datasets["d"].items
    assert [(s.manifest, s.paths) for s in selectors] == [
        ("links.txt", frozenset({"/f/a.jpg", "/f/b.jpg"})),
        ("links.jsonl", frozenset({"/g/c.jpg"})),
    ]


def test_all_problems_are_reported_at_once_sorted(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "reconciler.yaml": SETTINGS + "folders:\n  /a/: {}\n",
            "b.yaml": "groups:\n  g: {members: [nobody]}\n",
            "a.yaml": "folders:\n  /x: {groups: {g: owner}}\n",
        },
    )
    problems = [str(d) for d in validate_config(tmp_path, env={})]
    assert problems == [
        "a.yaml:2:20: folders[\"/x\"].groups.g: 'owner' is not one of: user, admin",
        "b.yaml:2:17: groups.g.members[0]: expected an email address like alice@example.com",
        "reconciler.yaml:6:3: folders[\"/a/\"]: expected an absolute path like /a/b (no trailing '/', "
        "no empty, '.' or '..' segments, no control characters)",
    ]


def test_a_trailing_newline_in_a_path_is_caught(tmp_path: Path) -> None:
    write(tmp_path, {"reconciler.yaml": SETTINGS + 'folders:\n  "/a\\n": {}\n'})
    assert [str(d) for d in validate_config(tmp_path, env={})] == [
        "reconciler.yaml:6:3: folders[\"/a\\n\"]: expected an absolute path like /a/b (no trailing '/', "
        "no empty, '.' or '..' segments, no control characters)"
    ]


def test_missing_directory() -> None:
    assert [str(d) for d in validate_config(Path("/nonexistent/dir"), env={})] == [
        "/nonexistent/dir:1:1: no such directory; pass a config directory (default: .)"
    ]


def test_fixture_roots_are_not_searched_even_when_settings_are_invalid(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "reconciler.yaml": """\
                version: 1
                target:
                  sandbox:
                    integrations: {s3: {provider: s3, root: ./buckets}}
                    users: [{email: nope}]
                ownership: {id: ab}
                """,
            "buckets/bucket/notes.yaml": "this: [is not, valid\n",
        },
    )
    assert [str(d) for d in validate_config(tmp_path, env={})] == [
        "reconciler.yaml:5:21: target.sandbox.users[0].email: expected an email address like "
        "alice@example.com"
    ]


def test_a_flood_of_problems_is_capped_with_a_count(tmp_path: Path) -> None:
    folders = "".join(f"  /a{i:04d}/: {{}}\n" for i in range(1500))
    write(tmp_path, {"reconciler.yaml": SETTINGS + "folders:\n" + folders})
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path, env={})
    assert info.value.total == 1500
    assert len(info.value.diagnostics) == 1001
    assert str(info.value.diagnostics[-1]) == (
        "reconciler.yaml:1005:3: … and 500 more problems not shown"
    )


def test_an_empty_sandbox_target_means_the_defaults(tmp_path: Path) -> None:
    write(tmp_path, {"reconciler.yaml": "version: 1\ntarget:\n  sandbox:\nownership: {id: ab}\n"})
    sandbox = load_config(tmp_path, env={}).target.sandbox
    assert sandbox is not None
    assert sandbox.path == str(tmp_path.resolve() / ".reconciler" / "sandbox.sqlite")
    assert (sandbox.integrations, sandbox.users) == ((), ())


def test_ratios_written_as_integers_load_as_floats(tmp_path: Path) -> None:
    """The desired models convert nothing but these: ``max_delete_ratio: 1`` is the float 1.0
    the model declares (pydantic made it one; the dataclass does it in ``__post_init__``)."""
    policy = "policy: {max_delete_ratio: 1, max_change_ratio: 0, max_unlink_ratio: 1}\n"
    write(tmp_path, {"reconciler.yaml": SETTINGS + policy})
    loaded = load_config(tmp_path, env={}).policy
    ratios = (loaded.max_delete_ratio, loaded.max_change_ratio, loaded.max_unlink_ratio)
    assert [(type(r), r) for r in ratios] == [(float, 1.0), (float, 0.0), (float, 1.0)]
    assert type(loaded.max_user_removal_ratio) is float and loaded.min_existing == 10


def test_public_interface_is_pinned() -> None:
    import reconciler.config as config
    from reconciler.config.schema import config_schema

    assert config.__all__ == ["ConfigError", "Diagnostic", "load_config", "validate_config"]
    assert config_schema()["$id"] == "https://reconciler.dev/schemas/config/v1.json"
    diagnostic = config.Diagnostic("a.yaml", 3, 7, "msg")
    assert (diagnostic.file, diagnostic.line, diagnostic.col, diagnostic.message) == (
        "a.yaml",
        3,
        7,
        "msg",
    )
    assert str(diagnostic) == "a.yaml:3:7: msg"


def test_users_short_and_long_forms(tmp_path: Path) -> None:
    settings = SETTINGS + "policy:\n  users: authoritative\n  min_admins: 2\n"
    users = """\
users:
  Maya.Chen@Acme.Example: admin
  omar@acme.example: {role: workforce_manager, type: external}
  lina@acme.example: {role: tasker}
"""
    desired = load_config(write(tmp_path, {"reconciler.yaml": settings, "users.yaml": users}))
    assert {e: (u.role, u.member_type, str(u.source)) for e, u in desired.users.items()} == {
        "maya.chen@acme.example": ("ADMIN", "internal", "users.yaml:2"),
        "omar@acme.example": ("WORKFORCE_MANAGER", "external", "users.yaml:3"),
        "lina@acme.example": ("TASKER", "internal", "users.yaml:4"),
    }
    assert (desired.policy.users, desired.policy.min_admins) == ("authoritative", 2)
    assert str(desired.users_policy_source) == "reconciler.yaml:6"
    assert not desired.policy.allow_user_rerole


def test_collections_load_with_selectors_manifests_and_sources(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "reconciler.yaml": SETTINGS,
            "curation.yaml": """\
collections:
  night-scenes:
    folder: /raw
    description: Frames captured at night
    items:
      - {folder: /raw/cameras, recursive: true, match: {metadata: {lighting: night}}}
      - {manifest: picked.txt}
    remove: all
    previously: [nights]
  empty: {folder: /other}
""",
            "picked.txt": "/raw/extra/a.jpg\n",
        },
    )
    desired = load_config(tmp_path, env={})
    night, empty = desired.collections["night-scenes"], desired.collections["empty"]
    assert (night.folder, night.description, night.remove, night.previously) == (
        "/raw",
        "Frames captured at night",
        "all",
        ("nights",),
    )
    assert night.source == Source(file="curation.yaml", line=2, col=3)
    rule, manifest = night.items
    assert (rule.folder, rule.recursive, dict(rule.match.metadata or {})) == (
        "/raw/cameras",
        True,
        {"lighting": "night"},
    )
    assert rule.source.line == 6
    assert (manifest.manifest, manifest.paths) == ("picked.txt", frozenset({"/raw/extra/a.jpg"}))
    assert (empty.items, empty.remove, empty.description) == ((), "owned", None)
    assert desired.roots() == ("/raw/cameras", "/raw/extra")
