"""Commands load lazily (``cli/commands.py``): what ``reconciler --help``, ``--version`` and
``validate`` must not import, judged from the modules loaded by the real entry point, and the command table kept true to the commands the modules define.

The lists below name what is forbidden, not what is allowed, so a light new import costs
nothing here and a heavy one fails with its name.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import json
import os
import pkgutil
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest

import reconciler.cli
from reconciler.cli.commands import COMMANDS
from reconciler.cli.main import cli

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

# Neither the client nor the server nor any renderer: a word about the commands needs none.
HEAVY = (
    "httpx",
    "httpcore",
    "starlette",
    "uvicorn",
    "anyio",
    "asyncio",
    "rich",
    "deepdiff",
    "cryptography",
    "sqlite3",
    "encord",
    "ruamel",  # only fmt round-trips YAML with comments
)
OUR_ENGINE = (
    "reconciler.encord",
    "reconciler.live",
    "reconciler.plan",
    "reconciler.kinds",
    "reconciler.apply",
    "reconciler.drift",
    "reconciler.export",
    "reconciler.sandbox",
    "reconciler.targets",
)
# ``--help`` and ``--version`` do not even read a config.
FORBIDDEN_FOR_HELP = (
    *HEAVY,
    *OUR_ENGINE,
    "pydantic",
    "jsonschema",
    "yaml",
    "reconciler.config",
    "reconciler.model",
)
# ``validate`` reads and checks a config (YAML, the JSON Schema, the desired models, and the
# sandbox's names from its SQLite file): nothing that connects, plans or serves. A valid config
# is judged by the schema compiled to plain checks; jsonschema only says why one is not valid.
# The desired models are dataclasses: pydantic (the wire models' library) is not needed either.
PYDANTIC = ("pydantic", "pydantic_core", "annotated_types", "typing_inspection")
# Nothing ``validate`` runs logs (its row in the table says ``logs=False``): no ``logging``.
FORBIDDEN_FOR_VALIDATE = (
    *(m for m in (*HEAVY, *OUR_ENGINE) if m != "sqlite3"),
    *PYDANTIC,
    "logging",
)
JSONSCHEMA = ("jsonschema", "referencing", "rpds", "attrs", "attr")
# Config modules loaded only when a config has what they read or check.
UNUSED_BY_THE_QUICKSTART = (
    "reconciler.config.templates",
    "reconciler.config.manifests",
    "reconciler.config.registration",
    "reconciler.config.overlap",
    "reconciler.config.globsets",
    "csv",
    "array",
)

# The real entry point (``python -m reconciler``), and on the way out every module it loaded.
_PROBE = """
import atexit, json, runpy, sys
out = sys.argv.pop(1)

def handlers():
    logging = sys.modules.get("logging")
    return None if logging is None else [type(h.formatter).__name__ for h in logging.root.handlers]

def collector():
    import gc
    return [gc.isenabled(), gc.get_freeze_count()]

atexit.register(
    lambda: open(out, "w").write(json.dumps([sorted(sys.modules), handlers(), collector()]))
)
sys.argv[0] = "reconciler"
runpy.run_module("reconciler", run_name="__main__")
"""


def imported(*args: str, cwd: Path) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run ``python -m reconciler ARGS``: its result and every module it imported."""
    listing = cwd / "modules.json"
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, str(listing), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=cwd,
    )
    modules = set(json.loads(listing.read_text())[0])
    assert "reconciler.cli.main" in modules, result.stderr[-2000:]  # the listing was written
    return result, modules


def root_log_handlers(*args: str, cwd: Path) -> list[str] | None:
    """The formatters of the root logger's handlers once ``python -m reconciler ARGS`` has
    run (None: ``logging`` was never imported)."""
    imported(*args, cwd=cwd)
    handlers: list[str] | None = json.loads((cwd / "modules.json").read_text())[1]
    return handlers


