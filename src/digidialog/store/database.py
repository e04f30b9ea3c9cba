"""Connections and transactions: SQLite and PostgreSQL set up for several workers at once.

SQLite (the default) runs in WAL mode, so readers never wait for the writer,
with a busy timeout, so that a writer waits for another instead of failing.
Every write transaction starts with ``BEGIN IMMEDIATE``: it takes the write
lock before it reads, so two claims (in two threads or two processes) can never
both read an item as free. Reads start a plain deferred ``BEGIN``. SQLite's
driver is told to keep out of transaction control; SQLAlchemy emits the BEGIN.

PostgreSQL runs at READ COMMITTED; claims lock their rows with
``FOR UPDATE SKIP LOCKED``, so competing daemons take different rows without
waiting for each other.

:class:`Database` hands the store's parts their transactions, the clock and the
dialect-specific ``INSERT ... ON CONFLICT``.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, Table, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool

from digidialog.errors import FatalError
from digidialog.store.errors import translate_errors

Clock = Callable[[], datetime]
_READ_ONLY = "digidialog_read_only"


def utc_now() -> datetime:
    """The current instant, timezone-aware UTC."""
    return datetime.now(UTC)


def create_store_engine(url: str, *, busy_timeout: float = 30.0) -> Engine:
    """An engine for ``url`` (``sqlite:///...`` or ``postgresql+psycopg://...``), set up."""
    with translate_errors():
        parsed = make_url(url)
        backend = parsed.get_backend_name()
        if backend == "sqlite":
            return _sqlite_engine(url, in_memory=parsed.database in (None, "", ":memory:"),
                                  busy_timeout=busy_timeout)
        if backend == "postgresql":
            return create_engine(url, pool_pre_ping=True, hide_parameters=True)
    raise FatalError(f"unsupported database {backend!r}: use sqlite or postgresql+psycopg")


def _enable_wal(cursor: Any, busy_timeout: float) -> None:
    # Switching a new file to WAL needs an exclusive lock, and SQLite reports a competing
    # switch (daemons starting together) as "locked" at once, without its busy handler.
    deadline = time.monotonic() + busy_timeout
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() >= deadline:
                raise
            time.sleep(0.01)


def _sqlite_engine(url: str, *, in_memory: bool, busy_timeout: float) -> Engine:
    # A file database gets a pool shared by threads; an in-memory one exists only on its
    # single connection, so it serves one thread, one transaction at a time (tests, tools).
    engine = create_engine(
        url,
        connect_args={"timeout": busy_timeout, "check_same_thread": False},
        poolclass=StaticPool if in_memory else None,
        hide_parameters=True,
    )

    @event.listens_for(engine, "connect")
    def _prepare(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy's begin hook emits BEGIN
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            if not in_memory:
                _enable_wal(cursor, busy_timeout)
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        read_only = connection.get_execution_options().get(_READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


def read_only(connection: Connection) -> Connection:
    """Mark a connection so that its transactions only read (SQLite: deferred ``BEGIN``)."""
    return connection.execution_options(**{_READ_ONLY: True})


class Database:
    """The engine with the store's conventions: transactions, clock, upserts."""

    def __init__(self, engine: Engine, clock: Clock = utc_now) -> None:
        self.engine = engine
        self.clock = clock
        self.dialect = engine.dialect.name

    def now(self) -> datetime:
        """The store's idea of the current instant (aware UTC)."""
        return self.clock()

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One atomic read-write unit (SQLite: ``BEGIN IMMEDIATE``); commits unless it raises."""
        with translate_errors(), self.engine.begin() as connection:
            yield connection

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only unit (SQLite: a deferred ``BEGIN``, so it never waits for a writer)."""
        with translate_errors(), self.engine.connect() as connection:
            read_only(connection)
            with connection.begin():
                yield connection

    @contextmanager
    def within(self, connection: Connection | None) -> Iterator[Connection]:
        """The caller's transaction when given one, else a write transaction of its own."""
        if connection is None:
            with self.write() as own:
                yield own
        else:
            with translate_errors():
                yield connection

    def insert(self, table: Table) -> postgresql.Insert | sqlite.Insert:
        """An INSERT that understands ``ON CONFLICT`` (both dialects spell it alike)."""
        return postgresql.insert(table) if self.dialect == "postgresql" else sqlite.insert(table)
