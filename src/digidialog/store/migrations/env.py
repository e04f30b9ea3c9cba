"""Alembic's entry point: run the store's migrations on the connection the runner passes.

Never run from a command line with an ``alembic.ini``: :mod:`digidialog.store.migrate`
calls Alembic with a connection already inside a transaction (and, on
PostgreSQL, holding the migration lock), so every revision of one upgrade
commits together or not at all.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from digidialog.store.schema import VERSION_TABLE, metadata

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError("run the store's migrations through digidialog.store.migrate")

context.configure(connection=connection, target_metadata=metadata, version_table=VERSION_TABLE)
with context.begin_transaction():
    context.run_migrations()
