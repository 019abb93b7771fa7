"""The summary ``reconciler apply`` prints at the end (text format): what was applied, what
failed and why, and the verdict of verification, with drift outside the plan apart."""

from __future__ import annotations

import click

from reconciler.apply import ApplyResult
from reconciler.apply.verify import Verification
from reconciler.printable import printable
from reconciler.words import plural

_SHOWN = 50


def print_summary(result: ApplyResult) -> None:
    failed = sorted({f.address for f in result.failures})
    head = "Apply complete" if result.ok else "Apply finished with problems"
    if result.interrupted:
        head = "Apply interrupted"
    resumed = (
        f" ({plural(result.already_done, 'step')} done by an earlier run)"
        if result.already_done
        else ""
    )
    click.echo(
        f"{head}: {plural(result.applied, 'change')} applied, {len(failed)} failed{resumed}; "
        f"{plural(result.requests, 'request')} in {result.seconds:.1f} s."
    )
    if result.failures:
        click.echo("Failed:")
        for failure in result.failures:
            click.echo(
                f"  ! {printable(failure.address)} [{failure.phase}]: {printable(failure.message)}"
            )
    for note in result.notes:
        click.echo(f"Note: {printable(note)}")
    verification = result.verification
    if result.interrupted:
        click.echo("Interrupted: not verified; what was started finished and is journaled.")
    elif verification is None:
        click.echo("Not verified: no configuration to plan again from.")
    else:
        _verdict(verification)


def _verdict(verification: Verification) -> None:
    if verification.error is not None:
        click.echo(f"Not verified: {printable(verification.error)}")
    elif verification.remaining or verification.withheld:
        _not_converged(verification)
    elif verification.drift:
        click.echo("Verified: a fresh plan wants nothing more of what this plan covered.")
    elif verification.reread == "touched":
        click.echo("Verified: a fresh plan is empty (the touched items were read back).")
    else:
        click.echo("Verified: a fresh plan is empty.")
    if verification.drift:
        # Objects the plan never touched, edited by someone since: reported, not a failure.
        click.echo(
            "Drift outside this plan (not applied, not a failure): a fresh plan also wants "
            f"{plural(len(verification.drift), 'change')} of objects this plan did not touch; "
            "run `reconciler plan`:"
        )
        _lines(verification.drift, "")


def _not_converged(verification: Verification) -> None:
    count = len(verification.remaining)
    if count:
        click.echo(f"Did not converge: a fresh plan still wants {plural(count, 'change')}:")
        _lines(verification.remaining, "(run `reconciler plan` for all)")
    if verification.withheld:  # refusals are few: never truncated
        refusals = plural(len(verification.withheld), "refusal")
        click.echo(f"Not verified: a fresh plan withholds changes ({refusals}):")
        for line in verification.withheld:
            click.echo(f"  {printable(line)}")


def _lines(lines: tuple[str, ...], more: str) -> None:
    for line in lines[:_SHOWN]:
        click.echo(f"  {printable(line)}")
    if len(lines) > _SHOWN:
        click.echo(f"  … and {len(lines) - _SHOWN} more {more}".rstrip())
