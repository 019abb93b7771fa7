"""``reconciler adopt`` and ``reconciler release`` (``cli/claim.py``, ``config/claims.py``):
the claim is written into each matching declaration, in its own file, comments kept; what
cannot be written safely is a one-line error and leaves every file as it was."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from reconciler.cli import claim as claim_cli
from reconciler.cli.main import cli
from reconciler.config import load_config
from reconciler.config.claims import ClaimEdit, ClaimEditError, with_claim

SETTINGS = "version: 1\ntarget: {sandbox: {path: s.sqlite}}\nownership: {id: acme}\n"
FOLDERS = """\
# folders of the team
folders:
  /team:            # the top
    description: Team
    metadata: {a: 1}
  /team/raw: {}
  /team/empty:
  /team/flow: {description: x}
  "/team/q uoted": ~   # kept
  /team/back: {release: true}
  /other: {}
"""
GROUPS = "groups:\n  crew:\n    members: []\ndatasets:\n  ds: {}\n"


def _config(tmp_path: Path) -> Path:
    (tmp_path / "reconciler.yaml").write_text(SETTINGS)
    (tmp_path / "folders.yaml").write_text(FOLDERS)
    (tmp_path / "groups.yaml").write_text(GROUPS)
    return tmp_path


def _run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_adopt_writes_into_each_declaration_where_it_is_keeping_the_rest(tmp_path: Path) -> None:
    root = _config(tmp_path)
    done = _run("adopt", "--config", str(root), "folder:/team/**", "group:crew")
    assert done.exit_code == 0, done.output
    assert (
        (root / "folders.yaml").read_text()
        == """\
# folders of the team
folders:
  /team:            # the top
    adopt: true
    description: Team
    metadata: {a: 1}
  /team/raw: {adopt: true}
  /team/empty: {adopt: true}
  /team/flow: {adopt: true, description: x}
  "/team/q uoted": {adopt: true}   # kept
  /team/back: {adopt: true}
  /other: {}
"""
    )
    assert (root / "groups.yaml").read_text().startswith("groups:\n  crew:\n    adopt: true\n")
    desired = load_config(root, env={})
    assert {p for p, f in desired.folders.items() if f.claim == "adopt"} == {
        "/team", "/team/raw", "/team/empty", "/team/flow", "/team/q uoted", "/team/back",
    }  # fmt: skip
    assert desired.folders["/other"].claim is None
    assert "Wrote adopt: true into 7 declaration(s) in folders.yaml, groups.yaml:" in done.output
    assert "folder:/team/back: release: true replaced" in done.output
    again = _run("adopt", "--config", str(root), "folder:/team/**")
    assert again.exit_code == 0 and "Already adopt: true: 6 declaration(s)." in again.output


def test_release_writes_release_and_replaces_adopt(tmp_path: Path) -> None:
    root = _config(tmp_path)
    assert _run("adopt", "--config", str(root), "folder:/other").exit_code == 0
    done = _run("release", "--config", str(root), "folder:/other", "folder:/team")
    assert done.exit_code == 0, done.output
    desired = load_config(root, env={})
    assert desired.folders["/other"].claim == "release"
    assert desired.folders["/team"].claim == "release"
    assert "  /other: {release: true}\n" in (root / "folders.yaml").read_text()


@pytest.mark.parametrize(
    ("globs", "says"),
    [
        (("folder:/nowhere/**",), "adopt 'folder:/nowhere/**' matches no declared folder or group"),
        (("dataset:*",), "only datasets, which cannot be claimed"),
        (("folder:[",), "adopt 'folder:[': unclosed '['"),
    ],
)
def test_what_matches_nothing_claimable_is_one_line_and_writes_nothing(
    tmp_path: Path, globs: tuple[str, ...], says: str
) -> None:
    root = _config(tmp_path)
    done = _run("adopt", "--config", str(root), "folder:/team", *globs)
    assert done.exit_code == 1
    assert says in done.output and done.output.count("\n") == 1
    assert (root / "folders.yaml").read_text() == FOLDERS


def test_a_missing_config_is_one_line(tmp_path: Path) -> None:
    done = _run("release", "--config", str(tmp_path / "nope"), "folder:/a")
    assert done.exit_code == 1 and "no such file or directory" in done.output
    assert done.output.count("\n") == 1


def test_a_declaration_that_is_an_alias_is_left_for_a_human(tmp_path: Path) -> None:
    root = _config(tmp_path)
    (root / "folders.yaml").write_text(
        "x-base: &base {description: shared}\nfolders:\n  /a: *base\n  /b: {}\n"
    )
    done = _run("adopt", "--config", str(root), "folder:/*")
    assert done.exit_code == 1
    assert "folders.yaml:3:3: folder /a was left as it is (it is an alias)" in done.output
    assert "add 'adopt: true' to it by hand" in done.output
    assert "/b: {}" in (root / "folders.yaml").read_text()  # nothing written at all


def test_an_edit_that_does_not_read_back_as_intended_is_undone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _config(tmp_path)

    def too_much(text: str, file: str, section: str, name: str, claim: str) -> ClaimEdit:
        return ClaimEdit(text.replace("/other: {}", "/other: {adopt: true}"), "added")

    monkeypatch.setattr(claim_cli, "with_claim", too_much)
    done = _run("adopt", "--config", str(root), "folder:/team")
    assert done.exit_code == 1
    assert "nothing was written: folder:/other, folder:/team would not read as intended" in (
        done.output
    )
    assert (root / "folders.yaml").read_text() == FOLDERS


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("folders:\n  /b: {}\n", "folders '/a' is not written there as a plain key"),
        ("x: &m {description: d}\nfolders:\n  /a:\n    <<: *m\n", "it merges another mapping"),
        ("folders:\n  /a: [1]\n", "its value is not a mapping"),
        ("folders:\n  /a: !!null\n    ''\n", "its empty value is not on the key's line"),
        ("folders: [\n", "f.yaml: not YAML any more"),
    ],
)
def test_what_with_claim_will_not_edit(text: str, says: str) -> None:
    with pytest.raises(ClaimEditError) as raised:
        with_claim(text, "f.yaml", "folders", "/a", "adopt")
    assert says in str(raised.value)


def test_a_false_claim_becomes_true_and_a_false_opposite_stays() -> None:
    text = "folders:\n  /a: {adopt: false}\n  /b: {release: false}\n"
    first = with_claim(text, "f.yaml", "folders", "/a", "adopt")
    assert (first.outcome, first.text) == ("added", text.replace("adopt: false", "adopt: true"))
    second = with_claim(first.text, "f.yaml", "folders", "/b", "adopt")
    assert "  /b: {adopt: true, release: false}\n" in second.text


def test_an_edit_that_breaks_the_config_is_undone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _config(tmp_path)

    def broken(text: str, file: str, section: str, name: str, claim: str) -> ClaimEdit:
        return ClaimEdit(text.replace("/other: {}", "/other: {adopt: 3}"), "added")

    monkeypatch.setattr(claim_cli, "with_claim", broken)
    done = _run("adopt", "--config", str(root), "folder:/team")
    assert done.exit_code == 1 and "folders.yaml:11:" in done.output
    assert (root / "folders.yaml").read_text() == FOLDERS
