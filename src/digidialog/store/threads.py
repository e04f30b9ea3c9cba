"""Conversation threads and the links between portal and vendor message ids.

A thread is named by the MsgId of its first message (its root). It tracks
whether the service owes the citizen an answer: a citizen's message sets the
answer deadline (the earliest unanswered one counts), a final answer from the
service clears it, an interim answer is noted but leaves it standing, and a
closed thread owes nothing. :meth:`Threads.overdue` lists threads whose deadline
has passed.

A link ties a portal MsgId to the vendor's id of the same message, so that an
answer found in the EPJ can be sent in the right portal thread and a portal
message can be delivered in the right EPJ thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, select, update

from digidialog.store.database import Database
from digidialog.store.schema import links, threads

IN = "in"
OUT = "out"


@dataclass(frozen=True)
class Thread:
    """A conversation between a citizen (or a proxy) and a service."""

    root: str
    municipality: str
    service_code: str
    service_her_id: str
    citizen_id: str
    vendor_thread_id: str | None
    opened_at: datetime
    last_citizen_msg_id: str | None
    last_citizen_message_at: datetime | None
    answer_deadline: datetime | None
    """When the service must have answered; ``None`` when nothing is owed."""
    last_answer_at: datetime | None
    interim_answer_at: datetime | None
    """An interim answer given while the deadline still stands."""
    closed_at: datetime | None


@dataclass(frozen=True)
class Link:
    """One message known on both sides: portal ``msg_id`` and the vendor's id."""

    municipality: str
    msg_id: str
    vendor_id: str | None
    thread_root: str
    direction: str
    created_at: datetime


def _thread(row: Row[Any]) -> Thread:
    return Thread(**{column.name: getattr(row, column.name) for column in threads.columns})


def _link(row: Row[Any]) -> Link:
    return Link(municipality=row.municipality, msg_id=row.msg_id, vendor_id=row.vendor_id,
                thread_root=row.thread_root, direction=row.direction, created_at=row.created_at)


class Threads:
    """Threads, their answer deadlines and their vendor-side ids."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def open(self, conn: Connection, *, root: str, municipality: str, service_code: str,
             service_her_id: str, citizen_id: str, opened_at: datetime,
             vendor_thread_id: str | None = None) -> None:
        """Record a thread; opening a known root again changes nothing."""
        statement = self._db.insert(threads).values(
            root=root, municipality=municipality, service_code=service_code,
            service_her_id=service_her_id, citizen_id=citizen_id, opened_at=opened_at,
            vendor_thread_id=vendor_thread_id,
        ).on_conflict_do_nothing(index_elements=["root"])
        with self._db.within(conn) as connection:
            connection.execute(statement)

    def get(self, root: str) -> Thread | None:
        """The thread with this root MsgId, or ``None``."""
        with self._db.read() as connection:
            row = connection.execute(select(threads).where(threads.c.root == root)).first()
        return None if row is None else _thread(row)

    def by_vendor_thread(self, municipality: str, vendor_thread_id: str) -> Thread | None:
        """The thread the vendor knows by ``vendor_thread_id`` (the first opened, if several)."""
        query = (
            select(threads)
            .where(threads.c.municipality == municipality,
                   threads.c.vendor_thread_id == vendor_thread_id)
            .order_by(threads.c.opened_at).limit(1)
        )
        with self._db.read() as connection:
            row = connection.execute(query).first()
        return None if row is None else _thread(row)

    def set_vendor_thread(self, conn: Connection, root: str, vendor_thread_id: str) -> None:
        """Remember the vendor's id of the thread."""
        with self._db.within(conn) as connection:
            connection.execute(update(threads).where(threads.c.root == root)
                               .values(vendor_thread_id=vendor_thread_id))

    def _locked(self, connection: Connection, root: str) -> Row[Any] | None:
        # PostgreSQL: lock the row so that two daemons' read-then-write cannot interleave.
        return connection.execute(
            select(threads).where(threads.c.root == root).with_for_update()
        ).first()

    def note_citizen_message(self, conn: Connection, root: str, msg_id: str, at: datetime,
                             deadline: datetime) -> None:
        """A citizen wrote at ``at``: an answer is owed by ``deadline`` (the earliest stands).

        A message older than the last final answer is already answered and sets no
        deadline; noting one message twice changes nothing; an unknown root is ignored
        (open the thread first, in the same transaction).
        """
        with self._db.within(conn) as connection:
            row = self._locked(connection, root)
            if row is None:
                return
            values: dict[str, Any] = {}
            if row.last_citizen_message_at is None or at >= row.last_citizen_message_at:
                values.update(last_citizen_msg_id=msg_id, last_citizen_message_at=at)
            answered = row.last_answer_at is not None and at <= row.last_answer_at
            if not answered and row.closed_at is None and (
                row.answer_deadline is None or deadline < row.answer_deadline
            ):
                values["answer_deadline"] = deadline
            if values:
                connection.execute(update(threads).where(threads.c.root == root).values(values))

    def note_answer(self, conn: Connection, root: str, at: datetime, *, interim: bool) -> None:
        """The service answered: a final answer clears the deadline, an interim one is noted.

        An unknown root is ignored.
        """
        with self._db.within(conn) as connection:
            row = self._locked(connection, root)
            if row is None:
                return
            if interim:
                values: dict[str, Any] = {"interim_answer_at": at}
            else:
                later = row.last_answer_at is None or at >= row.last_answer_at
                values = {"answer_deadline": None, "interim_answer_at": None,
                          "last_answer_at": at if later else row.last_answer_at}
            connection.execute(update(threads).where(threads.c.root == root).values(values))

    def close(self, conn: Connection, root: str, at: datetime) -> None:
        """The thread was closed at ``at``; it owes no answer from now on."""
        with self._db.within(conn) as connection:
            connection.execute(
                update(threads).where(threads.c.root == root, threads.c.closed_at.is_(None))
                .values(closed_at=at, answer_deadline=None)
            )

    def overdue(self, now: datetime, municipality: str | None = None) -> list[Thread]:
        """Open threads owing an answer past their deadline, the most overdue first."""
        query = (
            select(threads)
            .where(threads.c.answer_deadline < now, threads.c.closed_at.is_(None))
            .order_by(threads.c.answer_deadline, threads.c.root)
        )
        if municipality is not None:
            query = query.where(threads.c.municipality == municipality)
        with self._db.read() as connection:
            return [_thread(row) for row in connection.execute(query)]


