"""Cancellations the engine registered in an EPJ, kept until the EPJ's decision is answered.

The decision arrives later, through the EPJ's change feed or push, naming
only our request id; the answer to the portal (``08`` or ``09``) goes in the
thread of the request and names the affected visits. So the request, as the
portal sent it, is kept here: who asked, for whom, in which process and to
which service.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update

from digidialog.store.database import Database
from digidialog.store.schema import cancellations


@dataclass(frozen=True)
class StoredCancellation:
    """A registered cancellation and, once made, the decision on it."""

    request_id: str
    municipality: str
    citizen_id: str
    request: dict[str, Any]
    received_at: datetime
    outcome: str | None
    affected: tuple[str, ...]
    decided_at: datetime | None


class Cancellations:
    """Cancellation requests by their id (the ART's MsgId)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def add(self, conn: Connection, *, request_id: str, municipality: str, citizen_id: str,
            request: dict[str, Any], at: datetime) -> bool:
        """Keep a request; ``False`` when it was kept before (a repeat changes nothing)."""
        statement = self._db.insert(cancellations).values(
            request_id=request_id, municipality=municipality, citizen_id=citizen_id,
            request=request, received_at=at,
        ).on_conflict_do_nothing(index_elements=["request_id"]).returning(
            cancellations.c.request_id)
        return conn.execute(statement).first() is not None

    def get(self, request_id: str, conn: Connection | None = None) -> StoredCancellation | None:
        """The request ``request_id`` and its decision, or ``None``."""
        with self._db.within(conn) as connection:
            row = connection.execute(
                select(cancellations).where(cancellations.c.request_id == request_id)).first()
        if row is None:
            return None
        return StoredCancellation(
            request_id=row.request_id, municipality=row.municipality,
            citizen_id=row.citizen_id, request=row.request, received_at=row.received_at,
            outcome=row.outcome, affected=tuple(row.affected or ()),
            decided_at=row.decided_at)

    def decide(self, conn: Connection, request_id: str, *, outcome: str,
               affected: tuple[str, ...], at: datetime) -> bool:
        """Record the decision; ``False`` when one was recorded before (it stands)."""
        result = conn.execute(
            update(cancellations)
            .where(cancellations.c.request_id == request_id, cancellations.c.decided_at.is_(None))
            .values(outcome=outcome, affected=list(affected), decided_at=at))
        return result.rowcount == 1

    def undecided(self, municipality: str) -> int:
        """How many registered cancellations still wait for the EPJ's decision."""
        with self._db.read() as connection:
            rows = connection.execute(select(cancellations.c.request_id).where(
                cancellations.c.municipality == municipality,
                cancellations.c.decided_at.is_(None))).all()
        return len(rows)
