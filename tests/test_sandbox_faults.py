"""Fault injection, request counters, control routes, and de-duplication of re-sent requests."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sandbox_data.harness import Harness, open_harness

from reconciler.sandbox.faults import Faults
from reconciler.sandbox.options import FaultSettings, SandboxOptions

TRACE = {"X-Cloud-Trace-Context": "4073088e76e141f8b6c2961bf067b3fb/1;o=1"}


@pytest.fixture
def sb(tmp_path: Path) -> Iterator[Harness]:
    with open_harness(tmp_path) as harness:
        yield harness


def folder_names(sb: Harness) -> list[str]:
    return sorted(f["name"] for f in sb.ok(sb.get("/storage/folders"))["results"])


def test_latency_delays_requests_concurrently(sb: Harness) -> None:
    sb.control("POST", "/_sandbox/faults", {"latency_ms": 300})
    started = time.monotonic()
    answers = sb.client.gather([sb.signed("GET", "/storage/folders") for _ in range(5)])
    elapsed = time.monotonic() - started
    assert [a.status_code for a in answers] == [200] * 5
    assert 0.3 <= elapsed < 1.2  # five overlapping sleeps, not five in a row


def test_error_rate_answers_5xx_before_doing_anything(sb: Harness) -> None:
    sb.control("POST", "/_sandbox/faults", {"error_rate": 1.0, "seed": 7})
    statuses = {sb.post("/storage/folders", {"name": f"f{i}"}).status_code for i in range(12)}
    assert statuses <= {500, 502, 503} and len(statuses) > 1
    v1 = sb.client.post("/public", content=b"{}")
    assert v1.status_code in (500, 502, 503) and v1.json()["response"] == ["UNKNOWN_ERROR"]
    assert sb.control("GET", "/_sandbox/health") == {
        "status": "ok"
    }  # control routes are never faulted
    sb.control("POST", "/_sandbox/faults", {"error_rate": 0.0})
    assert folder_names(sb) == []


def test_error_after_rate_commits_then_fails(sb: Harness) -> None:
    sb.control("POST", "/_sandbox/faults", {"error_after_rate": 1.0})
    answer = sb.post("/storage/folders", {"name": "ghost"})
    assert answer.status_code == 502 and "after the work" in answer.json()["message"]
    sb.control("POST", "/_sandbox/faults", {"error_after_rate": 0.0})
    assert folder_names(sb) == ["ghost"]


def test_storm_of_n_requests_with_retry_after(sb: Harness) -> None:
    sb.control("POST", "/_sandbox/faults", {"storm_requests": 3, "storm_retry_after": 7})
    answers = [sb.get("/storage/folders") for _ in range(4)]
    assert [a.status_code for a in answers] == [429, 429, 429, 200]
    assert answers[0].headers["Retry-After"] == "7"
    snapshot = sb.control("GET", "/_sandbox/faults")
    assert snapshot["storm_requests_left"] == 0 and snapshot["storm_retry_after"] == 7


def test_storm_rate_and_v1_429_is_plain(sb: Harness) -> None:
    sb.control("POST", "/_sandbox/faults", {"storm_rate": 1.0})
    assert sb.get("/storage/folders").status_code == 429
    v1 = sb.client.post("/public", content=b"{}")
    assert v1.status_code == 429 and v1.headers["Retry-After"] == "1"
    assert "status" not in v1.json()  # no v1 envelope on a 429


def test_seeded_faults_repeat_exactly() -> None:
    def fates(seed: int) -> list[Any]:
        faults = Faults(
            FaultSettings(error_rate=0.3, storm_rate=0.2, error_after_rate=0.2, seed=seed)
        )
        return [faults.decide() for _ in range(200)]

    assert fates(3) == fates(3)
    assert fates(3) != fates(4)
    kinds = {(f.status_before, f.status_after) for f in fates(3)}
    assert {(429, None), (None, 502), (None, None)} <= kinds


def test_fault_settings_are_validated(sb: Harness) -> None:
    for body in ({"error_rate": 2}, {"latency_ms": -1}, {"nonsense": 1}, [1]):
        answer = sb.client.request("POST", "/_sandbox/faults", json=body)
        assert answer.status_code == 400, body
    with pytest.raises(ValueError, match="error_rate"):
        SandboxOptions(error_rate=1.5).faults().validate()


def test_options_set_faults_at_start(tmp_path: Path) -> None:
    with open_harness(
        tmp_path, options=SandboxOptions(storm_requests=1, storm_retry_after=3)
    ) as sb:
        first = sb.get("/storage/folders")
        assert (first.status_code, first.headers["Retry-After"]) == (429, "3")
        assert sb.get("/storage/folders").status_code == 200


def test_stats_count_every_api_request_by_route(sb: Harness) -> None:
    folder = sb.folder("f")
    sb.get(f"/storage/folders/{folder['uuid']}/items")
    sb.get(f"/storage/folders/{folder['uuid']}/items")
    sb.get("/nowhere")
    sb.v1("dataset", "GET", resource=folder["uuid"])
    sb.client.request("GET", "/v2/public/storage/folders")  # unsigned: still counted
    sb.control("POST", "/_sandbox/faults", {"storm_requests": 1})
    sb.get("/storage/folders")  # stormed: still counted
    stats = sb.control("GET", "/_sandbox/stats")
    assert stats == {
        "GET (unknown route)": 1,
        "GET /v2/public/storage/folders": 2,
        "GET /v2/public/storage/folders/{uuid}/items": 2,
        "POST /public dataset": 1,
        "POST /v2/public/storage/folders": 1,
        "total": 7,
    }
    assert sb.control("POST", "/_sandbox/stats/reset") is None
    sb.control("GET", "/_sandbox/health")
    assert sb.control("GET", "/_sandbox/stats") == {"total": 0}


def test_control_routes_answer_loopback_only(tmp_path: Path) -> None:
    with open_harness(tmp_path, client_host="192.0.2.10") as sb:
        for method, path in (
            ("GET", "/_sandbox/health"),
            ("GET", "/_sandbox/stats"),
            ("POST", "/_sandbox/faults"),
        ):
            answer = sb.client.request(
                method, path, json={"error_rate": 1.0} if method == "POST" else None
            )
            assert answer.status_code == 403
        assert sb.get("/storage/folders").status_code == 200  # the API itself answers anyone


def test_remote_control_can_be_allowed(tmp_path: Path) -> None:
    options = SandboxOptions(allow_remote_control=True)
    with open_harness(tmp_path, options=options, client_host="192.0.2.10") as sb:
        assert sb.client.request("GET", "/_sandbox/health").status_code == 200


def test_resent_request_runs_once(sb: Harness) -> None:
    method, url, kwargs = sb.signed(
        "POST", "/organisation/groups", body={"name": "once", "description": ""}
    )
    kwargs["headers"].update(TRACE)
    first = sb.client.request(method, url, **kwargs)
    again = sb.client.request(method, url, **kwargs)
    assert first.status_code == again.status_code == 200 and first.json() == again.json()
    groups = sb.ok(sb.get("/user/current-organisation/groups"))["results"]
    assert [g["name"] for g in groups] == ["once"]
    kwargs["headers"]["X-Cloud-Trace-Context"] = "0" * 32 + "/1;o=1"
    assert sb.client.request(method, url, **kwargs).json() != first.json()  # a new request
    assert len(sb.ok(sb.get("/user/current-organisation/groups"))["results"]) == 2


def test_retry_after_an_ambiguous_failure_gets_the_real_answer(sb: Harness) -> None:
    method, url, kwargs = sb.signed(
        "POST", "/organisation/groups", body={"name": "g", "description": ""}
    )
    kwargs["headers"].update(TRACE)
    sb.control("POST", "/_sandbox/faults", {"error_after_rate": 1.0})
    assert sb.client.request(method, url, **kwargs).status_code == 502
    sb.control("POST", "/_sandbox/faults", {"error_after_rate": 0.0})
    retry = sb.client.request(method, url, **kwargs)
    assert retry.status_code == 200 and retry.json()["name"] == "g"
    assert len(sb.ok(sb.get("/user/current-organisation/groups"))["results"]) == 1


def test_concurrent_resends_wait_for_the_first(sb: Harness) -> None:
    sb.control("POST", "/_sandbox/faults", {"latency_ms": 50})
    method, url, kwargs = sb.signed(
        "POST", "/organisation/groups", body={"name": "race", "description": ""}
    )
    kwargs["headers"].update(TRACE)
    answers = sb.client.gather([(method, url, kwargs)] * 4)
    assert len({a.json()["groupHash"] for a in answers}) == 1
    assert len(sb.ok(sb.get("/user/current-organisation/groups"))["results"]) == 1


def test_v1_resend_links_once(sb: Harness) -> None:
    folder = sb.folder("f")
    [item] = sb.add_items(folder["uuid"], ["a"])
    ds = sb.ok(sb.post("/datasets", {"title": "ds", "createBackingFolder": False}))["datasetUuid"]
    payload = {"item_uuids": [item], "duplicates_behavior": "DUPLICATE"}
    first = sb.v1("datasetlinkitems", "POST", uid=ds, payload=payload, headers=TRACE)
    again = sb.v1("datasetlinkitems", "POST", uid=ds, payload=payload, headers=TRACE)
    assert first == again
    rows = sb.v1("datarows", "GET", payload={}, resource=ds)["response"]
    assert len(rows) == 1


def test_write_budget_lets_n_writes_through_then_refuses_writes_only(sb: Harness) -> None:
    sb.runtime.faults.update({"writes_allowed": 2})  # what POST /_sandbox/faults sets
    statuses = [sb.post("/storage/folders", {"name": f"f{i}"}).status_code for i in range(4)]
    assert statuses[:2] == [200, 200] and statuses[2:] == [503, 503]
    assert sb.runtime.faults.snapshot()["writes_left"] == 0
    assert folder_names(sb) == ["f0", "f1"]  # reads still answer; refused writes did nothing
    sb.runtime.faults.update({"writes_allowed": None})
    assert sb.post("/storage/folders", {"name": "f9"}).status_code == 200


def test_refuse_body_refuses_only_writes_naming_it(sb: Harness) -> None:
    sb.runtime.faults.update({"refuse_body": "forbidden"})
    assert sb.post("/storage/folders", {"name": "forbidden-one"}).status_code == 503
    assert sb.post("/storage/folders", {"name": "fine"}).status_code == 200
    assert folder_names(sb) == ["fine"]


def test_forbid_reads_answers_403_to_matching_reads_only(sb: Harness) -> None:
    folder = sb.ok(sb.post("/storage/folders", {"name": "kept"}))
    sb.runtime.faults.update({"forbid_reads": "/items"})
    assert sb.get(f"/storage/folders/{folder['uuid']}/items").status_code == 403
    assert folder_names(sb) == ["kept"]  # other reads answer
    assert sb.post("/storage/folders", {"name": "items"}).status_code == 200  # writes too
    sb.runtime.faults.update({"forbid_reads": None})
    assert sb.get(f"/storage/folders/{folder['uuid']}/items").status_code == 200


@pytest.mark.parametrize("after", [False, True], ids=["before-the-work", "after-the-work"])
def test_hang_write_holds_the_write_after_n_until_released(sb: Harness, after: bool) -> None:
    sb.runtime.faults.update({"hang_write": 1, "hang_after": after})
    assert sb.post("/storage/folders", {"name": "f0"}).status_code == 200
    answers: dict[str, int] = {}

    def send() -> None:
        answers["f1"] = sb.post("/storage/folders", {"name": "f1"}).status_code

    worker = threading.Thread(target=send)
    worker.start()
    deadline = time.monotonic() + 10
    while not sb.runtime.faults.snapshot()["hanging"] and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sb.runtime.faults.snapshot()["hanging"] and worker.is_alive()  # no answer yet
    held = ["f0", "f1"] if after else ["f0"]  # committed with its answer held, or not begun
    assert folder_names(sb) == held  # reads (and the control routes) still answer
    assert sb.runtime.faults.snapshot()["writes_seen"] == 2
    assert sb.runtime.faults.snapshot()["hung_route"] == "POST /v2/public/storage/folders"
    sb.runtime.faults.update({"hang_write": None})  # what a test does once it killed the client
    worker.join(10)
    assert answers == {"f1": 200 if after else 503}
    assert folder_names(sb) == held
    assert sb.post("/storage/folders", {"name": "f2"}).status_code == 200  # nothing else hangs
