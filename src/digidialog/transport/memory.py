"""An in-process transport for unit tests, with the delivery rules of the real ones.

A :class:`MemoryBroker` holds the queues; each :class:`MemoryTransport` is one
client of it, as a connection is to a real broker. A delivery stays unsettled
until accepted or released; released or left unsettled when its transport
closes, it goes back to the *front* of its queue (as RabbitMQ requeues it) and
comes out again with ``redelivered=True``. Queues come into being on first use.
Everything is thread-safe: several threads, or several transports of one
broker, may send and receive at once.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from digidialog.errors import TransportUnavailable
from digidialog.transport.base import Envelope


@dataclass
class _Message:
    envelope: Envelope
    times_delivered: int = 0


class MemoryBroker:
    """The queues that :class:`MemoryTransport` clients share."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._queues: dict[str, deque[_Message]] = {}

    def connect(self) -> MemoryTransport:
        """A new client of this broker."""
        return MemoryTransport(self)

    def depth(self, queue: str) -> int:
        """How many messages wait on ``queue`` (not counting those handed out)."""
        with self._changed:
            return len(self._queues.get(queue, ()))

    def declare_queues(self, names: Iterable[str]) -> list[str]:
        """Create the queues among ``names`` that do not exist yet; the names created."""
        with self._changed:
            created = [name for name in names if name not in self._queues]
            for name in created:
                self._queues[name] = deque()
            return created

    def _put(self, queue: str, message: _Message, *, front: bool = False) -> None:
        with self._changed:
            waiting = self._queues.setdefault(queue, deque())
            if front:
                waiting.appendleft(message)
            else:
                waiting.append(message)
            self._changed.notify_all()

    def _take(self, queue: str, timeout: float, still_open: threading.Event) -> _Message | None:
        with self._changed:
            waiting = self._queues.setdefault(queue, deque())
            self._changed.wait_for(lambda: bool(waiting) or not still_open.is_set(),
                                   timeout=max(timeout, 0.0))
            if not waiting or not still_open.is_set():
                return None
            message = waiting.popleft()
            message.times_delivered += 1
            return message

    def _wake(self) -> None:
        with self._changed:
            self._changed.notify_all()


class MemoryDelivery:
    """A message handed out by a :class:`MemoryTransport`; the first settlement decides."""

    def __init__(self, transport: MemoryTransport, queue: str, message: _Message) -> None:
        self._transport = transport
        self._queue = queue
        self._message = message
        self.settled = False
        self.handed_back = False  # by its transport's close, unsettled

    @property
    def envelope(self) -> Envelope:
        """What arrived."""
        return self._message.envelope

    @property
    def queue(self) -> str:
        """The queue it arrived on."""
        return self._queue

    @property
    def redelivered(self) -> bool:
        """Whether it was handed out before."""
        return self._message.times_delivered > 1

    def accept(self) -> None:
        """Done with it; raises ``TransportUnavailable`` if its transport closed meanwhile."""
        self._transport._settle(self, accepted=True)

    def release(self) -> None:
        """Back to the front of its queue, for anyone."""
        self._transport._settle(self, accepted=False)


class MemoryTransport:
    """One client of a :class:`MemoryBroker` (a broker of its own when none is given)."""

    def __init__(self, broker: MemoryBroker | None = None) -> None:
        self.broker = broker or MemoryBroker()
        self._lock = threading.Lock()
        self._unsettled: set[MemoryDelivery] = set()
        self._open = threading.Event()
        self._open.set()

    def send(self, queue: str, envelope: Envelope) -> None:
        """Put ``envelope`` at the back of ``queue``."""
        self._check_open(f"sending to {queue}")
        self.broker._put(queue, _Message(envelope))

    def receive(self, queue: str, timeout: float) -> MemoryDelivery | None:
        """The next message on ``queue``, unsettled, or ``None`` after ``timeout`` seconds."""
        self._check_open(f"receiving from {queue}")
        message = self.broker._take(queue, timeout, self._open)
        if message is None:
            return None
        delivery = MemoryDelivery(self, queue, message)
        with self._lock:
            if not self._open.is_set():  # closed while we took it: hand it straight back
                self.broker._put(queue, message, front=True)
                return None
            self._unsettled.add(delivery)
        return delivery

    def declare_queues(self, names: Iterable[str]) -> list[str]:
        """Create the missing queues among ``names`` (queues also appear on first use)."""
        return self.broker.declare_queues(names)

    def close(self) -> None:
        """Hand every unsettled delivery back to its queue; further calls raise."""
        with self._lock:
            self._open.clear()
            handed_back, self._unsettled = self._unsettled, set()
            for delivery in handed_back:
                delivery.settled = delivery.handed_back = True
                self.broker._put(delivery.queue, delivery._message, front=True)
        self.broker._wake()  # a receive waiting in another thread returns None

    def _settle(self, delivery: MemoryDelivery, *, accepted: bool) -> None:
        with self._lock:
            if delivery.handed_back and accepted:
                raise TransportUnavailable(
                    f"accepting a message from {delivery.queue}: the transport closed and "
                    "handed it back, so it is delivered again"
                )
            if delivery.settled:
                return
            delivery.settled = True
            self._unsettled.discard(delivery)
            if not accepted:
                self.broker._put(delivery.queue, delivery._message, front=True)

    def _check_open(self, action: str) -> None:
        if not self._open.is_set():
            raise TransportUnavailable(f"{action}: the transport is closed")