class Links:
    """Portal MsgId <-> vendor message id, for threading both ways."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def add(self, conn: Connection, *, municipality: str, msg_id: str, vendor_id: str | None,
            thread_root: str, direction: str) -> None:
        """Link ``msg_id`` (``direction`` ``"in"`` or ``"out"``); a known MsgId keeps its link.

        A link first recorded without a vendor id gets it when it is added again with one.
        """
        if direction not in (IN, OUT):
            raise ValueError(f"direction must be {IN!r} or {OUT!r}, not {direction!r}")
        with self._db.within(conn) as connection:
            inserted = connection.execute(
                self._db.insert(links).values(
                    municipality=municipality, msg_id=msg_id, vendor_id=vendor_id,
                    thread_root=thread_root, direction=direction, created_at=self._db.now(),
                ).on_conflict_do_nothing(index_elements=["msg_id"]).returning(links.c.id)
            ).first()
            if inserted is None and vendor_id is not None:
                connection.execute(
                    update(links).where(links.c.msg_id == msg_id, links.c.vendor_id.is_(None))
                    .values(vendor_id=vendor_id)
                )

    def by_msg_id(self, msg_id: str) -> Link | None:
        """The link of a portal MsgId, or ``None``."""
        with self._db.read() as connection:
            row = connection.execute(select(links).where(links.c.msg_id == msg_id)).first()
        return None if row is None else _link(row)

    def by_vendor_id(self, municipality: str, vendor_id: str) -> Link | None:
        """The link of a vendor message id (the first recorded, if several), or ``None``."""
        query = (
            select(links)
            .where(links.c.municipality == municipality, links.c.vendor_id == vendor_id)
            .order_by(links.c.id).limit(1)
        )
        with self._db.read() as connection:
            row = connection.execute(query).first()
        return None if row is None else _link(row)

    def latest_in_thread(self, thread_root: str, direction: str | None = None) -> Link | None:
        """The most recent link in a thread (of one direction), or ``None``."""
        query = select(links).where(links.c.thread_root == thread_root)
        if direction is not None:
            query = query.where(links.c.direction == direction)
        with self._db.read() as connection:
            row = connection.execute(query.order_by(links.c.id.desc()).limit(1)).first()
        return None if row is None else _link(row)
