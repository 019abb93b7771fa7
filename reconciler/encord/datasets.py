"""Datasets: v2 create/list, users and groups; the legacy v1 envelope for get, data rows,
link, unlink and adding users (still v1 in SDK 0.1.211).

Links are made by storage item UUID and removed by data hash (v1 ``video`` DELETE with the
hashes in ``values.uid``); ``DataRow.backing_item_uuid`` maps one to the other. Creating a
dataset and linking are not idempotent: after an ambiguous failure the client lists datasets
by title, or the dataset's data rows, before it sends again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID

from reconciler.encord.calls import Done, Recovery, V1Call, V2Call, json_body, uuid_text
from reconciler.encord.dto import Dataset
from reconciler.encord.errors import AnswerTooLargeError, NotFoundError
from reconciler.encord.options import BUNDLE_SIZE
from reconciler.encord.orgwide import AUTO, OrgAccess, org_wide
from reconciler.encord.paging import chunks, collect, ignore, list_parser, parser
from reconciler.encord.session import Session
from reconciler.wire.base import ResultList
from reconciler.wire.datasets import (
    CreateDatasetPayload,
    CreateDatasetResponse,
    DataRow,
    DatasetUser,
    DatasetUserRow,
    V1Dataset,
    datarows_payload,
    dataset_payload,
)
from reconciler.wire.enums import DatasetUserRole, DuplicatesBehavior
from reconciler.wire.org import AddDatasetGroupsPayload, DatasetGroup

T = TypeVar("T")
CLOCK_TOLERANCE = timedelta(minutes=5)
# Reading a dataset's rows by link time: the earliest link when the dataset's creation is not
# known (before Encord's storage API), how many parts a window too large for one answer is
# cut into (few levels from years down to seconds), the margin around each window, and the
# narrowest window (rows linked closer together than this are read as one answer).
EARLIEST_ROW = datetime(2015, 1, 1, tzinfo=UTC)
ROW_WINDOW_SPLIT = 16
ROW_WINDOW_MARGIN = timedelta(milliseconds=1)
ROW_WINDOW_MIN = timedelta(milliseconds=4)
_ADMIN = "admin on"


class DatasetsAPI:
    def __init__(self, session: Session) -> None:
        self._session = session

    # --- v2 ----------------------------------------------------------------------------------

    async def create(
        self, title: str, *, description: str | None = None, create_backing_folder: bool = False
    ) -> CreateDatasetResponse:
        """Create a dataset. Without a backing folder by default: a mirror dataset would add a
        root folder the configuration does not declare."""
        payload = CreateDatasetPayload(
            title=title, description=description, create_backing_folder=create_backing_folder
        )
        call = V2Call(
            "POST",
            "datasets",
            "datasets",
            body=json_body(payload.to_request()),
            subject="the organisation",
            needs=_ADMIN,
            idempotent=False,
        )
        since = datetime.now(UTC) - CLOCK_TOLERANCE

        async def check() -> Done[CreateDatasetResponse] | None:
            listed = await self.list_all(title_eq=title, include_org_access=AUTO)
            fresh = [d for d in listed if d.created_at >= since]
            newest = max(fresh, key=lambda d: d.created_at, default=None)
            if newest is None:
                return None
            return Done(
                CreateDatasetResponse(
                    dataset_uuid=newest.dataset_uuid, backing_folder_uuid=newest.backing_folder_uuid
                )
            )

        recovery = Recovery(check, before_resend=True)
        return await self._session.call(
            call, parser(CreateDatasetResponse, call.route), recovery=recovery
        )

    async def list_all(
        self,
        *,
        title_eq: str | None = None,
        title_like: str | None = None,
        include_org_access: OrgAccess = False,
    ) -> list[Dataset]:
        """Datasets visible to the caller, with the caller's role (an unpaged answer; the role
        is None where an organisation admin sees a dataset only through organisation access).
        ``include_org_access="auto"``: organisation-wide when this caller may ask for it."""

        async def listed(org: bool | None) -> list[Dataset]:
            query = (
                ("titleEq", title_eq),
                ("titleLike", title_like),
                ("includeOrgAccess", org),
            )
            call = V2Call("GET", "datasets/list", "datasets/list", query=query, subject="datasets")
            answer = await self._session.call(call, parser(ResultList[Dataset], call.route))
            return answer.result

        return await org_wide(self._session, include_org_access, "datasets/list", listed)

    async def list_users(
        self, dataset: UUID | str, *, subject: str | None = None
    ) -> list[DatasetUser]:
        did = uuid_text(dataset)

        def make(token: str | None) -> V2Call:
            return V2Call(
                "GET",
                f"datasets/{did}/users",
                "datasets/{dataset_hash}/users",
                query=(("pageToken", token),),
                subject=subject or f"dataset {did}",
            )

        return await collect(self._session, make, DatasetUser)

    async def remove_users(
        self, dataset: UUID | str, emails: Iterable[str], *, subject: str | None = None
    ) -> None:
        did = uuid_text(dataset)
        call = V2Call(
            "POST",
            f"datasets/{did}/users/bulk-delete",
            "datasets/{dataset_hash}/users/bulk-delete",
            body=json_body({"userEmails": list(emails)}),
            subject=subject or f"dataset {did}",
            needs=_ADMIN,
        )
        await self._session.call(call, ignore)

    async def list_groups(
        self, dataset: UUID | str, *, subject: str | None = None
    ) -> list[DatasetGroup]:
        did = uuid_text(dataset)

        def make(token: str | None) -> V2Call:
            return V2Call(
                "GET",
                f"datasets/{did}/groups",
                "datasets/{dataset_hash}/groups",
                query=(("pageToken", token),),
                subject=subject or f"dataset {did}",
            )

        return await collect(self._session, make, DatasetGroup)

    async def add_groups(
        self,
        dataset: UUID | str,
        groups: Iterable[UUID | str],
        role: DatasetUserRole,
        *,
        subject: str | None = None,
    ) -> None:
        """Grant a dataset role (an integer on the wire: 0 admin, 1 user) to groups."""
        did = uuid_text(dataset)
        payload = AddDatasetGroupsPayload(
            group_hash_list=[UUID(uuid_text(g)) for g in groups], user_role=DatasetUserRole(role)
        )
        call = V2Call(
            "POST",
            f"datasets/{did}/groups",
            "datasets/{dataset_hash}/groups",
            body=json_body(payload.to_request()),
            subject=subject or f"dataset {did}",
            needs=_ADMIN,
        )
        await self._session.call(call, ignore)

    async def remove_groups(
        self, dataset: UUID | str, groups: Iterable[UUID | str], *, subject: str | None = None
    ) -> None:
        did = uuid_text(dataset)
        call = V2Call(
            "DELETE",
            f"datasets/{did}/groups",
            "datasets/{dataset_hash}/groups",
            query=(("groupHashList", [uuid_text(g) for g in groups]),),
            body=b"",
            subject=subject or f"dataset {did}",
            needs=_ADMIN,
        )
        await self._session.call(call, ignore)

    # --- v1 envelope ---------------------------------------------------------------------------

    async def get(
        self, dataset: UUID | str, *, fetch_rows: bool = False, subject: str | None = None
    ) -> V1Dataset:
        did = uuid_text(dataset)
        call = V1Call(
            "dataset",
            "GET",
            did,
            None,
            dataset_payload(fetch_rows=fetch_rows),
            subject=subject or f"dataset {did}",
        )
        return await self._session.call(call, _getter(parser(V1Dataset, call.route), call))

    async def data_rows(
        self, dataset: UUID | str, *, subject: str | None = None, since: datetime | None = None
    ) -> list[DataRow]:
        """Every data row of the dataset, each with ``backing_item_uuid``.

        The call is not paged: it answers every row at once. When that answer is larger than
        the client's cap, the rows are read again by link time (the call's ``created_after``
        and ``created_before`` filters), in windows split until each answer fits; ``since``
        (the dataset's creation, when known) bounds the first window.
        """
        did = uuid_text(dataset)
        subject = subject or f"dataset {did}"
        try:
            return await self._rows(did, subject)
        except AnswerTooLargeError:
            start = (since or EARLIEST_ROW) - CLOCK_TOLERANCE
            # The server's clock may run ahead of ours: a row linked just now must still
            # fall inside the last window.
            end = datetime.now(UTC) + CLOCK_TOLERANCE
            return await self._rows_by_link_time(did, subject, start, end)

    async def _rows(
        self, did: str, subject: str, window: tuple[datetime, datetime] | None = None
    ) -> list[DataRow]:
        payload = datarows_payload()
        if window is not None:
            # Both bounds are exclusive on the server: widen each window by a margin, so a
            # row on a boundary falls inside a window whatever the server's precision.
            payload["created_after"] = (window[0] - ROW_WINDOW_MARGIN).isoformat()
            payload["created_before"] = (window[1] + ROW_WINDOW_MARGIN).isoformat()
        call = V1Call("datarows", "GET", did, None, payload, subject=subject)
        return await self._session.call(call, _getter(list_parser(DataRow, call.route), call))

    async def _rows_by_link_time(
        self, did: str, subject: str, start: datetime, end: datetime
    ) -> list[DataRow]:
        """The rows linked from ``start`` to ``end`` (plus the margin), each answer within the
        cap: a window whose answer is too large is split in ``ROW_WINDOW_SPLIT`` parts."""
        found: dict[str, DataRow] = {}  # windows overlap by their margins
        pending = [(start, end)]
        while pending:
            window = pending.pop()
            try:
                rows = await self._rows(did, subject, window)
            except AnswerTooLargeError:
                pending.extend(reversed(_split(window, subject)))
                continue
            found.update((row.data_hash, row) for row in rows)
        return sorted(found.values(), key=lambda row: (row.created_at, row.data_hash))

    async def link_items(
        self,
        dataset: UUID | str,
        items: Sequence[UUID | str],
        *,
        duplicates: DuplicatesBehavior = DuplicatesBehavior.SKIP,
        subject: str | None = None,
    ) -> list[DataRow]:
        """Link storage items, 1000 per request; returns the data rows the server created.

        With SKIP, items already linked get no new row, so the result may be shorter than
        ``items``. After an ambiguous failure the dataset's rows are listed and the call is
        resent only if some item is still unlinked.
        """
        did = uuid_text(dataset)
        rows: list[DataRow] = []
        for chunk in chunks([uuid_text(i) for i in items], BUNDLE_SIZE):
            rows.extend(await self._link_chunk(did, chunk, duplicates, subject))
        return rows

    async def _link_chunk(
        self, did: str, ids: list[str], duplicates: DuplicatesBehavior, subject: str | None
    ) -> list[DataRow]:
        payload = {"item_uuids": ids, "duplicates_behavior": duplicates.value}
        call = V1Call(
            "datasetlinkitems",
            "POST",
            did,
            did,
            payload,
            subject=subject or f"dataset {did}",
            needs=_ADMIN,
            idempotent=False,
        )

        async def check() -> Done[list[DataRow]] | None:
            linked = [r for r in await self.data_rows(did) if r.backing_item_uuid in set(ids)]
            if {r.backing_item_uuid for r in linked} == set(ids):
                return Done(linked)
            return None

        recovery = Recovery(check, before_resend=True)
        return await self._session.call(call, list_parser(DataRow, call.route), recovery=recovery)

    async def unlink(
        self, dataset: UUID | str, data_hashes: Sequence[str], *, subject: str | None = None
    ) -> None:
        """Remove data rows by data hash (the item stays in storage); 1000 per request."""
        did = uuid_text(dataset)
        for chunk in chunks(list(data_hashes), BUNDLE_SIZE):
            call = V1Call(
                "video",
                "DELETE",
                did,
                chunk,
                None,
                subject=subject or f"dataset {did}",
                needs=_ADMIN,
            )
            recovery = Recovery(self._rows_gone(did, chunk), before_resend=False)
            await self._session.call(call, ignore, recovery=recovery)

    def _rows_gone(self, did: str, hashes: list[str]) -> Callable[[], Awaitable[Done[None] | None]]:
        async def check() -> Done[None] | None:
            try:
                rows = await self.data_rows(did)
            except NotFoundError:
                return None
            left = {r.data_hash for r in rows} & set(hashes)
            return None if left else Done(None)

        return check

    async def add_users(
        self,
        dataset: UUID | str,
        emails: Iterable[str],
        role: DatasetUserRole,
        *,
        subject: str | None = None,
    ) -> list[DatasetUserRow]:
        """Give users a dataset role; users who already have one keep it (the API's rule)."""
        did = uuid_text(dataset)
        payload = {"user_emails": list(emails), "user_role": int(DatasetUserRole(role))}
        call = V1Call(
            "datasetusers",
            "POST",
            did,
            did,
            payload,
            subject=subject or f"dataset {did}",
            needs=_ADMIN,
        )
        return await self._session.call(
            call, _getter(list_parser(DatasetUserRow, call.route), call)
        )


def _split(window: tuple[datetime, datetime], subject: str) -> list[tuple[datetime, datetime]]:
    start, end = window
    if end - start <= ROW_WINDOW_MIN:
        raise AnswerTooLargeError(
            f"data rows of {subject}: the rows linked within {ROW_WINDOW_MIN.total_seconds() * 1000:g} "
            f"ms of {start.isoformat()} do not fit in one answer; raise --max-answer-mib (or "
            "RECONCILER_MAX_ANSWER_MIB)"
        )
    step = (end - start) / ROW_WINDOW_SPLIT
    return [(start + step * i, start + step * (i + 1)) for i in range(ROW_WINDOW_SPLIT)]


def _getter(parse: Callable[[Any], T], call: V1Call) -> Callable[[Any], T]:
    """v1 answers ``"response": null`` for a resource that does not exist."""

    def wrapped(value: Any) -> T:
        if value is None:
            raise NotFoundError(f"not found: {call.subject}")
        return parse(value)

    return wrapped
