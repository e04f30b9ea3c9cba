"""Work queues (the inbox and the outbox): idempotent adds, leased claims, retries, parking.

An item is ``pending`` until it is ``done`` or ``dead`` (parked as a dead
letter). A worker claims pending items: each is leased to it (``leased_by``,
``lease_until``) for a while and stays ``pending``; the lease ends when the
worker completes, retries or parks the item, releases its leases, or simply
dies and lets the lease expire, after which anyone may claim the item again.
Every change of an item checks that the caller still holds its lease, so a
worker that lost its lease to another cannot undo that one's work.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, func, or_, select, update
from sqlalchemy.sql import ColumnElement

from digidialog.store.database import Database
from digidialog.store.deadletters import record_dead_letter
from digidialog.store.schema import WORK_TABLES

PENDING = "pending"
DONE = "done"
DEAD = "dead"
LEASED = "leased"
"""Not a state of its own: :meth:`WorkQueue.depth` counts pending items under a live lease."""

MAX_ERROR_CHARS = 2000


@dataclass(frozen=True)
class WorkItem:
    """One unit of work as it was when read."""

    id: int
    municipality: str
    kind: str
    key: str
    payload: bytes
    meta: dict[str, Any]
    attempts: int
    state: str
    created_at: datetime
    last_error: str | None
    not_before: datetime | None = None
    leased_by: str | None = None
    lease_until: datetime | None = None


def _item(row: Row[Any]) -> WorkItem:
    return WorkItem(
        id=row.id, municipality=row.municipality, kind=row.kind, key=row.key,
        payload=bytes(row.payload), meta=dict(row.meta), attempts=row.attempts,
        state=row.state, created_at=row.created_at, last_error=row.last_error,
        not_before=row.not_before, leased_by=row.leased_by, lease_until=row.lease_until,
    )


def _clip(text: str) -> str:
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 1] + "…"


class WorkQueue:
    """One work table (``inbox`` or ``outbox``)."""

    def __init__(self, db: Database, name: str) -> None:
        self._db = db
        self.name = name
        self.table = WORK_TABLES[name]

    def add(self, conn: Connection, *, municipality: str, kind: str, key: str, payload: bytes,
            meta: dict[str, Any] | None = None, not_before: datetime | None = None) -> int | None:
        """Add an item, due at ``not_before`` (default now); ``None`` when ``key`` is known."""
        now = self._db.now()
        statement = (
            self._db.insert(self.table)
            .values(municipality=municipality, kind=kind, key=key, payload=payload,
                    meta=meta or {}, state=PENDING, attempts=0, not_before=not_before or now,
                    created_at=now, updated_at=now)
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(self.table.c.id)
        )
        with self._db.within(conn) as connection:
            new_id: int | None = connection.execute(statement).scalar_one_or_none()
        return new_id

    def _claimable(self, now: datetime, municipality: str | None,
                   kinds: Collection[str] | None) -> list[ColumnElement[bool]]:
        t = self.table
        conditions = [
            t.c.state == PENDING, t.c.not_before <= now,
            or_(t.c.lease_until.is_(None), t.c.lease_until <= now),
        ]
        if municipality is not None:
            conditions.append(t.c.municipality == municipality)
        if kinds is not None:
            conditions.append(t.c.kind.in_(list(kinds)))
        return conditions

    def claim(self, owner: str, *, municipality: str | None = None,
              kinds: Collection[str] | None = None, limit: int = 10,
              lease_seconds: float = 60) -> list[WorkItem]:
        """Lease up to ``limit`` due items to ``owner``, oldest first, in one transaction."""
        if kinds is not None and not kinds:
            return []
        t = self.table
        now = self._db.now()
        conditions = self._claimable(now, municipality, kinds)
        if self._db.dialect == "sqlite":
            # Look before taking SQLite's one write lock: idle pollers must not queue for it.
            with self._db.read() as connection:
                if connection.execute(select(t.c.id).where(*conditions).limit(1)).first() is None:
                    return []
        chosen = (
            select(t.c.id).where(*conditions).order_by(t.c.id).limit(limit)
            .with_for_update(skip_locked=True)  # PostgreSQL; SQLite's BEGIN IMMEDIATE suffices
        )
        statement = (
            update(t).where(t.c.id.in_(chosen))
            .values(leased_by=owner, lease_until=now + timedelta(seconds=lease_seconds),
                    updated_at=now)
            .returning(*t.c)
        )
        with self._db.write() as connection:
            rows = connection.execute(statement).all()
        return sorted((_item(row) for row in rows), key=lambda item: item.id)

    def _held(self, item_id: int, owner: str) -> list[ColumnElement[bool]]:
        t = self.table
        return [t.c.id == item_id, t.c.state == PENDING, t.c.leased_by == owner]

    def complete(self, conn: Connection, item_id: int, owner: str) -> bool:
        """Mark the item done; ``False`` (and nothing changed) when ``owner`` lost its lease."""
        statement = (
            update(self.table).where(*self._held(item_id, owner))
            .values(state=DONE, leased_by=None, lease_until=None, updated_at=self._db.now())
        )
        with self._db.within(conn) as connection:
            return connection.execute(statement).rowcount == 1

    def hold(self, item: WorkItem, owner: str, *, lease_seconds: float = 60) -> bool:
        """Whether ``owner`` still holds ``item`` (as claimed) for a while yet.

        A lease with more than half of ``lease_seconds`` left is ``owner``'s (nobody
        takes an unexpired lease); otherwise it is renewed to ``lease_seconds`` from
        now, which fails (``False``, nothing changed) when another worker took the
        item meanwhile or it is no longer pending: a lease that ran out while the
        item waited its turn in a batch may have gone to another daemon, which then
        does it instead.
        """
        now = self._db.now()
        if item.lease_until is not None and item.leased_by == owner and \
                item.lease_until - now > timedelta(seconds=lease_seconds / 2):
            return True
        statement = (
            update(self.table).where(*self._held(item.id, owner))
            .values(lease_until=now + timedelta(seconds=lease_seconds), updated_at=now)
        )
        with self._db.write() as connection:
            return connection.execute(statement).rowcount == 1

    def retry_later(self, item_id: int, owner: str, *, error: str, delay: float,
                    conn: Connection | None = None) -> bool:
        """Count a failed attempt and put the item back, due ``delay`` seconds from now.

        ``False`` (nothing changed) when ``owner`` no longer holds the item.
        """
        t = self.table
        now = self._db.now()
        statement = (
            update(t).where(*self._held(item_id, owner))
            .values(attempts=t.c.attempts + 1, not_before=now + timedelta(seconds=delay),
                    leased_by=None, lease_until=None, last_error=_clip(error), updated_at=now)
        )
        with self._db.within(conn) as connection:
            return connection.execute(statement).rowcount == 1

    def park(self, item_id: int, owner: str | None, *, reason: str,
             conn: Connection | None = None) -> bool:
        """Make the item a dead letter with ``reason``; one transaction for both rows.

        With an ``owner``, only while it holds the lease; with ``None`` (an operator, or
        a negative receipt for work already done) from any state but dead. ``False``
        when nothing was parked.
        """
        t = self.table
        now = self._db.now()
        held = (self._held(item_id, owner) if owner is not None
                else [t.c.id == item_id, t.c.state != DEAD])
        statement = (
            update(t).where(*held)
            .values(state=DEAD, leased_by=None, lease_until=None, last_error=_clip(reason),
                    updated_at=now)
            .returning(t.c.municipality, t.c.kind)
        )
        with self._db.within(conn) as connection:
            row = connection.execute(statement).first()
            if row is None:
                return False
            record_dead_letter(connection, source=self.name, item_id=item_id,
                               municipality=row.municipality, kind=row.kind,
                               reason=_clip(reason), at=now)
        return True

    def get(self, item_id: int) -> WorkItem | None:
        """The item with this id, or ``None``."""
        with self._db.read() as connection:
            row = connection.execute(select(self.table).where(self.table.c.id == item_id)).first()
        return None if row is None else _item(row)

    def get_by_key(self, key: str) -> WorkItem | None:
        """The item added under ``key``, or ``None``."""
        with self._db.read() as connection:
            row = connection.execute(select(self.table).where(self.table.c.key == key)).first()
        return None if row is None else _item(row)

    def depth(self, municipality: str | None = None) -> dict[str, int]:
        """Items per state: ``pending`` (waiting), ``leased`` (in work), ``done``, ``dead``."""
        t = self.table
        now = self._db.now()
        leased = (t.c.state == PENDING) & (t.c.lease_until > now)
        counts = dict.fromkeys((PENDING, LEASED, DONE, DEAD), 0)
        where = [] if municipality is None else [t.c.municipality == municipality]
        with self._db.read() as connection:
            for state, count in connection.execute(
                select(t.c.state, func.count()).where(*where).group_by(t.c.state)
            ):
                counts[state] = count
            counts[LEASED] = connection.execute(
                select(func.count()).where(leased, *where)
            ).scalar_one()
        counts[PENDING] -= counts[LEASED]
        return counts

    def hasten(self, municipality: str, kind_prefix: str) -> int:
        """Make the municipality's items of kinds starting with ``kind_prefix`` that wait for
        a retry due now; how many. For when what they failed on answers again: their
        backoff was waiting out an outage that is over."""
        t = self.table
        now = self._db.now()
        statement = (
            update(t).where(t.c.municipality == municipality, t.c.state == PENDING,
                            t.c.attempts > 0, t.c.not_before > now,
                            t.c.kind.startswith(kind_prefix, autoescape=True))
            .values(not_before=now, updated_at=now)
        )
        with self._db.write() as connection:
            return connection.execute(statement).rowcount

    def release_leases(self, owner: str) -> int:
        """Hand back every pending item ``owner`` holds (graceful shutdown); how many."""
        t = self.table
        statement = (
            update(t).where(t.c.leased_by == owner, t.c.state == PENDING)
            .values(leased_by=None, lease_until=None, updated_at=self._db.now())
        )
        with self._db.write() as connection:
            return connection.execute(statement).rowcount
