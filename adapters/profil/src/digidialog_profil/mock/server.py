"""ProfilMock: a stateful fake of Profil's CitizenDialogService, on the wire as vendors.md says.

- ``POST {base}/CitizenDialogService``, SOAP 1.2, the operation named by the
  ``action`` parameter of the Content-Type and by the Body's element (they
  must agree); HTTP Basic, anything else HTTP 401;
- every request is validated against the Profil XSD (``p:Invalid`` if it
  breaks it), and so is every reply before it leaves (a broken reply is a bug
  in the mock and fails the test that caused it);
- Oslo wall-clock times with ``isDst`` in the repeated autumn hour, both
  ways; a local time in the skipped spring hour is answered ``p:Invalid``;
- GetVisits pages of ``page_size`` visits with a ContinuationToken bound to
  the query; the outbox handed out until acked; PostInboxMessage and
  CancelVisit idempotent on ExternalId;
- levers for what staff do (complete a visit, write a message, decide
  cancellations), each of which pushes a NotifyEvent to the configured URL
  with the configured credentials, resending until it gets HTTP 200 with
  ``Accepted = true`` (a bounded number of tries; what is left can be
  redelivered with :meth:`ProfilMock.redeliver`).

Every exchange (request and reply bytes, NotifyEvent included) is recorded in
:attr:`ProfilMock.exchanges`, for tests that check the wire itself.
"""

from __future__ import annotations

import hashlib
import uuid
from collections import deque
from datetime import date, datetime
from typing import Any

from lxml import etree
from werkzeug.wrappers import Request, Response

from digidialog.errors import DigidialogError
from digidialog.testing import seed
from digidialog.testing.mockbase import Fault, MockEpj
from digidialog.xml import safe
from digidialog_profil.faults import fault_code_of, fault_envelope, http_status_of
from digidialog_profil.mock import wire as wire_xml
from digidialog_profil.mock.push import EXCHANGES_KEPT, Exchange, Pusher, PushTarget
from digidialog_profil.mock.state import (
    CancelEntry,
    InboxEntry,
    MockFault,
    ProfilState,
    Visit,
    now,
)
from digidialog_profil.wire import (
    CONTENT_TYPE,
    OPERATIONS,
    SERVICE_PATH,
    SOAP_NS,
    action,
    schema_errors,
    tag,
)


