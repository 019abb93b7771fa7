"""Target resolution: flags beat the environment, the environment beats reconciler.yaml; and
credentials load from each place with one-line errors that never echo key material."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from reconciler.encord import BearerAuth, EncordClient, KeyAuth
from reconciler.model.desired import EncordTarget, SandboxIntegration, SandboxTarget, Target
from reconciler.targets import TargetError, TargetOptions, connect, resolve
from reconciler.wire.signing import key_id, private_key_to_openssh

KEY = Ed25519PrivateKey.generate()
KEY_TEXT = private_key_to_openssh(KEY)


def _key_file(tmp_path: Path, name: str = "id_ed25519") -> Path:
    path = tmp_path / name
    path.write_text(KEY_TEXT)
    return path


async def _auth(client: EncordClient) -> object:
    auth = client.options.auth
    await client.aclose()
    return auth


def test_domain_flag_beats_env_beats_config() -> None:
    config = Target(encord=EncordTarget(domain="https://api.us.encord.com"))
    env = {"ENCORD_DOMAIN": "https://env.example/"}
    assert resolve(TargetOptions(config=config, env={})).domain == "https://api.us.encord.com"
    assert resolve(TargetOptions(config=config, env=env)).domain == "https://env.example"
    flagged = TargetOptions(domain="https://flag.example", config=config, env=env)
    assert resolve(flagged).domain == "https://flag.example"
    assert resolve(TargetOptions(config=Target(encord=EncordTarget()), env={})).label == (
        "https://api.encord.com"
    )


def test_env_domain_beats_a_sandbox_in_the_config_but_the_sandbox_flag_beats_env(
    tmp_path: Path,
) -> None:
    config = Target(sandbox=SandboxTarget(path=str(tmp_path / "cfg.sqlite")))
    env = {"ENCORD_DOMAIN": "https://env.example"}
    assert resolve(TargetOptions(config=config, env={})).kind == "sandbox"
    assert resolve(TargetOptions(config=config, env=env)).kind == "encord"
    flagged = resolve(TargetOptions(sandbox=tmp_path / "flag.sqlite", config=config, env=env))
    assert flagged.kind == "sandbox"
    assert flagged.label == f"sandbox:{tmp_path / 'flag.sqlite'}"


def test_sandbox_flag_keeps_the_config_fixtures(tmp_path: Path) -> None:
    fixture = SandboxIntegration(title="s3-raw", provider="s3", root=str(tmp_path))
    config = Target(sandbox=SandboxTarget(path="/elsewhere.sqlite", integrations=(fixture,)))
    resolved = resolve(TargetOptions(sandbox=Path("db.sqlite"), config=config, env={}))
    assert resolved.sandbox is not None
    assert resolved.sandbox.integrations == (fixture,)
    assert resolved.sandbox.path == str(Path("db.sqlite").resolve())


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (TargetOptions(env={}), "no target: pass --sandbox PATH or --domain URL"),
        (
            TargetOptions(sandbox=Path("a"), domain="https://x", env={}),
            "either --sandbox or --domain",
        ),
        (TargetOptions(domain="api.encord.com", env={}), "domain must start with https://"),
    ],
)
def test_target_mistakes_are_one_line(options: TargetOptions, message: str) -> None:
    with pytest.raises(TargetError, match=message):
        resolve(options)


@pytest.mark.anyio
async def test_key_from_flag_env_file_env_text_and_config(tmp_path: Path) -> None:
    path = _key_file(tmp_path)
    base = {"ENCORD_DOMAIN": "https://api.test"}
    from_flag = connect(TargetOptions(ssh_key_file=path, env=base))
    from_env_file = connect(TargetOptions(env={**base, "ENCORD_SSH_KEY_FILE": str(path)}))
    from_env_text = connect(TargetOptions(env={**base, "ENCORD_SSH_KEY": KEY_TEXT}))
    config = Target(
        encord=EncordTarget(domain="https://api.test.encord.com", ssh_key_file=str(path))
    )
    from_config = connect(TargetOptions(config=config, env={}))
    for client in (from_flag, from_env_file, from_env_text, from_config):
        auth = await _auth(client)
        assert isinstance(auth, KeyAuth) and auth.key_id == key_id(KEY)


@pytest.mark.anyio
async def test_flag_key_beats_env_key(tmp_path: Path) -> None:
    other = Ed25519PrivateKey.generate()
    env_file = tmp_path / "env_key"
    env_file.write_text(private_key_to_openssh(other))
    env = {"ENCORD_DOMAIN": "https://api.test", "ENCORD_SSH_KEY_FILE": str(env_file)}
    auth = await _auth(connect(TargetOptions(ssh_key_file=_key_file(tmp_path), env=env)))
    assert isinstance(auth, KeyAuth) and auth.key_id == key_id(KEY)


@pytest.mark.anyio
async def test_bearer_token_from_file_and_env(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("tok-123\n")
    env = {"ENCORD_DOMAIN": "https://api.test"}
    auth = await _auth(connect(TargetOptions(bearer_token_file=token_file, env=env)))
    assert isinstance(auth, BearerAuth) and auth.token == "tok-123"
    auth = await _auth(connect(TargetOptions(env={**env, "ENCORD_BEARER_TOKEN": "tok-456"})))
    assert isinstance(auth, BearerAuth) and auth.token == "tok-456"


def _ecdsa_key_text() -> str:
    key = generate_private_key(SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    ).decode()


@pytest.mark.parametrize(
    ("env_key", "message"),
    [
        ("-----BEGIN OPENSSH PRIVATE KEY-----\nnot base64 at all\n", "not a readable OpenSSH"),
        (None, "not Ed25519"),
    ],
)
def test_unusable_key_text_is_one_line_without_the_key(env_key: str | None, message: str) -> None:
    text = env_key if env_key is not None else _ecdsa_key_text()
    env = {"ENCORD_DOMAIN": "https://api.test", "ENCORD_SSH_KEY": text}
    with pytest.raises(TargetError, match=message) as info:
        connect(TargetOptions(env=env))
    shown = str(info.value)
    assert "\n" not in shown and "ENCORD_SSH_KEY" in shown
    for line in text.splitlines()[1:-1]:
        assert line not in shown


def test_missing_key_file_and_missing_credentials(tmp_path: Path) -> None:
    env = {"ENCORD_DOMAIN": "https://api.test"}
    with pytest.raises(TargetError, match=r"cannot read SSH key file .*nope: No such file"):
        connect(TargetOptions(ssh_key_file=tmp_path / "nope", env=env))
    with pytest.raises(
        TargetError, match=r"no credentials for https://api\.test: pass --ssh-key-file"
    ):
        connect(TargetOptions(env=env))


def test_key_flags_do_not_apply_to_the_sandbox(tmp_path: Path) -> None:
    with pytest.raises(TargetError, match="apply to --domain, not --sandbox"):
        connect(
            TargetOptions(sandbox=tmp_path / "s.sqlite", ssh_key_file=_key_file(tmp_path), env={})
        )


def test_an_empty_encord_domain_means_the_default_not_the_config() -> None:
    # An unset GitHub secret arrives as an empty variable: the pull request's config must not
    # then choose the host that receives signed requests.
    config = Target(encord=EncordTarget(domain="https://api.us.encord.com"))
    resolved = resolve(TargetOptions(config=config, env={"ENCORD_DOMAIN": ""}))
    assert resolved.domain == "https://api.encord.com"


@pytest.mark.parametrize(
    "domain",
    [
        "https://attacker.example",
        "http://api.encord.com",  # signed requests in clear text
        "https://encord.com.attacker.example",
        "https://attacker-encord.com",
    ],
)
def test_a_config_cannot_send_signed_requests_to_a_host_of_its_choosing(domain: str) -> None:
    config = Target(encord=EncordTarget(domain=domain))
    with pytest.raises(TargetError) as info:
        resolve(TargetOptions(config=config, env={}))
    message = str(info.value)
    assert "\n" not in message
    assert "--domain" in message and "RECONCILER_ALLOWED_DOMAINS" in message


def test_the_operator_may_allow_another_host_outside_the_config() -> None:
    config = Target(encord=EncordTarget(domain="https://encord.internal.example"))
    env = {"RECONCILER_ALLOWED_DOMAINS": "other.example, encord.internal.example"}
    assert resolve(TargetOptions(config=config, env=env)).domain == (
        "https://encord.internal.example"
    )
    for allowed in ("https://api.encord.com", "https://api.us.encord.com"):
        resolved = resolve(TargetOptions(config=Target(encord=EncordTarget(domain=allowed))))
        assert resolved.domain == allowed
    flagged = TargetOptions(domain="http://127.0.0.1:8080", config=config, env={})
    assert resolve(flagged).domain == "http://127.0.0.1:8080"  # a flag is the operator's word
