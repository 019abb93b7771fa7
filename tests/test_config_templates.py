"""``templates:`` with ``for_each``: expansion, origins, problems, the cap, and YAML anchors."""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path
from typing import Any

import pytest

from reconciler.config import ConfigError, load_config
from reconciler.config import templates as templates_module
from reconciler.config.loader import render_config
from reconciler.model.desired import DesiredState

SETTINGS = "version: 1\ntarget: {sandbox: {}}\nownership: {id: acme}\n"
SITES = """\
x-sites: &sites
  berlin: {lead: ana@example.com, members: [ana@example.com, bo@example.com]}
  paris: {lead: luc@example.com, members: [luc@example.com]}
templates:
  - for_each: *sites
    folders:
      /sites/${each.key}:
        description: "Site ${each.key}, led by ${each.value.lead}"
        groups: {"site-${each.key}": user}
      /sites/${each.key}/raw: {}
    groups:
      site-${each.key}: {members: "${each.value.members}"}
  - for_each: [cameras, lidar]
    items:
      - folder: /sites/berlin
        match: {name: "${each.value}-*"}
        metadata: {sensor: "${each.key}"}
"""


def _config(tmp_path: Path, text: str) -> Path:
    (tmp_path / "reconciler.yaml").write_text(SETTINGS)
    (tmp_path / "sites.yaml").write_text(text)
    return tmp_path


def _load(path: Path) -> DesiredState:
    return load_config(path, env={})


def _dump(model: Any, exclude: set[str]) -> dict[str, Any]:
    """A declaration's fields as plain data, but for ``exclude`` (where it was declared)."""
    return {k: v for k, v in dataclasses.asdict(model).items() if k not in exclude}


def _problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        _load(path)
    return [str(d) for d in caught.value.diagnostics]


def test_for_each_over_a_mapping_and_a_list_writes_the_blocks_out(tmp_path: Path) -> None:
    desired = _load(_config(tmp_path, SITES))
    assert set(desired.folders) == {
        "/sites/berlin",
        "/sites/berlin/raw",
        "/sites/paris",
        "/sites/paris/raw",
    }
    berlin = desired.folders["/sites/berlin"]
    assert berlin.description == "Site berlin, led by ana@example.com"
    assert dict(berlin.groups or {}) == {"site-berlin": "user"}
    # a reference standing alone takes the value as it is: a list of members
    assert desired.groups["site-berlin"].members == ("ana@example.com", "bo@example.com")
    assert [dict(r.metadata) for r in desired.rules] == [{"sensor": "cameras"}, {"sensor": "lidar"}]


def test_every_generated_declaration_names_its_template_and_entry(tmp_path: Path) -> None:
    desired = _load(_config(tmp_path, SITES))
    assert str(desired.folders["/sites/paris"].source) == (
        "sites.yaml:7 (for_each entry 'paris' at sites.yaml:3)"
    )
    assert str(desired.groups["site-berlin"].source) == (
        "sites.yaml:12 (for_each entry 'berlin' at sites.yaml:2)"
    )
    assert str(desired.rules[1].source) == "sites.yaml:15 (for_each entry 'lidar' at sites.yaml:13)"


def test_a_problem_in_an_expansion_is_at_the_template_and_names_the_entry(tmp_path: Path) -> None:
    text = SITES.replace(
        'groups: {"site-${each.key}": user}', 'groups: {"site-${each.key}": owner}'
    )
    problems = _problems(_config(tmp_path, text))
    assert len(problems) == 2
    assert problems[0].startswith('sites.yaml:9:38: folders["/sites/berlin"].groups')
    assert problems[0].endswith("(for_each entry 'berlin' at sites.yaml:2)")


def test_a_missing_field_says_which_entry_and_the_closest_field(tmp_path: Path) -> None:
    problems = _problems(_config(tmp_path, SITES.replace("each.value.lead", "each.value.leed")))
    assert problems[0] == (
        "sites.yaml:8:22: ${each.value.leed}: the value of for_each entry 'berlin' at "
        "sites.yaml:2 has no field 'leed' (did you mean 'lead'?)"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("folders: {'/a/${each.key}': {}}\n", "only defined in a block under templates:"),
        ("templates: [{folders: {'/a/${each.key}': {}}}]\n", "block has no for_each"),
        ("templates: [{for_each: 3, folders: {}}]\n", "expected a list or a mapping"),
        ("templates: [{for_each: [a, a], folders: {'/a/${each.key}': {}}}]\n", "declared twice"),
        (
            "templates: [{for_each: {a: {x: [1]}}, folders: {'/a': {description: 'v ${each.value.x}'}}}]\n",
            "is a list or mapping: it can only stand alone",
        ),
        ("templates: [{for_each: [a], folders: {'/${each.key.x}': {}}}]\n", "has no fields"),
        ("templates: [{for_each: [{a: 1}], folders: {'${each.value}': {}}}]\n", "must be text"),
        (
            "templates: [{for_each: [a], folders: {'/${each.key}': {description: '${NOPE}'}}}]\n",
            "variable NOPE is not one the config may read",
        ),
        ("items: []\ntemplates: [{for_each: [a], items: {x: 1}}]\n", "of the same kind"),
    ],
)
def test_template_mistakes_are_one_line_each(tmp_path: Path, text: str, expected: str) -> None:
    problems = _problems(_config(tmp_path, text))
    assert any(expected in p for p in problems), problems


