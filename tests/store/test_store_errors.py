"""Database errors leave the store as StoreUnavailable (retriable) or FatalError, only."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic.util.exc import CommandError
from sqlalchemy import exc, text

from digidialog.errors import DigidialogError, FatalError, StoreUnavailable
from digidialog.store import Store
from digidialog.store.errors import translate, translate_errors
from digidialog.store.schema import checkpoints
from tests.store.conftest import T0


def _dbapi(kind: type[exc.DBAPIError], *, invalidated: bool = False) -> exc.DBAPIError:
    # The SQL and its parameters as SQLAlchemy would carry them, with an id among them.
    return kind("INSERT INTO citizens VALUES (?)", ("01017012345",),
                sqlite3.DatabaseError("driver says 01017012345 failed"),
                connection_invalidated=invalidated)


MAPPING: list[tuple[BaseException, type[DigidialogError]]] = [
    (_dbapi(exc.OperationalError), StoreUnavailable),
    (_dbapi(exc.InterfaceError), StoreUnavailable),
    (_dbapi(exc.DBAPIError, invalidated=True), StoreUnavailable),
    (_dbapi(exc.IntegrityError, invalidated=True), StoreUnavailable),
    (exc.DisconnectionError("server closed the connection"), StoreUnavailable),
    (exc.TimeoutError("QueuePool limit reached"), StoreUnavailable),
    (sqlite3.OperationalError("database is locked"), StoreUnavailable),
    (_dbapi(exc.DBAPIError), FatalError),
    (_dbapi(exc.DatabaseError), FatalError),
    (_dbapi(exc.IntegrityError), FatalError),
    (_dbapi(exc.ProgrammingError), FatalError),
    (_dbapi(exc.DataError), FatalError),
    (_dbapi(exc.InternalError), FatalError),
    (_dbapi(exc.NotSupportedError), FatalError),
    (exc.ArgumentError("Could not parse SQLAlchemy URL"), FatalError),
    (exc.NoSuchModuleError("Can't load plugin: sqlalchemy.dialects:mysql"), FatalError),
    (exc.ResourceClosedError("This Connection is closed"), FatalError),
    (sqlite3.IntegrityError("UNIQUE constraint failed"), FatalError),
    (CommandError("Can't locate revision identified by '0099'"), FatalError),
]


def _subclasses(kind: type) -> set[type]:
    return {kind} | {sub for direct in kind.__subclasses__() for sub in _subclasses(direct)}


def test_the_mapping_covers_the_whole_dbapi_family() -> None:
    """Every class of SQLAlchemy's DBAPIError family has a case below (OperationalError,
    InterfaceError, ...), so a new one cannot slip through unexamined."""
    assert _subclasses(exc.DBAPIError) <= {type(error) for error, _ in MAPPING}


@pytest.mark.parametrize(("error", "expected"), MAPPING,
                         ids=[f"{type(e).__name__}-{x.__name__}" for e, x in MAPPING])
def test_each_error_is_translated(error: BaseException, expected: type) -> None:
    """translate_errors() raises the expected branch, chained to the original."""
    with pytest.raises(expected) as raised, translate_errors():
        raise error
    assert type(raised.value) is expected
    assert raised.value.__cause__ is error
    assert translate(error).__class__ is expected


def test_messages_carry_neither_sql_parameters_nor_ids() -> None:
    """The text names the driver's error, without the statement's values or any id."""
    message = str(translate(_dbapi(exc.OperationalError)))
    assert "DatabaseError: driver says *********** failed" in message
    assert "01017012345" not in message
    assert "INSERT" not in message


def test_other_exceptions_pass_untouched() -> None:
    """Only database errors are translated."""
    with pytest.raises(KeyError), translate_errors():
        raise KeyError("not a database problem")


def test_a_locked_sqlite_file_is_retriable(tmp_path: Path) -> None:
    """Another process holding SQLite's write lock past the busy timeout: StoreUnavailable."""
    url = f"sqlite:///{tmp_path / 'locked.db'}"
    with Store.open(url, busy_timeout=0.2) as store:
        holder = sqlite3.connect(tmp_path / "locked.db", isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(StoreUnavailable, match="locked"), store.transaction() as conn:
                store.checkpoints.put(conn, "A", "feed", "x")
            assert store.checkpoints.get("A", "feed") is None  # readers are not blocked
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        with store.transaction() as conn:  # and it works once the lock is gone
            store.checkpoints.put(conn, "A", "feed", "x")
        assert store.checkpoints.get("A", "feed") == "x"


def test_an_unreachable_server_is_retriable() -> None:
    """Nothing listens on the port: StoreUnavailable when opening, and on ping."""
    url = "postgresql+psycopg://postgres@127.0.0.1:1/test?connect_timeout=2"
    with pytest.raises(StoreUnavailable):
        Store.open(url)
    store = Store.open(url, migrate=False)
    with pytest.raises(StoreUnavailable):
        store.ping()
    store.close()


@pytest.mark.parametrize("url", ["mysql://root@localhost/db", "not a url at all"])
def test_unusable_urls_are_fatal(url: str) -> None:
    """A URL of a database the store does not support, or no URL at all: FatalError."""
    with pytest.raises(FatalError):
        Store.open(url)


def test_a_violated_constraint_is_fatal_and_rolls_back(store: Store) -> None:
    """A duplicate primary key from code that bypassed the API: FatalError, nothing kept."""
    row = {"municipality": "A", "name": "feed", "value": "x", "updated_at": T0}

    def insert_twice() -> None:
        with store.transaction() as conn:
            conn.execute(checkpoints.insert().values(row))
            conn.execute(checkpoints.insert().values(row))

    with pytest.raises(FatalError, match="database error"):
        insert_twice()
    assert store.checkpoints.all() == []
    store.ping()


@pytest.mark.parametrize("backend", [pytest.param("postgresql", marks=pytest.mark.services)])
def test_a_connection_killed_by_the_server_is_retriable_and_recovers(store: Store) -> None:
    """The server drops our connection mid-transaction: StoreUnavailable; the next call works."""
    def killed_midway() -> None:
        with store.transaction() as conn:
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
            with store.transaction() as other:  # a second pooled connection
                other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            store.checkpoints.put(conn, "A", "feed", "lost")

    with pytest.raises(StoreUnavailable):
        killed_midway()
    store.ping()
    assert store.checkpoints.get("A", "feed") is None
