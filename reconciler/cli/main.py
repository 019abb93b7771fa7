"""The ``reconciler`` command group; subcommands register themselves from their modules."""

from __future__ import annotations

import logging

import click

from reconciler import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="reconciler")
@click.option("-v", "--verbose", count=True, help="Log requests and timings (-vv for debug).")
def cli(verbose: int) -> None:
    """Encord storage as code: validate, plan, apply and audit YAML against Encord."""
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    if verbose < 2:  # -v: our one line per request; httpx's own request lines only with -vv
        logging.getLogger("httpx").setLevel(logging.WARNING)


def main() -> None:
    from reconciler.cli import commands  # noqa: F401  (registers the subcommands)

    cli(prog_name="reconciler")
