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
from datetime import UTC, datetime
from typing import TypeVar

from sqlalchemy import Connection

from digidialog.adapters.contract import CitizenMessage, DigitalStatusUpdate
from digidialog.domain import Action, CancellationOutcome, OnBehalfOf, answer_deadline, to_oslo
from digidialog.domain.digital_status import DigitalStatus
from digidialog.errors import (
    RejectedInput,
    SchemaViolation,
)
from digidialog.helsenorge import Function, PortalMessage, decode
from digidialog.helsenorge.roles import received_by_municipality
from digidialog.log import get_logger
from digidialog.store import Store, WorkItem
from digidialog.sync import jobs, outgoing
from digidialog.sync.access import (
    CLOSED_TEXT,
    DirectoryView,
    Refusal,
    proxy_refusal,
    service_refusal,
)
from digidialog.sync.cancelling import REJECTED, Cancelling, answer_key
from digidialog.sync.context import Municipality
from digidialog.sync.directory import Directory
from digidialog.sync.header import Header
from digidialog.sync.nightly.replies import StatusReplies
from digidialog.sync.observer import EngineObserver, NoObserver
from digidialog.sync.portal_out import PortalOut
from digidialog.sync.unusable import HER_ID_MISMATCH, Unusable, her_id_problem, readable

log = get_logger("sync.inbound")

_T = TypeVar("_T")

def utc_now() -> datetime:
    """The current instant, in UTC."""
    return datetime.now(UTC)


