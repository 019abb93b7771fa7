"""The exit codes ``plan --detailed-exitcode``, ``apply`` and ``drift`` share (the README's
"Exit codes" section), so CI scripts can branch on them the same way everywhere:

* 0: nothing to do, applied and converged, in sync;
* 2: changes (``plan --detailed-exitcode``), drift (``drift``);
* 1: any error: bad config or flags, unreachable target, refusal, apply failure or
  non-convergence.

Click exits 2 on a usage error; the root ``CommandGroup`` (``cli/main.py``) makes that 1 for
every command and sub-group, because 2 means "changes" or "drift" here and a mistyped flag in
a CI job must not read as either. ``ExitCodeCommand`` does the same for a command run on its
own (``command.main()``), outside the group.
"""

from __future__ import annotations

import click

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES = 2


class ExitCodeCommand(click.Command):
    """A click command whose usage errors (unknown flag, bad value) exit 1."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            exc.exit_code = EXIT_ERROR  # type: ignore[misc]  # click reads it per instance
            raise
