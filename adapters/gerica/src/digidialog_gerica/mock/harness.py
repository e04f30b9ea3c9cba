"""Gerica's control API (:class:`~digidialog.testing.harness.ConformanceHarness`): the mock,
adapters pointed at it, and the levers staff would pull.

The conformance suite, ``digidialog mock-epj`` and the ``mock_epj`` fixture
reach it through the ``digidialog.mocks`` entry point (:mod:`.plugin`).

What Gerica's contract can carry of a visit, and so what the adapter reports:

- one ``Ansatt`` per visit (:attr:`GericaHarness.employees_kept` is 1);
- ``AvlystAv`` is ``BRUKER`` or ``TJENESTE``: a visit the citizen was not at
  home for is cancelled by the service (``by_service``), one cancelled on the
  citizen's behalf by the citizen (``by_citizen``);
- a planned series is one Avtale whose ``Gjentakelse`` is an RRULE string, and
  nothing else: an RRULE has no EXDATE, so **paused dates are not carried**.
  The series is reported with its rule (UNTIL as given) and no paused dates,
  and the paused occurrences are still shown (:meth:`GericaHarness.expected_planned`);
- everything staff do is recorded in HentEndringer with the next Sekvens: a
  visit seeded with ``announce`` (a new Avtale), moved, cancelled or done.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date, datetime, timedelta, timezone

from digidialog.adapters.registry import AdapterSettings
from digidialog.adapters.soap import CallPolicy
from digidialog.domain import (
    Appointment,
    AppointmentStatus,
    CancellationReason,
    Frequency,
    Weekday,
)
from digidialog.errors import (
    AuthenticationFailed,
    DigidialogError,
    InvalidRequest,
    ServiceNotOpen,
    UnknownAppointment,
    UnknownCitizen,
)
from digidialog.testing import levers, seed
from digidialog.testing.harness import DeliveredMessage, ExpectedVisit
from digidialog.testing.readback import ReadBack
from digidialog_gerica.adapter import GericaAdapter
from digidialog_gerica.mock.records import Service, Visit
from digidialog_gerica.mock.seed import CANCELLED_BY_CODES
from digidialog_gerica.mock.server import GericaMock

SUMMER = timezone(timedelta(hours=2))
MELDINGSTYPE = {"answer": "SVAR", "dialog": "DIALOG", "notice": "ENGANGSKONTAKT",
                "closing": "AVSLUTNING"}
"""The contract's Meldingstype code for each kind (written out here, not taken from the
adapter, so the suite checks the adapter's reading of them)."""
WINTER = timezone(timedelta(hours=1))


