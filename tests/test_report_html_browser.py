"""The HTML reports in a real browser: headless Chromium loads the page ``reconciler plan
--format html`` wrote for ``examples/realistic`` (applied, then edited as on a second day) and
the tests read the rendered DOM: the counts, a delete visible without any click, the filter
narrowing the list, a change's own link, hostile names shown as text, and no console errors.

Without Chromium these tests skip with one line on a developer's machine and fail with it in
CI (see ``browser.py``)."""

from __future__ import annotations

import json
import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from helpers import run_cli
from helpers.browser import chromium_driver, console_errors, load, require_browser
from helpers.plans import edit_day_two, hostile_plan, synthetic_plan

from reconciler.plan.render_html import render_html

pytestmark = pytest.mark.slow

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
_DATA = re.compile(r'<script type="application/json" id="report-data">(.*?)</script>', re.S)


@dataclass(frozen=True)
class Realistic:
    plan_page: Path
    plan: dict[str, Any]  # the JSON plan written with --out, with the page
    drift_page: Path


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    require_browser()
    with chromium_driver() as chromium:
        yield chromium


@pytest.fixture(scope="module")
def realistic(tmp_path_factory: pytest.TempPathFactory) -> Realistic:
    """examples/realistic applied to its embedded sandbox, then edited: the plan and the drift
    of that second day, as pages."""
    root = tmp_path_factory.mktemp("realistic")
    config = root / "realistic"
    shutil.copytree(EXAMPLES / "realistic", config, ignore=shutil.ignore_patterns(".reconciler"))
    applied = run_cli("apply", str(config), "--auto-approve", timeout=300)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    edit_day_two(config)
    out = root / "plan.json"
    planned = run_cli("plan", str(config), "--format", "html", "--out", str(out))
    assert planned.returncode == 0, planned.stderr
    drift = run_cli("drift", str(config), "--format", "html")
    assert drift.returncode == 2, drift.stderr  # drift found
    pages = root / "plan.html", root / "drift.html"
    pages[0].write_text(planned.stdout)
    pages[1].write_text(drift.stdout)
    return Realistic(pages[0], json.loads(out.read_text()), pages[1])


def _texts(driver: Any, css: str) -> list[str]:
    return [str(t) for t in driver.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0]), e => e.textContent)", css
    )]  # fmt: skip


def _pill_counts(driver: Any) -> dict[str, int]:
    found = driver.execute_script(
        "const out = {}; document.querySelectorAll('#summary .pill').forEach(p => "
        "{ out[p.dataset.cat] = p.querySelector('.count').textContent; }); return out;"
    )
    return {key: int(value.replace(",", "")) for key, value in found.items()}


def _visible(driver: Any, css: str, text: str) -> bool:
    """Some element matching ``css`` shows ``text`` on screen, without any interaction."""
    for element in driver.find_elements("css selector", css):
        if text in element.text and element.is_displayed():
            return True
    return False


def _wait_for(driver: Any, condition: str, *args: Any) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 30).until(lambda d: d.execute_script(condition, *args))


def test_summary_counts_match_the_plan(driver: Any, realistic: Realistic) -> None:
    load(driver, realistic.plan_page)
    counts = _pill_counts(driver)
    summary = realistic.plan["summary"]
    assert counts == {key: summary[key] for key in counts}
    assert set(counts) == set(summary) - {"sync"}
    assert counts["delete"] == 1 and counts["link"] == 6 and counts["change"] > 10
    danger = _texts(driver, "#summary .zone.danger .pill")
    assert any("to delete" in text for text in danger)
    assert console_errors(driver) == []


def test_a_delete_is_visible_without_interaction(driver: Any, realistic: Realistic) -> None:
    load(driver, realistic.plan_page)
    assert _visible(driver, "#destructive .row", "folder:/curated/edge-cases")
    assert _visible(driver, "#destructive .row", "not declared; prune: owned")
    # The tree marks the same folder deleted, and the renamed one with where it came from.
    assert _visible(driver, "#tree .mark.cat-delete", "deleted")
    assert _visible(driver, "#tree .mark.cat-move", "moved from folder:/curated/driving/urban")
    assert console_errors(driver) == []


