"""What every operation of one run shares: the client, what is done, what was created,
what failed, and how to turn a change's references into live ids.

A reference to an object created by the same plan is ``None`` in ``Change.refs``; the
creating change's address is in ``depends_on`` and its new id is in ``RunState.created``
once the create was acknowledged (in this run or, on ``--resume``, in the journal).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from reconciler.apply.bundles import dependency
from reconciler.apply.errors import StepError
from reconciler.apply.journal import UploadJobs
from reconciler.apply.phases import Step
from reconciler.apply.recorder import Recorder
from reconciler.encord import EncordClient, ItemBrief
from reconciler.model import addresses as addr
from reconciler.plan.model import Change


@dataclass(slots=True)
class RunState:
    """Mutable bookkeeping of one run (seeded from the journal on ``--resume``).

    * ``done``: step keys acknowledged by the API (or found already in effect);
    * ``created``: address of a created folder, group or dataset -> its new id;
    * ``failed``: change key -> why (a change with one failed step is failed);
    * ``failed_addresses``: address -> why, for dependents;
    * ``sync_jobs``: address of a synced folder -> job id started for it;
    * ``written_items``: item UUID -> the item as the API answered our last write of it
      (patch-bulk answers with every stored item), for verification;
    * ``uploads``: register address -> its data-upload jobs (open ones, rows registered),
      from the journal on ``--resume`` and kept up to date by the register operation;
    * ``registered``: register address -> object URL -> new item UUID (this run);
    * ``row_failures``: ``(address, phase, message)`` of objects that failed on their own
      (a register change whose other objects were registered): the run is not ok.
    """

    done: set[str] = field(default_factory=set)
    created: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    failed_addresses: dict[str, str] = field(default_factory=dict)
    sync_jobs: dict[str, str] = field(default_factory=dict)
    written_items: dict[str, ItemBrief] = field(default_factory=dict)
    uploads: dict[str, UploadJobs] = field(default_factory=dict)
    registered: dict[str, dict[str, str]] = field(default_factory=dict)
    row_failures: list[tuple[str, str, str]] = field(default_factory=list)
    job_slots: asyncio.Semaphore | None = None  # data-upload jobs in flight (registration)


@dataclass(slots=True, kw_only=True)
class RunContext:
    client: EncordClient
    state: RunState
    ownership_id: str
    resume: bool
    recorder: Recorder = field(default_factory=Recorder)  # journal and events, one place
    sync_timeout_seconds: int = 3600
    trusted_until: float | None = None  # time.monotonic() until which the plan's read holds
    # the changes that read saw as the plan did (their addresses); None: all, the plan was
    # made from it. A saved plan's others are read again before they are written.
    trusted_changes: frozenset[str] | None = None
    stop: asyncio.Event | None = None  # set: start no new bundle (Ctrl-C, SIGTERM)
    # ids of the live objects the plan changes: a create never takes one of them for its own
    # unacknowledged attempt (one moving away may still hold the name, ``CreateFolders``)
    planned: frozenset[str] = frozenset()

    def stopping(self) -> bool:
        return self.stop is not None and self.stop.is_set()

    def trusted(self, steps: Sequence[Step]) -> list[Step]:
        """The ``steps`` that may be written without reading their objects again: while the
        read that vouches for their changes is recent enough, those it vouches for (the
        clock read once a bundle, not once a step: a bundle holds up to a thousand)."""
        if self.trusted_until is None or time.monotonic() >= self.trusted_until:
            return []
        if self.trusted_changes is None:
            return list(steps)
        return [s for s in steps if s.change.address in self.trusted_changes]

    def record_created(self, address: str, uuid: str) -> None:
        """Remember a new id at once, durably: a crash right after must not create it twice."""
        self.state.created[address] = uuid
        self.recorder.created(address, uuid)

    def created_id(self, address: str) -> str:
        uuid = self.state.created.get(address)
        if uuid is None:
            raise StepError(f"{address} was not created, so this cannot be applied")
        return uuid

    def ref(self, uuid: str | None, address: str | None, what: str) -> str:
        """A live id: the plan's, or the one created for ``address`` in this run."""
        if uuid is not None:
            return uuid
        if address is None:
            raise StepError(f"the plan names no {what}; re-run plan")
        return self.created_id(address)

    def parent(self, change: Change) -> str | None:
        """The folder a create or move puts ``change`` in (None: the organisation root)."""
        refs = change.refs
        if refs.parent_path is None:
            return None
        return self.ref(refs.parent_uuid, addr.folder(refs.parent_path), "parent folder")

    def folder_of(self, change: Change) -> str:
        """The folder of a folder-group relation."""
        return self.ref(change.refs.folder_uuid, dependency(change, addr.Kind.FOLDER), "folder")

    def group_of(self, change: Change) -> str:
        return self.ref(change.refs.group_hash, dependency(change, addr.Kind.GROUP), "group")

    def dataset_of(self, change: Change) -> str:
        return self.ref(change.refs.dataset_uuid, dependency(change, addr.Kind.DATASET), "dataset")

    def object_id(self, change: Change) -> str:
        """The changed object's own id (a create's comes from ``created``)."""
        return self.ref(change.refs.uuid, change.address, "object id")