class GericaHarness:
    """A GericaMock on a free port and adapters pointed at it."""

    vendor = "gerica"
    page_size = 500
    final_faults: dict[str, type[DigidialogError]] = {  # noqa: RUF012 - the harness protocol
        "UKJENT_MOTTAKER": UnknownCitizen,
        "UKJENT_AVTALE": UnknownAppointment,
        "TJENESTE_IKKE_APEN": ServiceNotOpen,
        "UGYLDIG_PERIODE": InvalidRequest,
        "IKKE_AUTORISERT": AuthenticationFailed,
    }
    retriable_fault = "MIDLERTIDIG_UTILGJENGELIG"
    busy_retry_after = False  # Gerica's busy answer is a fault without Retry-After
    employees_kept = 1  # one Ansatt per Avtale
    cancellation_reasons = levers.CITIZEN_OR_SERVICE  # AvlystAv BRUKER | TJENESTE

    def __init__(self, *, seed_citizens: int = 0, first_day: date | None = None) -> None:
        """A mock with ``seed_citizens`` seeded citizens (none by default: each test seeds
        what it needs), their visits around ``first_day``."""
        self.mock = GericaMock(seed_citizens=seed_citizens, first_day=first_day)
        self._rng = random.Random(2026)  # noqa: S311 - test data
        self._adapters: list[GericaAdapter] = []
        self._read_back = ReadBack(self.adapter)
        self._visits = 0
        self._planned: dict[str, Appointment] = {}

    def start(self, *, host: str = "127.0.0.1", port: int = 0) -> None:
        """Serve the mock on ``host:port`` (0: any free port)."""
        self.mock.start(host=host, port=port)

    def stop(self) -> None:
        """Close every adapter made, then stop the mock."""
        for adapter in self._adapters:
            adapter.close()
        self._adapters.clear()
        self._read_back.forget()
        self.mock.stop()

    @property
    def base_url(self) -> str:
        """The mock's ``{base}``."""
        return self.mock.base_url

    def settings(self, *, valid_credentials: bool = True) -> AdapterSettings:
        """The mock's URL and WS-Security credentials (or a wrong password)."""
        return AdapterSettings(
            base_url=self.mock.base_url, username=self.mock.username,
            password=self.mock.password if valid_credentials else "not-the-password",
        )

    def adapter(self, *, valid_credentials: bool = True, policy: CallPolicy | None = None
                ) -> GericaAdapter:
        """A fresh adapter, with the mock's credentials or a wrong password."""
        settings = self.settings(valid_credentials=valid_credentials)
        adapter = GericaAdapter(settings.base_url, settings.username or "",
                                settings.password or "", policy=policy)
        self._adapters.append(adapter)
        return adapter

    def open_service(self) -> str:
        """Hjemmesykepleie."""
        return "HSP"

    def second_open_service(self) -> str:
        """Praktisk bistand."""
        return "PB"

    def seed_citizens(self, count: int) -> list[str]:
        """New citizens receiving both open services (and no visits)."""
        made: list[str] = []
        while len(made) < count:
            national_id = seed.national_id(self._rng, d_number=len(made) % 5 == 4)
            if national_id in self.mock.state.citizens:
                continue
            name = f"{self._rng.choice(seed.GIVEN)} {self._rng.choice(seed.FAMILY)}"
            self.mock.add_citizen(national_id, name, ["HSP", "PB"])
            made.append(national_id)
        return made

    def _visit(self, citizen_id: str, start: datetime, end: datetime, service: str = "HSP"
               ) -> ExpectedVisit:
        uid = self._uid()
        self.mock.add_appointment(citizen_id, Appointment(
            uid=uid, status=AppointmentStatus.ASSIGNED, start=start, end=end,
            service_id=service, employees=("Kari Sykepleier",), description="Tilsyn",
        ))
        return ExpectedVisit(uid=uid, start=start, end=end)

    def seed_visits(self, citizen_id: str, count: int, start: datetime) -> list[ExpectedVisit]:
        """Assigned half-hour visits, one an hour from ``start``, alternating services."""
        return [
            self._visit(citizen_id, start + timedelta(hours=i),
                        start + timedelta(hours=i, minutes=30), ("HSP", "PB")[i % 2])
            for i in range(count)
        ]

    def seed_dst_visits(self, citizen_id: str) -> list[ExpectedVisit]:
        """The repeated autumn hour on both passes, one visit across it, and the spring gap."""
        return [
            # 2026-10-25: 02:00-03:00 happens twice in Oslo (+02:00, then +01:00).
            self._visit(citizen_id, datetime(2026, 10, 25, 2, 30, tzinfo=SUMMER),
                        datetime(2026, 10, 25, 2, 45, tzinfo=SUMMER)),
            self._visit(citizen_id, datetime(2026, 10, 25, 2, 30, tzinfo=WINTER),
                        datetime(2026, 10, 25, 2, 45, tzinfo=WINTER)),
            self._visit(citizen_id, datetime(2026, 10, 25, 2, 15, tzinfo=SUMMER),
                        datetime(2026, 10, 25, 2, 15, tzinfo=WINTER)),
            # 2026-03-29: 02:00-03:00 never happens; 01:30 to 03:30 lasts one hour.
            self._visit(citizen_id, datetime(2026, 3, 29, 1, 30, tzinfo=WINTER),
                        datetime(2026, 3, 29, 3, 30, tzinfo=SUMMER)),
            self._visit(citizen_id, datetime(2026, 3, 29, 3, 0, tzinfo=SUMMER),
                        datetime(2026, 3, 29, 3, 30, tzinfo=SUMMER)),
        ]

    def _uid(self) -> str:
        self._visits += 1
        return f"H{self._visits:06d}"

    def seed_visit(self, citizen_id: str, *, status: AppointmentStatus, start: datetime,
                   end: datetime, service_code: str | None = None, employees: Sequence[str] = (),
                   text: str | None = None, cancelled_by: CancellationReason | None = None,
                   done_at: datetime | None = None, announce: bool = True) -> str:
        """One Avtale in any Status (its AvtaleId returned), announced as a new Avtale."""
        self._known(citizen_id)
        appointment = levers.seeded_visit(
            self._uid(), status=status, start=start, end=end,
            service_code=self._service(service_code or self.open_service()).code,
            employees=employees, text=text, cancelled_by=cancelled_by, done_at=done_at)
        self.mock.add_appointment(citizen_id, appointment, announce=announce)
        return appointment.uid

    def seed_planned_series(self, citizen_id: str, *, service_code: str, start: datetime,
                            end: datetime, frequency: Frequency, by_day: Sequence[Weekday] = (),
                            interval: int = 1, until: date | None = None,
                            paused: Sequence[datetime] = (), text: str | None = None,
                            announce: bool = True) -> str:
        """One PLANLAGT Avtale with a Gjentakelse (an RRULE: the paused dates are lost)."""
        self._known(citizen_id)
        recurrence = levers.planned_series(frequency=frequency, start=start, by_day=by_day,
                                           interval=interval, until=until, paused=paused)
        service = self._service(service_code)
        appointment = Appointment(uid=self._uid(), status=AppointmentStatus.PLANNED,
                                  start=start, end=end, service_id=service_code,
                                  recurrence=recurrence, description=text)
        self.mock.add_appointment(citizen_id, appointment, announce=announce)
        self._planned[appointment.uid] = appointment.model_copy(update={
            "service_name": service.name,
            "recurrence": recurrence.model_copy(update={"paused": ()}),
        })
        return appointment.uid

    def expected_planned(self, citizen_id: str, uid: str) -> list[Appointment]:
        """The series with its rule and service name, without paused dates."""
        self._owned(citizen_id, uid)
        if uid not in self._planned:
            raise LookupError("seed_planned_series did not make that uid")
        return [self._planned[uid]]

    def visits(self, citizen_id: str) -> list[Appointment]:
        """HentAvtaler over every visit Gerica holds for the citizen."""
        with self.mock._lock:
            held = [(v.start, v.end) for v in self.mock.state.visits.values()
                    if v.citizen_id == citizen_id]
        return self._read_back.visits(citizen_id, held)

    def _known(self, citizen_id: str) -> None:
        if citizen_id not in self.mock.state.citizens:
            raise LookupError("Gerica does not know the citizen: seed_citizens first")

    def _service(self, code: str) -> Service:
        found = self.mock.state.services.get(code)
        if found is None:
            raise LookupError("Gerica has no service with that code")
        return found

    def _owned(self, citizen_id: str, uid: str) -> Visit:
        visit = self.mock.state.visits.get(uid)
        if visit is None or visit.citizen_id != citizen_id:
            raise LookupError("Gerica holds no such visit for the citizen")
        return visit

    def change_visit(self, citizen_id: str, uid: str, *, start: datetime, end: datetime
                     ) -> None:
        """Staff move the visit; HentEndringer records the Avtale with its new Start/Slutt."""
        self._owned(citizen_id, uid)
        if end < start:
            raise ValueError("end is before start")
        self.mock.change_visit(uid, start=start, end=end)

    def cancel_visit(self, citizen_id: str, uid: str, *,
                     reason: CancellationReason = CancellationReason.BY_SERVICE) -> None:
        """Staff cancel the visit (AVLYST, AvlystAv TJENESTE, or BRUKER for the citizen's
        reasons); HentEndringer records it."""
        self._owned(citizen_id, uid)
        self.mock.change_visit(uid, status="AVLYST",
                               cancelled_by=CANCELLED_BY_CODES[CancellationReason(reason)],
                               rule=None, employee=None, done_at=None)

    def complete_visit(self, citizen_id: str, uid: str) -> None:
        """Staff register the visit done in Gerica."""
        self.mock.complete_visit(uid)

    def write_staff_message(self, citizen_id: str, text: str, *,
                            service_code: str | None = None, subject: str | None = None,
                            thread_id: str | None = None, in_reply_to: str | None = None,
                            interim: bool = False, kind: str | None = None) -> str:
        """Staff write to the citizen (TradId and SvarPaMeldingId are our ids); the MeldingId."""
        return self.mock.write_staff_message(
            citizen_id, text, subject=subject or "Besøk i morgen", service_code=service_code,
            thread_id=thread_id, reply_to=in_reply_to, interim=interim,
            kind=None if kind is None else MELDINGSTYPE[kind])

    def decide_cancellations(self, accept: bool) -> None:
        """Staff decide every pending cancellation."""
        self.mock.decide_cancellations(accept)

    def decide_cancellation(self, request_id: str, accept: bool, comment: str | None = None
                            ) -> None:
        """Staff decide the Avbestilling under our AvbestillingId; one Avbestillingssvar."""
        try:
            self.mock.decide_cancellation(request_id, accept, comment)
        except KeyError:
            raise LookupError("Gerica holds no cancellation under that id") from None

    def delivered(self, message_id: str) -> list[str]:
        """Texts stored under our MeldingId."""
        return self.mock.delivered_texts(message_id)

    def delivered_messages(self) -> list[DeliveredMessage]:
        """Every Melding delivered by LeverMelding, in the order Gerica received them."""
        return [
            DeliveredMessage(
                message_id=m.melding_id, thread_id=m.thread_id, in_reply_to=m.reply_to,
                citizen_id=m.citizen_id, service_code=m.service_code, subject=m.subject or None,
                text=m.text,
                on_behalf_of_id=m.on_behalf_of.national_id if m.on_behalf_of else None,
                on_behalf_of_name=m.on_behalf_of.name if m.on_behalf_of else None,
                epj_reference=m.reference,
            )
            for m in self.mock.delivered_messages()
        ]

    def cancellations(self, request_id: str) -> int:
        """Cancellations stored under our AvbestillingId."""
        return self.mock.cancellation_count(request_id)

    def digitally_active(self, citizen_id: str) -> bool:
        """Gerica's DigitalAktiv for the citizen."""
        return self.mock.digitally_active(citizen_id)