def test_the_filter_narrows_the_list(driver: Any, realistic: Realistic) -> None:
    load(driver, realistic.plan_page)
    total = len(realistic.plan["changes"])
    rows = "return document.querySelectorAll('#change-list > li').length"
    assert driver.execute_script(rows) == total
    box = driver.find_element("css selector", "#filter-address")
    box.send_keys("link:front-camera-val")
    _wait_for(driver, rows + " === 8")
    addresses = _texts(driver, "#change-list > li .address")
    assert len(addresses) == 8 and all(a.startswith("link:front-camera-val#") for a in addresses)
    assert _texts(driver, "#shown") == [f"Showing 8 of {total}"]
    box.clear()
    box.send_keys("folder:/curated/**")
    _wait_for(driver, rows + " === 3")
    assert set(_texts(driver, "#change-list > li .address")) == {
        "folder:/curated/driving/city",
        "folder:/curated/driving/highway",
        "folder:/curated/edge-cases",
    }
    box.clear()
    driver.execute_script(
        "const s = document.getElementById('filter-action'); s.value = 'delete';"
        "s.dispatchEvent(new Event('change'));"
    )
    _wait_for(driver, rows + " === 1")
    assert _texts(driver, "#change-list > li .address") == ["folder:/curated/edge-cases"]
    driver.execute_script(
        "const a = document.getElementById('filter-action'); a.value = '';"
        "const k = document.getElementById('filter-kind'); k.value = 'dataset-group';"
        "k.dispatchEvent(new Event('change'));"
    )
    _wait_for(driver, rows + " === 1")
    assert _texts(driver, "#change-list > li .address") == [
        "dataset-group:front-camera-train#labeling-ops"
    ]
    assert console_errors(driver) == []


def test_a_change_link_opens_its_detail(driver: Any, realistic: Realistic) -> None:
    index = next(
        n
        for n, change in enumerate(realistic.plan["changes"])
        if change["address"] == "folder:/curated/driving/highway"
    )
    load(driver, realistic.plan_page, f"#c-{index}")
    detail = driver.find_element("css selector", f"#c-{index} .detail")
    assert detail.is_displayed()
    assert "Declared at folders/curated.yaml:13" in detail.text
    assert "Highway and motorway scenes" in detail.text and "Highway scenes" in detail.text
    views = [e.text for e in driver.find_elements("css selector", f"#c-{index} .sides pre")]
    assert len(views) == 2 and all('"path": "/curated/driving/highway",\n' in v for v in views)
    assert console_errors(driver) == []


def test_drift_report_shows_the_verdict_and_drift_kinds(driver: Any, realistic: Realistic) -> None:
    load(driver, realistic.drift_page)
    verdict = driver.find_element("css selector", ".verdict")
    assert verdict.is_displayed() and verdict.text.startswith("Drift: ")
    found = _DATA.search(realistic.drift_page.read_text())
    assert found is not None
    kinds = [entry["c"] for entry in json.loads(found.group(1))["entries"]]
    counts = _pill_counts(driver)
    assert counts == {key: kinds.count(key) for key in counts}
    assert counts["extra"] == 1 and counts["moved"] == 1
    assert _visible(driver, "#destructive .row", "folder:/curated/edge-cases")
    assert _visible(driver, "#tree .mark.cat-extra", "extra")
    assert console_errors(driver) == []


def test_hostile_names_are_shown_as_text(driver: Any, tmp_path: Path) -> None:
    page = tmp_path / "hostile.html"
    page.write_text(render_html(hostile_plan()))
    load(driver, page)
    assert driver.execute_script("return window.pwned === undefined")
    assert driver.execute_script("return document.querySelectorAll('img, iframe').length") == 0
    assert driver.execute_script("return document.scripts.length") == 2
    shown = driver.find_element("css selector", "#destructive").text
    assert "invoice\u27e8U+202E\u27e9gpj.exe" in shown  # the bidi override is visible, inert
    assert "</script><script>window.pwned=1</script>" in shown
    assert console_errors(driver) == []


def test_a_plan_of_100000_changes_opens_lazily(driver: Any, tmp_path: Path) -> None:
    page = tmp_path / "large.html"
    page.write_text(render_html(synthetic_plan(100_000)))
    started = time.monotonic()
    load(driver, page)
    ready = time.monotonic() - started
    paint = driver.execute_script(
        "const p = performance.getEntriesByName('first-contentful-paint')[0];"
        "return p ? p.startTime : null"
    )
    print(f"100,000 changes: {page.stat().st_size / 1e6:.1f} MB, first paint {paint} ms, "
          f"drawn in {ready:.1f} s")  # fmt: skip
    assert driver.execute_script("return document.getElementById('first-paint') === null")
    assert _pill_counts(driver)["change"] == 100_000
    assert _visible(driver, "#destructive .row", "folder:/big/old-009")
    # Lazy: one page of rows is drawn, not 100,010.
    assert (
        driver.execute_script("return document.querySelectorAll('#change-list > li').length") == 200
    )
    driver.find_element("css selector", "#filter-address").send_keys("frame-099999")
    _wait_for(driver, "return document.querySelectorAll('#change-list > li').length === 1")
    # A link to a change far down the list shows it pinned above the list, opened.
    load(driver, page, "#c-100009")
    pinned = driver.find_element("css selector", "#linked .detail")
    assert pinned.is_displayed() and "frame-099999" in pinned.text
    assert console_errors(driver) == []
