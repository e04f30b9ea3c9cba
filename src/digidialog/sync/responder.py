"""The synchronous queue ``<her_id>_sync``: each request answered at once, from the store.

Helsenorge asks HentPlanlagteTimer synchronously and waits about eight
seconds. :meth:`SyncResponder.answer_one` takes one request, answers it on
the request's ``reply-to`` (or ``<portal her_id>_syncreply`` when it names
none) with the request's ``correlation-id`` (its message-id when it has
none), and only then settles the request with the broker: a daemon that
dies in between leaves the request to be answered again, by itself or
another daemon. Synchronous messages carry no AppRec either way.

Nothing in this path calls the EPJ, and nothing in it is stored except a
read job for a citizen met for the first time. What cannot be answered is
reported on the sender's ``_error`` queue with an ``errorCondition``, as the
asynchronous path reports it (unreadable, HER-ids that disagree, a process
that is not asked synchronously, a ``reply-to`` that is no queue name). That
report is sent directly rather than through the outbox: the request is
settled only after the report went out, which gives the same at-least-once
delivery without a write to the database for every piece of hostile input.
A failure of our own (the store away, a fault) is answered ``31``, so the
citizen hears at once rather than after the portal's timeout.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from datetime import datetime

from digidialog.errors import (
    DigidialogError,
    RejectedInput,
    RetriableError,
    UnsupportedProcess,
)
from digidialog.helsenorge import Function, PortalMessage, decode, encode
from digidialog.log import get_logger
from digidialog.store import Store
from digidialog.sync.context import Municipality
from digidialog.sync.inbound import utc_now
from digidialog.sync.observer import EngineObserver, NoObserver
from digidialog.sync.planned import Answer, PlannedAppointments
from digidialog.transport import (
    Delivery,
    Envelope,
    Transport,
    error_queue,
    sync_queue,
    syncreply_queue,
)
from digidialog.transport.amqp_errors import NoSuchQueue

log = get_logger("sync.responder")

_QUEUE_NAME = re.compile(r"[A-Za-z0-9_.:-]{1,200}")
"""What a ``reply-to`` may be: a queue's name, never an address with a path."""
_HER_ID = re.compile(r"[0-9]{1,20}")

NOT_WELL_FORMED = "transport:not-well-formed-xml"
INVALID_FIELD = "transport:invalid-field-value"
UNSUPPORTED = "transport:unsupported-message"


def error_condition(error: RejectedInput) -> str:
    """The ``errorCondition`` that reports an unreadable message (as the async path does)."""
    if isinstance(error, UnsupportedProcess):
        return UNSUPPORTED
    return NOT_WELL_FORMED if error.apprec_code == "T01" else INVALID_FIELD


def her_id_problem(message: PortalMessage, envelope: Envelope, municipality: str) -> str | None:
    """Why the AMQP HER-ids and the MsgHead's disagree, or ``None`` when they agree."""
    if message.receiver.her_ids[0] != municipality:
        return "the MsgHead receiver is not the municipality whose queue carried it"
    if envelope.from_her_id and envelope.from_her_id not in message.sender.her_ids:
        return "fromHerId does not name the MsgHead sender"
    if envelope.to_her_id and envelope.to_her_id not in message.receiver.her_ids:
        return "toHerId does not name the MsgHead receiver"
    return None


