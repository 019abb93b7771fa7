"""``--env NAME`` (or ``RECONCILER_ENV``): which of ``reconciler.yaml``'s ``environments:`` a
command uses. Every command that reads a config takes it; this module imports only click,
so ``validate`` stays light."""

from __future__ import annotations

import click

env_option = click.option(
    "--env",
    "environment",
    metavar="NAME",
    envvar="RECONCILER_ENV",
    help="Which of reconciler.yaml's environments: to use (else RECONCILER_ENV); needed when "
    "it declares any.",
)
