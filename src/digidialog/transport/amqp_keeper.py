"""Keeping one AMQP connection alive for a transport: connect, notice loss, reconnect, back off.

:meth:`ConnectionKeeper.run` hands an operation the live connection. A
connection that turns out to have died since the last call (the broker
restarted, the network dropped it) is replaced and the operation runs once
more on the new one, so "the next call reconnects" holds even when the loss
is only noticed mid-call. When connecting fails, further calls fail fast
until a backoff (0.5 s doubling up to ``max_backoff``) has passed; the error's
``retry_after`` says how long is left.

Every proton exception is translated on the way out
(:func:`~digidialog.transport.amqp_errors.translated`); any failure that came
from proton or the network drops the connection, so that the next call starts
afresh, while a refusal the broker merely stated (a missing queue) keeps it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

from digidialog.errors import DigidialogError, TransportUnavailable
from digidialog.log import get_logger
from digidialog.transport.amqp_connection import BrokerConnection
from digidialog.transport.amqp_errors import translated

T = TypeVar("T")

FIRST_BACKOFF = 0.5

log = get_logger(__name__)


class TurnLock:
    """A lock handed out in arrival order, so a receive loop cannot starve a sender."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._next_ticket = 0
        self._serving = 0

    def __enter__(self) -> None:
        with self._condition:
            ticket = self._next_ticket
            self._next_ticket += 1
            self._condition.wait_for(lambda: self._serving == ticket)

    def __exit__(self, *_: object) -> None:
        with self._condition:
            self._serving += 1
            self._condition.notify_all()


IDLE_CHECK_SECONDS = 1.0
"""How long a connection may sit unused before it is checked ahead of the next call."""


class ConnectionKeeper:
    """The connection of one transport; call it with the transport's lock held."""

    def __init__(self, url: str, *, timeout: float, heartbeat: float | None,
                 max_backoff: float, container_id: str) -> None:
        self._url = url
        self._timeout = timeout
        self._heartbeat = heartbeat
        self._container_id = container_id
        self.max_backoff = max_backoff
        self.current: BrokerConnection | None = None
        self.closed = False
        self._failures = 0
        self._retry_at = 0.0
        self._last_error = ""
        self._last_used = time.monotonic()

    def run(self, action: str, operation: Callable[[BrokerConnection], T]) -> T:
        """``operation(connection)`` on the live connection, proton errors translated.

        If the connection it was given was already lost (made by an earlier
        call, found dead now), it runs once more on a fresh connection.
        """
        reused = self.current is not None
        connection = self._connected(action)
        self._last_used = time.monotonic()
        try:
            with translated(action):
                return operation(connection)
        except DigidialogError as error:
            if error.__cause__ is None and connection.failure is None:
                raise  # the broker refused something; the connection is fine
            self.discard(f"{action}: {error}")
            if not (reused and connection.failure is not None):
                raise
        connection = self._connected(action)
        try:
            with translated(action):
                return operation(connection)
        except DigidialogError as error:
            if error.__cause__ is not None or connection.failure is not None:
                self.discard(f"{action}: {error}")
            raise

    def _usable(self, connection: BrokerConnection) -> bool:
        """Whether to go on with ``connection``.

        After a quiet spell, what the broker said meanwhile (a close, an idle
        timeout) is taken in first: a transfer written to a connection that is
        already dead would be sent again on the next one, and arrive twice.
        """
        if connection.failure is not None:
            return False
        return time.monotonic() - self._last_used < IDLE_CHECK_SECONDS or connection.alive()

    def discard(self, why: str | None = None) -> None:
        """Forget the connection (closing it as politely as it allows)."""
        connection, self.current = self.current, None
        if connection is None:
            return
        if why is not None:
            log.warning("amqp_connection_dropped", error=why)
        try:
            with translated("closing the connection"):
                connection.close()
        except DigidialogError as error:
            log.info("amqp_close_failed", error=str(error))

    def close(self) -> None:
        """Close the connection for good: later calls raise ``TransportUnavailable``."""
        self.closed = True
        self.discard()

    def _connected(self, action: str) -> BrokerConnection:
        if self.closed:
            raise TransportUnavailable(f"{action}: the transport is closed")
        if self.current is not None and self._usable(self.current):
            return self.current  # if it died unnoticed, run() finds out and comes back
        self.discard()
        wait = self._retry_at - time.monotonic()
        if wait > 0:
            raise TransportUnavailable(
                f"{action}: the broker is unreachable ({self._last_error}); "
                f"next attempt in {wait:.1f} s", retry_after=wait,
            )
        try:
            with translated(f"{action}: connecting to the broker"):
                self.current = BrokerConnection(
                    self._url, timeout=self._timeout, heartbeat=self._heartbeat,
                    container_id=self._container_id,
                )
        except DigidialogError as error:
            self._failures += 1
            backoff = min(self.max_backoff, FIRST_BACKOFF * 2 ** (self._failures - 1))
            self._retry_at = time.monotonic() + backoff
            self._last_error = str(error)
            raise
        self._failures = 0
        self._retry_at = 0.0
        return self.current
