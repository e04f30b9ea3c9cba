"""One AMQP 1.0 connection driven by its caller: links, waiting, flow, closing.

proton's event loop runs only while someone calls :meth:`BrokerConnection.wait`
or :meth:`BrokerConnection.pump`; there is no thread behind it. Failures are
*recorded* by the event handler (never raised from inside proton's loop) and
raised by the waiting caller as proton exceptions, which the transport turns
into digidialog errors in :mod:`~digidialog.transport.amqp_errors`.

Each link gets a session of its own: RabbitMQ ends the *session* when a link
names a queue that does not exist, and that must not take the other links'
unsettled deliveries down with it.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections import deque
from collections.abc import Callable
from typing import Any

from proton import ConnectionException, Endpoint, Handler, Terminus, Timeout
from proton.reactor import Container

from digidialog.transport.amqp_errors import link_refused

Arrival = tuple[bytes, Any]
"""An encoded message and the unsettled proton delivery it came in."""


class _Events(Handler):
    """Records what happens on the connection; the waiting caller acts on it."""

    def __init__(self) -> None:
        self.failure: str | None = None
        self.closing = False
        self.arrived: dict[str, deque[Arrival]] = {}

    def on_delivery(self, event: Any) -> None:
        delivery, link = event.delivery, event.link
        if not link.is_receiver:
            return  # a sent message's outcome is read by the sender waiting for it
        if delivery.aborted:
            delivery.settle()
        elif delivery.readable and not delivery.partial:
            data = link.recv(delivery.pending)
            link.advance()
            inbox = self.arrived.get(link.name)
            if inbox is not None:  # else the link is being closed: the broker requeues it
                inbox.append((data, delivery))

    def on_connection_remote_close(self, event: Any) -> None:
        self._lost(f"closed by the broker ({event.connection.remote_condition or 'no reason'})")

    def on_transport_error(self, event: Any) -> None:
        self._lost(str(event.transport.condition or "transport error"))

    def on_transport_closed(self, event: Any) -> None:
        self._lost(str(event.transport.condition or "socket closed"))

    def _lost(self, reason: str) -> None:
        if not self.closing and self.failure is None:
            self.failure = reason


def _closed_remotely(endpoint: Any) -> bool:
    return bool(endpoint.state & Endpoint.REMOTE_CLOSED)


class Inlet:
    """A receiver link and the messages that arrived on it, not yet handed out."""

    def __init__(self, link: Any, arrived: deque[Arrival]) -> None:
        self.link = link
        self._arrived = arrived
        self.heard_at = time.monotonic()
        self.handed_out = 0  # deliveries taken from here and not yet settled

    @property
    def usable(self) -> bool:
        """Whether the link is still attached at both ends."""
        return not (_closed_remotely(self.link) or _closed_remotely(self.link.session))

    def __len__(self) -> int:
        return len(self._arrived)

    def pop(self) -> Arrival | None:
        """The oldest arrival (now counted as handed out), or ``None``."""
        if not self._arrived:
            return None
        self.heard_at = time.monotonic()
        self.handed_out += 1
        return self._arrived.popleft()

    def idle_for(self) -> float:
        """Seconds since the last arrival (or the attach), when nothing is held; else 0."""
        if self._arrived or self.handed_out:
            return 0.0
        return time.monotonic() - self.heard_at

    def top_up(self, window: int) -> None:
        """Grant credit so that at most ``window`` messages are on their way or waiting here."""
        missing = window - self.link.credit - len(self._arrived)
        if missing > 0:
            self.link.flow(missing)


class BrokerConnection:
    """An open connection to the broker; ``timeout`` bounds every wait for an answer."""

    def __init__(self, url: str, *, timeout: float, heartbeat: float | None,
                 container_id: str) -> None:
        self.timeout = timeout
        self.senders: dict[str, Any] = {}
        """Sender links by address, kept by the transport for this connection's lifetime."""
        self.inlets: dict[str, Inlet] = {}
        """Receiver links by address, likewise."""
        self._events = _Events()
        self._container = Container(container_id=container_id)
        self._container.timeout = timeout
        self._container.start()
        self._connection = self._container.connect(
            url=url, handler=self._events, reconnect=False, heartbeat=heartbeat,
        )
        self.wait(lambda: bool(self._connection.state & Endpoint.REMOTE_ACTIVE),
                  "opening the connection")

    @property
    def failure(self) -> str | None:
        """Why the connection is lost, once it is."""
        return self._events.failure

    def alive(self) -> bool:
        """Take in what the network has for us without waiting; whether the connection lives."""
        if self._events.failure is None:
            with contextlib.suppress(ConnectionException):
                self.pump(0)
        return self._events.failure is None

    def is_attached(self, link: Any) -> bool:
        """Whether ``link`` is still attached at both ends."""
        return not (_closed_remotely(link) or _closed_remotely(link.session))

    def pump(self, seconds: float) -> None:
        """Process network events for up to ``seconds`` (less when something happens)."""
        self._container.timeout = max(seconds, 0.0)
        try:
            self._container.process()
        finally:
            self._container.timeout = self.timeout
        self._raise_if_lost()

    def wait(self, done: Callable[[], bool], what: str, timeout: float | None = None) -> None:
        """Process events until ``done()``; raise ``Timeout`` after ``timeout`` seconds."""
        patience = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + patience
        self._raise_if_lost()
        while not done():
            left = deadline - time.monotonic()
            if left <= 0:
                raise Timeout(f"{what}: no answer within {patience:g} s")
            self.pump(left)

    def _raise_if_lost(self) -> None:
        if self._events.failure is not None:
            raise ConnectionException(self._events.failure)

    def open_sender(self, address: str, *, declare_durable: bool = False) -> Any:
        """A sender link to ``address``; ``declare_durable`` asks RabbitMQ to declare it durable."""
        session = self._connection.session()
        session.open()
        link = session.sender(f"{address}-sender-{uuid.uuid4()}")
        link.target.address = address
        if declare_durable:
            # RabbitMQ's AMQP 1.0 plugin declares "/queue/<name>" durable when the
            # target terminus is durable (configuration or unsettled state).
            link.target.durability = Terminus.DELIVERIES
        link.open()
        self._await_attach(link, address, lambda: link.remote_target.address)
        return link

    def open_inlet(self, address: str) -> Inlet:
        """A receiver link from ``address`` with no credit yet."""
        session = self._connection.session()
        session.open()
        link = session.receiver(f"{address}-receiver-{uuid.uuid4()}")
        link.source.address = address
        arrived: deque[Arrival] = deque()
        self._events.arrived[link.name] = arrived
        link.open()
        try:
            self._await_attach(link, address, lambda: link.remote_source.address)
        except BaseException:
            self._events.arrived.pop(link.name, None)
            raise
        return Inlet(link, arrived)

    def _await_attach(self, link: Any, address: str, remote_address: Callable[[], Any]) -> None:
        def answered() -> bool:
            return bool(link.state & Endpoint.REMOTE_ACTIVE) or _closed_remotely(link) \
                or _closed_remotely(link.session)

        self.wait(answered, f"attaching a link to {address}")
        if not (_closed_remotely(link) or _closed_remotely(link.session)) \
                and remote_address() != address:
            # Refused by attaching an empty terminus; the detach with the reason follows.
            self.wait(lambda: _closed_remotely(link) or _closed_remotely(link.session),
                      f"attaching a link to {address}", timeout=min(self.timeout, 1.0))
        if _closed_remotely(link) or _closed_remotely(link.session):
            condition = link.remote_condition or link.session.remote_condition
            self.close_link(link)
            raise link_refused(address, getattr(condition, "name", None),
                               getattr(condition, "description", None))

    def send(self, link: Any, encoded: bytes) -> tuple[int, str | None]:
        """Transfer ``encoded``; when the broker settled it, its outcome and condition."""
        delivery = link.delivery(link.delivery_tag())
        link.stream(encoded)
        link.advance()
        self.wait(lambda: bool(delivery.settled) or _closed_remotely(link),
                  f"waiting for the broker to take a message to {link.target.address}")
        if not delivery.settled:
            raise ConnectionException(f"the link to {link.target.address} was closed")
        outcome, condition = delivery.remote_state, delivery.remote.condition
        delivery.settle()
        return int(outcome), getattr(condition, "name", None)

    def close_link(self, link: Any) -> None:
        """Detach ``link`` and end its session; wait briefly for the broker to end it too.

        Until the broker has answered the END, its channel number is not free:
        proton would give the next session the same number, and RabbitMQ 3.10's
        AMQP 1.0 plugin refuses a BEGIN on a channel it is still ending ("no
        such channel"), which loses the connection. A broker that does not
        answer within a second costs that second, nothing more.
        """
        self._events.arrived.pop(link.name, None)
        link.close()
        session = link.session
        session.close()
        # A lost connection is found by the next call; a slow broker is waited out.
        with contextlib.suppress(Timeout, ConnectionException):
            self.wait(lambda: _closed_remotely(session), "ending a session",
                      timeout=min(self.timeout, 1.0))

    def close(self) -> None:
        """Close the connection (briefly waiting for the broker), then free everything.

        The broker puts every delivery still unsettled back on its queue.
        """
        lost = self._events.failure is not None
        self._events.closing = True
        try:
            if not lost:
                self._connection.close()
                self.wait(lambda: not self._connection.state & Endpoint.REMOTE_ACTIVE
                          or self._connection.transport is None
                          or self._connection.transport.closed,
                          "closing the connection", timeout=min(self.timeout, 2.0))
        finally:
            if self._connection.transport:
                self._connection.transport.close_tail()
            self._connection.free()
            self._container.timeout = 0
            self._container.errors = []
            while self._container.process():
                pass
            self._container.stop()
            self._container.process()
            self._container.stop_events()
