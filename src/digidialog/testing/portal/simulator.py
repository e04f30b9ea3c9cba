"""PortalSimulator: plays Helsenorge towards digidialog over any transport.

It sends what citizens and relatives do on helsenorge.no as real, schema-valid
messages with the AMQP properties Helsenorge sets, answers what the engine
sends with AppRecs (and the nightly SIDAB questions with 28/29, from the
citizens a test declares digitally active), and records and checks
everything for the test to query (see
:class:`~digidialog.testing.portal.queries.Queries`).
"""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Self

from digidialog.domain import CancellationKind, DigitalStatus
from digidialog.domain.attachments import Attachment
from digidialog.helsenorge import encode
from digidialog.helsenorge.message import Function, Party, PortalMessage, Representative
from digidialog.helsenorge.processes import Process
from digidialog.transport.base import (
    APPREC_SUBJECT,
    Envelope,
    Transport,
    async_queue,
    request,
    sync_queue,
    syncreply_queue,
)

from . import build
from .answers import ReceiptPolicy
from .build import CitizenLike
from .digital import DigitalUsers
from .queries import Queries
from .receiver import Receiver
from .records import Ledger, Received, Sent

# Where the MsgId of raw bytes is looked for (MsgInfo comes first in a MsgHead), and how.
_MSG_ID_SCAN = 20_000
_MSG_ID = re.compile(rb"<(?:[\w.-]+:)?MsgId>\s*([0-9A-Za-z-]{1,64})\s*</")

SYNC_TIMEOUT = 8.0
"""Seconds the portal waits for a synchronous answer before it gives up."""


def _now() -> datetime:
    return datetime.now(UTC)


