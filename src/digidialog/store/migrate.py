"""Running the store's Alembic migrations from code, with no ``alembic.ini``.

:func:`upgrade` runs every pending revision in ONE transaction. Daemons that
start together against one database take turns: on PostgreSQL the transaction
first takes a transaction-scoped advisory lock (released at commit), on SQLite
``BEGIN IMMEDIATE`` holds the write lock; the second daemon then finds the
schema current and does nothing. A failed upgrade rolls back whole (both
databases have transactional DDL), so a database is always at one revision.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

from digidialog.log import get_logger
from digidialog.store.database import read_only
from digidialog.store.errors import translate_errors
from digidialog.store.schema import VERSION_TABLE

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
MIGRATION_LOCK = 0x6469676964_01  # any constant 64-bit key, the same in every daemon

_log = get_logger("store.migrate")


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision this version of digidialog ships."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships revisions
        raise RuntimeError("no migrations found")
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or ``None`` for one never migrated."""
    with translate_errors(), engine.connect() as connection:
        context = MigrationContext.configure(
            read_only(connection), opts={"version_table": VERSION_TABLE}
        )
        return context.get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to ``revision`` (default: the newest), waiting for other migrators."""
    with translate_errors(), engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                               {"key": MIGRATION_LOCK})
        before = MigrationContext.configure(
            connection, opts={"version_table": VERSION_TABLE}
        ).get_current_revision()
        command.upgrade(_config(connection), revision)
        after = MigrationContext.configure(
            connection, opts={"version_table": VERSION_TABLE}
        ).get_current_revision()
    if before != after:
        _log.info("store_migrated", from_revision=before, to_revision=after)
