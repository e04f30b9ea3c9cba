"""The Profil mock's side of NotifyEvent: push each event, resend until it is accepted.

Profil resends an event until it gets HTTP 200 with ``NotifyEventResponse/
Accepted = true``; so does :class:`Pusher`, a bounded number of times with
exponential backoff (honouring ``Retry-After``), keeping what never got
through for :meth:`Pusher.redeliver`. Every try is recorded as an
:class:`Exchange`, beside the mock's own requests and replies.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass

import requests

from digidialog_profil.mock import wire as mock_wire
from digidialog_profil.wire import CONTENT_TYPE, NOTIFY_OPERATION, action

EXCHANGES_KEPT = 1000
_MAX_WAIT = 5.0


@dataclass(frozen=True)
class Exchange:
    """One request and its reply, as bytes on the wire."""

    operation: str
    request: bytes
    reply: bytes
    status: int
    content_type: str = ""
    """The request's Content-Type header."""


@dataclass
class PushTarget:
    """Where Profil pushes events, with which credentials, how persistently."""

    url: str
    username: str
    password: str
    attempts: int = 5
    backoff: float = 0.2


class Pusher:
    """Delivers NotifyEvent envelopes to the configured target, in order."""

    def __init__(self, exchanges: deque[Exchange]) -> None:
        self.exchanges = exchanges
        self.target: PushTarget | None = None
        self.undelivered: list[tuple[str, bytes]] = []
        self._lock = threading.Lock()

    def push(self, event_id: str, body: bytes) -> bool:
        """Deliver one event now; kept for :meth:`redeliver` if no try gets through."""
        if self.deliver(body):
            return True
        self.undelivered.append((event_id, body))
        return False

    def redeliver(self) -> int:
        """Try every undelivered event again, in order; returns how many got through."""
        waiting, self.undelivered = self.undelivered, []
        delivered = 0
        for event_id, body in waiting:
            if self.deliver(body):
                delivered += 1
            else:
                self.undelivered.append((event_id, body))
        return delivered

    def deliver(self, body: bytes) -> bool:
        """Send until HTTP 200 with Accepted = true, or out of tries."""
        target = self.target
        if target is None:
            return False
        headers = {"Content-Type": f'{CONTENT_TYPE}; action="{action(NOTIFY_OPERATION)}"'}
        with self._lock:
            for attempt in range(target.attempts):
                wait = target.backoff * 2 ** attempt
                try:
                    reply = requests.post(target.url, data=body, headers=headers, timeout=5,
                                          auth=(target.username, target.password))
                except requests.RequestException:
                    time.sleep(wait)
                    continue
                self.exchanges.append(Exchange(NOTIFY_OPERATION, body, reply.content,
                                               reply.status_code, headers["Content-Type"]))
                if reply.status_code == 200 and mock_wire.accepted(reply.content):
                    return True
                asked = reply.headers.get("Retry-After", "")
                time.sleep(min(float(asked), _MAX_WAIT) if asked.isdigit() else wait)
        return False
