"""The shipped examples apply and converge: over a loopback socket (the server provisioned
with each example's fixtures) and on the embedded sandbox, as a new user would run them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers import run_cli, running_sandbox

from reconciler.config import load_config

pytestmark = pytest.mark.slow

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _copy(name: str, tmp_path: Path) -> Path:
    """The example copied away, so the repository is never written to."""
    target = tmp_path / name
    shutil.copytree(EXAMPLES / name, target, ignore=shutil.ignore_patterns(".reconciler"))
    return target


def _provision(config: Path, db: Path, key: Path) -> None:
    """A served sandbox holding the example's fixture integrations and users."""
    fixtures = load_config(config).target.sandbox
    assert fixtures is not None
    steps = [
        ("sandbox", "init", "--db", str(db), "--admin-email", "admin@example.com", "--key-out", str(key)),
        *(
            ("sandbox", "add-integration", "--db", str(db), "--title", i.title,
             "--provider", i.provider, "--root", i.root)
            for i in fixtures.integrations
        ),
        *(
            ("sandbox", "add-user", "--db", str(db), "--email", u.email,
             "--org-role", u.role.lower().replace("_", "-"),
             "--key-out", str(key.with_name(f"{u.email}.key")))
            for u in fixtures.users
        ),
    ]  # fmt: skip
    for step in steps:
        done = run_cli(*step)
        assert done.returncode == 0, (step, done.stderr)


@pytest.mark.parametrize("name", ["quickstart", "realistic"])
def test_example_applies_over_a_socket_and_converges(tmp_path: Path, name: str) -> None:
    config = _copy(name, tmp_path)
    server_dir = tmp_path / "server"
    server_dir.mkdir()
    _provision(config, server_dir / "sandbox.sqlite", server_dir / "admin.key")
    with running_sandbox(server_dir, init=False) as server:
        flags = ("--domain", server.url, "--ssh-key-file", str(server.key_path))
        applied = run_cli("apply", str(config), "--auto-approve", *flags, timeout=300)
        assert applied.returncode == 0, applied.stdout + applied.stderr
        assert "Verified: a fresh plan is empty" in applied.stdout
        assert "Traceback" not in applied.stderr
        planned = run_cli("plan", str(config), "--detailed-exitcode", *flags)
        assert planned.returncode == 0, planned.stdout + planned.stderr


def test_quickstart_on_the_embedded_sandbox(tmp_path: Path) -> None:
    config = _copy("quickstart", tmp_path)
    applied = run_cli("apply", str(config), "--auto-approve", timeout=300)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "Verified: a fresh plan is empty" in applied.stdout
    assert (config / ".reconciler" / "sandbox.sqlite").is_file()
    planned = run_cli("plan", str(config), "--detailed-exitcode")
    assert planned.returncode == 0, planned.stdout + planned.stderr
    again = run_cli("apply", str(config), "--auto-approve")
    assert again.returncode == 0 and "No changes." in again.stdout