class PortalSimulator(Queries):
    """Helsenorge's side of the conversation, for tests and the demo.

    A municipality is addressed by its level-1 HER-id and a service by its
    level-2 HER-id. Every send returns a :class:`Sent` naming what went out.
    Receive with :meth:`start`/:meth:`stop` (a background thread; also a context
    manager) or by calling :meth:`pump`; :meth:`wait_for` pumps by itself when
    no thread runs. ``answers`` says how received messages are acknowledged.
    """

    def __init__(
        self, transport: Transport, *, portal_her_id: str = "100000",
        portal_unit_her_id: str = "100001", names: Mapping[str, str] | None = None,
        cpa_id: str | None = None, clock: Callable[[], datetime] = _now,
        sync_timeout: float = SYNC_TIMEOUT,
    ) -> None:
        """Play the portal ``portal_her_id`` over ``transport``.

        ``names`` maps HER-ids to the organisation names written in MsgHead
        (made up when absent); ``cpa_id`` is sent as ``cpaId`` (by default one
        stable id per municipality); ``clock`` gives GenDate and the AMQP time.
        """
        self.transport = transport
        self.portal_her_id = portal_her_id
        self.portal = build.portal_party(portal_her_id, portal_unit_her_id)
        self.answers = ReceiptPolicy()
        self.digital_users = DigitalUsers()
        self.sync_timeout = sync_timeout
        self._names = dict(names or {})
        self._cpa_id = cpa_id
        self._clock = clock
        self._sync_lock = threading.Lock()
        self._ledger = Ledger()
        self._receiver = Receiver(
            transport, self._ledger, self.answers, portal_her_id=portal_her_id,
            portal=self.portal, clock=clock, send_receipt=self._send_receipt,
            respond=self._respond,
        )

    # ------------------------------------------------------------ receiving

    def start(self) -> Self:
        """Receive in a background thread until :meth:`stop`."""
        self._receiver.start()
        return self

    def stop(self) -> None:
        """Stop receiving in the background."""
        self._receiver.stop()

    def __enter__(self) -> Self:
        """Start receiving for the ``with`` block."""
        return self.start()

    def __exit__(self, *_: object) -> None:
        """Stop receiving."""
        self.stop()

    def pump(self, timeout: float = 0.5) -> int:
        """Handle what waits on the portal's queues, waiting up to ``timeout`` for a first one."""
        return self._receiver.pump(timeout)

    # ------------------------------------------------------------ sending

    def send_citizen_message(
        self, municipality: str, service: str, citizen: CitizenLike, *,
        subject: str = "Spørsmål om besøk",
        body: str = "Hei! Kan dere komme en halvtime senere i morgen?",
        on_behalf_of: Representative | None = None, attachments: Sequence[Attachment] = (),
    ) -> Sent:
        """A citizen writes to a service (HE), opening a thread whose id is the MsgId."""
        return self.send_message(build.citizen_message(
            self.portal, self._party(municipality, service), citizen, self._clock(),
            subject=subject, body=body, on_behalf_of=on_behalf_of, attachments=attachments))

    def send_proxy_message(
        self, municipality: str, service: str, citizen: CitizenLike, proxy: Representative, *,
        subject: str = "Spørsmål om besøk",
        body: str = "Hei! Mor lurer på når dere kommer i morgen.",
        attachments: Sequence[Attachment] = (),
    ) -> Sent:
        """A relative with a proxy (FU, FO or VE) writes for the citizen (HE + Pasientrelasjon)."""
        return self.send_citizen_message(
            municipality, service, citizen, subject=subject, body=body, on_behalf_of=proxy,
            attachments=attachments)

    def send_citizen_reply(
        self, parent: PortalMessage | Received | str, *, body: str = "Takk, det passer fint.",
        subject: str | None = None, on_behalf_of: Representative | None = None,
        attachments: Sequence[Attachment] = (),
    ) -> Sent:
        """The citizen answers ``parent`` (a message of the engine's) with 22, in its thread."""
        if isinstance(parent, str):
            found = self._ledger.message(parent)
            if found is None:
                raise ValueError(f"no message {parent} was sent or received")
            parent = found
        elif isinstance(parent, Received):
            parent = parent.message
        return self.send_message(build.citizen_reply(
            self.portal, parent, self._clock(), body=body, subject=subject,
            on_behalf_of=on_behalf_of, attachments=attachments))

    def send_cancellation(
        self, municipality: str, service: str, citizen: CitizenLike, *, uid: str,
        start: datetime, end: datetime, series: str | None = None, reason: str | None = None,
        on_behalf_of: Representative | None = None, process: Process = Process.AVTALEAVBESTILLING,
    ) -> Sent:
        """Cancel one visit (ART with its uid, times and the service as contact)."""
        cancellation = {"kind": CancellationKind.SINGLE, "start": start, "end": end, "uid": uid,
                        "series": series, "reason": reason, "contact_her_id": service}
        return self.send_message(build.cancellation_request(
            self.portal, self._party(municipality, service), citizen, self._clock(),
            cancellation, on_behalf_of=on_behalf_of, process=process))

    def send_period_cancellation(
        self, municipality: str, service: str, citizen: CitizenLike, *, start: datetime,
        end: datetime, service_ids: Sequence[str], reason: str | None = None,
        on_behalf_of: Representative | None = None, process: Process = Process.AVTALEAVBESTILLING,
    ) -> Sent:
        """Cancel every visit of ``service_ids`` from ``start`` to ``end`` (period convention)."""
        cancellation = {"kind": CancellationKind.PERIOD, "start": start, "end": end,
                        "service_ids": tuple(service_ids), "reason": reason,
                        "contact_her_id": service}
        return self.send_message(build.cancellation_request(
            self.portal, self._party(municipality, service), citizen, self._clock(),
            cancellation, on_behalf_of=on_behalf_of, process=process))

    def send_digital_status(
        self, municipality: str, citizen: CitizenLike, status: DigitalStatus, *,
        service: str | None = None,
    ) -> Sent:
        """SDAB: the citizen became digitally active or inactive."""
        return self.send_message(build.digital_status_change(
            self.portal, self._party(municipality, service), citizen, self._clock(), status))

    def declare_digitally_active(self, *citizens: str, active: bool = True) -> None:
        """Citizens who consented on helsenorge.no (``active=False``: who withdrew).

        Only the portal's answers to the engine's SIDAB questions reflect this;
        to push a change as Helsenorge does during the day, use :meth:`send_digital_status`.
        """
        self.digital_users.declare(citizens, active=active)

    def send_message(
        self, message: PortalMessage, *, queue: str | None = None, subject: str | None = None,
        from_her_id: str | None = None, to_her_id: str | None = None, cpa_id: str | None = None,
        properties: Mapping[str, str] | None = None,
    ) -> Sent:
        """Encode ``message`` (validated: the codec refuses anything invalid) and send it.

        It goes to the receiver's ``_async`` queue with the properties Helsenorge
        sets; each may be overridden, also with a lie (a spoofed HER-id, a wrong
        subject) to see the engine refuse it.
        """
        municipality = message.receiver.her_ids[0] or to_her_id
        if municipality is None:
            raise ValueError("the receiver has no level-1 HER-id: give to_her_id")
        envelope = self._envelope(
            encode(message), municipality, subject=subject or message.process,
            from_her_id=from_her_id, to_her_id=to_her_id, cpa_id=cpa_id, properties=properties)
        return self.send_envelope(queue or async_queue(municipality), envelope, message)

    def send_raw(
        self, municipality: str, body: bytes, *, subject: str | None = Process.EKONTAKT.value,
        queue: str | None = None, from_her_id: str | None = None, to_her_id: str | None = None,
        cpa_id: str | None = None, properties: Mapping[str, str] | None = None,
    ) -> Sent:
        """Send ``body`` as it is (hostile-input tests), with the usual or the given properties."""
        envelope = self._envelope(body, municipality, subject=subject, from_her_id=from_her_id,
                                  to_her_id=to_her_id, cpa_id=cpa_id, properties=properties)
        return self.send_envelope(queue or async_queue(municipality), envelope)

    def send_envelope(self, queue: str, envelope: Envelope,
                      message: PortalMessage | None = None) -> Sent:
        """Put ``envelope`` on ``queue`` as it is; ``message`` is what it carries, if known."""
        found = None if message is not None else _MSG_ID.search(envelope.body[:_MSG_ID_SCAN])
        raw_msg_id = found.group(1).decode("ascii", "replace") if found else None
        sent = Sent(message, envelope, queue, raw_msg_id)
        self._ledger.add_sent(sent)  # before sending, so that a fast answer finds it
        try:
            self.transport.send(queue, envelope)
        except BaseException:
            self._ledger.forget_sent(sent)
            raise
        return sent

    def _respond(self, message: PortalMessage) -> None:
        """Answer a SIDAB with 28 (the asked persons who are active) or 29 (none)."""
        if message.function is not Function.DIGITAL_STATUS_QUERY \
                or not self.digital_users.answering:
            return
        active = [p for p in message.persons if self.digital_users.is_active(p.id)]
        self.send_message(build.digital_status_reply(self.portal, message, self._clock(),
                                                     active))

    def _send_receipt(self, receipt: PortalMessage, municipality: str) -> None:
        envelope = self._envelope(encode(receipt), municipality, subject=APPREC_SUBJECT)
        self.send_envelope(async_queue(municipality), envelope, receipt)

    # ------------------------------------------------------------ synchronous

    def planned_appointments(
        self, municipality: str, service: str | None, citizen: CitizenLike, *,
        on_behalf_of: Representative | None = None, timeout: float | None = None,
    ) -> PortalMessage | None:
        """HentPlanlagteTimer on ``<municipality>_sync``; the decoded answer, or ``None``.

        ``service`` is the level-2 HER-id asked; ``None`` asks the municipality
        for every service.

        ``None`` when nothing answered within ``timeout`` (``sync_timeout``, 8 s,
        by default) or the answer could not be decoded (then a violation says why).
        One request at a time: a late answer to an earlier one is dropped, as the
        portal does.
        """
        message = build.planned_appointments_request(
            self.portal, self._party(municipality, service), citizen, self._clock(),
            on_behalf_of=on_behalf_of)
        reply_queue = syncreply_queue(self.portal_her_id)
        envelope = self._envelope(encode(message), municipality, subject=message.process)
        envelope = replace(envelope, reply_to=reply_queue, correlation_id=envelope.message_id)
        with self._sync_lock:
            self._ledger.add_sent(Sent(message, envelope, sync_queue(municipality)))
            answer = request(self.transport, sync_queue(municipality), envelope,
                             reply_queue=reply_queue,
                             timeout=self.sync_timeout if timeout is None else timeout)
        if answer is None:
            return None
        received = self._receiver.handle(answer, reply_queue, request=message)
        return received.message if received else None

    # ------------------------------------------------------------ helpers

    def _party(self, municipality: str, service: str | None) -> Party:
        return build.municipal_party(municipality, service, self._names)

    def _envelope(
        self, body: bytes, municipality: str, *, subject: str | None,
        from_her_id: str | None = None, to_her_id: str | None = None,
        cpa_id: str | None = None, properties: Mapping[str, str] | None = None,
    ) -> Envelope:
        return Envelope(
            body=body, subject=subject, from_her_id=from_her_id or self.portal_her_id,
            to_her_id=to_her_id or municipality,
            cpa_id=cpa_id or self._cpa_id or self._default_cpa_id(municipality),
            application_timestamp=self._clock(),
            properties=MappingProxyType(dict(properties or {})),
        )

    def _default_cpa_id(self, municipality: str) -> str:
        # One agreement per pair of parties; stable, so a test can predict it.
        return str(uuid.uuid5(uuid.NAMESPACE_URL,
                              f"digidialog:cpa:{self.portal_her_id}:{municipality}"))
