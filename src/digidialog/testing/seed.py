"""Realistic, deterministic seed data for the mock vendor endpoints.

Citizens with valid (synthetic) national ids and Norwegian and Sámi names,
the usual home services (two open for dialog, one not), recurring planned
visits, assigned visits with employees, done and cancelled visits, and staff
messages. Each mock stores these in its own vendor's shape.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from digidialog.domain import (
    Appointment,
    AppointmentStatus,
    CancellationReason,
    Frequency,
    Recurrence,
    Weekday,
)
from digidialog.domain.national_id import complete_national_id
from digidialog.domain.timezone import OSLO

GIVEN = ["Kari", "Ola", "Ingrid", "Per", "Áilu", "Sunniva", "Máret", "Nils", "Astrid", "Ánde",
         "Liv", "Bjørn", "Ragnhild", "Øystein", "Guðrun", "Jovnna"]
FAMILY = ["Hansen", "Johansen", "Olsen", "Larsen", "Ŋuolla", "Sara", "Bæivi", "Nilsen",
          "Haugen", "Eira", "Åsheim", "Østby", "Gaup", "Berg"]
EMPLOYEES = ["Ola Pleier", "Kari Sykepleier", "Mona Helsefagarbeider", "Ánte Ŋuolla"]


@dataclass(frozen=True)
class SeedService:
    """A service as a mock offers it."""

    code: str
    name: str
    open_for_dialog: bool


SERVICES = (
    SeedService("HSP", "Hjemmesykepleie", True),
    SeedService("PB", "Praktisk bistand", True),
    SeedService("TRYGG", "Trygghetsalarm", False),
)


@dataclass
class SeedCitizen:
    """A citizen with services, digital status and visits."""

    national_id: str
    given_name: str
    family_name: str
    service_codes: list[str]
    digitally_active: bool
    visits: list[Appointment] = field(default_factory=list)

    @property
    def full_name(self) -> str:
        """Given and family name."""
        return f"{self.given_name} {self.family_name}"


def national_id(rng: random.Random, *, d_number: bool = False) -> str:
    """A valid fødselsnummer (or D-number) for someone born 1925-1960."""
    while True:
        born = date(1925, 1, 1) + timedelta(days=rng.randrange(365 * 35))
        day = born.day + (40 if d_number else 0)
        individual = rng.randrange(0, 500)
        complete = complete_national_id(
            f"{day:02d}{born.month:02d}{born.year % 100:02d}{individual:03d}"
        )
        if complete is not None:
            return complete


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=OSLO)


def visits_for(
    rng: random.Random, citizen_id: str, first_day: date, prefix: str
) -> list[Appointment]:
    """A weekday series, two assigned visits, one done and one cancelled."""
    nurse = SERVICES[0]
    help_ = SERVICES[1]
    employees = tuple(rng.sample(EMPLOYEES, 2))
    tomorrow = first_day + timedelta(days=1)
    return [
        Appointment(
            uid=f"{prefix}-1", status=AppointmentStatus.PLANNED,
            start=_at(first_day, 8), end=_at(first_day, 10), service_id=nurse.code,
            service_name=nurse.name, expected_duration=timedelta(minutes=30),
            description="Morgenstell og medisiner",
            recurrence=Recurrence(frequency=Frequency.WEEKLY,
                                  by_day=(Weekday.MO, Weekday.TU, Weekday.WE, Weekday.TH,
                                          Weekday.FR),
                                  until=first_day + timedelta(days=90)),
        ),
        Appointment(
            uid=f"{prefix}-2", status=AppointmentStatus.ASSIGNED,
            start=_at(tomorrow, 8, 30), end=_at(tomorrow, 9), service_id=nurse.code,
            service_name=nurse.name, employees=employees, description="Sårstell",
        ),
        Appointment(
            uid=f"{prefix}-3", status=AppointmentStatus.ASSIGNED,
            start=_at(tomorrow, 13), end=_at(tomorrow, 14), service_id=help_.code,
            service_name=help_.name, employees=employees[:1], description="Rengjøring",
        ),
        Appointment(
            uid=f"{prefix}-4", status=AppointmentStatus.COMPLETED,
            start=_at(first_day - timedelta(days=1), 8, 30),
            end=_at(first_day - timedelta(days=1), 9),
            service_id=nurse.code, service_name=nurse.name, employees=employees[:1],
            description="Medisiner gitt",
            completed_at=_at(first_day - timedelta(days=1), 9, 2),
        ),
        Appointment(
            uid=f"{prefix}-5", status=AppointmentStatus.CANCELLED,
            start=_at(tomorrow + timedelta(days=1), 13), end=_at(tomorrow + timedelta(days=1), 14),
            service_id=help_.code, service_name=help_.name, description="Handling",
            cancellation_reason=CancellationReason.BY_SERVICE,
        ),
    ]


def citizens(count: int, *, seed: int = 4711, first_day: date | None = None) -> list[SeedCitizen]:
    """``count`` citizens, the same for the same ``seed``."""
    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    start = first_day or datetime.now(OSLO).date()
    made: list[SeedCitizen] = []
    seen: set[str] = set()
    while len(made) < count:
        ident = national_id(rng, d_number=len(made) % 7 == 6)
        if ident in seen:
            continue
        seen.add(ident)
        codes = ["HSP", "PB"] if len(made) % 3 else ["HSP", "PB", "TRYGG"]
        citizen = SeedCitizen(
            national_id=ident, given_name=rng.choice(GIVEN), family_name=rng.choice(FAMILY),
            service_codes=codes, digitally_active=len(made) % 4 != 3,
        )
        citizen.visits = visits_for(rng, ident, start, prefix=f"v{len(made) + 1}")
        made.append(citizen)
    return made
