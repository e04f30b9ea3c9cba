"""Each stored portal message checked, answered and routed, in one transaction.

For a message from the inbox the handler decides everything first (is it
readable, do its HER-ids agree with the transport, may this citizen write to
this service) and then writes all consequences at once: the AppRec to send,
the refusal or the delivery to the EPJ, the thread and its deadline, and the
inbox item marked done. A crash before that commit leaves the item to be
handled again; the jobs it adds are keyed, so nothing is done twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import TypeVar

from sqlalchemy import Connection

from digidialog.adapters.contract import CitizenMessage, DigitalStatusUpdate
from digidialog.domain import OnBehalfOf, answer_deadline, to_oslo
from digidialog.domain.digital_status import DigitalStatus
from digidialog.errors import (
    FatalError,
    NotWellFormed,
    RejectedInput,
    SchemaViolation,
    UnsupportedProcess,
)
from digidialog.helsenorge import Function, Party, PortalMessage, decode
from digidialog.log import get_logger
from digidialog.store import Store, WorkItem
from digidialog.sync import jobs, outgoing
from digidialog.sync.context import Municipality
from digidialog.sync.directory import Directory
from digidialog.sync.header import Header, peek_header
from digidialog.sync.nightly.replies import StatusReplies
from digidialog.sync.observer import EngineObserver, NoObserver
from digidialog.xml.safe import MAX_DOCUMENT_BYTES

log = get_logger("sync.inbound")

_T = TypeVar("_T")

HER_ID_MISMATCH = "E10"


def utc_now() -> datetime:
    """The current instant, in UTC."""
    return datetime.now(UTC)


class NotServedYet(FatalError):
    """A function the engine does not act on yet: parked, to be retried after an upgrade."""


class InboundHandler:
    """Handles the inbox items of one municipality."""

    def __init__(self, store: Store, municipality: Municipality, directory: Directory, *,
                 clock: Callable[[], datetime] = utc_now,
                 observer: EngineObserver | None = None) -> None:
        self.store = store
        self.observer = observer or NoObserver()
        self.m = municipality
        self.directory = directory
        self.clock = clock
        self._handlers: dict[Function, Callable[[WorkItem, PortalMessage, str], None]] = {
            Function.RECEIPT: self._receipt,
            Function.CITIZEN_MESSAGE: self._citizen_message,
            Function.CITIZEN_REPLY: self._citizen_message,
            Function.DIGITAL_STATUS_CHANGE: self._digital_status,
            Function.DIGITAL_STATUS_REPLY: StatusReplies(store, municipality, clock).handle,
        }

    def handle(self, item: WorkItem, owner: str) -> None:
        """Act on one stored message; raises a retriable error to try again later."""
        try:
            message = decode(_readable(item))
        except RejectedInput as error:
            self._unusable(item, error, owner)
            return
        problem = _her_id_problem(message, item.meta, self.m.her_id)
        if problem is not None:
            self._reject(item, Header.of(message), HER_ID_MISMATCH, problem, owner)
            return
        handler = self._handlers.get(message.function)
        if handler is None:
            if message.function in _NOT_SERVED_YET:
                raise NotServedYet(f"{message.function.value} is not acted on yet")
            self._reject(item, Header.of(message), "T02",
                         f"{message.function.value} is not sent to a municipality", owner)
            return
        handler(item, message, owner)
        log.info("portal message handled", msg_id=message.msg_id, process=message.process,
                 function=message.function.value)

    # ------------------------------------------------------------ unusable input

    def _unusable(self, item: WorkItem, error: RejectedInput, owner: str) -> None:
        # A process (or a function in one) we do not serve has no agreement to answer it
        # under: like Helsenorge.Messaging, the transport's unsupported-message reports it.
        header = None if isinstance(error, UnsupportedProcess) else peek_header(item.payload)
        if header is not None:
            self._reject(item, header, error.apprec_code, str(error), owner)
            return
        sender = item.meta.get("from_her_id")
        if not sender:
            raise FatalError(f"unreadable message with no fromHerId to report to: {error}")
        condition = _error_condition(error)
        with self.store.transaction() as conn:
            jobs.enqueue_error_report(
                self.store, conn, municipality=self.m.her_id, key=f"error:{item.key}",
                sender_her_id=sender, subject=item.meta.get("subject"), condition=condition,
                description=str(error), original_message_id=item.meta.get("message_id"))
            self.store.inbox.complete(conn, item.id, owner)
        log.warning("unreadable portal message reported", condition=condition,
                    amqp_message_id=item.meta.get("message_id"), reason=str(error))

    def _reject(self, item: WorkItem, header: Header, code: str, text: str, owner: str) -> None:
        if self.m.her_id != header.receiver.her_ids[0]:
            # The MsgHead named another receiver: we answer, so we answer as ourselves.
            header = replace(header, receiver=Party(her_ids=(self.m.her_id,),
                                                    names=(self.m.name,)))
        receipt = outgoing.application_receipt(header, self.clock(), errors=((code, text),))
        with self.store.transaction() as conn:
            self._send(conn, f"apprec:{header.msg_id}", receipt)
            self.store.inbox.complete(conn, item.id, owner)
        log.warning("portal message rejected", msg_id=header.msg_id, code=code, reason=text)

    # ------------------------------------------------------------ the functions

    def _receipt(self, item: WorkItem, message: PortalMessage, owner: str) -> None:
        receipt = present(message.receipt, "the AppRec")
        codes = [e.code for e in receipt.errors]
        for code in codes:
            self.observer.apprec_error(self.m.her_id, code, direction="received")
        now = self.clock()
        with self.store.transaction() as conn:
            awaited = self.store.receipts.resolve(conn, receipt.original_msg_id,
                                                  status=receipt.status.value,
                                                  error_codes=codes, at=now)
            if awaited is not None and receipt.citizen_not_active and awaited.citizen_id:
                self.store.citizens.set_active(conn, self.m.her_id, awaited.citizen_id, False,
                                               now, "E35")
            self.store.inbox.complete(conn, item.id, owner)
        refused = receipt.status.value != "ok" and not receipt.citizen_not_active
        if refused and awaited is not None and awaited.outbox_item is not None:
            self.store.outbox.park(awaited.outbox_item, None,
                                   reason=f"AppRec {receipt.status.value}: {', '.join(codes)}")
        log.info("apprec received", original_msg_id=receipt.original_msg_id,
                 status=receipt.status.value, codes=codes, awaited=awaited is not None)

    def _citizen_message(self, item: WorkItem, message: PortalMessage, owner: str) -> None:
        patient = present(message.patient, "Patient")
        route = self.m.route_to(message.receiver.service_her_id)
        refusal = self._refusal_reason(route.vendor_code if route else None, patient.id)
        now = self.clock()
        with self.store.transaction() as conn:
            if message.ack:
                self._send(conn, f"apprec:{message.msg_id}",
                           outgoing.application_receipt(Header.of(message), now))
            if refusal is not None or route is None:
                self._send(conn, f"refusal:{message.msg_id}",
                           outgoing.refusal(message, now, refusal or ""), patient.id)
            else:
                self._deliver(conn, message, route.vendor_code, route.her_id, now)
            self.store.inbox.complete(conn, item.id, owner)
        if refusal is not None:
            log.info("citizen message refused", msg_id=message.msg_id, code=outgoing.REFUSED)

    def _refusal_reason(self, code: str | None, citizen_id: str) -> str | None:
        """Why the citizen may not write to this service, in words for the citizen."""
        if code is None:
            return "Tjenesten tar ikke imot digitale meldinger."
        service = self.directory.service(code)
        if service is None or not service.open_for_dialog:
            return "Tjenesten tar ikke imot digitale meldinger."
        if self.directory.recipient(citizen_id, code) is None:
            return "Du mottar ikke denne tjenesten, og kan derfor ikke skrive til den."
        return None

    def _deliver(self, conn: Connection, message: PortalMessage, code: str, service_her_id: str,
                 now: datetime) -> None:
        patient = present(message.patient, "Patient")
        root = message.conversation.root if message.conversation else message.msg_id
        parent = message.conversation.parent if message.conversation else None
        # A message that starts a thread names it by its own MsgId, so nothing is known of
        # the thread yet: only an answer in a thread has one to look up.
        thread = self.store.threads.get(root) if message.conversation else None
        self.store.threads.open(conn, root=root, municipality=self.m.her_id, service_code=code,
                                service_her_id=service_her_id, citizen_id=patient.id,
                                opened_at=message.generated_at)
        self.store.threads.note_citizen_message(conn, root, message.msg_id, now,
                                                answer_deadline(now))
        self.store.links.add(conn, municipality=self.m.her_id, msg_id=message.msg_id,
                             vendor_id=None, thread_root=root, direction="in")
        # The EPJ knows its own ids for what staff wrote; ours for what it received from us.
        parent_link = self.store.links.by_msg_id(parent) if parent else None
        in_reply_to = (parent_link.vendor_id if parent_link and parent_link.vendor_id
                       else parent)
        thread_id = thread.vendor_thread_id if thread and thread.vendor_thread_id else root
        proxy = message.on_behalf_of
        delivery = CitizenMessage(
            message_id=message.msg_id, thread_id=thread_id, in_reply_to=in_reply_to,
            service_code=code, citizen_id=patient.id, subject=message.subject,
            body=message.body or "", sent_at=message.generated_at,
            on_behalf_of=None if proxy is None else OnBehalfOf(person=proxy.to_person(),
                                                               relation=proxy.relation),
        )
        self.store.outbox.add(conn, municipality=self.m.her_id, kind=jobs.EPJ_DELIVER,
                              key=f"deliver:{message.msg_id}",
                              payload=delivery.model_dump_json().encode(),
                              meta={"msg_id": message.msg_id, "thread_root": root})

    def _digital_status(self, item: WorkItem, message: PortalMessage, owner: str) -> None:
        patient = present(message.patient, "Patient")
        active = present(message.digital_status, "the digital status") is DigitalStatus.ACTIVE
        now = self.clock()
        update = DigitalStatusUpdate(national_id=patient.id, active=active,
                                     since=to_oslo(message.generated_at).date())
        with self.store.transaction() as conn:
            if message.ack:
                self._send(conn, f"apprec:{message.msg_id}",
                           outgoing.application_receipt(Header.of(message), now))
            self.store.citizens.set_active(conn, self.m.her_id, patient.id, active, now, "SDAB")
            self.store.outbox.add(conn, municipality=self.m.her_id, kind=jobs.EPJ_DIGITAL_STATUS,
                                  key=f"status:{message.msg_id}",
                                  payload=update.model_dump_json().encode(), meta={})
            self.store.inbox.complete(conn, item.id, owner)

    def _send(self, conn: Connection, key: str, message: PortalMessage,
              citizen_id: str | None = None) -> None:
        jobs.enqueue_portal_message(self.store, conn, municipality=self.m.her_id, key=key,
                                    message=message, portal_her_id=self.m.portal_her_id,
                                    at=self.clock(), citizen_id=citizen_id)


def present(value: _T | None, what: str) -> _T:
    """``value``, which the codec's profile guarantees for this function; refused if absent."""
    if value is None:
        raise SchemaViolation(f"{what} is missing")
    return value


