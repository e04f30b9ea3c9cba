"""Profil's control API (:class:`~digidialog.testing.harness.ConformanceHarness`): the mock,
the push endpoint digidialog hosts, adapters pointed at both, and the levers.

Profil tells us what changed by pushing NotifyEvent, so the harness starts the
push endpoint (with its own event store in a temporary folder) beside the mock
and points the mock's pushes at it, with the credentials Profil would be
configured with. The levers change the mock's state the way staff would, and
the mock pushes the events; the adapter's ``changes`` reads what was stored
(``settings().options["event_store"]``). The conformance suite, ``digidialog
mock-epj`` and the ``mock_epj`` fixture reach it through the
``digidialog.mocks`` entry point (:mod:`.plugin`).

What Profil's contract can carry of a visit, and so what the adapter reports:

- one ``Employee`` per visit (:attr:`ProfilHarness.employees_kept` is 1);
- ``CancelledBy`` is ``Client`` or ``Provider``: a visit the citizen was not at
  home for is cancelled by the provider (``by_service``), one cancelled on the
  client's behalf by the client (``by_citizen``);
- a planned series is one Visit with a structured ``Recurrence`` {Frequency,
  Interval, ByDay*, Until}: no COUNT, no exceptions, so **paused dates are not
  carried** (the paused occurrences are still shown), and ``Until`` is
  required: a series seeded without one is held until a year after its start,
  as a work plan would be (:meth:`ProfilHarness.expected_planned` says so);
- staff's levers push what Profil pushes: a visit seeded with ``announce``,
  moved or cancelled is ``VisitChanged`` (a visit seeded done: ``VisitDone``);
  each visit of a cancellation decided is a ``CancellationDecision``, which the
  adapter answers once per request.
"""

from __future__ import annotations

import random
import shutil
import tempfile
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from digidialog.adapters.registry import AdapterSettings
from digidialog.adapters.soap import CallPolicy
from digidialog.domain import (
    Appointment,
    AppointmentStatus,
    CancellationReason,
    Frequency,
    Weekday,
)
from digidialog.domain.timezone import from_oslo_wall_clock
from digidialog.errors import DigidialogError
from digidialog.testing import levers
from digidialog.testing.harness import DeliveredMessage, ExpectedVisit
from digidialog.testing.readback import ReadBack
from digidialog.testing.seed import national_id
from digidialog_profil.adapter import ProfilAdapter
from digidialog_profil.faults import FINAL_FAULTS
from digidialog_profil.mock.server import ProfilMock
from digidialog_profil.mock.state import CANCELLED_BY, SERVICE_IDS, Visit
from digidialog_profil.push import NotifyEndpoint, PushServer
from digidialog_profil.store import EventStore

PUSH_USER = "profil-push"
PUSH_PASSWORD = "push-secret"  # noqa: S105 - a test credential
OPEN = SERVICE_IDS["HSP"]
SECOND_OPEN = SERVICE_IDS["PB"]
MESSAGE_TYPES = {"answer": "Reply", "dialog": "Dialog", "notice": "Notice",
                 "closing": "Closing"}
"""The contract's MessageType for each kind (written out here, not taken from the
adapter, so the suite checks the adapter's reading of them)."""
STATES = {AppointmentStatus.PLANNED: 0, AppointmentStatus.ASSIGNED: 1,
          AppointmentStatus.COMPLETED: 2, AppointmentStatus.CANCELLED: 3}


def oslo(year: int, month: int, day: int, hour: int, minute: int = 0, *,
         first: bool = True) -> datetime:
    """An Oslo wall-clock time as an instant (``first``: the first pass of a repeated hour)."""
    wall_clock = datetime(year, month, day, hour, minute)  # noqa: DTZ001 - made an instant below
    return from_oslo_wall_clock(wall_clock, first_occurrence=first)


