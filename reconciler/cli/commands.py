"""The command table: each command's name, the module that defines it, and the line that
``reconciler --help`` shows for it.

A command's module is imported only when that command runs (or is asked for its own
``--help``), so ``reconciler --help``, ``--version`` and ``validate`` start without loading the
HTTP client, the planner, the apply engine or the sandbox server: each command pays for what
it uses. ``tests/test_cli_imports.py`` pins what ``reconciler --help`` must not import.

To add a command: define it in its own module under ``reconciler/cli/`` with
``@cli.command("name")`` (or ``@cli.group()``), as the others do, and add its row here.
``tests/test_cli_imports.py`` fails until the row names the module that registers the command
and its ``summary`` is the first paragraph of the command's docstring. Keep a command module's
heavy imports (httpx, the planner, rich, …) out of the modules that ``validate`` needs.
"""

from __future__ import annotations

from typing import NamedTuple


class LazyCommand(NamedTuple):
    module: str  # imported on first use; it registers the command on ``cli``
    summary: str  # the first paragraph of the command's docstring, shown by ``--help``
    # False: nothing the command runs logs, so without -v it does not import ``logging``
    # (``tests/test_cli_imports.py`` checks that it does not)
    logs: bool = True


COMMANDS: dict[str, LazyCommand] = {
    "adopt": LazyCommand(
        "reconciler.cli.claim",
        "Write adopt: true into the declared folders and groups that ADDRESS_GLOB matches.",
    ),
    "apply": LazyCommand(
        "reconciler.cli.apply",
        "Make the organisation match PATH (a config directory, default .) or a saved PLANFILE.",
    ),
    "drift": LazyCommand(
        "reconciler.cli.drift",
        "Audit the organisation against the config in PATH (default .). Never writes to Encord.",
    ),
    "export": LazyCommand(
        "reconciler.cli.export",
        "Write YAML describing live storage under --root, so it can be brought under management.",
    ),
    "fmt": LazyCommand(
        "reconciler.cli.fmt",
        "Rewrite the config's YAML in PATH (default .) in canonical form, comments kept.",
    ),
    "plan": LazyCommand(
        "reconciler.cli.plan",
        "Show what `reconciler apply` would change to make Encord match PATH (default .).",
    ),
    "release": LazyCommand(
        "reconciler.cli.claim",
        "Write release: true into the declared folders and groups that ADDRESS_GLOB matches.",
    ),
    "render": LazyCommand(
        "reconciler.cli.render",
        "Print the config in PATH (default .) fully expanded: what `plan` reads.",
    ),
    "sandbox": LazyCommand(
        "reconciler.cli.sandbox",
        "A local Encord-compatible API on SQLite (the embedded default target).",
    ),
    "schema": LazyCommand(
        "reconciler.cli.schema", "Print the JSON Schema of config files (for editors)."
    ),
    "show": LazyCommand(
        "reconciler.cli.show",
        "Render a saved plan (PLAN_FILE, from `plan --out`) or drift report again, offline.",
    ),
    "sync": LazyCommand(
        "reconciler.cli.sync",
        "Sync the declared cloud-synced folders in PATH (default .) again, now.",
    ),
    "validate": LazyCommand(
        "reconciler.cli.validate",
        "Check the config in PATH (default: .) against the schema and the semantic rules.",
        logs=False,
    ),
    "whoami": LazyCommand(
        "reconciler.cli.whoami",
        "Print the caller's email, organisation role and the target, on one line.",
    ),
}
