"""``environments:`` in reconciler.yaml: choosing one, what it overrides, ``${var.NAME}``,
files and template blocks limited with ``in_environments``, and the one-line refusals."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from reconciler.cli.main import cli
from reconciler.config import ConfigError, load_config
from reconciler.model.desired import DesiredState

SETTINGS = """\
version: 1
target: {sandbox: {path: .reconciler/default.sqlite}}
ownership: {id: acme}
policy: {prune: owned, max_delete_ratio: 0.3}
environments:
  staging:
    target: {sandbox: {path: .reconciler/staging.sqlite}}
    ownership: {id: acme-staging}
    variables: {prefix: stg, copies: 2, live: true}
  prod:
    target: {encord: {domain: https://prod.encord.com, ssh_key_file: "${PROD_KEY_FILE}"}}
    ownership: {id: acme-prod}
    policy: {max_delete_ratio: 0.05}
    variables: {prefix: prd, copies: 3, live: false}
variables: [PROD_KEY_FILE]
"""
BODY = """\
folders:
  /${var.prefix}:
    description: "${var.copies} copies, live ${var.live}"
"""


def _config(tmp_path: Path, files: dict[str, str], settings: str = SETTINGS) -> Path:
    (tmp_path / "reconciler.yaml").write_text(settings)
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    return tmp_path


def _load(path: Path, name: str | None, env: dict[str, str] | None = None) -> DesiredState:
    return load_config(path, env=env or {}, environment=name)


def _problems(path: Path, name: str | None, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        _load(path, name, env)
    return [str(d) for d in caught.value.diagnostics]


def test_each_environment_gets_its_own_target_ownership_policy_and_variables(
    tmp_path: Path,
) -> None:
    path = _config(tmp_path, {"main.yaml": BODY})
    staging = _load(path, "staging")
    prod = _load(path, "prod", {"PROD_KEY_FILE": "/keys/prod"})
    assert staging.environment == "staging" and prod.environment == "prod"
    assert staging.target.sandbox is not None
    assert staging.target.sandbox.path == str(tmp_path / ".reconciler/staging.sqlite")
    assert prod.target.encord is not None and prod.target.encord.ssh_key_file == "/keys/prod"
    assert (staging.ownership.id, prod.ownership.id) == ("acme-staging", "acme-prod")
    # policy: key by key over the top-level one
    assert (staging.policy.max_delete_ratio, prod.policy.max_delete_ratio) == (0.3, 0.05)
    assert staging.policy.prune == prod.policy.prune == "owned"
    assert staging.folders["/stg"].description == "2 copies, live true"
    assert prod.folders["/prd"].description == "3 copies, live false"


def test_an_environment_without_a_target_uses_the_top_level_one(tmp_path: Path) -> None:
    settings = SETTINGS.replace("    target: {sandbox: {path: .reconciler/staging.sqlite}}\n", "")
    staging = _load(_config(tmp_path, {"main.yaml": BODY}, settings), "staging")
    assert staging.target.sandbox is not None
    assert staging.target.sandbox.path == str(tmp_path / ".reconciler/default.sqlite")


def test_unset_variables_of_another_environment_are_no_problem(tmp_path: Path) -> None:
    path = _config(tmp_path, {"main.yaml": BODY})
    assert _load(path, "staging").ownership.id == "acme-staging"  # PROD_KEY_FILE unset
    (problem,) = _problems(path, "prod")
    assert problem.startswith("reconciler.yaml:11:71: ") and "PROD_KEY_FILE is not set" in problem


def test_a_config_with_environments_needs_one_and_names_them(tmp_path: Path) -> None:
    path = _config(tmp_path, {"main.yaml": BODY})
    assert _problems(path, None) == [
        "reconciler.yaml:5:1: this config declares environments (prod, staging); choose one "
        "with --env NAME or RECONCILER_ENV"
    ]
    assert _problems(path, "prdo") == [
        "reconciler.yaml:5:1: --env prdo: no such environment (did you mean 'prod'?); "
        "reconciler.yaml declares prod, staging"
    ]


def test_a_config_without_environments_refuses_a_name_and_var_references(
    tmp_path: Path,
) -> None:
    settings = "version: 1\ntarget: {sandbox: {}}\nownership: {id: acme}\n"
    path = _config(tmp_path, {"main.yaml": "folders: {/a: {}}\n"}, settings)
    assert _load(path, None).environment is None
    (problem,) = _problems(path, "staging")
    assert "--env staging: reconciler.yaml declares no environments" in problem
    (tmp_path / "main.yaml").write_text("folders: {/a: {description: '${var.x}'}}\n")
    (problem,) = _problems(path, None)
    assert problem.startswith("main.yaml:1:30: ${var.x}: no environment is selected")


def test_a_missing_variable_says_which_environment_and_the_closest_name(tmp_path: Path) -> None:
    path = _config(tmp_path, {"main.yaml": "folders: {/a: {description: '${var.prefx}'}}\n"})
    (problem,) = _problems(path, "staging")
    assert problem == (
        "main.yaml:1:30: ${var.prefx}: environment staging has no variable prefx (did you "
        "mean 'prefix'?); add it under environments.staging.variables in reconciler.yaml, "
        "or write ${var.prefx:-default}"
    )
    (tmp_path / "main.yaml").write_text("folders: {/a: {description: '${var.other:-x}'}}\n")
    assert _load(path, "staging").folders["/a"].description == "x"


def test_files_and_blocks_can_be_limited_to_environments(tmp_path: Path) -> None:
    files = {
        "main.yaml": BODY,
        "prod-only.yaml": "in_environments: [prod]\nfolders: {'/audit-${var.nope}': {}}\n",
        "blocks.yaml": (
            "templates:\n"
            "  - in_environments: [staging]\n"
            "    folders: {/scratch: {}}\n"
            "  - in_environments: [prod]\n"
            "    folders: {/only-prod: {description: '${var.nope}'}}\n"
        ),
    }
    path = _config(tmp_path, files)
    assert set(_load(path, "staging").folders) == {"/stg", "/scratch"}
    problems = _problems(path, "prod", {"PROD_KEY_FILE": "k"})  # ${var.nope} in prod's files
    assert len(problems) == 2 and all("has no variable nope" in p for p in problems)


def test_unknown_names_in_in_environments_are_problems_in_every_environment(
    tmp_path: Path,
) -> None:
    path = _config(tmp_path, {"main.yaml": "in_environments: [prdo]\nfolders: {/a: {}}\n"})
    (problem,) = _problems(path, "staging")
    assert problem == (
        "main.yaml:1:19: in_environments[0]: no environment 'prdo' (did you mean 'prod'?); "
        "reconciler.yaml declares prod, staging"
    )
    settings = "version: 1\ntarget: {sandbox: {}}\nownership: {id: acme}\n"
    (tmp_path / "reconciler.yaml").write_text(settings)
    (problem,) = _problems(path, None)
    assert "reconciler.yaml declares no environments" in problem


def test_two_environments_may_not_share_target_and_ownership(tmp_path: Path) -> None:
    settings = (
        "version: 1\ntarget: {sandbox: {}}\nownership: {id: acme}\n"
        "environments:\n  a: {}\n  b: {policy: {prune: never}}\n"
    )
    path = _config(tmp_path, {}, settings)
    (problem,) = _problems(path, "a")
    assert problem.startswith("reconciler.yaml:5:3: environments a and b have the same target")


def test_an_environment_needs_a_target_and_an_ownership_id(tmp_path: Path) -> None:
    settings = "version: 1\nenvironments:\n  a: {ownership: {id: x-a}}\n"
    path = _config(tmp_path, {}, settings)
    (problem,) = _problems(path, "a")
    assert problem.startswith("reconciler.yaml:3:3: environment a has no target:")


@pytest.mark.parametrize(
    ("settings", "name", "expected"),
    [
        ("environments: {Prod: {}}", "Prod", "an environment name"),
        ("environments: {prod: {variables: {a: [1]}}}", "prod", "expected a string or a number"),
        ("environments: {prod: {colour: blue}}", "prod", "unknown key 'colour'"),
        ("environments: {}", None, "environments: must not be empty"),
    ],
)
def test_the_schema_checks_environments(
    tmp_path: Path, settings: str, name: str | None, expected: str
) -> None:
    path = _config(tmp_path, {}, "version: 1\ntarget: {sandbox: {}}\nownership: {id: a1}\n")
    (tmp_path / "reconciler.yaml").write_text(
        (tmp_path / "reconciler.yaml").read_text() + settings + "\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={}, environment=name)
    assert expected in str(caught.value)


def test_environments_belong_in_reconciler_yaml_and_in_environments_elsewhere(
    tmp_path: Path,
) -> None:
    path = _config(tmp_path, {"main.yaml": "environments: {a: {}}\n"})
    assert any("belongs in reconciler.yaml" in p for p in _problems(path, "staging"))
    settings = SETTINGS + "in_environments: [prod]\n"
    path = _config(tmp_path, {"main.yaml": BODY}, settings)
    assert any("reconciler.yaml is read in every environment" in p for p in _problems(path, "prod"))


def _validate(*args: str) -> Any:
    return CliRunner().invoke(cli, ["validate", *args], catch_exceptions=False)


def test_validate_checks_every_environment_unless_one_is_chosen(tmp_path: Path) -> None:
    path = _config(tmp_path, {"main.yaml": BODY})
    both = _validate(str(path))  # prod's unset key file: validate does not connect
    assert both.exit_code == 0, both.output
    assert [line.split(" (", 1)[1].split(")")[0] for line in both.output.splitlines()] == [
        "encord target, environment prod",
        "sandbox target, environment staging",
    ]
    one = _validate(str(path), "--env", "staging", "--format", "json")
    assert one.exit_code == 0, one.output
    assert json.loads(one.output)["summary"]["staging"]["folders"] == 1
    (tmp_path / "main.yaml").write_text(BODY + "groups: {g: {description: '${var.only}'}}\n")
    broken = _validate(str(path))
    assert broken.exit_code == 1
    assert "environment prod has no variable only" in broken.output
    assert "environment staging has no variable only" in broken.output


def test_the_resume_hint_names_the_environment() -> None:
    from reconciler.cli.interrupts import resume_command

    assert resume_command(Path("cfg")) == "reconciler apply cfg --resume"
    assert resume_command(Path("cfg"), "prod") == "reconciler apply cfg --env prod --resume"


def test_the_readme_examples_load_in_every_environment(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    envs = readme.index("### Several organisations from one repository")
    templates = readme.index("### Templates")
    blocks = [
        re.search(r"```yaml\n(.*?)```", readme[start:end], re.S).group(1)  # type: ignore[union-attr]
        for start, end in ((envs, templates), (templates, len(readme)))
    ]
    name = ""
    for line in (blocks[0] + "# sites.yaml\n" + blocks[1].split("\n", 1)[1]).splitlines():
        found = re.fullmatch(r"# (\S+\.yaml)(:.*)?", line)
        if found:
            name = found.group(1)
            continue
        with (tmp_path / name).open("a") as out:
            out.write(line + "\n")
    staging = load_config(tmp_path, env={}, environment="staging", connecting=False)
    prod = load_config(tmp_path, env={}, environment="prod", connecting=False)
    assert "/stg/raw" in staging.folders and "/prd/audit" not in staging.folders
    assert {"/prd/raw", "/prd/audit", "/sites/paris/raw"} <= set(prod.folders)
    assert prod.groups["site-berlin"].members == ("ana@acme.com", "bo@acme.com")


def test_blocks_in_reconciler_yaml_are_limited_too(tmp_path: Path) -> None:
    settings = SETTINGS + (
        "templates:\n"
        "  - in_environments: [prod]\n"
        "    folders: {/prod-only: {description: '${var.prod_only}'}}\n"
    )
    path = _config(tmp_path, {}, settings)
    assert "/prod-only" not in _load(path, "staging").folders
    (problem,) = _problems(path, "prod", {"PROD_KEY_FILE": "k"})
    assert "environment prod has no variable prod_only" in problem


def test_more_than_100_environments_are_refused_and_validate_stays_bounded(
    tmp_path: Path,
) -> None:
    many = "".join(f"  e{i}: {{ownership: {{id: own-{i}}}}}\n" for i in range(150))
    path = _config(tmp_path, {}, "version: 1\ntarget: {sandbox: {}}\nenvironments:\n" + many)
    result = _validate(str(path))
    assert result.exit_code == 1
    assert "environments: has more than 100 entries" in result.output
