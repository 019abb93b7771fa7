"""Benchmark: the HTML plan report at 10, 1,000 and 100,000 changes, and its screenshots.

For each size N a plan of N changes is made by the real planner (one metadata rule over the
items of one folder, and up to 20 undeclared owned folders that prune deletes; ``--synthetic`` builds the same
shape directly, in a second), rendered with ``render_html``, and loaded over file:// in
Debian's headless Chromium (the flags of ``tests/helpers/browser.py``). Reported: the page size, the
render time in Python (CPU), and in the browser (median of ``--loads`` fresh loads) the first
contentful paint, when the embedded JSON is parsed, and when the page is fully drawn
(``performance`` marks set by ``report.js``).

``--screenshots DIR`` also writes the pictures kept in docs/: the quickstart's first plan, and
the plan and drift report of examples/realistic on a second day (applied, then edited as in
``tests/helpers/plans.DAY_TWO_EDITS``), each made with the ``reconciler`` command.

    python bench/bench_render_html.py
    python bench/bench_render_html.py --sizes 10 1000 --screenshots docs
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from helpers import run_cli  # noqa: E402
from helpers.browser import chromium_driver, load, missing  # noqa: E402
from helpers.plans import edit_day_two, many_item_plan, synthetic_plan  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from reconciler.plan import Plan  # noqa: E402
from reconciler.plan.render_html import render_html  # noqa: E402

_TIMES = """
const mark = n => (performance.getEntriesByName(n)[0] || {}).startTime;
return {paint: mark('first-contentful-paint'), parsed: mark('report-parsed'),
        drawn: mark('report-drawn')};
"""


def _plan(size: int, synthetic: bool, work: Path) -> Plan:
    """``size`` changes in all: up to 20 folder deletes, the rest item patches."""
    deletes = max(1, min(20, size // 50))
    if synthetic:
        return synthetic_plan(size - deletes, deletes=deletes)
    return many_item_plan(work, size - deletes, extra_folders=deletes)


def measure(driver: Any, size: int, *, synthetic: bool, loads: int, work: Path) -> dict[str, Any]:
    plan = _plan(size, synthetic, work)
    started = time.process_time()
    page = render_html(plan)
    cpu = time.process_time() - started
    path = work / f"plan-{size}.html"
    path.write_text(page, encoding="utf-8")
    runs = []
    for _ in range(loads):
        load(driver, path)
        # The paint entry is recorded after the frame is presented, which may follow "ready".
        WebDriverWait(driver, 30).until(lambda d: d.execute_script(_TIMES)["paint"] is not None)
        runs.append(driver.execute_script(_TIMES))
    return {
        "changes": len(plan.changes),
        "bytes": path.stat().st_size,
        "render_cpu_s": cpu,
        **{
            key: statistics.median(run[key] for run in runs) for key in ("paint", "parsed", "drawn")
        },
    }


def _copy(name: str, work: Path) -> Path:
    target = work / name
    shutil.copytree(ROOT / "examples" / name, target, ignore=shutil.ignore_patterns(".reconciler"))
    return target


def _cli(*args: str) -> str:
    done = run_cli(*args, timeout=600)
    if done.returncode not in (0, 2):
        raise SystemExit(f"reconciler {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def _shoot(driver: Any, page: Path, picture: Path, fragment: str = "") -> None:
    load(driver, page, fragment)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, min(int(height) + 40, 2600))
    load(driver, page, fragment)
    driver.save_screenshot(str(picture))
    driver.set_window_size(1280, 1000)
    print(f"wrote {picture}")


def screenshots(driver: Any, out: Path, work: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    quickstart = _copy("quickstart", work)
    (work / "quickstart.html").write_text(_cli("plan", str(quickstart), "--format", "html"))
    _shoot(driver, work / "quickstart.html", out / "plan-quickstart.png")
    realistic = _copy("realistic", work)
    _cli("apply", str(realistic), "--auto-approve")
    edit_day_two(realistic)
    saved = work / "realistic-plan.json"
    (work / "realistic.html").write_text(
        _cli("plan", str(realistic), "--format", "html", "--out", str(saved))
    )
    _shoot(driver, work / "realistic.html", out / "plan-realistic.png")
    # One change opened from its link: reason, file:line, field diff, before and after.
    plan = json.loads(_cli("show", str(saved), "--format", "json"))
    where = [c["address"] for c in plan["changes"]].index("folder:/curated/driving/highway")
    driver.set_window_size(1280, 900)
    load(driver, work / "realistic.html", f"#c-{where}")
    driver.save_screenshot(str(out / "plan-realistic-detail.png"))
    print(f"wrote {out / 'plan-realistic-detail.png'}")
    (work / "drift.html").write_text(_cli("drift", str(realistic), "--format", "html"))
    _shoot(driver, work / "drift.html", out / "drift-realistic.png")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 1_000, 100_000])
    parser.add_argument("--loads", type=int, default=3)
    parser.add_argument("--synthetic", action="store_true")
    parser.add_argument("--screenshots", type=Path, metavar="DIR")
    args = parser.parse_args()
    why = missing()
    if why:
        raise SystemExit(why)
    with tempfile.TemporaryDirectory() as tmp, chromium_driver() as driver:
        work = Path(tmp)
        print("| changes | page | render (CPU) | first paint | data parsed | drawn |")
        print("|---:|---:|---:|---:|---:|---:|")
        for size in args.sizes:
            sized = work / str(size)
            sized.mkdir()
            row = measure(driver, size, synthetic=args.synthetic, loads=args.loads, work=sized)
            print(
                f"| {row['changes']:,} | {row['bytes'] / 1e6:.2f} MB | {row['render_cpu_s']:.2f} s "
                f"| {row['paint']:.0f} ms | {row['parsed']:.0f} ms | {row['drawn']:.0f} ms |",
                flush=True,
            )
        if args.screenshots:
            screenshots(driver, args.screenshots, work)


if __name__ == "__main__":
    main()
