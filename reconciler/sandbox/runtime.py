"""Everything one running sandbox holds besides its routes: store, counters, faults, caches.

One ``Runtime`` per ``create_app``; ``close()`` waits for a running sync job, then closes the
database. The app closes it on shutdown; an in-process user (``EmbeddedSandbox``) closes it
itself, because ``httpx.ASGITransport`` sends no lifespan events.
"""

from __future__ import annotations

import logging
from pathlib import Path

from reconciler.sandbox.faults import Faults
from reconciler.sandbox.jobs import SyncRunner
from reconciler.sandbox.options import SandboxOptions
from reconciler.sandbox.replay import ReplayCache
from reconciler.sandbox.reply import Reply
from reconciler.sandbox.stats import Stats
from reconciler.sandbox.store import uploads
from reconciler.sandbox.store.db import Database
from reconciler.sandbox.store.sync import fail_interrupted_jobs
from reconciler.sandbox.uploads import UploadRunner

log = logging.getLogger(__name__)


class Runtime:
    def __init__(self, db_path: Path, options: SandboxOptions) -> None:
        self.options = options
        self.faults = Faults(options.faults())
        self.db = Database.open(db_path)
        self.stats = Stats()
        self.replay: ReplayCache[Reply] = ReplayCache()
        self.jobs = SyncRunner(self.db)
        self.uploads = UploadRunner(self.db, options)
        with self.db.write() as conn:
            interrupted = fail_interrupted_jobs(conn) + uploads.fail_interrupted_jobs(conn)
        if interrupted:
            log.warning("%d jobs were cut short by a stop and are marked failed", interrupted)
        self._closed = False

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.uploads.close()
        self.jobs.close()
        self.db.close()
