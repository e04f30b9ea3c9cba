"""Gerica's control API (:class:`~digidialog.testing.harness.ConformanceHarness`): the mock,
adapters pointed at it, and the levers staff would pull.

The conformance suite, ``digidialog mock-epj`` and the ``mock_epj`` fixture
reach it through the ``digidialog.mocks`` entry point (:mod:`.plugin`).
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta, timezone

from digidialog.adapters.registry import AdapterSettings
from digidialog.adapters.soap import CallPolicy
from digidialog.domain import Appointment, AppointmentStatus
from digidialog.errors import (
    AuthenticationFailed,
    DigidialogError,
    InvalidRequest,
    ServiceNotOpen,
    UnknownAppointment,
    UnknownCitizen,
)
from digidialog.testing import seed
from digidialog.testing.harness import DeliveredMessage, ExpectedVisit
from digidialog_gerica.adapter import GericaAdapter
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

    def __init__(self, *, seed_citizens: int = 0, first_day: date | None = None) -> None:
        """A mock with ``seed_citizens`` seeded citizens (none by default: each test seeds
        what it needs), their visits around ``first_day``."""
        self.mock = GericaMock(seed_citizens=seed_citizens, first_day=first_day)
        self._rng = random.Random(2026)  # noqa: S311 - test data
        self._adapters: list[GericaAdapter] = []
        self._visits = 0

    def start(self, *, host: str = "127.0.0.1", port: int = 0) -> None:
        """Serve the mock on ``host:port`` (0: any free port)."""
        self.mock.start(host=host, port=port)

    def stop(self) -> None:
        """Close every adapter made, then stop the mock."""
        for adapter in self._adapters:
            adapter.close()
        self._adapters.clear()
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
        self._visits += 1
        uid = f"H{self._visits:06d}"
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
