"""``read_live``: the live state of a scope, read with as few round trips as the API allows.

Everything independent runs at once under the client's one concurrency limit: the folder tree
(``tree.py``), groups and their members, datasets in depth, integrations, organisation users,
the organisation tags, the metadata schema and who the caller is (``identity.py``). The request count stays within a small constant of the minimum:
ceil(items / 1000) + ceil(folders / 1000) per root, one group-role read per folder, three
reads per dataset in scope, one member read per group in scope, plus a handful of lists.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable
from typing import Any, TypeVar

from reconciler.collector import collector_paused
from reconciler.encord import Dataset, EncordClient, ForbiddenError, NotFoundError
from reconciler.encord.orgwide import AUTO
from reconciler.live.collections import CollectionReader
from reconciler.live.identity import read_caller
from reconciler.live.progress import ReadCounter, ReadListener
from reconciler.live.scope import Scope
from reconciler.live.tasks import gather_all, task_group
from reconciler.live.tree import TreeReader
from reconciler.model.live import (
    LiveDataRow,
    LiveDataset,
    LiveFolderConfig,
    LiveGroup,
    LiveIntegration,
    LiveState,
    LiveTag,
    LiveUser,
)
from reconciler.wire.enums import DatasetUserRole

logger = logging.getLogger(__name__)
T = TypeVar("T")

_ROLE = {DatasetUserRole.ADMIN: "admin", DatasetUserRole.USER: "user"}


async def read_live(
    client: EncordClient, scope: Scope, *, on_progress: ReadListener | None = None
) -> LiveState:
    """Read the live state of ``scope``. Raises ``EncordError`` when a read fails for good;
    a 403/404 on part of the scope is recorded in ``problems`` and clears ``complete``.
    ``on_progress`` receives ``ReadProgress`` events while the read runs, and a last one."""
    counter = ReadCounter(client, on_progress)
    # A read of 100,000 items makes millions of small acyclic objects, and the cycle
    # collector walked them again and again (about a sixth of the read's CPU): paused while
    # the read runs (what the read itself drops is freed by reference counting).
    with collector_paused():
        state = await _Reader(client, scope, counter).read()
    counter.finish()
    return state


class _Reader:
    def __init__(self, client: EncordClient, scope: Scope, counter: ReadCounter) -> None:
        self._client = client
        self._scope = scope
        self._counter = counter
        self._problems: list[str] = []
        self._complete = True
        self._groups_listed = asyncio.Event()
        self._prunable_group = False  # a listed group the plan may delete (``_all_roles``)

    async def read(self) -> LiveState:
        all_roles = None if self._scope.folder_roles else self._all_roles
        async with task_group() as group:
            tree_task = group.create_task(
                TreeReader(self._client, self._counter, all_roles=all_roles).read(self._scope.roots)
            )
            groups = group.create_task(self._groups())
            datasets = group.create_task(self._datasets())
            collections = group.create_task(CollectionReader(self._client, self._scope).read())
            integrations = group.create_task(self._integrations())
            users = group.create_task(self._users())
            schema = group.create_task(self._schema())
            tags = group.create_task(self._tags())
            caller = group.create_task(read_caller(self._client))
        tree = tree_task.result()
        found = collections.result()
        self._problems.extend(found.problems)
        self._complete = self._complete and found.complete
        paths = {
            f.path: f.uuid
            for f in tree.folders.values()
            if not any(_under(f.path, a) for a in tree.ambiguous)
        }
        configs = await self._folder_configs(paths)
        folder_tags = await self._folder_tags(tags.result(), set(tree.folders))
        return LiveState(
            target=self._client.target,
            scope=self._scope.roots,
            missing_roots=tuple(tree.missing_roots),
            folders=tree.folders,
            paths=paths,
            ambiguous=dict(sorted(tree.ambiguous.items())),
            items=tree.items,
            folder_groups=tree.folder_groups,
            groups=groups.result(),
            datasets=datasets.result(),
            collections=found.collections,
            collection_folders=found.folders,
            integrations=integrations.result(),
            users=users.result() or {},
            users_complete=users.result() is not None,
            metadata_schema=schema.result(),
            organisation_tags=tags.result(),
            folder_tags=folder_tags,
            complete=tree.complete and self._complete,
            listing_counts=tree.listing_counts,
            problems=tuple(tree.problems + self._problems),
            caller=caller.result(),
            folder_configs=configs,
        )

    async def _folder_configs(self, paths: dict[str, str]) -> dict[str, LiveFolderConfig]:
        """The sidecar settings of the folders the scope names that exist (one read each)."""
        wanted = sorted(p for p in self._scope.folder_configs if p in paths)
        read = await gather_all(
            self._soft(self._client.uploads.get_config(paths[p]), f"folder config of {p}")
            for p in wanted
        )
        out: dict[str, LiveFolderConfig] = {}
        for path, config in zip(wanted, read, strict=True):
            if config is None:
                continue
            ingestion = config.metadata_ingestion
            out[paths[path]] = (
                LiveFolderConfig()
                if ingestion is None
                else LiveFolderConfig(ingestion.matcher.suffix, ingestion.paused)
            )
        return out

    async def _all_roles(self) -> bool:
        """Roles on every folder when a group may be pruned: the plan withholds deleting a
        group whose grants hold a folder's last admin, so those grants must be read. The
        group listing is one request, usually back before the folder listing."""
        await self._groups_listed.wait()
        return self._prunable_group

    async def _groups(self) -> dict[str, LiveGroup]:
        groups = await self._client.groups.list_all()
        self._prunable_group = any(
            self._scope.may_prune_group(g.name, g.description) for g in groups
        )
        self._groups_listed.set()
        wanted = [g for g in groups if self._scope.wants_members(g.name, g.description)]
        members = await gather_all(
            self._soft(self._client.groups.list_members(g.group_hash), f"members of group {g.name}")
            for g in wanted
        )
        by_hash = {str(g.group_hash): m for g, m in zip(wanted, members, strict=True)}
        return {
            str(g.group_hash): LiveGroup(
                hash=str(g.group_hash),
                name=g.name,
                description=g.description,
                members=tuple(sorted(by_hash.get(str(g.group_hash)) or ())),
            )
            for g in groups
        }

    async def _datasets(self) -> dict[str, LiveDataset]:
        if self._scope.datasets is not None and not self._scope.datasets:
            return {}
        listed = await self._client.datasets.list_all(include_org_access=AUTO)
        chosen = [d for d in listed if self._scope.wants_dataset(d.title)]
        read = await gather_all(self._dataset(d) for d in chosen)
        return {d.uuid: d for d in read}

    async def _dataset(self, dataset: Dataset) -> LiveDataset:
        api, did = self._client.datasets, dataset.dataset_uuid
        subject = f"dataset {dataset.title}"
        async with task_group() as group:
            rows_task = group.create_task(
                self._soft(
                    api.data_rows(did, subject=subject, since=dataset.created_at),
                    f"data rows of {subject}",
                    True,
                )
            )
            groups_task = group.create_task(
                self._soft(api.list_groups(did, subject=subject), f"groups of {subject}", True)
            )
            users_task = group.create_task(
                self._soft(api.list_users(did, subject=subject), f"users of {subject}", True)
            )
        rows, groups, users = rows_task.result(), groups_task.result(), users_task.result()
        return LiveDataset(
            uuid=str(did),
            title=dataset.title,
            description=dataset.description,
            user_role=dataset.user_role,
            last_edited_at=dataset.last_edited_text,
            backing_folder_uuid=str(dataset.backing_folder_uuid)
            if dataset.backing_folder_uuid
            else None,
            groups={str(g.group_hash): _ROLE[g.user_role] for g in groups or ()},
            users={u.user_email: _ROLE[u.user_role] for u in users or ()},
            rows=tuple(
                LiveDataRow(
                    data_hash=r.data_hash, item_uuid=r.backing_item_uuid, title=r.data_title
                )
                for r in rows or ()
            ),
        )

    async def _integrations(self) -> dict[str, LiveIntegration]:
        if not self._scope.read_integrations:
            return {}
        listing = self._client.integrations.list_all(include_org_access=AUTO)
        listed = await self._soft(listing, "cloud integrations")
        return {
            str(i.integration_uuid): LiveIntegration(uuid=str(i.integration_uuid), title=i.title)
            for i in listed or ()
        }

    async def _users(self) -> dict[str, LiveUser] | None:
        """The organisation's members; None when the listing was refused (not empty)."""
        if not self._scope.read_users:
            return {}
        listed = await self._soft(self._client.users.list_all(), "organisation users")
        if listed is None:
            return None
        return {
            u.email: LiveUser(email=u.email, role=u.role_mnemonic_name, member_type=u.member_type)
            for u in listed
        }

    async def _schema(self) -> dict[str, Any] | None:
        if not self._scope.read_metadata_schema:
            return None
        return await self._soft(self._client.metadata_schema.get(), "metadata schema")

    async def _tags(self) -> dict[str, LiveTag] | None:
        """Tags feed deletes (prune): a listing refused is an incomplete read."""
        if not self._scope.read_tags:
            return None
        listing = self._client.organisation_tags.list_all()
        listed = await self._soft(listing, "organisation tags", incomplete=True)
        return {
            str(t.uuid): LiveTag(uuid=str(t.uuid), name=t.name, description=t.description)
            for t in listed or ()
        }

    async def _folder_tags(
        self, tags: dict[str, LiveTag] | None, read: set[str]
    ) -> dict[str, tuple[str, ...]]:
        """The tags on the folders read, by folder UUID: one folder search per tag (tags are
        attached in the app; the API can only filter folders by them). Shown, not managed."""
        if not self._scope.read_folder_tags or not tags:
            return {}
        names = sorted(t.name for t in tags.values())
        found = await gather_all(
            self._soft(
                _collect(self._client.folders.search(None, organisation_tags=(n,))),
                f"folders tagged {n!r}",
            )
            for n in names
        )
        out: dict[str, list[str]] = {}
        for name, folders in zip(names, found, strict=True):
            for folder in folders or ():
                if str(folder.uuid) in read:
                    out.setdefault(str(folder.uuid), []).append(name)
        return {uuid: tuple(tagged) for uuid, tagged in out.items()}

    async def _soft(self, read: Awaitable[T], what: str, incomplete: bool = False) -> T | None:
        """A 403/404 is recorded; for reads that feed deletes or unlinks it clears ``complete``."""
        try:
            return await read
        except (ForbiddenError, NotFoundError) as error:
            logger.warning("live read: %s: %s", what, error)
            self._problems.append(f"{what}: {error}")
            if incomplete:
                self._complete = False
            return None


async def _collect(listing: AsyncIterator[T]) -> list[T]:
    return [entry async for entry in listing]


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root + "/")
