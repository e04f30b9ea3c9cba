"""Checkpoints: where each municipality's vendor change feed was last read, and similar marks.

A checkpoint is a named string per municipality (a feed cursor, the time of the
last nightly run). It is written in the same transaction as the work it
accounts for, so a crash never moves it past work that was not stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from digidialog.store.database import Database
from digidialog.store.schema import checkpoints


@dataclass(frozen=True)
class Checkpoint:
    """One named mark of one municipality, and when it was last written."""

    municipality: str
    name: str
    value: str | None
    updated_at: datetime


class Checkpoints:
    """Named per-municipality marks, with the time each was last written."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def get(self, municipality: str, name: str) -> str | None:
        """The value of a checkpoint, ``None`` when never written (or written as ``None``)."""
        with self._db.read() as connection:
            value: str | None = connection.execute(
                select(checkpoints.c.value)
                .where(checkpoints.c.municipality == municipality, checkpoints.c.name == name)
            ).scalar_one_or_none()
        return value

    def put(self, conn: Connection, municipality: str, name: str, value: str | None) -> None:
        """Write a checkpoint (insert or replace), recording when."""
        now = self._db.now()
        statement = self._db.insert(checkpoints).values(
            municipality=municipality, name=name, value=value, updated_at=now,
        )
        statement = statement.on_conflict_do_update(
            index_elements=["municipality", "name"],
            set_={"value": statement.excluded.value, "updated_at": statement.excluded.updated_at},
        )
        with self._db.within(conn) as connection:
            connection.execute(statement)

    def all(self) -> list[Checkpoint]:
        """Every checkpoint, by municipality and name."""
        query = select(checkpoints).order_by(checkpoints.c.municipality, checkpoints.c.name)
        with self._db.read() as connection:
            return [
                Checkpoint(municipality=row.municipality, name=row.name, value=row.value,
                           updated_at=row.updated_at)
                for row in connection.execute(query)
            ]
