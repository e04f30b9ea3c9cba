"""Dead letters: work parked with a reason, listed, shown and put back in line.

A dead letter is a row beside the parked item (which keeps its payload and
state ``dead`` in the inbox or outbox). Retrying it puts the item back to
``pending`` with its attempts reset, and marks the dead letter retried, in one
transaction; an item that fails again is parked again with a new dead letter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, func, select, update

from digidialog.store.database import Database
from digidialog.store.schema import WORK_TABLES, dead_letters


@dataclass(frozen=True)
class DeadLetter:
    """A parked item: where it is (``source`` ``inbox``/``outbox`` and ``item_id``) and why."""

    id: int
    source: str
    item_id: int
    municipality: str
    kind: str
    reason: str
    parked_at: datetime
    retried_at: datetime | None


def _dead_letter(row: Row[Any]) -> DeadLetter:
    return DeadLetter(
        id=row.id, source=row.source, item_id=row.item_id, municipality=row.municipality,
        kind=row.kind, reason=row.reason, parked_at=row.parked_at, retried_at=row.retried_at,
    )


def record_dead_letter(conn: Connection, *, source: str, item_id: int, municipality: str,
                       kind: str, reason: str, at: datetime) -> int:
    """Insert the dead letter of an item being parked, in the parking transaction."""
    new_id: int = conn.execute(
        dead_letters.insert()
        .values(source=source, item_id=item_id, municipality=municipality, kind=kind,
                reason=reason, parked_at=at)
        .returning(dead_letters.c.id)
    ).scalar_one()
    return new_id


class DeadLetters:
    """The dead letters of both work queues."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def list(self, municipality: str | None = None, *,
             include_retried: bool = False) -> list[DeadLetter]:
        """Dead letters not yet retried (or all with ``include_retried``), oldest first."""
        query = select(dead_letters).order_by(dead_letters.c.id)
        if municipality is not None:
            query = query.where(dead_letters.c.municipality == municipality)
        if not include_retried:
            query = query.where(dead_letters.c.retried_at.is_(None))
        with self._db.read() as connection:
            return [_dead_letter(row) for row in connection.execute(query)]

    def get(self, dead_letter_id: int) -> DeadLetter | None:
        """One dead letter, retried or not, or ``None``."""
        with self._db.read() as connection:
            row = connection.execute(
                select(dead_letters).where(dead_letters.c.id == dead_letter_id)
            ).first()
        return None if row is None else _dead_letter(row)

    def _retry(self, connection: Connection, letter: DeadLetter, now: datetime) -> bool:
        marked = connection.execute(
            update(dead_letters)
            .where(dead_letters.c.id == letter.id, dead_letters.c.retried_at.is_(None))
            .values(retried_at=now)
        ).rowcount
        if marked != 1:
            return False
        table = WORK_TABLES[letter.source]
        connection.execute(
            update(table).where(table.c.id == letter.item_id, table.c.state == "dead")
            .values(state="pending", attempts=0, not_before=now, leased_by=None,
                    lease_until=None, updated_at=now)
        )
        return True

    def retry(self, dead_letter_id: int) -> bool:
        """Put the parked item back in line; ``False`` when unknown or already retried."""
        now = self._db.now()
        with self._db.write() as connection:
            row = connection.execute(
                select(dead_letters).where(dead_letters.c.id == dead_letter_id)
            ).first()
            return row is not None and self._retry(connection, _dead_letter(row), now)

    def retry_all(self, municipality: str | None = None) -> int:
        """Retry every dead letter not yet retried (of one municipality); how many."""
        now = self._db.now()
        query = select(dead_letters).where(dead_letters.c.retried_at.is_(None))
        if municipality is not None:
            query = query.where(dead_letters.c.municipality == municipality)
        with self._db.write() as connection:
            letters = [_dead_letter(row) for row in connection.execute(query.with_for_update())]
            return sum(self._retry(connection, letter, now) for letter in letters)

    def count(self, municipality: str | None = None) -> int:
        """How many dead letters wait for a retry."""
        query = select(func.count()).select_from(dead_letters).where(
            dead_letters.c.retried_at.is_(None)
        )
        if municipality is not None:
            query = query.where(dead_letters.c.municipality == municipality)
        with self._db.read() as connection:
            count: int = connection.execute(query).scalar_one()
        return count
