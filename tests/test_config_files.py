"""Which files are config: ``include``/``exclude`` in reconciler.yaml, other tools' YAML
beside a config, and ``x-`` keys for YAML anchors."""

from __future__ import annotations

from pathlib import Path

from test_config_loader import SETTINGS, write

from reconciler.config import load_config, validate_config
from reconciler.config.files import FileGlobs

MKDOCS = "site_name: Data platform\nnav:\n  - Home: index.md\ntheme: material\n"


def test_another_tools_yaml_beside_the_config_is_not_read_by_default(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "reconciler.yaml": SETTINGS,
            "mkdocs.yml": MKDOCS,
            "docs/docker-compose.yaml": "services: {db: {image: postgres}}\n",
            "folders.yaml": "folders:\n  /a: {}\n",
        },
    )
    assert set(load_config(tmp_path, env={}).folders) == {"/a"}


def test_include_and_exclude_choose_the_files(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "reconciler.yaml": SETTINGS
            + "include: ['teams/**/*.yaml', 'shared.yaml']\nexclude: ['teams/old/**']\n",
            "teams/a.yaml": "folders:\n  /a: {}\n",
            "teams/deep/b.yaml": "folders:\n  /b: {}\n",
            "teams/old/c.yaml": "folders:\n  /c: {}\n",
            "shared.yaml": "folders:\n  /s: {}\n",
            "notes.yaml": "anything: [at, all]\n",
        },
    )
    assert set(load_config(tmp_path, env={}).folders) == {"/a", "/b", "/s"}


def test_globs_match_paths_relative_to_the_config_directory() -> None:
    default = FileGlobs()
    assert default.selects("folders.yaml") and default.selects("a/b/c.yml")
    assert not default.selects("mkdocs.yml") and not default.selects("site/mkdocs.yaml")
    chosen = FileGlobs(include=("config/**/*.yaml",), exclude=("config/old/**",))
    assert chosen.selects("config/a.yaml") and chosen.selects("config/n/q.yaml")
    assert not chosen.selects("config/old/x.yaml") and not chosen.selects("z.yaml")


def test_file_globs_belong_in_reconciler_yaml_and_must_compile(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "reconciler.yaml": SETTINGS + "exclude: ['[abc']\n",
            "more.yaml": "include: ['**/*.yaml']\n",
        },
    )
    problems = [str(d) for d in validate_config(tmp_path, env={})]
    assert len(problems) == 2
    assert problems[0].startswith("more.yaml:1:1: include: belongs in reconciler.yaml")
    assert problems[1].startswith("reconciler.yaml:5:11: exclude[0]: bad glob")


def test_another_tools_file_gets_one_diagnostic_saying_what_to_do(tmp_path: Path) -> None:
    write(tmp_path, {"reconciler.yaml": SETTINGS, "site.yaml": MKDOCS})
    assert [str(d) for d in validate_config(tmp_path, env={})] == [
        "site.yaml:1:1: not a reconciler file (top-level keys: site_name, nav, theme); "
        "list it under 'exclude:' in reconciler.yaml, or narrow 'include:'"
    ]
    # A typo in a config file is still a typo, with its hint.
    write(tmp_path, {"site.yaml": "folder:\n  /a: {}\n"})
    assert [str(d) for d in validate_config(tmp_path, env={})] == [
        "site.yaml:1:1: folder: unknown key 'folder' (did you mean 'folders'?)"
    ]


def test_x_keys_hold_yaml_anchors_and_are_ignored(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "reconciler.yaml": SETTINGS + "x-owner: &team {team: ml}\n",
            "folders.yaml": (
                "x-defaults: &defaults\n  description: Shared\n  metadata: {tier: gold}\n"
                "folders:\n  /a: *defaults\n  /b: {<<: *defaults, description: Own}\n"
            ),
        },
    )
    folders = load_config(tmp_path, env={}).folders
    assert folders["/a"].description == "Shared"
    assert folders["/b"].description == "Own"
    assert dict(folders["/b"].metadata or {}) == {"tier": "gold"}
