"""``reconciler.plan.render_html`` and ``reconciler.drift.render_html``: one self-contained
page whose data is exactly the plan's (or the audit's), and whose live names can never become
markup or script. What the page draws is tested in a real browser in
``test_report_html_browser.py``."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from helpers import run_cli
from helpers.plans import HOSTILE, hostile_plan
from test_plan_golden import CASES, plan_case

from reconciler.config import load_config
from reconciler.drift import AuditOptions, DriftReport, audit
from reconciler.drift import dumps as drift_dumps
from reconciler.drift.render_html import render_html as render_drift_html
from reconciler.kinds.payload import encoded
from reconciler.model.live import LiveState
from reconciler.plan import diff, dumps, loads
from reconciler.plan.html_shell import embed_json, tree_node
from reconciler.plan.model import category
from reconciler.plan.render_html import render_html

GOLDEN = Path(__file__).parent / "golden"
_DATA = re.compile(r'<script type="application/json" id="report-data">(.*?)</script>', re.S)


def page_data(page: str) -> dict[str, Any]:
    found = _DATA.search(page)
    assert found is not None
    return json.loads(found.group(1))  # type: ignore[no-any-return]


@pytest.mark.parametrize("case", CASES)
def test_the_page_carries_every_change_with_its_category(case: str) -> None:
    plan = plan_case(case)
    data = page_data(render_html(plan))
    assert [e["a"] for e in data["entries"]] == [c.address for c in plan.changes]
    assert [e["c"] for e in data["entries"]] == [category(c) for c in plan.changes]
    counts = Counter(e["c"] for e in data["entries"])
    summary = plan.summary.as_dict()
    assert all(counts[key] == summary[key] for key in counts)
    destructive = [e["a"] for e in data["entries"] if e.get("d")]
    assert destructive == [c.address for c in plan.changes if c.is_destructive]
    assert [r["code"] for r in data["refusals"]] == [r.code for r in plan.refusals]


def test_a_change_carries_its_source_reason_diff_and_views() -> None:
    plan = plan_case("move-and-patch")
    entry = page_data(render_html(plan))["entries"][0]
    change = plan.changes[0]
    assert entry["p"] == change.previous_address and entry["s"] == change.source
    assert entry["r"] == change.reason
    assert entry["b"] == encoded(change.before) and entry["af"] == encoded(change.after)
    assert ["description", "change", "Cameras", "Curated camera footage"] in entry["f"]


def test_refusals_say_what_to_do() -> None:
    plan = plan_case("threshold-exceeded")
    refusals = page_data(render_html(plan))["refusals"]
    assert refusals and all(r["todo"] for r in refusals)


def test_hostile_names_stay_data() -> None:
    plan = hostile_plan()
    page = render_html(plan)
    # Only the page's own two script elements close; no name opens a comment or markup.
    assert page.lower().count("</script") == 2
    assert page.count("<script") == 2
    assert "<!--" not in page and "<img" not in page
    title = re.search(r"<title>(.*?)</title>", page, re.S)
    assert title is not None and "<" not in title.group(1)
    data = page_data(page)
    assert [e["a"] for e in data["entries"]] == [c.address for c in plan.changes]
    assert data["refusals"][0]["message"] == HOSTILE[0]


def test_embedded_json_escapes_what_could_end_a_script() -> None:
    text = embed_json({"a": "</script>&<!--\u2028\u2029"})
    assert not re.search("[<>&\u2028\u2029]", text)
    assert json.loads(text) == {"a": "</script>&<!--\u2028\u2029"}


def test_the_content_security_policy_allows_only_the_inline_assets() -> None:
    page = render_html(plan_case("patch"))
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', page)
    assert policy is not None
    style = re.search(r"<style>(.*?)</style>", page, re.S)
    script = re.findall(r"<script>(.*?)</script>", page, re.S)
    assert style is not None and len(script) == 1

    def digest(text: str) -> str:
        return base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()

    assert f"style-src 'sha256-{digest(style.group(1))}'" in policy.group(1)
    assert f"script-src 'sha256-{digest(script[0])}'" in policy.group(1)
    assert "default-src 'none'" in policy.group(1)
    assets = style.group(1) + script[0]
    assert "http:" not in assets and "https:" not in assets and "url(" not in assets


@pytest.mark.parametrize(
    ("address", "path", "node", "how"),
    [
        ("folder:/a/b", None, ["Folders", "a", "b"], "self"),
        ("item:/a/b/x.jpg", None, ["Folders", "a", "b"], "item"),
        ("item:/a/x.jpg#0f6c9a2e-1111-2222-3333-444455556666", None, ["Folders", "a"], "item"),
        ("item:/a/x#y.jpg", "/a/x#y.jpg", ["Folders", "a"], "item"),
        ("folder-group:/a/b#annotators", None, ["Folders", "a", "b"], "access"),
        ("dataset:train", None, ["Datasets", "train"], "self"),
        ("dataset-user:train#a@example.com", None, ["Datasets", "train"], "access"),
        ("link:train#/a/x.jpg", None, ["Datasets", "train"], "link"),
        ("group:annotators", None, ["Groups", "annotators"], "self"),
        ("metadata-schema:organisation", None, ["Organisation", "metadata schema"], "self"),
        ("user:a@example.com", None, ["Organisation", "users", "a@example.com"], "self"),
    ],
)
def test_tree_places(address: str, path: str | None, node: list[str], how: str) -> None:
    assert tree_node(address, path) == (tuple(node), how)


def _delete_owned_only_audit() -> DriftReport:
    root = GOLDEN / "delete-owned-only"
    desired = load_config(root / "config", env={})
    live = LiveState.from_json(json.loads((root / "live.json").read_text()))
    return audit(diff(desired, live), desired, live, options=AuditOptions())


def test_drift_page_carries_the_audit_and_its_verdict() -> None:
    report = _delete_owned_only_audit()
    data = page_data(render_drift_html(report))
    assert data["report"] == "drift"
    assert [e["a"] for e in data["entries"]] == [d.address for d in report.drift]
    assert {e["c"] for e in data["entries"]} == {d.kind.value for d in report.drift}
    assert data["verdict"]["level"] == "warn"
    assert len(report.drift) == 1
    assert data["verdict"]["text"].startswith("Drift: 1 object differs;")
    extra = [e for e in data["entries"] if e["c"] == "extra"]
    assert extra and all(e.get("d") == 1 for e in extra)


def test_show_renders_a_saved_plan_and_a_saved_drift_report_as_html(tmp_path: Path) -> None:
    plan = plan_case("delete-owned-only")
    saved = tmp_path / "plan.json"
    saved.write_text(dumps(plan))
    shown = run_cli("show", str(saved), "--format", "html")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout == render_html(loads(saved.read_text()))
    assert [e["a"] for e in page_data(shown.stdout)["entries"]] == [c.address for c in plan.changes]
    report = _delete_owned_only_audit()
    saved_report = tmp_path / "drift.json"
    saved_report.write_text(drift_dumps(report))
    shown = run_cli("show", "--drift", str(saved_report), "--format", "html")
    assert shown.returncode == 0, shown.stderr
    data = page_data(shown.stdout)
    assert data["report"] == "drift"
    assert [e["a"] for e in data["entries"]] == [d.address for d in report.drift]


def test_the_title_verdict_and_counts_are_plain_html_before_the_data() -> None:
    plan = hostile_plan()
    page = render_html(plan)
    early = re.search(r'<div id="first-paint">(.*?)</div></section>', page, re.S)
    assert early is not None and early.start() < page.index('id="report-data"')
    assert f'<span class="count">{plan.summary.delete}</span>' in early.group(1)
    assert "&lt;/script&gt;" in early.group(1)  # the target's name, escaped
    assert "<script" not in early.group(1)