_NOT_SERVED_YET = frozenset({
    Function.CANCELLATION_REQUEST, Function.PLANNED_APPOINTMENTS_REQUEST,
})


def _readable(item: WorkItem) -> bytes:
    """The stored body; refused when the receiver found it too large to keep."""
    size = item.meta.get(jobs.OVERSIZED)
    if size:
        raise NotWellFormed(f"document is {size} bytes; the limit is {MAX_DOCUMENT_BYTES}")
    return item.payload


def _error_condition(error: RejectedInput) -> str:
    """The ``errorCondition`` that reports ``error`` on the sender's error queue."""
    if isinstance(error, UnsupportedProcess):
        return "transport:unsupported-message"
    if error.apprec_code == "T01":
        return "transport:not-well-formed-xml"
    return "transport:invalid-field-value"


def _her_id_problem(message: PortalMessage, meta: dict[str, object],
                    municipality_her_id: str) -> str | None:
    """Why the transport's HER-ids and the MsgHead's disagree, or ``None`` when they agree."""
    if municipality_her_id not in message.receiver.her_ids:
        return "the MsgHead receiver is not the municipality whose queue carried it"
    sender, receiver = meta.get("from_her_id"), meta.get("to_her_id")
    if sender and sender not in message.sender.her_ids:
        return "fromHerId does not name the MsgHead sender"
    if receiver and receiver not in message.receiver.her_ids:
        return "toHerId does not name the MsgHead receiver"
    return None
