"""A minimal in-process transport for the portal simulator's own tests.

It keeps the :class:`~digidialog.transport.base.Transport` contract (named
queues, unsettled deliveries, release puts a message back in front) and
nothing more; ``digidialog.transport.memory`` replaces it once it exists.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field

from digidialog.transport.base import Envelope


@dataclass
class LoopbackDelivery:
    """One message handed out, settled once."""

    envelope: Envelope
    queue: str
    redelivered: bool
    transport: LoopbackTransport
    settled: bool = field(default=False)

    def accept(self) -> None:
        """Done with it: it does not come back."""
        self.settled = True

    def release(self) -> None:
        """Not handled: back to the front of its queue."""
        if not self.settled:
            self.settled = True
            self.transport.put_back(self.queue, self.envelope)


class LoopbackTransport:
    """Queues in a dictionary, guarded by one condition variable."""

    def __init__(self) -> None:
        """No queues yet; each appears when first used."""
        self._queues: dict[str, deque[tuple[Envelope, bool]]] = {}
        self._changed = threading.Condition()
        self.closed = False

    def send(self, queue: str, envelope: Envelope) -> None:
        """Append to ``queue``."""
        with self._changed:
            self._queues.setdefault(queue, deque()).append((envelope, False))
            self._changed.notify_all()

    def put_back(self, queue: str, envelope: Envelope) -> None:
        """A released delivery goes first, marked as redelivered."""
        with self._changed:
            self._queues.setdefault(queue, deque()).appendleft((envelope, True))
            self._changed.notify_all()

    def receive(self, queue: str, timeout: float) -> LoopbackDelivery | None:
        """The oldest message on ``queue``, waiting up to ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not self._queues.get(queue):
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._changed.wait(left)
            envelope, again = self._queues[queue].popleft()
            return LoopbackDelivery(envelope, queue, again, self)

    def depth(self, queue: str) -> int:
        """How many messages wait on ``queue``."""
        with self._changed:
            return len(self._queues.get(queue, ()))

    def take_all(self, queue: str) -> list[Envelope]:
        """Everything waiting on ``queue``, removed (for tests that inspect what was sent)."""
        with self._changed:
            waiting = self._queues.pop(queue, deque())
            return [envelope for envelope, _ in waiting]

    def close(self) -> None:
        """Nothing to release."""
        self.closed = True
