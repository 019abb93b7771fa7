"""The plan apply makes after cloud syncs, for the items they brought: shown, then approved
by the same rules as the main plan (refusals need ``--force``; without ``--auto-approve`` the
same question is asked). Nobody could review these changes when the main plan was made."""

from __future__ import annotations

from collections.abc import Callable

import click

from reconciler.cli.apply_views import ApplyView
from reconciler.plan import Plan, can_apply


def follow_up_approval(
    view: ApplyView, *, auto_approve: bool, force: bool
) -> Callable[[Plan], bool]:
    """``ApplyOptions.approve_deferred`` for the CLI."""

    def approve(plan: Plan) -> bool:
        view.close()  # the bars stop (they start again with the next event) for the plan
        view.follow_up(plan)
        if not can_apply(plan, force=force):
            click.echo(
                "Not applying the changes planned after the cloud syncs: they have refusals "
                "(listed above); resolve them, or pass --force",
                err=True,
            )
            return False
        return auto_approve or view.confirm("Apply these changes too?")

    return approve
