"""The portal's receiving side: read its queues, decode, check, answer, record.

Everything arriving on ``<portal>_async`` is decoded and held to the rules of
:mod:`.checks`; what breaks one is recorded as a :class:`Violation`, never
raised, so a test sees every problem of a run at once. A message asking for an
AppRec gets one, as the :class:`ReceiptPolicy` says. ``<portal>_error`` holds
the engine's reports about messages it could not read. Over a
:class:`~digidialog.protection.transport.ProtectedTransport`, a message that
could not be decrypted or verified is a violation (rule ``protection``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime

from digidialog.errors import RejectedInput, RetriableError
from digidialog.helsenorge import decode
from digidialog.helsenorge.message import Function, Party, PortalMessage
from digidialog.log import get_logger
from digidialog.protection import PROTECTION_ERROR, PROTECTION_ERROR_DESCRIPTION
from digidialog.transport.base import Delivery, Envelope, Transport, async_queue, error_queue

from . import build
from .answers import ReceiptPolicy
from .checks import check_message
from .records import ErrorReport, Ledger, Received, Violation

_log = get_logger("portal-simulator")

POLL_SECONDS = 0.05
"""How long one receive waits on one queue, so that both queues are watched in turn."""

SendReceipt = Callable[[PortalMessage, str], None]
"""Sends an AppRec to a municipality's level-1 HER-id."""
Respond = Callable[[PortalMessage], None]
"""Answers a received message the portal answers (a SIDAB), after its AppRec."""


class Receiver:
    """Reads and handles the portal's ``_async`` and ``_error`` queues."""

    def __init__(
        self, transport: Transport, ledger: Ledger, policy: ReceiptPolicy, *,
        portal_her_id: str, portal: Party, clock: Callable[[], datetime],
        send_receipt: SendReceipt, respond: Respond | None = None,
    ) -> None:
        """Receive for ``portal_her_id``; answer as ``portal`` through ``send_receipt``."""
        self._transport = transport
        self._ledger = ledger
        self._policy = policy
        self._portal_her_id = portal_her_id
        self._portal = portal
        self._clock = clock
        self._send_receipt = send_receipt
        self._respond = respond
        self._queues = (async_queue(portal_her_id), error_queue(portal_her_id))
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        """Whether the background thread is receiving."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Receive in a background thread until :meth:`stop`."""
        if self.running:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._loop, name="portal-simulator", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the background thread, letting it finish the delivery in hand."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def pump(self, timeout: float = 0.5) -> int:
        """Handle everything waiting; wait up to ``timeout`` seconds for a first message.

        Returns how many deliveries were handled.
        """
        deadline = time.monotonic() + timeout
        handled = 0
        while True:
            left = deadline - time.monotonic()
            got = self._poll_once(max(0.01, min(POLL_SECONDS, left)))
            handled += got
            if not got and (handled or left <= 0):
                return handled

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                self._poll_once(POLL_SECONDS)
            except RetriableError as error:
                _log.warning("portal simulator cannot receive", error=str(error))
                self._stopping.wait(0.2)

    def _poll_once(self, wait: float) -> int:
        """Handle what waits on each queue; when nothing does, wait ``wait`` on each in turn."""
        handled = 0
        for queue in self._queues:
            while (delivery := self._transport.receive(queue, timeout=0)) is not None:
                self._settle(delivery)
                handled += 1
        for queue in self._queues if not handled else ():
            delivery = self._transport.receive(queue, timeout=wait)
            if delivery is not None:
                self._settle(delivery)
                handled += 1
        return handled

    def _settle(self, delivery: Delivery) -> None:
        envelope, queue = delivery.envelope, delivery.queue
        try:
            if queue == self._queues[1]:
                self._record_error_report(envelope)
            else:
                self.handle(envelope, queue)
        except RetriableError as error:
            # The AppRec could not go out: hand the message back to be handled again.
            _log.warning("portal simulator could not answer", error=str(error))
            delivery.release()
            return
        except Exception as error:  # a simulator bug must show in the test, not kill the thread
            self._violate("simulator", f"could not handle: {type(error).__name__}: {error}",
                          queue, envelope)
        delivery.accept()

    def handle(self, envelope: Envelope, queue: str, *,
               request: PortalMessage | None = None) -> Received | None:
        """Decode, check and record one message; answer it when it asks for an AppRec.

        ``request`` is set for the answer to a synchronous request. Returns the
        record, or ``None`` when the bytes could not be decoded (a violation).
        """
        condition = envelope.properties.get(PROTECTION_ERROR)
        if condition:  # a ProtectedTransport could not open it: what came is not what was sent
            self._violate("protection", f"{condition}: "
                          f"{envelope.properties.get(PROTECTION_ERROR_DESCRIPTION, '')}",
                          queue, envelope)
            return None
        try:
            message = decode(envelope.body)
        except RejectedInput as error:
            self._violate("undecodable", f"{error.apprec_code}: {error}", queue, envelope)
            return None
        for finding in check_message(envelope, message, portal_her_id=self._portal_her_id,
                                     ledger=self._ledger, request=request):
            self._violate(finding.rule, finding.detail, queue, envelope, message.msg_id)
        answer = None
        if request is None and message.ack and message.function is not Function.RECEIPT:
            decision = self._policy.decide(message)
            if not decision.withhold:
                answer = build.receipt(message, self._portal, self._clock(),
                                       error=decision.error, text=decision.text)
        received = Received(message, envelope, queue, self._clock(),
                            duplicate=self._ledger.seen(message.msg_id), answer=answer)
        self._ledger.add_received(received)
        _log.info("portal simulator received", msg_id=message.msg_id,
                  function=message.function.value, code=message.code,
                  answered=None if answer is None else answer.code)
        if answer is not None:
            to = message.sender.her_ids[0] or envelope.from_her_id or ""
            self._send_receipt(answer, to)
        if self._respond is not None and request is None and not received.duplicate:
            self._respond(message)
        return received

    def _record_error_report(self, envelope: Envelope) -> None:
        properties = envelope.properties
        condition = properties.get("errorCondition")
        about = self._ledger.sent_matching(properties.get("originalMessageId"), envelope.body)
        self._ledger.add_error(ErrorReport(condition, properties.get("errorDescription"),
                                           envelope, about))
        if not condition:
            self._violate("error-report", "an error report without errorCondition",
                          self._queues[1], envelope)
        _log.info("portal simulator got an error report", condition=condition,
                  about=None if about is None else about.envelope.message_id)

    def _violate(self, rule: str, detail: str, queue: str, envelope: Envelope,
                 msg_id: str | None = None) -> None:
        violation = Violation(rule, detail, queue, envelope, msg_id)
        self._ledger.add_violation(violation)
        _log.warning("portal simulator found a violation", rule=rule, msg_id=msg_id,
                     queue=queue)
