"""The AMQP 1.0 transport: Helsenorge's queues on a real broker (RabbitMQ 3.10 here).

A queue named ``1000001_async`` is the address ``address_prefix + name``
(``/amq/queue/1000001_async`` by default, the form RabbitMQ's AMQP 1.0 plugin
reads as "this existing queue"). The envelope's mapping onto the message is
in :mod:`~digidialog.transport.amqp_messages`.

- :meth:`AmqpTransport.send` returns once the broker *settled* the message as
  accepted (RabbitMQ does so after its publisher confirm: for a durable queue
  the message is on disk). Anything else (rejected, released, no answer
  within ``timeout``, a lost connection) is ``TransportUnavailable``.
  RabbitMQ silently drops messages sent to a queue that does not exist, so
  before the first send to a queue on a connection the transport checks that
  the queue exists (a receiver attached with no credit, which takes nothing)
  and raises :class:`~digidialog.transport.amqp_errors.NoSuchQueue` when it
  does not: nothing is sent into the void, and nothing is declared by accident.
- :meth:`AmqpTransport.receive` hands out one unsettled delivery at a time; each
  queue has one receiver link whose credit keeps at most ``prefetch`` messages
  on their way or waiting in this process, so that competing consumers share
  the work. ``release`` settles *released*, which RabbitMQ 3.10 requeues (its
  plugin ignores *modified*); ``redelivered`` comes from the message header
  (RabbitMQ clears ``first-acquirer`` on a requeued message).
- :meth:`AmqpTransport.declare_queues` declares the queues that are missing,
  durable, through the plugin's ``/queue/<name>`` address with a durable
  target terminus: no second protocol or client library is needed.

Losing the connection (see :mod:`~digidialog.transport.amqp_keeper`): the call
that finds it dead reconnects, with a bounded backoff when the broker stays
away; the broker requeues whatever was unsettled, so accepting such a
delivery afterwards raises (it will be delivered again).

RabbitMQ 3.10's AMQP 1.0 plugin crashes the *session* (and later the
connection) on a drain request, on a publisher nack and when a consumer's
queue is deleted; this transport never drains, and recovers from the rest by
reconnecting. A receiver link that stayed silent for ``idle_relink`` seconds
while holding nothing is attached afresh, a cheap guard against a session the
broker lost without saying so.

Threads: proton's connection is not thread-safe, so every call holds a lock
(first come, first served). ``receive`` waits in short slices and lets other
threads in between, so one thread may block in ``receive`` while another
sends or settles. For throughput give each worker thread its own transport
(one connection each); sharing one is safe, not fast.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterable
from typing import Any

from proton import Delivery as ProtonDelivery

from digidialog.errors import DigidialogError, TransportUnavailable
from digidialog.log import get_logger
from digidialog.transport.amqp_connection import BrokerConnection, Inlet
from digidialog.transport.amqp_errors import NoSuchQueue, not_accepted, translated
from digidialog.transport.amqp_keeper import ConnectionKeeper, TurnLock
from digidialog.transport.amqp_messages import Received, from_transfer, to_message
from digidialog.transport.base import Envelope

DECLARING_PREFIX = "/queue/"
"""RabbitMQ 3.x's AMQP 1.0 address form that declares the queue it names."""

_SLICE = 0.05  # seconds a waiting receive holds the lock before letting others in

log = get_logger(__name__)


class AmqpDelivery:
    """A message received over AMQP, unsettled at the broker until accepted or released.

    Settling twice is a no-op: the first ``accept`` or ``release`` decides.
    """

    def __init__(self, transport: AmqpTransport, queue: str, received: Received,
                 proton_delivery: Any, connection: BrokerConnection, inlet: Inlet) -> None:
        self._transport = transport
        self._queue = queue
        self._received = received
        self.proton_delivery = proton_delivery
        self.connection = connection
        self.inlet = inlet
        self.settled = False

    @property
    def envelope(self) -> Envelope:
        """What arrived."""
        return self._received.envelope

    @property
    def queue(self) -> str:
        """The logical queue it arrived on."""
        return self._queue

    @property
    def redelivered(self) -> bool:
        """Whether the broker handed it out before."""
        return self._received.redelivered

    def accept(self) -> None:
        """Settle as accepted; raises ``TransportUnavailable`` if the connection was lost."""
        self._transport.settle(self, ProtonDelivery.ACCEPTED)

    def release(self) -> None:
        """Settle as released: the broker requeues it for any consumer."""
        self._transport.settle(self, ProtonDelivery.RELEASED)


