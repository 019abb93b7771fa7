"""The database handle: a pool of sqlite3 connections, one write lock, one transaction per use.

sqlite3 connections must not be used by two threads at once, and Starlette runs endpoints in
a thread pool, so connections live in a pool and each ``read()``/``write()`` borrows one for
the duration of a transaction. Writes are serialised by a process-wide lock and ``BEGIN
IMMEDIATE`` (which also serialises against other processes, such as ``reconciler sandbox seed``
on a served database); reads run concurrently under WAL, each in its own snapshot.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

from reconciler.sandbox.errors import (
    CorruptDatabaseError,
    DatabaseExistsError,
    DatabaseMissingError,
)
from reconciler.sandbox.store.schema import MIGRATIONS, SCHEMA_VERSION

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 30_000


class Database:
    """A sandbox database file. Use ``Database.open`` or ``Database.create``; ``close()`` it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._idle: list[sqlite3.Connection] = []
        self._pool_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._closed = False

    @classmethod
    def create(cls, path: Path) -> Database:
        """Create a new, empty database with the current schema; refuse an existing file."""
        if path.exists():
            raise DatabaseExistsError(f"{path} already exists; choose another --db path")
        if not path.parent.is_dir():
            raise DatabaseMissingError(f"directory {path.parent} does not exist")
        db = cls(path)
        with db.write() as conn:
            conn.execute("PRAGMA user_version")  # forces the file into existence under the lock
        db._migrate()
        return db

    @classmethod
    def open(cls, path: Path) -> Database:
        """Open an existing sandbox database, applying pending migrations."""
        if not path.is_file():
            raise DatabaseMissingError(
                f"sandbox database {path} not found; create it with "
                f"`reconciler sandbox init --db {path}`"
            )
        db = cls(path)
        try:
            db._check_is_sandbox()
            db._migrate()
        except BaseException:
            db.close()
            raise
        return db

    def _check_is_sandbox(self) -> None:
        try:
            with self.read() as conn:
                version = conn.execute("PRAGMA user_version").fetchone()[0]
                if version > SCHEMA_VERSION:
                    raise CorruptDatabaseError(
                        f"{self.path} was written by a newer reconciler (schema {version}); "
                        "upgrade reconciler"
                    )
                # A missing table raises sqlite3.OperationalError, reported as corrupt below.
                query = "SELECT count(*) FROM organisation"
                orgs = conn.execute(query).fetchone()[0] if version >= 1 else 0
                if orgs != 1:
                    raise CorruptDatabaseError(f"{self.path} is not a reconciler sandbox database")
        except sqlite3.DatabaseError as exc:
            raise CorruptDatabaseError(
                f"{self.path} is not a usable sandbox database ({exc})"
            ) from exc

    def _migrate(self) -> None:
        with self.write() as conn:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                log.info("applying sandbox schema migration %d", number)
                for statement in _statements(script):
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {number}")

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000
        )
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        return conn

    @contextlib.contextmanager
    def _borrow(self) -> Iterator[sqlite3.Connection]:
        with self._pool_lock:
            if self._closed:
                raise CorruptDatabaseError(f"{self.path} is closed")
            conn = self._idle.pop() if self._idle else None
        if conn is None:
            conn = self._connect()
        try:
            yield conn
        finally:
            with self._pool_lock:
                if self._closed:
                    conn.close()
                else:
                    self._idle.append(conn)

    @contextlib.contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: committed when the block ends, rolled back if it raises."""
        with self._write_lock, self._borrow() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    @contextlib.contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """One read transaction: a consistent snapshot for several queries."""
        with self._borrow() as conn:
            conn.execute("BEGIN")
            try:
                yield conn
            finally:
                conn.execute("ROLLBACK")

    def close(self) -> None:
        with self._pool_lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()


def _statements(script: str) -> list[str]:
    return [part.strip() for part in script.split(";") if part.strip()]
