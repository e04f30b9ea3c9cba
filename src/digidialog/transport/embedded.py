"""The embedded transport: queues kept in the store's ``queue_messages`` table.

The default for local runs and the demo: no broker, yet the same at-least-once
contract as AMQP, shared by every thread and process that opens the same
SQLite file or PostgreSQL database.

- :meth:`EmbeddedTransport.send` inserts a row; committed means durable.
- :meth:`EmbeddedTransport.receive` leases the oldest message of the queue that
  nobody holds (or whose lease expired) for ``lease_seconds``; a receiver that
  dies without settling loses the lease and the message comes back, marked
  ``redelivered``. On PostgreSQL the lease is taken with ``FOR UPDATE SKIP
  LOCKED``, on SQLite under ``BEGIN IMMEDIATE``, so two receivers never get
  one message at once.
- ``accept`` deletes the row, ``release`` clears the lease; both only while this
  delivery still holds it (a stale delivery cannot settle a newer one's message).

Receivers poll every ``poll_interval`` seconds; a send in the same process wakes
them at once.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any

from sqlalchemy import Row, and_, delete, func, or_, select, update

from digidialog.errors import StoreUnavailable, TransportUnavailable
from digidialog.log import get_logger
from digidialog.store import Store
from digidialog.store.schema import queue_messages as messages
from digidialog.transport.base import Envelope

_log = get_logger("transport.embedded")
_wakeups: dict[str, threading.Condition] = {}
_wakeups_lock = threading.Lock()


def _wakeup(url: str) -> threading.Condition:
    # One condition per database shared by every transport of this process on it.
    with _wakeups_lock:
        return _wakeups.setdefault(url, threading.Condition())


@contextmanager
def _translated() -> Iterator[None]:
    try:
        yield
    except StoreUnavailable as error:
        raise TransportUnavailable(f"embedded queue store unavailable: {error}") from error


def _headers(envelope: Envelope) -> dict[str, Any]:
    stamp = envelope.application_timestamp
    return {
        "subject": envelope.subject, "from_her_id": envelope.from_her_id,
        "to_her_id": envelope.to_her_id, "cpa_id": envelope.cpa_id,
        "application_timestamp": None if stamp is None else stamp.astimezone(UTC).isoformat(),
        "message_id": envelope.message_id, "correlation_id": envelope.correlation_id,
        "reply_to": envelope.reply_to, "content_type": envelope.content_type,
        "properties": dict(envelope.properties),
    }


def _envelope(body: bytes, headers: dict[str, Any]) -> Envelope:
    stamp = headers.get("application_timestamp")
    return Envelope(
        body=body, subject=headers.get("subject"), from_her_id=headers.get("from_her_id"),
        to_her_id=headers.get("to_her_id"), cpa_id=headers.get("cpa_id"),
        application_timestamp=None if stamp is None else datetime.fromisoformat(stamp),
        message_id=headers["message_id"], correlation_id=headers.get("correlation_id"),
        reply_to=headers.get("reply_to"),
        content_type=headers.get("content_type") or "application/xml",
        properties=MappingProxyType(dict(headers.get("properties") or {})),
    )


class EmbeddedDelivery:
    """A message leased from a store queue, unsettled until accepted or released."""

    def __init__(self, transport: EmbeddedTransport, row: Row[Any]) -> None:
        self._transport = transport
        self._id: int = row.id
        self._token: int = row.delivery_count
        self._settled = False
        self._envelope = _envelope(bytes(row.body), dict(row.headers))
        self._queue: str = row.queue

    @property
    def envelope(self) -> Envelope:
        """What arrived."""
        return self._envelope

    @property
    def queue(self) -> str:
        """The queue it arrived on."""
        return self._queue

    @property
    def redelivered(self) -> bool:
        """Whether it was handed out before (released, or its receiver's lease ran out)."""
        return self._token > 1

    def _mine(self) -> Any:
        return and_(messages.c.id == self._id, messages.c.leased_by == self._transport.owner,
                    messages.c.delivery_count == self._token)

    def accept(self) -> None:
        """Delete the message: handled, it will not come back."""
        self._settle(delete(messages).where(self._mine()), "accept")

    def release(self) -> None:
        """Clear the lease: the message is delivered again, to anyone."""
        self._settle(update(messages).where(self._mine())
                     .values(leased_by=None, lease_until=None), "release")

    def _settle(self, statement: Any, action: str) -> None:
        if self._settled:
            return
        with _translated(), self._transport.store.transaction() as connection:
            settled = connection.execute(statement).rowcount == 1
        self._settled = True
        if not settled:
            # The lease ran out and another receiver holds the message now: it is theirs.
            _log.warning("embedded_lease_lost", action=action, queue=self._queue,
                         message_id=self._envelope.message_id)


class EmbeddedTransport:
    """The :class:`~digidialog.transport.base.Transport` contract over a store's table."""

    def __init__(self, store: Store, *, lease_seconds: float = 30.0,
                 poll_interval: float = 0.05) -> None:
        self.store = store
        self.lease_seconds = lease_seconds
        self.poll_interval = poll_interval
        self.owner = f"embedded-{uuid.uuid4().hex}"
        self._owns_store = False
        self._closed = False
        self._wakeup = _wakeup(store.url)

    @classmethod
    def open(cls, url: str, **options: float) -> EmbeddedTransport:
        """A transport on its own store at ``url`` (migrated), closed along with it."""
        with _translated():
            transport = cls(Store.open(url), **options)
        transport._owns_store = True
        return transport

    def _check_open(self) -> None:
        if self._closed:
            raise TransportUnavailable("the embedded transport is closed")

    def send(self, queue: str, envelope: Envelope) -> None:
        """Store ``envelope`` on ``queue``; durable once this returns."""
        self._check_open()
        with _translated(), self.store.transaction() as connection:
            connection.execute(messages.insert().values(
                queue=queue, body=envelope.body, headers=_headers(envelope),
                enqueued_at=self.store.now(), delivery_count=0,
            ))
        with self._wakeup:
            self._wakeup.notify_all()

    def _visible(self, queue: str, now: datetime) -> Any:
        return and_(messages.c.queue == queue,
                    or_(messages.c.lease_until.is_(None), messages.c.lease_until <= now))

    def _take(self, queue: str) -> EmbeddedDelivery | None:
        now = self.store.now()
        visible = self._visible(queue, now)
        db = self.store.db
        with _translated():
            if db.dialect == "sqlite":
                # Look before taking SQLite's one write lock: idle receivers must not queue for it.
                with db.read() as connection:
                    if connection.execute(select(messages.c.id).where(visible).limit(1)).first() \
                            is None:
                        return None
            oldest = (select(messages.c.id).where(visible).order_by(messages.c.id).limit(1)
                      .with_for_update(skip_locked=True))
            with db.write() as connection:
                row = connection.execute(
                    update(messages).where(messages.c.id.in_(oldest))
                    .values(leased_by=self.owner,
                            lease_until=now + timedelta(seconds=self.lease_seconds),
                            delivery_count=messages.c.delivery_count + 1)
                    .returning(*messages.c)
                ).first()
        return None if row is None else EmbeddedDelivery(self, row)

    def receive(self, queue: str, timeout: float) -> EmbeddedDelivery | None:
        """The next message on ``queue``, or ``None`` when none came within ``timeout`` s."""
        self._check_open()
        deadline = time.monotonic() + timeout
        while True:
            delivery = self._take(queue)
            if delivery is not None:
                return delivery
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            with self._wakeup:
                self._wakeup.wait(min(self.poll_interval, left))

    def depth(self, queue: str) -> int:
        """How many messages ``queue`` holds, leased or not."""
        with _translated(), self.store.db.read() as connection:
            count: int = connection.execute(
                select(func.count()).select_from(messages).where(messages.c.queue == queue)
            ).scalar_one()
        return count

    def close(self) -> None:
        """Hand back every unsettled delivery of this transport; close an owned store."""
        if self._closed:
            return
        self._closed = True
        try:
            with _translated(), self.store.transaction() as connection:
                connection.execute(update(messages).where(messages.c.leased_by == self.owner)
                                   .values(leased_by=None, lease_until=None))
        except TransportUnavailable as error:
            # Shutting down must not fail: the leases run out and the messages come back.
            _log.warning("embedded_close_leases_kept", error=str(error))
        finally:
            if self._owns_store:
                self.store.close()