def test_hand_written_declarations_and_templates_merge(tmp_path: Path) -> None:
    text = "folders: {/sites: {description: all}}\n" + SITES
    assert set(_load(_config(tmp_path, text)).folders) >= {"/sites", "/sites/berlin"}
    clash = "folders: {/sites/paris: {}}\n" + SITES
    problems = _problems(_config(tmp_path, clash))
    assert any("declared twice (for_each entry 'paris'" in p for p in problems)


def test_expansion_is_capped_with_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(templates_module, "MAX_EXPANDED_NODES", 20)
    (problem,) = [p for p in _problems(_config(tmp_path, SITES)) if "expand" in p]
    assert problem.startswith("sites.yaml:5:5: templates[0]: the templates of this file expand")


def test_an_alias_bomb_in_an_x_key_is_still_refused(tmp_path: Path) -> None:
    bomb = "x-a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    for prev, name in itertools.pairwise("abcdefg"):
        bomb += f"x-{name}: &{name} [{', '.join([f'*{prev}'] * 10)}]\n"
    bomb += "templates: [{for_each: *g, folders: {'/a/${each.key}': {}}}]\n"
    problems = _problems(_config(tmp_path, bomb))
    assert any("an alias bomb?" in p for p in problems), problems


def test_a_small_file_fanning_out_past_the_cap_is_refused(tmp_path: Path) -> None:
    # 2,000 entries, each writing out a 600-value list: 1.2 million values from 20 kB
    text = "x-big: &big [" + ", ".join(["a@example.com"] * 600) + "]\n"
    text += "templates:\n  - for_each: [" + ", ".join(f"e{i}" for i in range(2000)) + "]\n"
    text += "    groups: {'g-${each.key}': {members: *big}}\n"
    (problem,) = _problems(_config(tmp_path, text))
    assert problem == (
        "sites.yaml:3:5: templates[0]: the templates of this file expand to more than "
        "1,000,000 values; use fewer entries, or split them over files"
    )


def test_render_shows_what_the_planner_reads(tmp_path: Path) -> None:
    files = dict(render_config(_config(tmp_path, SITES), env={}))
    sites = files["sites.yaml"]
    assert "templates" not in sites
    assert sites["folders"]["/sites/paris"] == {
        "description": "Site paris, led by luc@example.com",
        "groups": {"site-paris": "user"},
    }


def test_whole_values_keep_their_type_and_scalars_read_as_text(tmp_path: Path) -> None:
    text = """\
templates:
  - for_each:
      - {name: a, meta: {tier: 1, live: true}, live: true}
    folders:
      /f/${each.value.name}:
        description: "live ${each.value.live}, #${each.key}"
        metadata: "${each.value.meta}"
"""
    folder = _load(_config(tmp_path, text)).folders["/f/a"]
    assert folder.description == "live true, #0"  # a list of mappings: each.key is the index
    assert dict(folder.metadata or {}) == {"tier": 1, "live": True}


def test_render_command_prints_yaml_the_loader_reads_back(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from reconciler.cli.main import cli

    path = _config(tmp_path, SITES)
    templated = _load(path)
    result = CliRunner().invoke(cli, ["render", str(path)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    docs = result.output.split("---\n")
    assert docs[0].startswith("# reconciler.yaml\n") and docs[1].startswith("# sites.yaml\n")
    rendered = _load(_config(tmp_path, docs[1]))  # the rendered file, read as a config
    where = {"source", "field_sources"}
    for kind in ("folders", "groups"):
        before, after = getattr(templated, kind), getattr(rendered, kind)
        assert {k: _dump(v, where) for k, v in before.items()} == {
            k: _dump(v, where) for k, v in after.items()
        }
    assert [r.metadata for r in templated.rules] == [r.metadata for r in rendered.rules]
    missing = CliRunner().invoke(cli, ["render", str(tmp_path / "nope")])
    assert missing.exit_code == 1 and "no such file or directory" in missing.output


def test_a_plan_groups_what_one_template_line_made_and_names_the_environment(
    tmp_path: Path,
) -> None:
    from click.testing import CliRunner

    from reconciler.cli.main import cli

    settings = "version: 1\ntarget: {sandbox: {}}\nownership: {id: sites}\n"
    (tmp_path / "reconciler.yaml").write_text(settings + "environments:\n  staging: {}\n")
    entries = ", ".join(f"s{i}" for i in range(6))
    (tmp_path / "sites.yaml").write_text(
        f"templates:\n  - for_each: [{entries}]\n    folders:\n      /sites/${{each.key}}: {{}}\n"
    )
    result = CliRunner().invoke(cli, ["plan", str(tmp_path), "--env", "staging"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].endswith("(environment: staging, ownership: sites)")
    # one block for the template's line: the six sites and their parent, made for the first
    assert "  + 7 × folder  [sites.yaml:4]" in lines


def test_a_section_shared_with_the_for_each_is_not_changed_under_it(tmp_path: Path) -> None:
    text = (
        "x-f: &f {/a: {}, /b: {}}\n"
        "folders: *f\n"
        "templates:\n"
        "  - for_each: *f\n"
        "    folders: {'${each.key}/sub': {}}\n"
    )
    assert set(_load(_config(tmp_path, text)).folders) == {"/a", "/b", "/a/sub", "/b/sub"}