class ProfilHarness:
    """Profil's mock, the NotifyEvent endpoint and adapters, for the conformance suite."""

    vendor = "profil"
    page_size = 25
    retriable_fault = None
    busy_retry_after = True
    employees_kept = 1  # one Employee per Visit
    cancellation_reasons = levers.CITIZEN_OR_SERVICE  # CancelledBy Client | Provider

    def __init__(self, *, seed_citizens: int = 3, first_day: date | None = None) -> None:
        """A mock with ``seed_citizens`` seeded clients, their visits around ``first_day``."""
        self.final_faults: dict[str, type[DigidialogError]] = dict(FINAL_FAULTS)
        self.mock = ProfilMock(seed_citizens=seed_citizens, page_size=self.page_size,
                               first_day=first_day)
        self.folder: Path | None = None
        self.push_store: EventStore | None = None
        self.push: PushServer | None = None
        self._adapters: list[ProfilAdapter] = []
        self._read_back = ReadBack(self.adapter)
        self._rng = random.Random(2026)  # noqa: S311 - test identities, not secrets
        self._planned: dict[str, Appointment] = {}

    @property
    def store_path(self) -> Path:
        """The event store the push endpoint writes and the adapters' feeds read."""
        if self.folder is None:
            raise RuntimeError("the harness is not started")
        return self.folder / "events.sqlite3"

    def start(self, *, host: str = "127.0.0.1", port: int = 0) -> None:
        """Start the mock on ``host:port`` and the push endpoint beside it (owner-only
        temporary folder for its store), and point the mock's pushes at it."""
        self.folder = Path(tempfile.mkdtemp(prefix="profil-mock-"))
        self.mock.start(host=host, port=port)
        self.push_store = EventStore(self.store_path)
        self.push = PushServer(NotifyEndpoint(self.push_store, PUSH_USER, PUSH_PASSWORD),
                               host).start()
        self.mock.push_to(self.push.url, PUSH_USER, PUSH_PASSWORD, attempts=3, backoff=0.02)
        # Profil keeps what it could not push and resends it: whatever waits goes out now.
        self.mock.redeliver()

    def stop(self) -> None:
        """Stop everything and remove the temporary store."""
        for adapter in self._adapters:
            adapter.close()
        self._adapters.clear()
        self._read_back.forget()
        if self.push is not None:
            self.push.stop()
            self.push = None
        if self.push_store is not None:
            self.push_store.close()
            self.push_store = None
        self.mock.stop()
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

    @property
    def base_url(self) -> str:
        """The mock's ``{base}``."""
        return self.mock.base_url

    def settings(self, *, valid_credentials: bool = True) -> AdapterSettings:
        """Settings pointing an adapter at the mock and at the push endpoint's store."""
        return AdapterSettings(
            base_url=self.mock.base_url, username=self.mock.username,
            password=self.mock.password if valid_credentials else "wrong",
            options={"event_store": str(self.store_path)},
        )

    def adapter(self, *, valid_credentials: bool = True,
                policy: CallPolicy | None = None) -> ProfilAdapter:
        """A fresh adapter (closed when the harness stops)."""
        adapter = ProfilAdapter(self.settings(valid_credentials=valid_credentials),
                                policy=policy or CallPolicy(timeout=5.0, attempts=2,
                                                            backoff_initial=0.05))
        self._adapters.append(adapter)
        return adapter

    def open_service(self) -> str:
        """Hjemmesykepleie, ServiceId 1."""
        return str(OPEN)

    def second_open_service(self) -> str:
        """Praktisk bistand, ServiceId 2."""
        return str(SECOND_OPEN)

    def seed_citizens(self, count: int) -> list[str]:
        """New clients of both open services, with no visits."""
        made: list[str] = []
        while len(made) < count:
            ident = national_id(self._rng)
            if ident in self.mock.state.clients:
                continue
            with self.mock._lock:
                self.mock.state.add_client(ident, "Áilu Ŋuolla", [OPEN, SECOND_OPEN])
            made.append(ident)
        return made

    def _visit(self, citizen_id: str, start: datetime, end: datetime,
               service: int = OPEN) -> ExpectedVisit:
        with self.mock._lock:
            visit = self.mock.state.add_visit(citizen_id, service, 1, start.astimezone(UTC),
                                              end.astimezone(UTC), text="Besøk",
                                              employee="Ola Pleier")
        return ExpectedVisit(uid=str(visit.visit_id), start=visit.start, end=visit.end)

    def seed_visits(self, citizen_id: str, count: int, start: datetime) -> list[ExpectedVisit]:
        """``count`` assigned hour-long visits of the open service, one per hour."""
        return [self._visit(citizen_id, start + timedelta(hours=i),
                            start + timedelta(hours=i + 1)) for i in range(count)]

    def seed_dst_visits(self, citizen_id: str) -> list[ExpectedVisit]:
        """The repeated autumn hour on both passes, across it, and around the spring gap."""
        autumn, spring = (2026, 10, 25), (2026, 3, 29)
        return [
            # 02:15-02:45 on the first pass (summer time) and again on the second (winter time).
            self._visit(citizen_id, oslo(*autumn, 2, 15), oslo(*autumn, 2, 45)),
            self._visit(citizen_id, oslo(*autumn, 2, 15, first=False),
                        oslo(*autumn, 2, 45, first=False)),
            # From the first pass into the second: 02:30 CEST to 02:30 CET is one hour.
            self._visit(citizen_id, oslo(*autumn, 2, 30), oslo(*autumn, 2, 30, first=False)),
            # 01:30 to 03:30 on the spring morning is one hour: 02:00-03:00 never happens.
            self._visit(citizen_id, oslo(*spring, 1, 30), oslo(*spring, 3, 30)),
            self._visit(citizen_id, oslo(*spring, 1, 0), oslo(*spring, 1, 59)),
            self._visit(citizen_id, oslo(*spring, 3, 0), oslo(*spring, 4, 0)),
        ]

    def seed_visit(self, citizen_id: str, *, status: AppointmentStatus, start: datetime,
                   end: datetime, service_code: str | None = None, employees: Sequence[str] = (),
                   text: str | None = None, cancelled_by: CancellationReason | None = None,
                   done_at: datetime | None = None, announce: bool = True) -> str:
        """One Visit in any State (its VisitId returned); announced by VisitChanged
        (VisitDone for one done)."""
        self._known(citizen_id)
        wanted = levers.seeded_visit(
            "new", status=status, start=start, end=end,
            service_code=service_code or self.open_service(), employees=employees, text=text,
            cancelled_by=cancelled_by, done_at=done_at)
        reason = wanted.cancellation_reason
        visit = self.mock.add_visit(
            citizen_id, self._service(wanted.service_id or ""), STATES[wanted.status],
            wanted.start, wanted.end, announce=announce, text=text or "",
            employee=wanted.employees[0] if wanted.employees else None,
            done_at=wanted.completed_at,
            cancelled_by=None if reason is None else CANCELLED_BY[reason])
        return str(visit.visit_id)

    def seed_planned_series(self, citizen_id: str, *, service_code: str, start: datetime,
                            end: datetime, frequency: Frequency, by_day: Sequence[Weekday] = (),
                            interval: int = 1, until: date | None = None,
                            paused: Sequence[datetime] = (), text: str | None = None,
                            announce: bool = True) -> str:
        """One State 0 Visit with a Recurrence: paused dates are lost, Until is required
        (a year after ``start`` when not given)."""
        self._known(citizen_id)
        recurrence = levers.planned_series(frequency=frequency, start=start, by_day=by_day,
                                           interval=interval, until=until, paused=paused)
        held = recurrence.model_copy(update={"paused": (),
                                             "until": until or levers.year_after(start)})
        visit = self.mock.add_visit(
            citizen_id, self._service(service_code), STATES[AppointmentStatus.PLANNED],
            start.astimezone(UTC), end.astimezone(UTC), announce=announce, text=text or "",
            recurrence=held)
        uid = str(visit.visit_id)
        self._planned[uid] = Appointment(uid=uid, status=AppointmentStatus.PLANNED,
                                         start=start, end=end, service_id=service_code,
                                         recurrence=held, description=text)
        return uid

    def expected_planned(self, citizen_id: str, uid: str) -> list[Appointment]:
        """The series with its Recurrence as Profil holds it (Until always, no paused dates);
        Profil's Visit names no service, so the adapter gives no service name."""
        self._owned(citizen_id, uid)
        if uid not in self._planned:
            raise LookupError("seed_planned_series did not make that uid")
        return [self._planned[uid]]

    def visits(self, citizen_id: str) -> list[Appointment]:
        """GetVisits over every visit Profil holds for the client, all pages."""
        with self.mock._lock:
            held = [(v.start, v.end) for v in self.mock.state.visits.values()
                    if v.national_id == citizen_id]
        return self._read_back.visits(citizen_id, held)

    def _known(self, citizen_id: str) -> None:
        if citizen_id not in self.mock.state.clients:
            raise LookupError("Profil does not know the client: seed_citizens first")

    def _service(self, code: str) -> int:
        if not code.isdigit() or int(code) not in self.mock.state.services:
            raise LookupError("Profil has no service with that ServiceId")
        return int(code)

    def _owned(self, citizen_id: str, uid: str) -> Visit:
        visit = self.mock.state.visits.get(int(uid)) if uid.isdigit() else None
        if visit is None or visit.national_id != citizen_id:
            raise LookupError("Profil holds no such visit for the client")
        return visit

    def change_visit(self, citizen_id: str, uid: str, *, start: datetime, end: datetime
                     ) -> None:
        """Staff move the visit (WindowStart/WindowEnd); Profil pushes VisitChanged."""
        visit = self._owned(citizen_id, uid)
        if end < start:
            raise ValueError("end is before start")
        with self.mock._lock:
            visit.start, visit.end = start.astimezone(UTC), end.astimezone(UTC)
        self.mock.change_visit(visit)

    def cancel_visit(self, citizen_id: str, uid: str, *,
                     reason: CancellationReason = CancellationReason.BY_SERVICE) -> None:
        """Staff cancel the visit (State 3, CancelledBy Provider, or Client for the client's
        reasons); Profil pushes VisitChanged."""
        visit = self._owned(citizen_id, uid)
        with self.mock._lock:
            visit.state, visit.cancelled_by = 3, CANCELLED_BY[CancellationReason(reason)]
            visit.recurrence = visit.employee = visit.done_at = None
        self.mock.change_visit(visit)

    def complete_visit(self, citizen_id: str, uid: str) -> None:
        """Staff register the visit done; Profil pushes VisitDone."""
        self.mock.complete_visit(int(uid))

    def write_staff_message(self, citizen_id: str, text: str, *,
                            service_code: str | None = None, subject: str | None = None,
                            thread_id: str | None = None, in_reply_to: str | None = None,
                            interim: bool = False, kind: str | None = None) -> str:
        """Staff write to the citizen (ThreadExternalId and InReplyTo are our ids); Profil
        pushes OutboxMessage. Returns the MessageId."""
        if service_code is None:
            client = self.mock.state.client(citizen_id)
            service_id = next((s for s in client.service_ids
                               if self.mock.state.services[s].enabled), client.service_ids[0])
        else:
            service_id = int(service_code)
        return str(self.mock.write_staff_message(
            citizen_id, service_id, text, subject=subject or "Nøkkelboks", thread=thread_id,
            in_reply_to=in_reply_to, interim=interim,
            message_type=None if kind is None else MESSAGE_TYPES[kind]))

    def decide_cancellations(self, accept: bool) -> None:
        """Staff decide every pending cancellation; Profil pushes one decision per visit."""
        self.mock.decide_cancellations(accept, comment=None if accept else "Kan ikke avlyses")

    def decide_cancellation(self, request_id: str, accept: bool, comment: str | None = None
                            ) -> None:
        """Staff decide every visit of one of our requests (its CancelVisit calls); Profil
        pushes one CancellationDecision per visit, and the adapter answers the request once.

        A request the adapter expanded into no CancelVisit (an empty period) was answered
        by the adapter at once: there is nothing to decide. A request registered by an
        adapter with an event store of its own (a daemon's) is known by its CancelVisit
        calls alone.
        """
        if self.push_store is None:
            raise RuntimeError("the harness is not started")
        if self.push_store.planned(request_id) is None and not self.cancellations(request_id):
            raise LookupError("no cancellation was registered under that id")
        self.mock.decide_cancellations(accept, comment, request_id=request_id)

    def delivered(self, message_id: str) -> list[str]:
        """Bodies Profil holds under our ExternalId (at most one: it is idempotent)."""
        entry = self.mock.state.inbox.get(message_id)
        return [] if entry is None else [entry.body]

    def delivered_messages(self) -> list[DeliveredMessage]:
        """Every message PostInboxMessage stored, in the order Profil received them."""
        return [
            DeliveredMessage(
                message_id=m.external_id, thread_id=m.thread_external_id or None,
                in_reply_to=m.in_reply_to, citizen_id=m.national_id,
                service_code=str(m.service_id), subject=m.subject or None, text=m.body,
                on_behalf_of_id=m.on_behalf_of[0] if m.on_behalf_of else None,
                on_behalf_of_name=m.on_behalf_of[1] if m.on_behalf_of else None,
                epj_reference=str(m.message_id),
            )
            for m in self.mock.delivered_messages()
        ]

    def cancellations(self, request_id: str) -> int:
        """CancelVisit calls Profil holds for our request (one ExternalId per visit)."""
        prefix = f"{request_id}:"
        return sum(1 for key in self.mock.state.cancellations if key.startswith(prefix))

    def digitally_active(self, citizen_id: str) -> bool:
        """The DigitallyActive flag Profil holds."""
        return bool(self.mock.state.clients[citizen_id].active)
