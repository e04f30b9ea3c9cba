"""What staff wrote in the EPJ, sent to the portal in the right thread.

The EPJ names threads and messages by the ids we gave it when we delivered
the citizen's message (thread root MsgId, MsgId), or by its own ids for what
staff started. :class:`StaffMessageRouter` finds the thread and the message
answered either way; a message in no known thread opens a new one (``DI``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from digidialog.domain.events import StaffMessage, StaffMessageKind
from digidialog.errors import FatalError
from digidialog.helsenorge import Conversation, Function, Patient, PortalMessage, decode
from digidialog.store import Link, Store
from digidialog.sync import jobs, outgoing
from digidialog.sync.context import Municipality, ServiceRoute
from digidialog.sync.directory import Directory


@dataclass(frozen=True)
class StaffDispatch:
    """A staff message made ready for the portal: the message and the thread it belongs to."""

    source: StaffMessage
    portal: PortalMessage
    route: ServiceRoute
    root: str
    opens_thread: bool


class StaffMessageRouter:
    """Turns a staff message into a portal message job.

    :meth:`prepare` reads (the store, the EPJ's directory) outside any write
    transaction; :meth:`record` writes inside the caller's.
    """

    def __init__(self, store: Store, municipality: Municipality, directory: Directory) -> None:
        self.store = store
        self.m = municipality
        self.directory = directory

    def prepare(self, message: StaffMessage, at: datetime) -> StaffDispatch:
        """Find the thread and the citizen, and build the portal message."""
        route = self.m.route_of(message.service_code)
        if route is None:
            raise FatalError(f"staff wrote in service {message.service_code!r}, which is not "
                             "open to digital dialog in the configuration")
        conversation, latest = self._conversation(message)
        patient = self._patient(message, latest)
        sender = self.m.service_party(route, self.directory.service_name(route.vendor_code))
        portal = outgoing.staff_message(message, sender=sender, receiver=self.m.portal_party,
                                        patient=patient, conversation=conversation, at=at)
        placed = portal.conversation
        root = placed.root if placed is not None else portal.msg_id
        return StaffDispatch(message, portal, route, root, opens_thread=placed is None)

    def record(self, conn: Connection, key: str, dispatch: StaffDispatch, at: datetime) -> None:
        """Add the send job and what the thread must remember (idempotent on ``key``)."""
        message = dispatch.source
        if dispatch.opens_thread:
            self.store.threads.open(conn, root=dispatch.root, municipality=self.m.her_id,
                                    service_code=dispatch.route.vendor_code,
                                    service_her_id=dispatch.route.her_id,
                                    citizen_id=message.citizen_id, opened_at=at,
                                    vendor_thread_id=message.thread_id
                                    or message.vendor_message_id)
        elif dispatch.portal.function is Function.THREAD_CLOSED:
            self.store.threads.close(conn, dispatch.root, at)
        else:
            self.store.threads.note_answer(conn, dispatch.root, at,
                                           interim=dispatch.portal.interim)
        self.store.links.add(conn, municipality=self.m.her_id, msg_id=dispatch.portal.msg_id,
                             vendor_id=message.vendor_message_id, thread_root=dispatch.root,
                             direction="out")
        jobs.enqueue_portal_message(self.store, conn, municipality=self.m.her_id, key=key,
                                    message=dispatch.portal, portal_her_id=self.m.portal_her_id,
                                    at=at, citizen_id=message.citizen_id)

    def _conversation(self, message: StaffMessage) -> tuple[Conversation | None, Link | None]:
        """The thread this message belongs to (``None`` when it starts one), and the
        citizen's latest message in it."""
        if not message.thread_id or message.resolved_kind is StaffMessageKind.NOTICE:
            return None, None
        thread = (self.store.threads.get(message.thread_id)
                  or self.store.threads.by_vendor_thread(self.m.her_id, message.thread_id))
        if thread is None:
            return None, None
        latest = self.store.links.latest_in_thread(thread.root, "in")
        parent = self._parent(message, thread.root, latest)
        return Conversation(parent=parent, root=thread.root), latest

    def _parent(self, message: StaffMessage, root: str, latest: Link | None) -> str:
        """The MsgId this answers: named by our id, by the EPJ's, or the latest from the citizen."""
        if message.in_reply_to:
            link = (self.store.links.by_msg_id(message.in_reply_to)
                    or self.store.links.by_vendor_id(self.m.her_id, message.in_reply_to))
            if link is not None and link.thread_root == root:
                return link.msg_id
        return latest.msg_id if latest is not None else root

    def _patient(self, message: StaffMessage, latest: Link | None) -> Patient:
        """The citizen as the portal knows them: from their latest message in the thread,
        else from the EPJ."""
        if latest is not None:
            stored = self.store.inbox.get_by_key(jobs.message_key(self.m.her_id, latest.msg_id))
            if stored is not None:
                patient = decode(stored.payload).patient
                if patient is not None and patient.id == message.citizen_id:
                    return patient
        record = self.directory.recipient(message.citizen_id, message.service_code)
        if record is None:
            raise FatalError("staff wrote to a citizen who does not receive the service")
        return outgoing.patient_named(record.national_id, record.name)
