"""How long a change feed keeps trying one event whose details come back as broken replies.

A feed that names an event (a staff message, a visit) reads its details with a
second call. When that call's reply cannot be read at all (:class:`BrokenReply`:
truncated, not XML, an error page), nothing is known about the record: a proxy
or an overloaded EPJ may be at fault, and the next try may well succeed. So the
feed treats it as a network failure (the batch is read again from its
checkpoint) for a while, and only after :data:`BROKEN_REPLY_PATIENCE` gives the
event up, loudly, so that one record whose reply is always broken does not hold
back every event behind it for ever.

The first failure is remembered in memory: a restart begins the wait again,
which errs on the side of waiting.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

BROKEN_REPLY_PATIENCE = 15 * 60.0
"""Seconds one event's details may keep coming back broken before the event is given up."""


class Patience:
    """When each event's details first came back broken, and whether to keep waiting."""

    def __init__(self, seconds: float = BROKEN_REPLY_PATIENCE,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._first: dict[str, float] = {}
        self._lock = threading.Lock()

    def still_waiting(self, key: str) -> bool:
        """Note a broken reply for event ``key``; whether it is still worth trying again."""
        now = self._clock()
        with self._lock:
            first = self._first.setdefault(key, now)
            if now - first < self.seconds:
                return True
            del self._first[key]
            return False

    def forget(self, key: str) -> None:
        """The event's details were read (or it was given up): start afresh next time."""
        with self._lock:
            self._first.pop(key, None)
