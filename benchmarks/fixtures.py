"""The messages the benchmarks measure, built deterministically with the codec itself.

Two cases, chosen to bracket what the daemon handles all day:

- a typical eKontakt citizen message (``HE``): a few hundred characters of
  Norwegian text, written by a relative holding a proxy, so the message also
  carries a Pasientrelasjon document;
- a SvarPlanlagteTimer (TIMERESERVASJON ``01``) with 200 appointments, a mix
  of planned recurring visits (rrule and exdates), assigned visits with two
  employees and cancelled visits with their reasons.

Everything is derived from fixed ids and times, so every run measures the
same bytes. The bytes come from :func:`digidialog.helsenorge.codec.encode`,
so they are exactly what digidialog sends and receives.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from digidialog.domain import (
    OSLO,
    Appointment,
    AppointmentStatus,
    CancellationReason,
    Frequency,
    Recurrence,
    Relation,
    Weekday,
)
from digidialog.helsenorge.codec import encode
from digidialog.helsenorge.message import (
    Conversation,
    Function,
    Party,
    Patient,
    PortalMessage,
    Representative,
)

APPOINTMENT_COUNT = 200
"""How many appointments the SvarPlanlagteTimer case carries."""

EKONTAKT = "eKontakt citizen message"
PLANNED = f"SvarPlanlagteTimer ({APPOINTMENT_COUNT} appts)"

_GENERATED_AT = datetime(2025, 3, 3, 7, 45, 12, tzinfo=OSLO)
_FIRST_VISIT = datetime(2025, 3, 3, 8, 0, tzinfo=OSLO)
_CITIZEN_ID = "13116900216"
_PROXY_ID = "01018012371"
_HELSENORGE = Party(
    her_ids=("115851", "8093248"),
    names=("DIREKTORATET FOR E-HELSE", "Digitale innbyggertjenester"),
)
_MUNICIPALITY = Party(
    her_ids=("87688", "95316"),
    names=("Nordre Follo kommune", "Hjemmesykepleien, pleie og omsorg"),
)
_CITIZEN = Patient(id=_CITIZEN_ID, given_name="Line", family_name="Danser")

_CITIZEN_TEXT = (
    "Hei! Jeg skriver på vegne av min mor, som får hjemmesykepleie morgen og kveld. "
    "Neste uke skal hun på kontroll på Ahus tirsdag formiddag, og hun blir hentet av "
    "pasientreisen allerede klokken åtte. Kan morgenbesøket den dagen flyttes til "
    "klokken sju, slik at hun rekker å få medisinene og frokost før hun drar? "
    "Hun har også begynt å bli litt mer ustø på bena etter at hun fikk nye blodtrykks"
    "tabletter, så vi lurer på om fysioterapeuten kan se på om hun trenger rullator "
    "inne i leiligheten. Takk for god hjelp så langt, dere gjør en fantastisk jobb!"
)

_SERVICES = (
    ("9", "Hjemmesykepleie"),
    ("12", "Praktisk bistand"),
    ("31", "Trygghetsalarm og tilsyn"),
)
_EMPLOYEES = (
    "Kari Jensen",
    "Ola Nordmann",
    "Aisha Rahman",
    "Per Åsmund Lie",
    "Marte Kristiansen",
    "Jonas Bø",
    "Ingrid Sæther",
    "Tomasz Nowak",
)
_REASONS = tuple(CancellationReason)
_WEEKDAY_SETS = (
    (Weekday.MO, Weekday.WE, Weekday.FR),
    (Weekday.TU, Weekday.TH),
    (),
)


@dataclass(frozen=True)
class Case:
    """One benchmarked message: its model and the bytes the codec writes for it."""

    name: str
    message: PortalMessage
    data: bytes


def citizen_message() -> PortalMessage:
    """An eKontakt ``Henvendelse`` written by a relative holding a fullmakt."""
    return PortalMessage(
        process="DIALOG_INNBYGGER_EKONTAKT",
        function=Function.CITIZEN_MESSAGE,
        code="HE",
        msg_id="6f0c5bde-9a55-4f1e-8c0e-2f4b8a7d1c01",
        generated_at=_GENERATED_AT,
        sender=_HELSENORGE,
        receiver=_MUNICIPALITY,
        patient=_CITIZEN,
        on_behalf_of=Representative(
            id=_PROXY_ID,
            given_name="Per Olav",
            family_name="Danser",
            relation=Relation.FULLMAKT,
        ),
        subject="Endring av morgenbesøk neste tirsdag",
        body=_CITIZEN_TEXT,
    )


def _uid(index: int) -> str:
    return f"63630522{index:011d}"


def _planned(index: int, start: datetime) -> Appointment:
    service_id, service_name = _SERVICES[index % len(_SERVICES)]
    # Planned visits are every fourth appointment, so vary them by their own number.
    number = index // 4
    frequency = Frequency.DAILY if number % 4 == 0 else Frequency.WEEKLY
    by_day = () if frequency is Frequency.DAILY else _WEEKDAY_SETS[number % len(_WEEKDAY_SETS)]
    paused = tuple(start + timedelta(days=7 * week) for week in range(1, 2 + number % 3))
    ends_by_count = number % 2 == 0
    recurrence = Recurrence(
        frequency=frequency,
        interval=1 + number % 2,
        by_day=by_day,
        until=None if ends_by_count else date(2025, 12, 31),
        count=24 if ends_by_count else None,
        paused=paused,
    )
    return Appointment(
        uid=_uid(index),
        series=f"serie-{index // 4:04d}",
        status=AppointmentStatus.PLANNED,
        start=start,
        end=start + timedelta(hours=3),
        service_id=service_id,
        service_name=service_name,
        expected_duration=timedelta(minutes=30 + 15 * (index % 3)),
        recurrence=recurrence,
        description="Morgenstell, medisiner og tilsyn",
        contact_her_id="95316",
        organizer="Hjemmesykepleien sone nord",
        location="Hjemmebesøk",
    )


def _assigned(index: int, start: datetime) -> Appointment:
    service_id, service_name = _SERVICES[index % len(_SERVICES)]
    first = _EMPLOYEES[index % len(_EMPLOYEES)]
    second = _EMPLOYEES[(index + 3) % len(_EMPLOYEES)]
    return Appointment(
        uid=_uid(index),
        series=f"serie-{index // 4:04d}",
        status=AppointmentStatus.ASSIGNED,
        start=start,
        end=start + timedelta(minutes=45),
        service_id=service_id,
        service_name=service_name,
        employees=(first, second),
        description="Sårstell og medisinutdeling",
        contact_her_id="95316",
        organizer="Hjemmesykepleien sone nord",
        location="Hjemmebesøk",
    )


def _cancelled(index: int, start: datetime) -> Appointment:
    service_id, service_name = _SERVICES[index % len(_SERVICES)]
    return Appointment(
        uid=_uid(index),
        series=f"serie-{index // 4:04d}",
        status=AppointmentStatus.CANCELLED,
        start=start,
        end=start + timedelta(minutes=30),
        service_id=service_id,
        service_name=service_name,
        cancellation_reason=_REASONS[index % len(_REASONS)],
        contact_her_id="95316",
    )


def appointments(count: int = APPOINTMENT_COUNT) -> tuple[Appointment, ...]:
    """``count`` appointments cycling planned, assigned, assigned, cancelled.

    Starts spread over the day (07:00 to 19:30) and over about four months,
    across the spring daylight-saving change but never in its skipped hour.
    """
    made: list[Appointment] = []
    for index in range(count):
        start = _FIRST_VISIT + timedelta(
            days=index // 2, hours=(index * 5) % 13 - 1, minutes=30 * (index % 2)
        )
        kind = index % 4
        if kind == 0:
            made.append(_planned(index, start))
        elif kind == 3:
            made.append(_cancelled(index, start))
        else:
            made.append(_assigned(index, start))
    return tuple(made)


def planned_appointments_reply(count: int = APPOINTMENT_COUNT) -> PortalMessage:
    """A SvarPlanlagteTimer (``Bestilte timer``) answering a HentPlanlagteTimer."""
    request_id = "9c8987c8-1e01-4ffd-91df-52280b73352c"
    return PortalMessage(
        process="DIALOG_INNBYGGER_TIMERESERVASJON",
        function=Function.PLANNED_APPOINTMENTS_REPLY,
        code="01",
        msg_id="c4bc9e95-095e-428f-a849-db22f070e56b",
        generated_at=_GENERATED_AT,
        conversation=Conversation(parent=request_id, root=request_id),
        sender=_MUNICIPALITY,
        receiver=_HELSENORGE,
        patient=_CITIZEN,
        appointments=appointments(count),
    )


def build_cases() -> list[Case]:
    """Both benchmark cases, encoded (and so schema-validated) once."""
    messages = ((EKONTAKT, citizen_message()), (PLANNED, planned_appointments_reply()))
    return [Case(name, message, encode(message)) for name, message in messages]
