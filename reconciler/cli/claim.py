"""``reconciler adopt ADDRESS_GLOB…`` and ``reconciler release ADDRESS_GLOB…``: write
``adopt: true`` or ``release: true`` into the matching declarations of a config.

The claim goes into each declaration itself, in the file that declares it
(``reconciler.config.claims`` edits the text, keeping comments), where a reviewer reads it
next to what it claims; the next ``reconciler plan`` shows the adoptions or releases for
review, and apply makes them. Neither command talks to Encord: what is live is the plan's
business. Only folders and groups can be claimed (a dataset's tag cannot be written once it
exists); a glob that matches no declared folder or group is an error, since nothing that is
not declared is ever adopted. After writing, the config is loaded again and must hold
exactly the claims intended, or every file is put back as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import click

from reconciler.cli.common import check_globs, load_desired
from reconciler.cli.exit_codes import EXIT_OK
from reconciler.cli.main import cli
from reconciler.cli.running import CommandError, run_command
from reconciler.config import load_config
from reconciler.config.claims import with_claim
from reconciler.model import addresses as addr
from reconciler.model.desired import Claim, DesiredState
from reconciler.model.globs import compile_glob

_HOW = {
    "adopt": "run reconciler plan to review the adoptions, then apply them",
    "release": "run reconciler plan to review the releases, apply them, then remove the "
    "declarations when you want",
}


@dataclass(frozen=True, slots=True)
class Target:
    """One declaration to claim: its address, section, key and file (relative)."""

    address: str
    section: str
    name: str
    file: str


def _command(claim: Claim) -> Callable[..., None]:
    @click.argument("globs", nargs=-1, required=True, metavar="ADDRESS_GLOB...")
    @click.option(
        "--config",
        "path",
        default=".",
        show_default=True,
        type=click.Path(path_type=Path),
        help="The config directory to write into.",
    )
    def command(globs: tuple[str, ...], path: Path) -> None:
        run_command(claim, lambda: _run(claim, globs, path))

    return command


def _run(claim: Claim, globs: tuple[str, ...], path: Path) -> int:
    check_globs(globs, claim)
    desired = load_desired(path)
    targets = _targets(desired, globs, claim)
    root = Path(desired.root_dir)
    originals = {t.file: (root / t.file).read_text(encoding="utf-8") for t in targets}
    texts = dict(originals)
    outcomes: dict[str, list[str]] = {}
    for target in targets:
        edit = with_claim(texts[target.file], target.file, target.section, target.name, claim)
        texts[target.file] = edit.text
        outcomes.setdefault(edit.outcome, []).append(target.address)
    changed = {f: t for f, t in texts.items() if t != originals[f]}
    _write(root, changed)
    _check(root, targets, claim, desired, originals, changed)
    _print(claim, outcomes, sorted(changed))
    return EXIT_OK


def _targets(desired: DesiredState, globs: tuple[str, ...], claim: Claim) -> list[Target]:
    """The declared folders and groups the globs match; each glob must match one."""
    declared = [
        *(Target(addr.folder(p), "folders", p, f.source.file) for p, f in desired.folders.items()),
        *(Target(addr.group(n), "groups", n, g.source.file) for n, g in desired.groups.items()),
    ]
    out: dict[str, Target] = {}
    for pattern in globs:
        glob = compile_glob(pattern)
        hits = [t for t in declared if glob.match(t.address)]
        if not hits:
            raise CommandError(_no_match(desired, claim, pattern))
        out.update((t.address, t) for t in hits)
    return [out[a] for a in sorted(out)]


def _no_match(desired: DesiredState, claim: Claim, pattern: str) -> str:
    glob = compile_glob(pattern)
    where = f"{claim} {pattern!r} matches no declared folder or group in {desired.root_dir}"
    if any(glob.match(addr.dataset(t)) for t in desired.datasets):
        return (
            f"{where}, only datasets, which cannot be claimed (the API cannot rewrite a "
            "dataset's description, where the ownership tag lives); match folders or groups"
        )
    return (
        f"{where}; declare the object first (reconciler export writes declarations from a "
        "live organisation), then run this again"
    )


def _write(root: Path, texts: dict[str, str]) -> None:
    for file, text in texts.items():
        (root / file).write_text(text, encoding="utf-8")


def _check(
    root: Path,
    targets: list[Target],
    claim: Claim,
    before: DesiredState,
    originals: dict[str, str],
    changed: dict[str, str],
) -> None:
    """The config, loaded again, holds the claim on every target and no other new claim;
    otherwise (or when it does not load) every file is put back and the command fails."""
    problem: str | None = "the edited config does not load"  # until it does
    try:
        after = load_config(root)
        problem = _unexpected(before, after, {t.address for t in targets}, claim)
    finally:  # a config that no longer loads is put back before its error is shown
        if problem is not None:
            _write(root, {f: originals[f] for f in changed})
    if problem is not None:
        raise CommandError(f"{claim}: nothing was written: {problem}; add '{claim}: true' by hand")


def _unexpected(
    before: DesiredState, after: DesiredState, wanted: set[str], claim: Claim
) -> str | None:
    def claims(state: DesiredState) -> dict[str, Claim | None]:
        return {
            **{addr.folder(p): f.claim for p, f in state.folders.items()},
            **{addr.group(n): g.claim for n, g in state.groups.items()},
        }

    old, new = claims(before), claims(after)
    expected = {a: (claim if a in wanted else c) for a, c in old.items()}
    wrong = sorted(a for a in expected.keys() | new.keys() if expected.get(a) != new.get(a))
    return f"{', '.join(wrong[:3])} would not read as intended" if wrong else None


def _print(claim: Claim, outcomes: dict[str, list[str]], files: list[str]) -> None:
    written = [*outcomes.get("added", ()), *outcomes.get("flipped", ())]
    if written:
        where = ", ".join(files)
        click.echo(f"Wrote {claim}: true into {len(written)} declaration(s) in {where}:")
        click.echo("".join(f"  {a}\n" for a in written), nl=False)
    for address in outcomes.get("flipped", ()):
        other = "release" if claim == "adopt" else "adopt"
        click.echo(f"{address}: {other}: true replaced")
    already = outcomes.get("already", ())
    if already:
        click.echo(f"Already {claim}: true: {len(already)} declaration(s).")
    click.echo(f"Next: {_HOW[claim]}.")


cli.command(
    "adopt",
    help="Write adopt: true into the declared folders and groups that ADDRESS_GLOB matches.\n\n"
    "The next plan marks their live objects as ours (our ownership marker), so prune "
    "treats them as ours. Writes files only; never talks to Encord.",
)(_command("adopt"))
cli.command(
    "release",
    help="Write release: true into the declared folders and groups that ADDRESS_GLOB matches."
    "\n\nThe next plan takes our ownership marker off their live objects, deleting nothing, so "
    "they survive when their declarations are removed. Writes files only.",
)(_command("release"))
