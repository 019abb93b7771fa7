"""No credential the tool reads reaches any output or file it writes.

The credentials: the SSH key (``ENCORD_SSH_KEY`` text, ``ENCORD_SSH_KEY_FILE``,
``--ssh-key-file``) and the bearer token (``ENCORD_BEARER_TOKEN``). A config cannot
interpolate them (listed in ``variables:`` or not), and every command's every rendering and
written file is searched for them after real runs against a served sandbox.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from helpers import SandboxServer, run_cli, running_sandbox

from reconciler.config import ConfigError, load_config

TOKEN = "tok-5f2b9c0d8e7a4f61b3c2d1e0f9a8b7c6"
SETTINGS = """\
version: 1
target:
  sandbox: {path: .reconciler/unused.sqlite}
ownership: {id: secrets-test}
variables: [ENCORD_SSH_KEY, ENCORD_BEARER_TOKEN, RECONCILER_VAR_NOTE]
"""


def key_fragments(key_text: str) -> list[str]:
    """Pieces of the private key that must never be seen: every line of its base64 body."""
    lines = [line.strip() for line in key_text.splitlines()]
    return [line for line in lines if line and not line.startswith("-----")]


@pytest.mark.parametrize("variable", ["ENCORD_SSH_KEY", "ENCORD_BEARER_TOKEN", "MY_API_TOKEN"])
def test_a_config_cannot_interpolate_a_credential(tmp_path: Path, variable: str) -> None:
    listed = SETTINGS.replace("ENCORD_SSH_KEY, ENCORD_BEARER_TOKEN, RECONCILER_VAR_NOTE", variable)
    (tmp_path / "reconciler.yaml").write_text(listed)  # listing a credential does not help
    (tmp_path / "folders.yaml").write_text(f'folders:\n  /a: {{description: "${{{variable}}}"}}\n')
    env = {variable: TOKEN}
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path, env=env)
    (problem,) = info.value.diagnostics
    assert (problem.file, problem.line) == ("folders.yaml", 2)
    assert "never interpolated" in problem.message and TOKEN not in problem.message
    result = run_cli("validate", str(tmp_path), env=env)
    assert result.returncode == 1 and TOKEN not in result.stdout + result.stderr


def outputs(
    config: Path, server: SandboxServer, out: Path
) -> list[subprocess.CompletedProcess[str]]:
    """Every command and rendering that reads the organisation, writing files under ``out``."""
    env = {
        "ENCORD_DOMAIN": server.url,
        "ENCORD_SSH_KEY": server.key_text,
        "ENCORD_BEARER_TOKEN": TOKEN,
        "RECONCILER_VAR_NOTE": "a note",
    }
    runs = [run_cli("apply", str(config), "--auto-approve", "--format", "json", env=env)]
    for fmt in ("text", "json", "markdown", "html"):
        runs.append(run_cli("plan", str(config), "--format", fmt, "-v", env=env))
        runs.append(run_cli("drift", str(config), "--format", fmt, env=env))
    runs.append(run_cli("plan", str(config), "--out", str(out / "plan.json"), env=env))
    runs.append(run_cli("show", str(out / "plan.json"), "--format", "html"))
    runs.append(run_cli("drift", str(config), "--junit", str(out / "drift.xml"), env=env))
    runs.append(run_cli("export", "--root", "/secrets", "--out", str(out / "export"), env=env))
    flagged = ("--domain", server.url, "--ssh-key-file", str(server.key_path))
    runs.append(run_cli("plan", str(config), "-vv", *flagged, env={"RECONCILER_VAR_NOTE": "n"}))
    broken = {"ENCORD_SSH_KEY": "not a key", "RECONCILER_VAR_NOTE": "n"}
    runs.append(run_cli("plan", str(config), "--domain", server.url, env=broken))
    return runs


@pytest.mark.slow
def test_no_credential_reaches_any_output_or_written_file(tmp_path: Path) -> None:
    (tmp_path / "server").mkdir()
    with running_sandbox(tmp_path / "server") as server:
        config = tmp_path / "config"
        config.mkdir()
        (config / "reconciler.yaml").write_text(SETTINGS)
        (config / "folders.yaml").write_text(
            'folders:\n  /secrets: {description: "${RECONCILER_VAR_NOTE}"}\n'
            "  /secrets/inner: {metadata: {k: v}}\n"
        )
        out = tmp_path / "out"
        out.mkdir()
        runs = outputs(config, server, out)
        assert runs[0].returncode == 0, runs[0].stdout + runs[0].stderr
        texts = [r.stdout + r.stderr for r in runs]
        written = [tmp_path / "config" / ".reconciler", out]
        texts += [
            p.read_text(errors="replace")
            for d in written
            for p in d.rglob("*")
            if p.is_file() and p.suffix != ".sqlite"
        ]
        fragments = key_fragments(server.key_text)
        assert fragments and len("".join(texts)) > 10_000
        for text in texts:
            assert not any(fragment in text for fragment in fragments)
            assert TOKEN not in text


@pytest.mark.parametrize("name", ["folders.yaml", "reconciler.yaml"])
def test_a_yaml_file_linked_from_outside_the_config_is_not_read(tmp_path: Path, name: str) -> None:
    secret = tmp_path / "id_ed25519"
    secret.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA: {[\n")
    config = tmp_path / "config"
    config.mkdir()
    (config / "reconciler.yaml").write_text(SETTINGS)
    (config / name).unlink(missing_ok=True)
    (config / name).symlink_to(secret)
    result = run_cli("validate", str(config))
    assert result.returncode == 1
    assert "b3BlbnNzaC1rZXktdjEAAAAA" not in result.stdout + result.stderr
    assert f"{name}:1:1: is a link to a file outside the config directory" in result.stdout
