"""Receipts awaited: every message sent with Ack J is tracked until its AppRec arrives.

:meth:`AwaitedReceipts.resolve` settles a receipt once: a second AppRec for the
same message (the broker delivers at least once) finds nothing awaited and
returns ``None``, so its effect is applied only once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, select, update

from digidialog.store.database import Database
from digidialog.store.schema import awaited_receipts


@dataclass(frozen=True)
class AwaitedReceipt:
    """A sent message and, once it came, what its AppRec said."""

    msg_id: str
    municipality: str
    outbox_item: int | None
    citizen_id: str | None
    process: str
    sent_at: datetime
    status: str | None
    error_codes: tuple[str, ...]
    resolved_at: datetime | None


def _receipt(row: Row[Any]) -> AwaitedReceipt:
    return AwaitedReceipt(
        msg_id=row.msg_id, municipality=row.municipality, outbox_item=row.outbox_item,
        citizen_id=row.citizen_id, process=row.process, sent_at=row.sent_at,
        status=row.status, error_codes=tuple(row.error_codes or ()),
        resolved_at=row.resolved_at,
    )


class AwaitedReceipts:
    """Application receipts we wait for, by the MsgId of the message sent."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def expect(self, conn: Connection, *, msg_id: str, municipality: str,
               outbox_item: int | None, citizen_id: str | None, process: str,
               sent_at: datetime) -> None:
        """Await the AppRec of ``msg_id``; sending the same message again changes nothing."""
        statement = self._db.insert(awaited_receipts).values(
            msg_id=msg_id, municipality=municipality, outbox_item=outbox_item,
            citizen_id=citizen_id, process=process, sent_at=sent_at,
        ).on_conflict_do_nothing(index_elements=["msg_id"])
        with self._db.within(conn) as connection:
            connection.execute(statement)

    def resolve(self, conn: Connection, msg_id: str, *, status: str,
                error_codes: Sequence[str], at: datetime) -> AwaitedReceipt | None:
        """Settle the receipt of ``msg_id``; ``None`` when it was not (or no longer) awaited."""
        statement = (
            update(awaited_receipts)
            .where(awaited_receipts.c.msg_id == msg_id, awaited_receipts.c.resolved_at.is_(None))
            .values(status=status, error_codes=list(error_codes), resolved_at=at)
            .returning(*awaited_receipts.c)
        )
        with self._db.within(conn) as connection:
            row = connection.execute(statement).first()
        return None if row is None else _receipt(row)

    def get(self, msg_id: str) -> AwaitedReceipt | None:
        """The receipt record of ``msg_id``, awaited or resolved, or ``None``."""
        with self._db.read() as connection:
            row = connection.execute(
                select(awaited_receipts).where(awaited_receipts.c.msg_id == msg_id)
            ).first()
        return None if row is None else _receipt(row)

    def pending(self, municipality: str | None = None,
                older_than: datetime | None = None) -> list[AwaitedReceipt]:
        """Receipts still awaited (sent before ``older_than``), the oldest first."""
        query = select(awaited_receipts).where(awaited_receipts.c.resolved_at.is_(None))
        if municipality is not None:
            query = query.where(awaited_receipts.c.municipality == municipality)
        if older_than is not None:
            query = query.where(awaited_receipts.c.sent_at < older_than)
        query = query.order_by(awaited_receipts.c.sent_at, awaited_receipts.c.msg_id)
        with self._db.read() as connection:
            return [_receipt(row) for row in connection.execute(query)]
