"""What the engine knows of citizens (digitally active or not) and which vendor events it saw.

A citizen's digital status comes from several sources (the portal's SDAB
notices, an ``E35`` AppRec) that can arrive out of order, so the newest fact
wins: a change older than the one stored is ignored. A citizen the engine has
heard nothing about is not inactive.

Seen events are the idempotency keys of vendor change-feed events: the first
:meth:`SeenEvents.first_time` for an id is ``True``, every later one ``False``,
in whichever daemon asks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from digidialog.store.database import Database
from digidialog.store.schema import citizens, seen_events


@dataclass(frozen=True)
class CitizenStatus:
    """The latest known digital status of one citizen."""

    municipality: str
    citizen_id: str
    active: bool
    changed_at: datetime
    source: str


class Citizens:
    """Digital status per municipality and citizen (SDAB, E35)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def set_active(self, conn: Connection, municipality: str, citizen_id: str, active: bool,
                   at: datetime, source: str) -> None:
        """Record that the citizen became (in)active at ``at``, unless a newer fact is stored."""
        statement = self._db.insert(citizens).values(
            municipality=municipality, citizen_id=citizen_id, active=active, changed_at=at,
            source=source,
        )
        statement = statement.on_conflict_do_update(
            index_elements=["municipality", "citizen_id"],
            set_={"active": statement.excluded.active,
                  "changed_at": statement.excluded.changed_at,
                  "source": statement.excluded.source},
            where=citizens.c.changed_at <= statement.excluded.changed_at,
        )
        with self._db.within(conn) as connection:
            connection.execute(statement)

    def status(self, municipality: str, citizen_id: str) -> CitizenStatus | None:
        """The stored status, or ``None`` when nothing is known."""
        with self._db.read() as connection:
            row = connection.execute(
                select(citizens).where(citizens.c.municipality == municipality,
                                       citizens.c.citizen_id == citizen_id)
            ).first()
        if row is None:
            return None
        return CitizenStatus(municipality=row.municipality, citizen_id=row.citizen_id,
                             active=row.active, changed_at=row.changed_at, source=row.source)

    def is_inactive(self, municipality: str, citizen_id: str) -> bool:
        """Whether the citizen is known to be inactive (unknown = not inactive)."""
        status = self.status(municipality, citizen_id)
        return status is not None and not status.active


class SeenEvents:
    """Idempotency keys of vendor events."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def first_time(self, conn: Connection, municipality: str, event_id: str) -> bool:
        """``True`` the first time an event id is offered, then ``False`` forever."""
        statement = self._db.insert(seen_events).values(
            municipality=municipality, event_id=event_id, seen_at=self._db.now(),
        ).on_conflict_do_nothing(index_elements=["municipality", "event_id"]).returning(
            seen_events.c.event_id
        )
        with self._db.within(conn) as connection:
            return connection.execute(statement).first() is not None
