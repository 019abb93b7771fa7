"""``EncordClient``: one asynchronous client for the Encord public API (v2 REST + v1 RPC).

    async with EncordClient(ClientOptions(domain=..., auth=KeyAuth(key))) as client:
        async for folder in client.folders.list_root(search="raw"):
            ...

Operations are grouped by what they act on (``folders``, ``items``, ``groups``, ``users``,
``integrations``, ``datasets``, ``metadata_schema``, ``organisation_tags``,
``uploads``: data-upload jobs and folder configs); all share one session, hence one
concurrency limit, one 429 pause and one set of counters (``stats``).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from types import TracebackType

from reconciler.encord.collections import CollectionsAPI
from reconciler.encord.datasets import DatasetsAPI
from reconciler.encord.folders import FoldersAPI
from reconciler.encord.items import ItemsAPI
from reconciler.encord.options import ClientOptions
from reconciler.encord.org import GroupsAPI, IntegrationsAPI, MetadataSchemaAPI, UsersAPI
from reconciler.encord.orgwide import probe_org_wide
from reconciler.encord.session import Session
from reconciler.encord.stats import StatsSnapshot
from reconciler.encord.tags import TagsAPI
from reconciler.encord.uploads import UploadsAPI


class EncordClient:
    """Async context manager; close it (or leave the ``async with``) to release connections."""

    def __init__(self, options: ClientOptions) -> None:
        self.options = options
        self._session = Session(options)
        self.folders = FoldersAPI(self._session)
        self.items = ItemsAPI(self._session)
        self.groups = GroupsAPI(self._session)
        self.users = UsersAPI(self._session)
        self.integrations = IntegrationsAPI(self._session)
        self.datasets = DatasetsAPI(self._session)
        self.collections = CollectionsAPI(self._session)
        self.metadata_schema = MetadataSchemaAPI(self._session)
        self.uploads = UploadsAPI(self._session)
        self.organisation_tags = TagsAPI(self._session)
        self._on_close: list[Callable[[], object]] = []

    def __repr__(self) -> str:
        return f"EncordClient(domain={self.options.domain!r}, auth={self.options.auth!r})"

    @property
    def target(self) -> str:
        """The API this client talks to, as plans and logs name it."""
        return self.options.label or self.options.domain

    async def org_wide_listing(self) -> bool:
        """Whether the organisation-wide root listing is open to this caller, i.e. whether
        the caller is an organisation admin (one request; see ``orgwide.probe_org_wide``)."""

        async def first_page() -> None:
            async for _ in self.folders.list_root(page_size=1, include_org_access=True):
                break

        return await probe_org_wide(self._session, first_page)

    @property
    def stats(self) -> StatsSnapshot:
        return self._session.stats.snapshot()

    def request_spans(self) -> dict[str, tuple[tuple[float, float], ...]]:
        """Per route, when each answered request went out and came back (``stats``: for a
        plan's cost)."""
        return self._session.stats.spans()

    def client_ms(self) -> float | None:
        """This process's CPU per object answered so far, in ms (for a plan's cost)."""
        return self._session.stats.client_ms()

    @property
    def in_flight(self) -> int:
        """Requests sent and not answered yet."""
        return self._session.in_flight

    def reset_stats(self) -> None:
        self._session.stats.reset()

    def close_with(self, callback: Callable[[], object]) -> None:
        """Run ``callback`` when the client closes (e.g. release an embedded sandbox)."""
        self._on_close.append(callback)

    async def aclose(self) -> None:
        await self._session.aclose()
        while self._on_close:
            result = self._on_close.pop()()
            if inspect.isawaitable(result):
                await result

    async def __aenter__(self) -> EncordClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