class InboundHandler:
    """Handles the inbox items of one municipality."""

    def __init__(self, store: Store, municipality: Municipality, directory: Directory, *,
                 clock: Callable[[], datetime] = utc_now,
                 observer: EngineObserver | None = None) -> None:
        self.store = store
        self.observer = observer or NoObserver()
        self.m = municipality
        self.directory = directory
        self.services = DirectoryView(directory)
        self.clock = clock
        self.cancelling = Cancelling(store, municipality, directory, clock=clock)
        self.out = PortalOut(store, municipality, clock)
        self.unusable = Unusable(self.out)
        self._handlers: dict[Function, Callable[[WorkItem, PortalMessage, str], None]] = {
            Function.RECEIPT: self._receipt,
            Function.CITIZEN_MESSAGE: self._citizen_message,
            Function.CITIZEN_REPLY: self._citizen_message,
            Function.DIGITAL_STATUS_CHANGE: self._digital_status,
            Function.CANCELLATION_REQUEST: self._cancellation,
            Function.REFUSAL: self._portal_refusal,
            Function.DIGITAL_STATUS_REPLY: StatusReplies(store, municipality, clock).handle,
        }

    def handle(self, item: WorkItem, owner: str) -> None:
        """Act on one stored message; raises a retriable error to try again later."""
        if self.unusable.unprotectable(item, owner):
            return
        try:
            message = decode(readable(item))
        except RejectedInput as error:
            self.unusable.unreadable(item, error, owner)
            return
        problem = her_id_problem(message, item.meta, self.m.her_id)
        if problem is not None:
            self.unusable.reject(item, Header.of(message), HER_ID_MISMATCH, problem, owner)
            return
        handler = self._handlers.get(message.function)
        if handler is None and not received_by_municipality(message.function):
            self.unusable.not_received(item, message, owner)
        elif handler is None and message.function is Function.PLANNED_APPOINTMENTS_REQUEST:
            self.unusable.misrouted(item, message, owner)
        elif handler is None:
            self.unusable.reject(item, Header.of(message), "T02",
                                 f"{message.function.value} is not sent to a municipality",
                                 owner)
        else:
            handler(item, message, owner)
            log.info("portal message handled", msg_id=message.msg_id, process=message.process,
                     function=message.function.value, job=item.id)

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
        refusal = self._refusal(message, route.vendor_code if route else None,
                                Action.WRITE_MESSAGE)
        now = self.clock()
        with self.store.transaction() as conn:
            self.out.acknowledge(conn, message, now)
            if refusal is not None or route is None:
                refusal = refusal or Refusal(outgoing.REFUSED, CLOSED_TEXT, "service closed")
                self.out.send(conn, f"refusal:{message.msg_id}",
                           outgoing.refusal(message, now, refusal.text, refusal.code),
                           patient.id)
            else:
                self._deliver(conn, message, route.vendor_code, route.her_id, now)
            self.store.inbox.complete(conn, item.id, owner)
        if refusal is not None:
            log.info("citizen message refused", msg_id=message.msg_id, code=refusal.code,
                     reason=refusal.reason)

    def _refusal(self, message: PortalMessage, code: str | None, action: Action
                 ) -> Refusal | None:
        """Why this citizen (or the relative acting) may not do ``action`` in service ``code``."""
        patient = present(message.patient, "Patient")
        relative = message.on_behalf_of.to_person() if message.on_behalf_of else None
        return (service_refusal(self.services, patient.id, code)
                or proxy_refusal(self.store, self.m.her_id, patient.id, relative, action,
                                 self.clock(),
                                 require_registered=self.m.require_registered_proxy))

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
        jobs.enqueue_first_read(self.store, conn, municipality=self.m.her_id,
                                citizen_id=patient.id)

    def _cancellation(self, item: WorkItem, message: PortalMessage, owner: str) -> None:
        patient = present(message.patient, "Patient")
        request = present(message.cancellation, "the cancellation")
        refusal = self.cancelling.check(message, request)
        now = self.clock()
        with self.store.transaction() as conn:
            self.out.acknowledge(conn, message, now)
            if refusal is None:
                self.cancelling.accept_request(conn, message, request, now)
            elif refusal.code == REJECTED:
                self.out.send(conn, answer_key(message.msg_id),
                           self.cancelling.reply(message, CancellationOutcome.REJECTED, now,
                                                 comment=refusal.text), patient.id)
            else:
                self.out.send(conn, f"refusal:{message.msg_id}",
                           outgoing.refusal(message, now, refusal.text, refusal.code),
                           patient.id)
            self.store.inbox.complete(conn, item.id, owner)
        log.info("cancellation received", msg_id=message.msg_id, kind=request.kind.value,
                 refused=None if refusal is None else refusal.reason)

    def _portal_refusal(self, item: WorkItem, message: PortalMessage, owner: str) -> None:
        # The portal could not take a message of ours (26 refused, 31 general error): there is
        # nothing to answer; the AppRec says we have it, and operators see it in the log.
        with self.store.transaction() as conn:
            self.out.acknowledge(conn, message, self.clock())
            self.store.inbox.complete(conn, item.id, owner)
        log.warning("the portal refused a message", msg_id=message.msg_id, code=message.code,
                    refers_to=message.conversation.parent if message.conversation else None)

    def _digital_status(self, item: WorkItem, message: PortalMessage, owner: str) -> None:
        patient = present(message.patient, "Patient")
        active = present(message.digital_status, "the digital status") is DigitalStatus.ACTIVE
        now = self.clock()
        update = DigitalStatusUpdate(national_id=patient.id, active=active,
                                     since=to_oslo(message.generated_at).date())
        with self.store.transaction() as conn:
            self.out.acknowledge(conn, message, now)
            self.store.citizens.set_active(conn, self.m.her_id, patient.id, active, now, "SDAB")
            self.store.outbox.add(conn, municipality=self.m.her_id, kind=jobs.EPJ_DIGITAL_STATUS,
                                  key=f"status:{message.msg_id}",
                                  payload=update.model_dump_json().encode(), meta={})
            if active:
                jobs.enqueue_first_read(self.store, conn, municipality=self.m.her_id,
                                        citizen_id=patient.id)
            self.store.inbox.complete(conn, item.id, owner)


def present(value: _T | None, what: str) -> _T:
    """``value``, which the codec's profile guarantees for this function; refused if absent."""
    if value is None:
        raise SchemaViolation(f"{what} is missing")
    return value
