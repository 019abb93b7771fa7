"""Progress while reading: a line on a terminal's stderr for plan, drift and export; nothing
extra off a terminal or with ``--format json``."""

from __future__ import annotations

import os
import pty
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

from helpers import run_cli

DATA = Path(__file__).parent / "apply_data" / "small"
ITEMS = 25


def _config(tmp_path: Path) -> Path:
    config = tmp_path / "config"
    shutil.copytree(DATA, config)
    db = config / ".reconciler" / "sandbox.sqlite"
    db.parent.mkdir()
    init = run_cli(
        "sandbox", "init", "--db", str(db), "--admin-email", "admin@example.com",
        "--key-out", str(tmp_path / "admin.key"),
    )  # fmt: skip
    assert init.returncode == 0, init.stderr
    seed = run_cli(
        "sandbox", "seed", "--db", str(db), "--under", "/team/raw", "--items", str(ITEMS)
    )
    assert seed.returncode == 0, seed.stderr
    return config


def _with_terminal_stderr(*args: str) -> tuple[int, str, str]:
    """Run the CLI with stderr on a pseudo-terminal; (exit code, stdout, terminal output)."""
    master, slave = pty.openpty()
    chunks: list[bytes] = []

    def drain() -> None:  # keep reading so the child never blocks on a full terminal
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:
                return
            if not data:
                return
            chunks.append(data)

    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "200"}
    env.pop("NO_COLOR", None)
    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "reconciler", *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=slave,
            env=env,
        )
        os.close(slave)
        out, _ = process.communicate(timeout=120)
        reader.join(timeout=10)
    finally:
        os.close(master)
    return process.returncode, out.decode(), b"".join(chunks).decode(errors="replace")


_FINAL = re.compile(r"reading: ([\d,]+) pages?, ([\d,]+) folders?, ([\d,]+) items?; \d+ requests?")


def _final_counts(terminal: str) -> tuple[int, int, int]:
    found = _FINAL.findall(terminal)
    assert found, terminal
    pages, folders, items = (int(n.replace(",", "")) for n in found[-1])
    return pages, folders, items


def test_plan_on_a_terminal_shows_what_it_read(tmp_path: Path) -> None:
    config = _config(tmp_path)
    code, out, terminal = _with_terminal_stderr("plan", str(config))
    assert code == 0, terminal
    pages, folders, items = _final_counts(terminal)
    assert items == ITEMS and folders >= 1 and pages >= 3
    assert out.startswith("reconciler plan for ")  # stdout is the plan alone
    assert "reading:" not in out


def test_drift_and_export_on_a_terminal_show_it_too(tmp_path: Path) -> None:
    config = _config(tmp_path)
    code, _, terminal = _with_terminal_stderr("drift", str(config))
    assert code == 2, terminal
    assert _final_counts(terminal)[2] == ITEMS
    db = config / ".reconciler" / "sandbox.sqlite"
    out_dir = tmp_path / "exported"
    code, out, terminal = _with_terminal_stderr(
        "export", "--root", "/team", "--out", str(out_dir), "--sandbox", str(db)
    )
    assert code == 0, terminal
    assert _final_counts(terminal)[2] == ITEMS
    assert out.startswith("exported /team")


def test_json_on_a_terminal_and_any_format_off_a_terminal_show_nothing_extra(
    tmp_path: Path,
) -> None:
    config = _config(tmp_path)
    code, out, terminal = _with_terminal_stderr("plan", str(config), "--format", "json")
    assert code == 0
    assert terminal == ""
    assert out.lstrip().startswith("{")
    for args in (("plan", str(config)), ("drift", str(config))):
        piped = run_cli(*args)
        assert piped.returncode in (0, 2), piped.stderr
        assert piped.stderr == ""