class AmqpTransport:
    """The :class:`~digidialog.transport.base.Transport` contract over one AMQP 1.0 connection.

    ``timeout`` bounds each wait for the broker (connecting, attaching, a send's
    settlement); ``heartbeat`` is the AMQP idle timeout asked of the broker;
    ``max_backoff`` caps the wait between failed connection attempts (5 s: a
    daemon's loops wait that long at most after the broker is back, and a try
    every 5 s costs a broker that is down nothing);
    ``idle_relink`` is how long a receiver link holding nothing may stay
    silent before it is attached afresh; ``prefetch`` is the receiver credit.
    """

    def __init__(self, url: str, *, address_prefix: str = "/amq/queue/", prefetch: int = 1,
                 timeout: float = 10.0, heartbeat: float | None = 30.0,
                 max_backoff: float = 5.0, idle_relink: float = 60.0,
                 container_id: str | None = None) -> None:
        if prefetch < 1:
            raise ValueError("prefetch must be at least 1")
        self.address_prefix = address_prefix
        self.prefetch = prefetch
        self.idle_relink = idle_relink
        self._lock = TurnLock()
        self._keeper = ConnectionKeeper(
            url, timeout=timeout, heartbeat=heartbeat, max_backoff=max_backoff,
            container_id=container_id or f"digidialog-{socket.gethostname()}-{os.getpid()}",
        )

    def address(self, queue: str) -> str:
        """The AMQP address of the logical ``queue``."""
        return self.address_prefix + queue

    # ------------------------------------------------------------ the contract

    def send(self, queue: str, envelope: Envelope) -> None:
        """Put ``envelope`` on ``queue``; returns when the broker accepted it."""
        address = self.address(queue)

        def transfer(connection: BrokerConnection) -> tuple[int, str | None]:
            encoded = to_message(envelope).encode()
            link = connection.senders.get(address)
            if link is None or not connection.is_attached(link):
                if link is None:  # the first send to it on this connection
                    self._check_exists(connection, address)
                else:
                    connection.close_link(link)
                link = connection.senders[address] = connection.open_sender(address)
            return connection.send(link, encoded)

        with self._lock:
            outcome, condition = self._keeper.run(f"sending to {queue}", transfer)
        if outcome != ProtonDelivery.ACCEPTED:
            raise not_accepted(queue, outcome, condition)

    def receive(self, queue: str, timeout: float) -> AmqpDelivery | None:
        """The next message on ``queue`` (unsettled), or ``None`` after ``timeout`` seconds."""
        address = self.address(queue)
        deadline = time.monotonic() + max(timeout, 0.0)

        def take(connection: BrokerConnection) -> AmqpDelivery | None:
            inlet = self._inlet(connection, address)
            arrival = inlet.pop()
            if arrival is None:
                inlet.top_up(self.prefetch)
                connection.pump(max(0.0, min(deadline - time.monotonic(), _SLICE)))
                arrival = inlet.pop()
            if arrival is None:
                return None
            inlet.top_up(self.prefetch)  # the next one travels while this one is handled
            data, proton_delivery = arrival
            return AmqpDelivery(self, queue, from_transfer(data), proton_delivery, connection,
                                inlet)

        while True:
            with self._lock:  # let other threads in between slices
                delivery = self._keeper.run(f"receiving from {queue}", take)
            if delivery is not None or time.monotonic() >= deadline:
                return delivery

    def close(self) -> None:
        """Close the connection; the broker requeues every unsettled delivery. Final."""
        with self._lock:
            self._keeper.close()

    # ------------------------------------------------------------ operations beyond it

    def declare_queues(self, names: Iterable[str]) -> list[str]:
        """Declare those of ``names`` that do not exist yet, durable; the names declared.

        Uses RabbitMQ 3.x's AMQP 1.0 ``/queue/<name>`` address with a durable
        target, which declares a durable, non-exclusive queue. Queues that exist
        are left as they are (whatever their type or arguments).
        """
        wanted = list(names)

        def declare(connection: BrokerConnection) -> list[str]:
            declared = []
            for name in wanted:
                try:
                    self._check_exists(connection, self.address(name))
                    continue
                except NoSuchQueue:
                    pass
                link = connection.open_sender(DECLARING_PREFIX + name, declare_durable=True)
                connection.close_link(link)
                declared.append(name)
                log.info("amqp_queue_declared", queue=name)
            return declared

        with self._lock:
            return self._keeper.run("declaring queues", declare)

    def ping(self) -> None:
        """Connect if needed and check the connection lives, or raise ``TransportUnavailable``."""
        with self._lock:
            self._keeper.run("checking the broker", lambda connection: connection.pump(0))

    def settle(self, delivery: AmqpDelivery, outcome: int) -> None:
        """Settle ``delivery`` (called by :class:`AmqpDelivery`).

        Releasing never fails: a delivery whose connection is lost is back on
        its queue already. Accepting one raises ``TransportUnavailable``.
        """
        action = f"settling a message from {delivery.queue}"
        with self._lock:
            if delivery.settled:
                return
            delivery.settled = True
            delivery.inlet.handed_out -= 1
            lost: DigidialogError | None = None
            connection, link = delivery.connection, delivery.inlet.link
            if connection is self._keeper.current and connection.is_attached(link) \
                    and not link.state & link.LOCAL_CLOSED:
                try:
                    with translated(action):
                        delivery.proton_delivery.update(outcome)
                        delivery.proton_delivery.settle()
                        delivery.connection.pump(0)  # put the disposition on the wire now
                    return
                except DigidialogError as error:
                    self._keeper.discard(str(error))
                    lost = error
            if outcome == ProtonDelivery.ACCEPTED:
                raise TransportUnavailable(
                    f"{action}: the connection or link it came on is lost, so the broker "
                    "delivers it again"
                ) from lost

    # ------------------------------------------------------------ links

    def _inlet(self, connection: BrokerConnection, address: str) -> Inlet:
        inlet = connection.inlets.get(address)
        if inlet is not None and inlet.usable and inlet.idle_for() < self.idle_relink:
            return inlet
        if inlet is not None:
            # Detached by the broker (which requeued what the link held), or silent
            # for long: RabbitMQ 3.10 can lose the session behind a receiver without
            # telling the client (rabbitmqctl close_all_connections does), so a
            # quiet link holding nothing is attached afresh now and then.
            connection.close_link(inlet.link)
        inlet = connection.inlets[address] = connection.open_inlet(address)
        return inlet

    @staticmethod
    def _check_exists(connection: BrokerConnection, address: str) -> None:
        """Raise ``NoSuchQueue`` unless a queue is at ``address``.

        A receiver attached without credit is refused for a missing queue and
        takes no message from an existing one.
        """
        probe = connection.open_inlet(address)
        connection.close_link(probe.link)
