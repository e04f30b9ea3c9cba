"""What the Profil mock remembers: services, clients, visits, inbox, outbox, cancellations.

Plain data and the rules Profil applies to it, with no XML: the wire side is
:mod:`digidialog_profil.mock.server`. Times are kept as UTC instants; the wire side
turns them into Oslo wall-clock text with ``isDst``. Rule violations raise
:class:`MockFault` with Profil's subcode.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from digidialog.domain import Appointment, AppointmentStatus, CancellationReason, Recurrence
from digidialog.domain.timezone import OSLO
from digidialog.testing.seed import SERVICES, SeedCitizen

SERVICE_IDS = {"HSP": 1, "PB": 2, "TRYGG": 3}
"""The seed's service codes and the numeric ServiceIds the mock gives them."""

_STATES = {AppointmentStatus.PLANNED: 0, AppointmentStatus.ASSIGNED: 1,
           AppointmentStatus.COMPLETED: 2, AppointmentStatus.CANCELLED: 3}
CANCELLED_BY = {CancellationReason.BY_CITIZEN: "Client",
                 CancellationReason.ON_BEHALF_OF_CITIZEN: "Client",
                 CancellationReason.BY_SERVICE: "Provider",
                 CancellationReason.NOT_AT_HOME: "Provider"}
"""Profil's CancelledBy for each reason: it tells only the client from the provider."""


class MockFault(Exception):
    """A request Profil refuses, with its subcode (NotFound, NotEnabled, Invalid, ...)."""

    def __init__(self, subcode: str, reason: str) -> None:
        super().__init__(reason)
        self.subcode = subcode
        self.reason = reason


def now() -> datetime:
    """The current instant, to the second (Profil keeps no fractions)."""
    return datetime.now(UTC).replace(microsecond=0)


@dataclass
class Service:
    """A service and whether it is open for digital dialog."""

    service_id: int
    name: str
    enabled: bool


@dataclass
class Client:
    """A citizen receiving services, with Profil's internal ClientId."""

    client_id: int
    national_id: str
    full_name: str
    service_ids: list[int]
    active: bool = False
    active_from: date | None = None


@dataclass
class Visit:
    """A visit (or a planned series) as Profil stores it."""

    visit_id: int
    national_id: str
    service_id: int
    state: int
    start: datetime
    end: datetime
    text: str = ""
    recurrence: Recurrence | None = None
    employee: str | None = None
    done_at: datetime | None = None
    cancelled_by: str | None = None
    last_modified: datetime = field(default_factory=now)


@dataclass
class InboxEntry:
    """A citizen's message posted into Profil."""

    message_id: int
    external_id: str
    thread_external_id: str
    in_reply_to: str | None
    service_id: int
    national_id: str
    subject: str
    body: str
    sent_at: datetime
    on_behalf_of: tuple[str, str] | None


@dataclass
class OutboxEntry:
    """A message written by staff, handed out until acked."""

    message_id: int
    service_id: int
    national_id: str
    subject: str
    body: str
    author: str
    sent_at: datetime
    thread_external_id: str | None = None
    in_reply_to: str | None = None
    interim: bool = False
    message_type: str | None = None
    """MessageType (Reply, Dialog, Notice, Closing), or None to leave it out."""
    acked: bool = False


@dataclass
class CancelEntry:
    """One CancelVisit, by its ExternalId, and what staff decided."""

    external_id: str
    visit_id: int
    reason: str | None
    requested_by: tuple[str, str] | None
    status: str = "Pending"