class ProfilMock(MockEpj):
    """A stateful Profil CitizenDialogService that pushes NotifyEvent to a configured URL."""

    vendor = "profil"
    service_path = SERVICE_PATH

    def __init__(self, *, seed_citizens: int = 20, username: str = "digidialog",
                 password: str = "digidialog",  # noqa: S107 - the mock's documented default
                 page_size: int = 100,
                 first_day: date | None = None, validate_replies: bool = True) -> None:
        super().__init__(username=username, password=password)
        self.state = ProfilState()
        self.state.seed(seed.citizens(seed_citizens, first_day=first_day))
        self.page_size = page_size
        self.validate_replies = validate_replies
        self.exchanges: deque[Exchange] = deque(maxlen=EXCHANGES_KEPT)
        self.pusher = Pusher(self.exchanges)

    # ------------------------------------------------------------ MockEpj hooks

    def operation_of(self, request: Request) -> str:
        """The operation named by the ``action`` parameter of the Content-Type."""
        given = request.mimetype_params.get("action", "")
        return given.rpartition("/")[2] if given.startswith(action("")) else "unknown"

    def content_type(self) -> str:
        """SOAP 1.2's media type."""
        return CONTENT_TYPE

    def busy_response(self, fault: Fault) -> Response:
        """HTTP 503 with Retry-After and an ``env:Receiver``/``p:Busy`` fault."""
        response = self.fault_response("Busy", "Profil is busy; try again later")
        if fault.retry_after is not None:
            response.headers["Retry-After"] = str(fault.retry_after)
        return response

    def fault_response(self, code: str, message: str) -> Response:
        """An ``env:Fault`` with Subcode ``p:<code>``."""
        return Response(fault_envelope(fault_code_of(code), code, message),
                        status=http_status_of(code), content_type=CONTENT_TYPE)

    def handle(self, request: Request, operation: str) -> Response:
        """Authenticate, check and validate the request, run the operation, validate the reply."""
        auth = request.authorization
        if auth is None or (auth.username, auth.password) != (self.username, self.password):
            return Response("Unauthorized", status=401, content_type="text/plain",
                            headers={"WWW-Authenticate": 'Basic realm="Profil"'})
        body = request.get_data()
        try:
            element = self._request_element(request, body, operation)
            reply = getattr(self, f"_{operation}")(element)
        except MockFault as fault:
            response = self.fault_response(fault.subcode, fault.reason)
            self.exchanges.append(Exchange(operation, body, response.get_data(),
                                           response.status_code, request.content_type or ""))
            return response
        if self.validate_replies:
            problems = schema_errors(reply)
            if problems:
                raise RuntimeError(f"the mock's {operation} reply breaks the XSD: {problems}")
        data = wire_xml.envelope(reply)
        self.exchanges.append(Exchange(operation, body, data, 200, request.content_type or ""))
        return Response(data, status=200, content_type=CONTENT_TYPE)

    def _request_element(self, request: Request, body: bytes, operation: str) -> etree._Element:
        if request.mimetype != "application/soap+xml":
            raise MockFault("Invalid", "Profil speaks SOAP 1.2 (application/soap+xml)")
        if operation not in OPERATIONS:
            raise MockFault("Invalid", "the action names no CitizenDialog operation")
        try:
            envelope = safe.parse(body)
        except DigidialogError:
            raise MockFault("Invalid", "the request is not well-formed XML") from None
        soap_body = envelope.find(f"{{{SOAP_NS}}}Body")
        if envelope.tag != f"{{{SOAP_NS}}}Envelope" or soap_body is None or len(soap_body) != 1:
            raise MockFault("Invalid", "expected a SOAP 1.2 Envelope with one Body element")
        element = soap_body[0]
        if element.tag != tag(operation):
            raise MockFault("Invalid", "the Body does not hold the operation the action names")
        problems = schema_errors(element)
        if problems:
            raise MockFault("Invalid", "the request breaks the schema: " + "; ".join(problems))
        return element

    # ------------------------------------------------------------ operations

    def _GetServices(self, _: etree._Element) -> etree._Element:  # noqa: N802 - wire names
        return wire_xml.services(self.state.services.values())

    def _GetClients(self, request: etree._Element) -> etree._Element:  # noqa: N802
        service = request.findtext(tag("ServiceId"))
        return wire_xml.clients(self.state.clients_of(None if service is None else int(service)))

    def _SetDigitalStatus(self, request: etree._Element) -> etree._Element:  # noqa: N802
        updated = 0
        for status in request.iterfind(tag("ClientStatus")):
            client = self.state.clients.get(status.findtext(tag("NationalId")) or "")
            if client is not None:
                client.active = status.findtext(tag("Active")) in ("true", "1")
                client.active_from = date.fromisoformat(status.findtext(tag("ActiveFrom")) or "")
                updated += 1
        return wire_xml.number("SetDigitalStatusResponse", "Updated", updated)

    def _GetVisits(self, request: etree._Element) -> etree._Element:  # noqa: N802
        national_id = request.findtext(tag("NationalId")) or ""
        start, end = wire_xml.instant(request, "From"), wire_xml.instant(request, "To")
        query = f"{national_id}|{start.isoformat()}|{end.isoformat()}"
        binding = hashlib.sha256(query.encode()).hexdigest()[:16]
        offset = 0
        token = request.findtext(tag("ContinuationToken"))
        if token is not None:
            given, _, bound = token.partition(".")
            if bound != binding or not given.isdigit():
                raise MockFault("Invalid", "the ContinuationToken belongs to another query")
            offset = int(given)
        visits = self.state.visits_between(national_id, start, end)
        page = visits[offset:offset + self.page_size]
        following = offset + len(page)
        next_token = f"{following}.{binding}" if following < len(visits) else None
        return wire_xml.visits_page(page, next_token)

    def _GetVisit(self, request: etree._Element) -> etree._Element:  # noqa: N802
        visit = self.state.visit(int(request.findtext(tag("VisitId")) or 0))
        return wire_xml.single_visit(visit)

    def _PostInboxMessage(self, request: etree._Element) -> etree._Element:  # noqa: N802
        message = request[0]
        behalf = message.find(tag("OnBehalfOf"))
        entry = InboxEntry(
            message_id=0,
            external_id=message.findtext(tag("ExternalId")) or "",
            thread_external_id=message.findtext(tag("ThreadExternalId")) or "",
            in_reply_to=message.findtext(tag("InReplyTo")),
            service_id=int(message.findtext(tag("ServiceId")) or 0),
            national_id=message.findtext(tag("NationalId")) or "",
            subject=message.findtext(tag("Subject")) or "",
            body=message.findtext(tag("Body")) or "",
            sent_at=wire_xml.instant(message, "SentAt"),
            on_behalf_of=None if behalf is None else wire_xml.person(behalf),
        )
        message_id = self.state.post_inbox(entry)
        return wire_xml.number("PostInboxMessageResponse", "MessageId", message_id)

    def _GetOutboxMessages(self, request: etree._Element) -> etree._Element:  # noqa: N802
        count = int(request.findtext(tag("MaxCount")) or 1)
        return wire_xml.outbox(self.state.pending_outbox(count))

    def _AckOutboxMessages(self, request: etree._Element) -> etree._Element:  # noqa: N802
        ids = [int(e.text or 0) for e in request.iterfind(tag("MessageId"))]
        return wire_xml.number("AckOutboxMessagesResponse", "Acked", self.state.ack(ids))

    def _CancelVisit(self, request: etree._Element) -> etree._Element:  # noqa: N802
        by = request.find(tag("RequestedBy"))
        status = self.state.cancel(CancelEntry(
            external_id=request.findtext(tag("ExternalId")) or "",
            visit_id=int(request.findtext(tag("VisitId")) or 0),
            reason=request.findtext(tag("Reason")),
            requested_by=None if by is None else wire_xml.person(by),
        ))
        return wire_xml.text_reply("CancelVisitResponse", "Status", status)

    # ------------------------------------------------------------ what staff do (levers)

    def complete_visit(self, visit_id: int, employee: str | None = None) -> None:
        """Staff register a visit done; Profil pushes VisitDone."""
        with self._lock:
            visit = self.state.complete(visit_id, employee)
        self.notify("VisitDone", visit.national_id, visit_id=visit.visit_id)

    def change_visit(self, visit: Visit) -> None:
        """Staff changed a visit (already updated in :attr:`state`); Profil pushes VisitChanged."""
        with self._lock:
            visit.last_modified = now()
        self.notify("VisitChanged", visit.national_id, visit_id=visit.visit_id)

    def write_staff_message(self, national_id: str, service_id: int, body: str, *,
                            subject: str = "Melding fra tjenesten",
                            thread: str | None = None, in_reply_to: str | None = None,
                            interim: bool = False, message_type: str | None = None) -> int:
        """Staff write to a citizen; Profil pushes OutboxMessage. Returns the MessageId.

        ``message_type`` is the MessageType to send (Reply, Dialog, Notice,
        Closing), or None to send none.
        """
        with self._lock:
            entry = self.state.write(national_id, service_id, body, subject=subject,
                                     thread=thread, in_reply_to=in_reply_to, interim=interim,
                                     message_type=message_type)
        self.notify("OutboxMessage", national_id)
        return entry.message_id

    def add_visit(self, national_id: str, service_id: int, state: int, start: datetime,
                  end: datetime, *, announce: bool = False, **fields: Any) -> Visit:
        """Profil holds a new visit (``fields`` as :meth:`ProfilState.add_visit` takes them);
        with ``announce`` it pushes VisitChanged, or VisitDone for a visit already done."""
        with self._lock:
            visit = self.state.add_visit(national_id, service_id, state, start, end, **fields)
        if announce:
            self.notify("VisitDone" if visit.state == 2 else "VisitChanged", national_id,
                        visit_id=visit.visit_id)
        return visit

    def decide_cancellations(self, accept: bool, comment: str | None = None, *,
                             request_id: str | None = None) -> int:
        """Staff decide every pending cancellation (or those of one of our requests); one
        CancellationDecision per visit (and VisitChanged for each visit cancelled).
        Returns how many were decided."""
        with self._lock:
            decided = self.state.decide(accept, request_id)
        for _, visit in decided:
            self.notify("CancellationDecision", visit.national_id, visit_id=visit.visit_id,
                        accepted=accept, comment=comment)
            if accept:
                self.notify("VisitChanged", visit.national_id, visit_id=visit.visit_id)
        return len(decided)

    def delivered_messages(self) -> list[InboxEntry]:
        """Every message PostInboxMessage stored, in the order Profil received them."""
        with self._lock:
            return list(self.state.inbox.values())

    # ------------------------------------------------------------ push

    def push_to(self, url: str, username: str, password: str, *, attempts: int = 5,
                backoff: float = 0.2) -> None:
        """Where to push NotifyEvent, with which HTTP Basic credentials, how many tries."""
        self.pusher.target = PushTarget(url, username, password, attempts, backoff)

    @property
    def undelivered(self) -> list[tuple[str, bytes]]:
        """Events no try got through yet: (EventId, envelope), oldest first."""
        return self.pusher.undelivered

    def notify(self, event_type: str, national_id: str, *, visit_id: int | None = None,
               accepted: bool | None = None, comment: str | None = None) -> str:
        """Push one event now, resending until accepted or out of tries; returns its EventId."""
        event_id = str(uuid.uuid4())
        self.pusher.push(event_id, wire_xml.notify_event(
            event_id, event_type, now(), national_id, visit_id, accepted, comment))
        return event_id

    def redeliver(self) -> int:
        """Try every undelivered event again, in order; returns how many got through."""
        return self.pusher.redeliver()