class SyncResponder:
    """Answers the synchronous requests of one municipality over one transport."""

    def __init__(self, store: Store, municipality: Municipality, transport: Transport, *,
                 clock: Callable[[], datetime] = utc_now,
                 observer: EngineObserver | None = None) -> None:
        self.m = municipality
        self.transport = transport
        self.clock = clock
        self.observer = observer or NoObserver()
        self.planned = PlannedAppointments(store, municipality, clock)
        self.queue = sync_queue(municipality.her_id)

    def answer_one(self, timeout: float) -> bool:
        """Answer at most one request from the sync queue; ``True`` if one arrived.

        Raises :class:`~digidialog.errors.RetriableError` when the answer could
        not be sent; the request is then handed back to the broker. A request
        for which not even a ``31`` can be made is logged and settled.
        """
        delivery = self.transport.receive(self.queue, timeout=timeout)
        if delivery is None:
            return False
        try:
            self._handle(delivery)
        except RetriableError:
            delivery.release()
            raise
        except Exception as error:  # one request never stops the loop, whatever it holds
            log.error("synchronous request dropped: no answer could be made",
                      reason=type(error).__name__, amqp_message_id=delivery.envelope.message_id)
        delivery.accept()
        return True

    # ------------------------------------------------------------ one request

    def _handle(self, delivery: Delivery) -> None:
        envelope = delivery.envelope
        self.observer.message_received(self.m.her_id, envelope.subject or "unknown")
        try:
            request = decode(envelope.body)
        except RejectedInput as error:
            self._report(envelope, error_condition(error), str(error))
            return
        problem = her_id_problem(request, envelope, self.m.her_id)
        if problem is None and request.function is not Function.PLANNED_APPOINTMENTS_REQUEST:
            self._report(envelope, UNSUPPORTED,
                         f"{request.function.value} is not asked synchronously")
            return
        reply_to = envelope.reply_to or syncreply_queue(self.m.portal_her_id)
        if problem is None and not _QUEUE_NAME.fullmatch(reply_to):
            problem = "reply-to is not a queue name"
        if problem is not None:
            self._report(envelope, INVALID_FIELD, problem)
            return
        started = time.perf_counter()
        answer, body = self._answer(request)
        message = answer.message
        reply = Envelope(
            body=body, subject=message.process, from_her_id=message.sender.service_her_id,
            to_her_id=message.receiver.her_ids[0], cpa_id=envelope.cpa_id,
            application_timestamp=self.clock(), message_id=message.msg_id,
            correlation_id=envelope.correlation_id or envelope.message_id or request.msg_id,
        )
        if self._send(reply_to, reply):
            self.observer.message_sent(self.m.her_id, message.process)
        log.info("synchronous request answered", msg_id=request.msg_id, code=message.code,
                 outcome=answer.outcome, shown=answer.shown,
                 ms=round((time.perf_counter() - started) * 1000, 2))

    def _answer(self, request: PortalMessage) -> tuple[Answer, bytes]:
        """The answer and its bytes; ``31`` when the answer cannot be made."""
        try:
            answer = self.planned.answer(request)
            return answer, encode(answer.message)
        except Exception as error:  # any failure of ours still gets the citizen an answer
            reason = ("the store is unavailable" if isinstance(error, RetriableError)
                      else f"failed: {type(error).__name__}")
            log.error("synchronous request not answerable", msg_id=request.msg_id,
                      reason=reason, detail=_safe_detail(error))
            answer = self.planned.general_error(request, reason)
            return answer, encode(answer.message)

    def _report(self, envelope: Envelope, condition: str, description: str) -> None:
        """Report an unusable request on its sender's error queue (when there is one)."""
        sender = envelope.from_her_id or ""
        if not _HER_ID.fullmatch(sender):
            log.warning("unusable synchronous request with no sender to report to",
                        condition=condition, amqp_message_id=envelope.message_id)
            return
        report = Envelope(
            body=b"", subject=envelope.subject, from_her_id=self.m.her_id, to_her_id=sender,
            application_timestamp=self.clock(), message_id=str(uuid.uuid4()),
            properties={"errorCondition": condition, "errorDescription": description,
                        "originalMessageId": envelope.message_id or ""},
        )
        if self._send(error_queue(sender), report):
            self.observer.message_sent(self.m.her_id, "error-report")
        log.warning("unusable synchronous request reported", condition=condition,
                    amqp_message_id=envelope.message_id, reason=description)

    def _send(self, queue: str, envelope: Envelope) -> bool:
        """Send; ``False`` when the queue does not exist (nobody can hear it: dropped)."""
        try:
            self.transport.send(queue, envelope)
        except NoSuchQueue:
            log.warning("synchronous answer dropped: no such queue", queue=queue,
                        msg_id=envelope.message_id)
            return False
        return True


def _safe_detail(error: Exception) -> str | None:
    """Our own errors' words, which name no person; nothing of anyone else's."""
    return str(error)[:200] if isinstance(error, DigidialogError) else None
