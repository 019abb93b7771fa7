"""The plan apply makes after cloud syncs, for the items they brought: shown, then approved
by the same rules as the main plan (refusals need ``--force``; without ``--auto-approve`` the
same question is asked). Nobody could review these changes when the main plan was made."""

from __future__ import annotations

from collections.abc import Callable

import click

from reconciler.cli.apply_progress import JsonLines, Printer
from reconciler.plan import Plan, can_apply, plan_document, render_text


def follow_up_approval(
    printer: Printer, *, auto_approve: bool, force: bool, json_lines: bool
) -> Callable[[Plan], bool]:
    """``ApplyOptions.approve_deferred`` for the CLI."""

    def approve(plan: Plan) -> bool:
        printer.close()  # the bars stop (they start again with the next event) for the plan
        _show(plan, printer)
        if not can_apply(plan, force=force):
            click.echo(
                "Not applying the changes planned after the cloud syncs: they have refusals "
                "(listed above); resolve them, or pass --force",
                err=True,
            )
            return False
        if auto_approve:
            return True
        try:
            return click.confirm("Apply these changes too?", default=False, err=json_lines)
        except click.exceptions.Abort:  # Ctrl-C or end of input at the prompt
            return False

    return approve


def _show(plan: Plan, printer: Printer) -> None:
    if isinstance(printer, JsonLines):
        printer.write({"event": "plan", "after_sync": True, "plan": plan_document(plan)})
        return
    click.echo("Planned after the cloud syncs, for the items they brought:")
    click.echo(render_text(plan), nl=False)