@functools.cache
def interpreter_start_up() -> frozenset[str]:
    """What a bare interpreter in this environment loads before any of our code runs.

    Not ours to judge: under CI's coverage every Python subprocess starts the coverage
    collector first, and it loads ``sqlite3`` whatever the command is.
    """
    result = subprocess.run(
        [sys.executable, "-c", "import json, sys; print(json.dumps(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return frozenset(json.loads(result.stdout))


def offenders(modules: set[str], forbidden: tuple[str, ...]) -> list[str]:
    ours = modules - interpreter_start_up()
    return sorted(m for m in ours if any(m == f or m.startswith(f + ".") for f in forbidden))


@pytest.mark.parametrize("flag", ["--help", "--version"])
def test_help_and_version_import_nothing_heavy(flag: str, tmp_path: Path) -> None:
    result, modules = imported(flag, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert offenders(modules, FORBIDDEN_FOR_HELP) == []
    assert not any(m.startswith("reconciler.cli.") and m not in _SHELL for m in modules)


_SHELL = {"reconciler.cli.main", "reconciler.cli.commands", "reconciler.cli.exit_codes"}


def test_validate_imports_only_what_checking_a_config_needs(tmp_path: Path) -> None:
    config = shutil.copytree(EXAMPLES / "quickstart", tmp_path / "quickstart")
    result, modules = imported("validate", str(config), cwd=tmp_path)
    assert result.returncode == 0 and result.stdout.startswith("valid: "), result.stderr
    assert offenders(modules, (*FORBIDDEN_FOR_VALIDATE, *JSONSCHEMA)) == []
    assert {"reconciler.schemacheck", "yaml", "reconciler.config.loader"} <= modules  # it checked
    # hints and error lines only for mistakes; the quickstart's sandbox database does not
    # exist yet
    assert offenders(modules, ("difflib", "reconciler.printable", "sqlite3")) == []
    # what the quickstart does not use: templates, manifests, registrations, a second rule
    assert offenders(modules, UNUSED_BY_THE_QUICKSTART) == []


def test_validate_asks_jsonschema_why_only_when_a_config_is_invalid(tmp_path: Path) -> None:
    config = shutil.copytree(EXAMPLES / "quickstart", tmp_path / "quickstart")
    settings = config / "reconciler.yaml"
    settings.write_text(settings.read_text().replace("prune: owned", "prune: sometimes"))
    result, modules = imported("validate", str(config), cwd=tmp_path)
    assert result.returncode == 1 and "reconciler.yaml:" in result.stdout, result.stderr
    assert "'sometimes' is not one of" in result.stdout
    assert offenders(modules, FORBIDDEN_FOR_VALIDATE) == []
    assert "jsonschema" in modules


def test_a_command_is_loaded_when_it_runs(tmp_path: Path) -> None:
    """The other side of laziness: ``plan --help`` loads ``plan`` and what it needs."""
    result, modules = imported("plan", "--help", cwd=tmp_path)
    assert result.returncode == 0 and "--detailed-exitcode" in result.stdout
    assert {"reconciler.cli.plan", "reconciler.plan", "httpx"} <= modules
    assert "reconciler.cli.sandbox" not in modules  # and not the other commands


def _load_every_cli_module() -> None:
    for info in pkgutil.iter_modules(reconciler.cli.__path__):
        importlib.import_module(f"reconciler.cli.{info.name}")


def test_the_table_names_every_command_its_module_and_its_help_line() -> None:
    _load_every_cli_module()
    assert sorted(cli.commands) == sorted(COMMANDS)  # a new command needs its row
    for name, row in COMMANDS.items():
        command = cli.commands[name]
        assert command.callback is not None
        assert command.callback.__module__ == row.module, name
        assert (command.help or "").split("\n\n")[0].replace("\n", " ") == row.summary, name


_LOAD_ALL = """
import importlib, pkgutil, reconciler.cli
for info in pkgutil.iter_modules(reconciler.cli.__path__):
    importlib.import_module("reconciler.cli." + info.name)
"""


def _help(preamble: str) -> str:
    script = preamble + "import runpy, sys\nsys.argv[0] = 'reconciler'\n"
    script += "runpy.run_module('reconciler', run_name='__main__')\n"
    return subprocess.run(
        [sys.executable, "-c", script, "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env={**os.environ, "COLUMNS": "80"},
    ).stdout


def test_help_from_the_table_is_the_help_of_the_loaded_commands() -> None:
    """What ``--help`` shows before any command is loaded is what it shows after."""
    lazy, loaded = _help(""), _help(_LOAD_ALL)
    assert lazy == loaded
    assert all(f"  {name} " in lazy for name in COMMANDS)


def test_an_unknown_command_is_still_a_usage_error() -> None:
    group = click.Context(cli)
    assert cli.get_command(group, "no-such-command") is None
    assert "no-such-command" not in cli.list_commands(group)


def test_a_command_that_logs_gets_the_one_line_handler_and_validate_only_with_v(
    tmp_path: Path,
) -> None:
    """Without ``-v`` a command's own ``-v`` callback installs the root handler (warnings as
    one ``printable`` line), except for a command whose row says it never logs."""
    assert [name for name, row in COMMANDS.items() if not row.logs] == ["validate"]
    config = shutil.copytree(EXAMPLES / "quickstart", tmp_path / "quickstart")
    assert root_log_handlers("schema", cwd=tmp_path) == ["OneLineFormatter"]
    assert root_log_handlers("validate", "-v", str(config), cwd=tmp_path) == ["OneLineFormatter"]
    assert root_log_handlers("-v", "validate", str(config), cwd=tmp_path) == ["OneLineFormatter"]
    assert root_log_handlers("validate", str(config), cwd=tmp_path) in (None, [])


def test_the_collector_skips_start_up_and_runs_for_the_command(tmp_path: Path) -> None:
    """Start-up's objects are frozen out of the cycle collector's sight (``main``), and the
    command itself runs with the collector on (a long ``apply`` or ``sandbox serve`` needs
    it)."""
    config = shutil.copytree(EXAMPLES / "quickstart", tmp_path / "quickstart")
    for args in (("validate", str(config)), ("schema",)):
        result, _ = imported(*args, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        enabled, frozen = json.loads((tmp_path / "modules.json").read_text())[2]
        assert enabled and frozen > 1000, args  # the imports: thousands of objects


def test_the_dataclasses_validate_loads_are_documented(tmp_path: Path) -> None:
    """A dataclass without a docstring gets one made from ``inspect.signature`` when it is
    built: about 0.1 ms each at every start-up (and a docstring is owed anyway)."""
    config = shutil.copytree(EXAMPLES / "quickstart", tmp_path / "quickstart")
    _, modules = imported("validate", str(config), cwd=tmp_path)
    undocumented = []
    for module in (importlib.import_module(m) for m in modules if m.startswith("reconciler.")):
        for name, value in vars(module).items():
            made_here = isinstance(value, type) and value.__module__ == module.__name__
            generated = (getattr(value, "__doc__", None) or "").startswith(f"{name}(")
            if made_here and dataclasses.is_dataclass(value) and generated:
                undocumented.append(f"{module.__name__}.{name}")
    assert undocumented == []
