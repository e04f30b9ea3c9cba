"""What the inbox cannot act on, answered as the protocol says, in one transaction each.

- a message the protection layer could not open: reported on the sender's
  ``_error`` queue and parked (:meth:`Unusable.unprotectable`);
- one that cannot be read, or is of a process we do not serve: reported on
  the error queue, or refused by AppRec when its MsgHead could be read
  (:meth:`Unusable.unreadable`);
- one whose HER-ids disagree, or that a municipality never receives: an AppRec
  with the error, or the refusal its process has (:meth:`Unusable.reject`,
  :meth:`Unusable.not_received`);
- a synchronous request (HentPlanlagteTimer) sent to the asynchronous queue:
  there is no reply address to answer it at, so the sender hears of it on its
  error queue (:meth:`Unusable.misrouted`).

Every path completes (or parks) the inbox item in the same transaction as the
answer it adds, so a crash before the commit answers it again, once.
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import Connection

from digidialog.errors import FatalError, NotWellFormed, RejectedInput, UnsupportedProcess
from digidialog.helsenorge import Party, PortalMessage
from digidialog.helsenorge.roles import NOT_RECEIVED_APPREC, refusal_route
from digidialog.log import get_logger
from digidialog.protection import protection_failure
from digidialog.store import WorkItem
from digidialog.sync import jobs, outgoing
from digidialog.sync.header import Header, peek_header
from digidialog.sync.portal_out import PortalOut
from digidialog.xml.safe import MAX_DOCUMENT_BYTES

log = get_logger("sync.inbound")

HER_ID_MISMATCH = "E10"
MISROUTED = "transport:unsupported-message"


class Unusable:
    """Answers the inbox items of one municipality that cannot be acted on."""

    def __init__(self, out: PortalOut) -> None:
        self.out = out
        self.store = out.store
        self.m = out.municipality

    def unprotectable(self, item: WorkItem, owner: str) -> bool:
        """A message the protection layer could not open: reported to its sender, and parked.

        Its meta carries the marker of :class:`~digidialog.protection.transport.ProtectedTransport`
        (the errorCondition and why); it is never decoded or processed. Retried from the dead
        letters, it is parked again: the sender, told by the report, sends it anew.
        """
        failure = protection_failure(item.meta)
        if failure is None:
            return False
        condition, description = failure
        sender = item.meta.get("from_her_id")
        with self.store.transaction() as conn:
            if sender:
                self._report(conn, item, condition, description)
            self.store.inbox.park(item.id, owner, conn=conn, reason=(
                f"{condition}: {description}" if sender
                else f"{condition} (no fromHerId to report to): {description}"))
        log.warning("unprotectable portal message reported and parked", condition=condition,
                    amqp_message_id=item.meta.get("message_id"), reported=bool(sender))
        return True

    def unreadable(self, item: WorkItem, error: RejectedInput, owner: str) -> None:
        """A message that could not be decoded: an AppRec with the error when its MsgHead can
        be read, else a report on the sender's error queue."""
        # A process (or a function in one) we do not serve has no agreement to answer it
        # under: like Helsenorge.Messaging, the transport's unsupported-message reports it.
        header = None if isinstance(error, UnsupportedProcess) else peek_header(item.payload)
        if header is not None:
            self.reject(item, header, error.apprec_code, str(error), owner)
            return
        condition = error_condition(error)
        self._report_and_complete(item, condition, str(error), owner)
        log.warning("unreadable portal message reported", condition=condition,
                    amqp_message_id=item.meta.get("message_id"), reason=str(error))

    def misrouted(self, item: WorkItem, message: PortalMessage, owner: str) -> None:
        """A synchronous request on the asynchronous queue: no reply address to answer at."""
        self._report_and_complete(
            item, MISROUTED, f"{message.function.value} is synchronous: send it to "
            f"{self.m.her_id}_sync with a reply-to address", owner)
        log.warning("synchronous request on the asynchronous queue reported",
                    msg_id=message.msg_id, function=message.function.value)

    def reject(self, item: WorkItem, header: Header, code: str, text: str, owner: str) -> None:
        """An AppRec with ``code``, in our own name, for a message whose MsgHead was read."""
        if self.m.her_id != header.receiver.her_ids[0]:
            # The MsgHead named another receiver: we answer, so we answer as ourselves.
            header = replace(header, receiver=Party(her_ids=(self.m.her_id,),
                                                    names=(self.m.name,)))
        receipt = outgoing.application_receipt(header, self.out.clock(), errors=((code, text),))
        with self.store.transaction() as conn:
            self.out.send(conn, f"apprec:{header.msg_id}", receipt)
            self.store.inbox.complete(conn, item.id, owner)
        log.warning("portal message rejected", msg_id=header.msg_id, code=code, reason=text)

    def not_received(self, item: WorkItem, message: PortalMessage, owner: str) -> None:
        """What only a service sends (a notice, a booking confirmation, an attest answer): the
        refusal its process has, a 26 in its thread after the AppRec, or else AppRec T10."""
        reason = f"{message.function.value} is not sent to a municipality"
        route = refusal_route(message.process)
        if route is None:
            self.reject(item, Header.of(message), NOT_RECEIVED_APPREC, reason, owner)
            return
        now = self.out.clock()
        with self.store.transaction() as conn:
            self.out.acknowledge(conn, message, now)
            self.out.send(conn, f"refusal:{message.msg_id}", outgoing.refusal(
                message, now, "Kommunen tar ikke imot denne typen melding.",
                process=route.process), message.patient.id if message.patient else None)
            self.store.inbox.complete(conn, item.id, owner)
        log.warning("portal message refused", msg_id=message.msg_id, code=route.code,
                    reason=reason)

    def _report_and_complete(self, item: WorkItem, condition: str, description: str,
                             owner: str) -> None:
        if not item.meta.get("from_her_id"):
            raise FatalError(f"{condition} with no fromHerId to report to: {description}")
        with self.store.transaction() as conn:
            self._report(conn, item, condition, description)
            self.store.inbox.complete(conn, item.id, owner)

    def _report(self, conn: Connection, item: WorkItem, condition: str, description: str) -> None:
        jobs.enqueue_error_report(
            self.store, conn, municipality=self.m.her_id, key=f"error:{item.key}",
            sender_her_id=str(item.meta["from_her_id"]), subject=item.meta.get("subject"),
            condition=condition, description=description,
            original_message_id=item.meta.get("message_id"))


def readable(item: WorkItem) -> bytes:
    """The stored body; refused when the receiver found it too large to keep."""
    size = item.meta.get(jobs.OVERSIZED)
    if size:
        raise NotWellFormed(f"document is {size} bytes; the limit is {MAX_DOCUMENT_BYTES}")
    return item.payload


def error_condition(error: RejectedInput) -> str:
    """The ``errorCondition`` that reports ``error`` on the sender's error queue."""
    if isinstance(error, UnsupportedProcess):
        return MISROUTED
    if error.apprec_code == "T01":
        return "transport:not-well-formed-xml"
    return "transport:invalid-field-value"


def her_id_problem(message: PortalMessage, meta: dict[str, object],
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