class ProfilState:
    """The mock's data and Profil's rules for it."""

    def __init__(self) -> None:
        self.services = {SERVICE_IDS[s.code]: Service(SERVICE_IDS[s.code], s.name,
                                                      s.open_for_dialog) for s in SERVICES}
        self.clients: dict[str, Client] = {}
        self.visits: dict[int, Visit] = {}
        self.inbox: dict[str, InboxEntry] = {}
        self.outbox: dict[int, OutboxEntry] = {}
        self.cancellations: dict[str, CancelEntry] = {}
        self._client_ids = itertools.count(1001)
        self._visit_ids = itertools.count(500_001)
        self._message_ids = itertools.count(9_000_001)

    # ------------------------------------------------------------ seeding

    def seed(self, citizens: list[SeedCitizen]) -> None:
        """Store seed citizens and their visits in Profil's shape."""
        for citizen in citizens:
            self.add_client(citizen.national_id, citizen.full_name,
                            [SERVICE_IDS[c] for c in citizen.service_codes],
                            active=citizen.digitally_active)
            for appointment in citizen.visits:
                self.add_appointment(citizen.national_id, appointment)

    def add_client(self, national_id: str, full_name: str, service_ids: list[int], *,
                   active: bool = False) -> Client:
        """A new client (or the existing one with that national id)."""
        if national_id not in self.clients:
            self.clients[national_id] = Client(next(self._client_ids), national_id, full_name,
                                               service_ids, active)
        return self.clients[national_id]

    def add_visit(self, national_id: str, service_id: int, state: int, start: datetime,
                  end: datetime, *, text: str = "", recurrence: Recurrence | None = None,
                  employee: str | None = None, done_at: datetime | None = None,
                  cancelled_by: str | None = None) -> Visit:
        """A new visit with the next VisitId."""
        visit = Visit(next(self._visit_ids), national_id, service_id, state, start, end, text,
                      recurrence, employee, done_at, cancelled_by)
        self.visits[visit.visit_id] = visit
        return visit

    def add_appointment(self, national_id: str, appointment: Appointment) -> Visit:
        """A domain appointment stored as a Profil visit (the seed's shape)."""
        return self.add_visit(
            national_id, SERVICE_IDS[appointment.service_id or "HSP"],
            _STATES[appointment.status], appointment.start, appointment.end,
            text=appointment.description or "", recurrence=appointment.recurrence,
            employee=appointment.employees[0] if appointment.employees else None,
            done_at=appointment.completed_at,
            cancelled_by=CANCELLED_BY.get(appointment.cancellation_reason)
            if appointment.cancellation_reason else None,
        )

    # ------------------------------------------------------------ the operations' rules

    def client(self, national_id: str) -> Client:
        """The client with this national id, or NotFound."""
        found = self.clients.get(national_id)
        if found is None:
            raise MockFault("NotFound", "no client with that NationalId")
        return found

    def visit(self, visit_id: int) -> Visit:
        """The visit with this id, or NotFound."""
        found = self.visits.get(visit_id)
        if found is None:
            raise MockFault("NotFound", "no visit with that VisitId")
        return found

    def clients_of(self, service_id: int | None) -> list[Client]:
        """Every client, or those receiving one service, by ClientId."""
        if service_id is not None and service_id not in self.services:
            raise MockFault("NotFound", "no service with that ServiceId")
        return sorted((c for c in self.clients.values()
                       if service_id is None or service_id in c.service_ids),
                      key=lambda c: c.client_id)

    def visits_between(self, national_id: str, start: datetime, end: datetime) -> list[Visit]:
        """A client's visits overlapping ``[start, end)``; a series while it runs."""
        self.client(national_id)
        if end < start:
            raise MockFault("Invalid", "To is before From")
        found = []
        for visit in self.visits.values():
            if visit.national_id != national_id or visit.start >= end:
                continue
            series = visit.recurrence
            if series is not None and series.until is not None:
                ends = datetime.combine(series.until + timedelta(days=1), time(0), tzinfo=OSLO)
            else:
                ends = visit.end
            if ends > start:
                found.append(visit)
        return sorted(found, key=lambda v: (v.start, v.visit_id))

    def post_inbox(self, entry: InboxEntry) -> int:
        """Store a citizen's message; a repeated ExternalId returns the first MessageId."""
        known = self.inbox.get(entry.external_id)
        if known is not None:
            return known.message_id
        client = self.client(entry.national_id)
        service = self.services.get(entry.service_id)
        if service is None:
            raise MockFault("NotFound", "no service with that ServiceId")
        if not service.enabled:
            raise MockFault("NotEnabled", "the service is not open for digital dialog")
        if entry.service_id not in client.service_ids:
            raise MockFault("Invalid", "the client does not receive that service")
        entry.message_id = next(self._message_ids)
        self.inbox[entry.external_id] = entry
        return entry.message_id

    def pending_outbox(self, max_count: int) -> list[OutboxEntry]:
        """Unacked outbox messages, oldest first: the same ones again until acked."""
        return [m for m in sorted(self.outbox.values(), key=lambda m: m.message_id)
                if not m.acked][:max_count]

    def ack(self, message_ids: list[int]) -> int:
        """Mark messages acked; the count of listed messages that are acked (repeat-safe)."""
        acked = 0
        for message_id in dict.fromkeys(message_ids):
            entry = self.outbox.get(message_id)
            if entry is not None:
                entry.acked = True
                acked += 1
        return acked

    def cancel(self, entry: CancelEntry) -> str:
        """Register a cancellation; a repeated ExternalId changes nothing."""
        if entry.external_id in self.cancellations:
            return "Pending"
        visit = self.visit(entry.visit_id)
        if visit.state in (2, 3):
            raise MockFault("Invalid", "the visit is already done or cancelled")
        self.cancellations[entry.external_id] = entry
        return "Pending"

    # ------------------------------------------------------------ what staff do

    def complete(self, visit_id: int, employee: str | None = None) -> Visit:
        """Register a visit done now."""
        visit = self.visit(visit_id)
        visit.state, visit.done_at, visit.recurrence = 2, now(), None
        visit.employee = employee or visit.employee or "Kari Sykepleier"
        visit.cancelled_by, visit.last_modified = None, now()
        return visit

    def write(self, national_id: str, service_id: int, body: str, *, subject: str = "",
              author: str = "Kari Sykepleier", thread: str | None = None,
              in_reply_to: str | None = None, interim: bool = False,
              message_type: str | None = None) -> OutboxEntry:
        """A staff message into the outbox (``message_type``: the MessageType to send)."""
        entry = OutboxEntry(next(self._message_ids), service_id, national_id, subject, body,
                            author, now(), thread, in_reply_to, interim, message_type)
        self.outbox[entry.message_id] = entry
        return entry

    def decide(self, accept: bool, request_id: str | None = None
               ) -> list[tuple[CancelEntry, Visit]]:
        """Decide every pending cancellation (or those of one of our requests: ExternalIds
        ``<request_id>:<VisitId>``); an accepted one cancels its visit."""
        decided = []
        prefix = None if request_id is None else f"{request_id}:"
        for entry in self.cancellations.values():
            if entry.status != "Pending" or (
                    prefix is not None and not entry.external_id.startswith(prefix)):
                continue
            entry.status = "Accepted" if accept else "Rejected"
            visit = self.visits[entry.visit_id]
            if accept and visit.state in (0, 1):
                visit.state, visit.cancelled_by, visit.recurrence = 3, "Client", None
                visit.last_modified = now()
            decided.append((entry, visit))
        return decided
