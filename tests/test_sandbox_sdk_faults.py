"""Injected faults as the official SDK experiences them: error mapping, Retry-After, retries.

Faults are switched on through the sandbox's loopback control route and switched off again
after every test. Clients here choose their own retry budget: ``max_retries=0`` to see one
answer, or a few retries to see the SDK's own retry policy (GET/POST retried, PATCH not).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
from encord.exceptions import RateLimitExceededError, UnknownException
from encord.http.constants import RequestsSettings
from encord.orm.dataset import StorageLocation
from encord.user_client import EncordUserClient
from sdk_data.sdk_kit import Sandbox, WireLog, prepared_sandbox, unique

pytestmark = pytest.mark.sdk

NO_FAULTS = {
    "latency_ms": 0,
    "error_rate": 0.0,
    "error_after_rate": 0.0,
    "storm_requests": 0,
    "storm_rate": 0.0,
    "storm_retry_after": 1,
}


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with prepared_sandbox(tmp_path_factory.mktemp("sdk-faults")) as served:
        yield served


@pytest.fixture(autouse=True)
def calm(sandbox: Sandbox) -> Iterator[None]:
    sandbox.server.set_faults(**NO_FAULTS)
    yield
    sandbox.server.set_faults(**NO_FAULTS)


@pytest.fixture(scope="module")
def uc(sandbox: Sandbox) -> EncordUserClient:
    return sandbox.admin()  # max_retries=0


def retrying(sandbox: Sandbox, retries: int = 3) -> EncordUserClient:
    settings = RequestsSettings(max_retries=retries, backoff_factor=0.1)
    return EncordUserClient.create_with_ssh_private_key(
        sandbox.server.key_text, requests_settings=settings, domain=sandbox.url
    )


def test_429_maps_to_rate_limit_with_retry_after(sandbox: Sandbox, uc: EncordUserClient) -> None:
    name = unique("stormed")
    sandbox.server.set_faults(storm_requests=1, storm_retry_after=7)

    with pytest.raises(RateLimitExceededError) as raised:
        uc.create_storage_folder(name)

    assert raised.value.retry_after == 7
    assert list(uc.list_storage_folders(search=name)) == []  # the storm came before the work
    assert uc.create_storage_folder(name).name == name  # the storm is over


def test_sdk_retries_get_through_a_short_storm(
    sandbox: Sandbox, uc: EncordUserClient, caplog: pytest.LogCaptureFixture
) -> None:
    folder = uc.create_storage_folder(unique("patient"))
    client = retrying(sandbox)
    sandbox.server.set_faults(storm_requests=2, storm_retry_after=1)
    wire = WireLog(caplog)

    assert client.get_storage_folder(folder.uuid).name == folder.name

    statuses = [r.status for r in wire.matching("GET", f"/storage/folders/{folder.uuid}")]
    assert statuses == [429, 429, 200]


def test_patch_is_not_retried_and_changes_nothing(
    sandbox: Sandbox, uc: EncordUserClient, caplog: pytest.LogCaptureFixture
) -> None:
    folder = retrying(sandbox).create_storage_folder(unique("unpatched"), description="before")
    sandbox.server.set_faults(storm_requests=1, storm_retry_after=1)
    wire = WireLog(caplog)

    with pytest.raises(RateLimitExceededError):
        folder.update(description="after")

    assert len(wire.matching("PATCH", f"/storage/folders/{folder.uuid}")) == 1
    assert uc.get_storage_folder(folder.uuid).description == "before"


def test_5xx_maps_to_unknown_exception(sandbox: Sandbox, uc: EncordUserClient) -> None:
    name = unique("failed")
    sandbox.server.set_faults(error_rate=1.0)

    with pytest.raises(UnknownException):
        uc.create_storage_folder(name)

    sandbox.server.set_faults(error_rate=0.0)
    assert list(uc.list_storage_folders(search=name)) == []


def test_v1_storm_maps_to_rate_limit(sandbox: Sandbox, uc: EncordUserClient) -> None:
    created = uc.create_dataset(unique("v1-storm"), StorageLocation.CORD_STORAGE, None, False)
    sandbox.server.set_faults(storm_requests=1, storm_retry_after=3)

    with pytest.raises(RateLimitExceededError) as raised:
        uc.get_dataset(created.dataset_hash)

    assert raised.value.retry_after == 3
    assert uc.get_dataset(created.dataset_hash).dataset_hash == created.dataset_hash


def test_retried_create_after_a_committed_failure_makes_one_group(
    sandbox: Sandbox, uc: EncordUserClient, caplog: pytest.LogCaptureFixture
) -> None:
    """``create_group`` is a retried POST; each 502 here comes after the group was committed.
    The SDK re-sends the identical signed request, and the server must not create it again."""
    name = unique("once")
    client = retrying(sandbox, retries=2)
    sandbox.server.set_faults(error_after_rate=1.0)
    wire = WireLog(caplog)

    # Every answer may be faulted (the SDK gives up with UnknownException), or a re-send may be
    # answered from the first, committed attempt; either way the group exists exactly once.
    with contextlib.suppress(UnknownException):
        client.create_group(name, "made once")

    sandbox.server.set_faults(error_after_rate=0.0)
    posts = wire.matching("POST", "/organisation/groups")
    assert len(posts) >= 2 and posts[0].status == 502  # the SDK really re-sent it
    assert [g.description for g in uc.list_groups() if g.name == name] == ["made once"]
