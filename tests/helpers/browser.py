"""Headless Chromium (Debian's ``chromium`` + ``chromium-driver``) driven by Selenium, for the
tests and benchmarks of the HTML reports.

``chromium_driver()`` either yields a driver or says in one line why it cannot: the tests
then skip with that line on a developer's machine, and fail with it in CI (``CI`` set, as
``.ci/run`` runs), where ``.ci/run`` installs the browser, so a browser that went missing
never lets the browser tests pass silently.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("RECONCILER_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = (
    os.environ.get("RECONCILER_CHROMEDRIVER")
    or shutil.which("chromedriver")
    or "/usr/bin/chromedriver"
)
# This machine has no internet: without these Chromium waits on the network, or refuses to
# start as root.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,1000",
)
MISSING = (
    "browser tests need Chromium and Selenium: apt-get install -y chromium chromium-driver "
    "and pip install -e '.[dev]' ({what})"
)


def missing() -> str | None:
    """Why the browser cannot run here, or None."""
    for path in (CHROMIUM, DRIVER):
        if not Path(path).is_file():
            return MISSING.format(what=f"{path} not found")
    try:
        import selenium  # noqa: F401
    except ImportError:
        return MISSING.format(what="selenium is not installed")
    return None


def require_browser() -> None:
    """Skip (on a developer's machine) or fail (in CI) with one line when there is no browser."""
    why = missing()
    if why is None:
        return
    if os.environ.get("CI"):
        pytest.fail(why, pytrace=False)
    pytest.skip(why)


@contextlib.contextmanager
def chromium_driver(*, width: int = 1280, height: int = 1000) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--window-size={width},{height}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    with tempfile.TemporaryDirectory(prefix="reconciler-chromium-") as profile:
        options.add_argument(f"--user-data-dir={profile}")
        driver = webdriver.Chrome(service=Service(DRIVER), options=options)
        try:
            yield driver
        finally:
            driver.quit()


def console_errors(driver: Any) -> list[str]:
    """Console messages at error level since the last call (reading the log empties it)."""
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def load(driver: Any, page: Path, fragment: str = "") -> None:
    """Open a report and wait until its script has drawn it."""
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get("about:blank")  # a fresh load even when only the fragment differs
    driver.get(page.resolve().as_uri() + fragment)
    WebDriverWait(driver, 60).until(
        lambda d: d.execute_script("return document.documentElement.dataset.ready === '1'")
    )
