"""The transport contract: how bytes travel between digidialog and the portal.

Three transports implement it: AMQP 1.0 against a real broker (production),
an embedded one whose queues live in the store (local runs, the demo), and an
in-memory one (unit tests). The engine and the portal simulator only ever see
this contract.

Queues are named logically (``1000001_async``, ``100000_error``); a transport
maps a name to its own address (the AMQP one adds ``address_prefix``).

Delivery is at-least-once: :meth:`Transport.receive` hands out a
:class:`Delivery` that stays unsettled until the receiver calls
:meth:`Delivery.accept` (done with it, after storing it durably) or
:meth:`Delivery.release` (not handled: give it to someone else). A delivery
neither accepted nor released when its receiver dies comes back.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import MappingProxyType
from typing import Protocol

APPREC_SUBJECT = "APPREC"
"""AMQP ``subject`` of an application receipt; other messages carry their process name."""


def async_queue(her_id: str) -> str:
    """Where a party receives asynchronous messages and AppRecs."""
    return f"{her_id}_async"


def sync_queue(her_id: str) -> str:
    """Where a party receives synchronous requests."""
    return f"{her_id}_sync"


def syncreply_queue(her_id: str) -> str:
    """Where synchronous answers go when a request names no ``reply-to``."""
    return f"{her_id}_syncreply"


def error_queue(her_id: str) -> str:
    """Where a party hears about messages of its that could not be read at all."""
    return f"{her_id}_error"


@dataclass(frozen=True)
class Envelope:
    """One message on a queue: the payload and what the transport carries beside it.

    The named fields are the AMQP properties Helsenorge uses (``subject`` is the
    process name or ``APPREC``; ``from_her_id``/``to_her_id``/``cpa_id``/
    ``application_timestamp`` are application properties). ``properties``
    holds any other application property (``errorCondition``,
    ``errorDescription``, ...), as strings.
    """

    body: bytes
    subject: str | None = None
    from_her_id: str | None = None
    to_her_id: str | None = None
    cpa_id: str | None = None
    application_timestamp: datetime | None = None
    message_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    correlation_id: str | None = None
    reply_to: str | None = None
    content_type: str = "application/xml"
    properties: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


class Delivery(Protocol):
    """A received message, unsettled until accepted or released."""

    @property
    def envelope(self) -> Envelope:
        """What arrived."""
        ...

    @property
    def queue(self) -> str:
        """The logical queue it arrived on."""
        ...

    @property
    def redelivered(self) -> bool:
        """Whether the transport handed it out before (a receiver died or released it)."""
        ...

    def accept(self) -> None:
        """Settle: the receiver has stored or handled it; it will not come back."""
        ...

    def release(self) -> None:
        """Hand it back unhandled; the transport delivers it again (to anyone)."""
        ...


class Transport(Protocol):
    """Send to and receive from named queues, at least once."""

    def send(self, queue: str, envelope: Envelope) -> None:
        """Put ``envelope`` on ``queue``; when this returns, the transport holds it durably.

        Raises :class:`~digidialog.errors.RetriableError` (``TransportUnavailable``)
        when the broker or store cannot take it now.
        """
        ...

    def receive(self, queue: str, timeout: float) -> Delivery | None:
        """The next message on ``queue``, or ``None`` after ``timeout`` seconds."""
        ...

    def close(self) -> None:
        """Release connections; unsettled deliveries go back to their queues."""
        ...


def request(transport: Transport, queue: str, envelope: Envelope, *, reply_queue: str,
            timeout: float) -> Envelope | None:
    """Send a synchronous request and wait for its answer (matched on ``correlation-id``).

    The answer is expected on ``reply_queue``, which belongs to the caller alone:
    an answer to an earlier request that gave up waiting is settled and dropped.
    Returns ``None`` when nothing answered within ``timeout`` seconds.
    """
    sent = replace(envelope, reply_to=reply_queue, correlation_id=envelope.message_id)
    transport.send(queue, sent)
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        delivery = transport.receive(reply_queue, timeout=left)
        if delivery is None:
            return None
        delivery.accept()
        if delivery.envelope.correlation_id == sent.correlation_id:
            return delivery.envelope
    return None
