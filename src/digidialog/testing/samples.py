"""Realistic sample messages for tests, the demo and users' own experiments.

Every builder returns a :class:`PortalMessage` that encodes to a valid
message. The people are synthetic: their national ids have valid check digits
but belong to no one (they are Helsenorge's published test persons).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from digidialog.domain import (
    ApplicationReceipt,
    Appointment,
    AppointmentStatus,
    CancellationKind,
    CancellationOutcome,
    CancellationReason,
    DigitalStatus,
    Frequency,
    OverviewEntry,
    ReceiptError,
    ReceiptStatus,
    Recurrence,
    Relation,
    Weekday,
)
from digidialog.domain.timezone import OSLO
from digidialog.helsenorge.message import (
    Conversation,
    Function,
    Party,
    Patient,
    PortalMessage,
    Representative,
    new_msg_id,
)
from digidialog.helsenorge.processes import Process

HELSENORGE = Party(
    her_ids=("115851", "8093248"),
    names=("DIREKTORATET FOR E-HELSE", "Digitale innbyggertjenester"),
)
HOME_NURSING = Party(
    her_ids=("87688", "95316"),
    names=("Eksempel kommune", "Hjemmesykepleien"),
)
CITIZEN = Patient(id="13116900216", given_name="Line", family_name="Danser")
RELATIVE = Representative(
    id="15076500565", given_name="Roland", family_name="Gundersen", relation=Relation.FULLMAKT
)
HOME_NURSING_ID = "12"
PRACTICAL_HELP_ID = "13"


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=OSLO)


def _message(
    process: Process, function: Function, code: str, sent: datetime, *, to_portal: bool,
    **fields: object,
) -> PortalMessage:
    """A message between the portal and the home nursing service about the sample citizen."""
    sender, receiver = (HOME_NURSING, HELSENORGE) if to_portal else (HELSENORGE, HOME_NURSING)
    values: dict[str, object] = {
        "process": process.value, "function": function, "code": code, "msg_id": new_msg_id(),
        "generated_at": sent, "sender": sender, "receiver": receiver, "patient": CITIZEN,
    }
    values.update(fields)
    return PortalMessage.model_validate(values)


def citizen_message(sent: datetime, *, by_proxy: bool = True) -> PortalMessage:
    """A relative, holding a fullmakt, asks the home nursing service something (HE)."""
    return _message(
        Process.EKONTAKT, Function.CITIZEN_MESSAGE, "HE", sent, to_portal=False,
        on_behalf_of=RELATIVE if by_proxy else None,
        subject="Nøkkelboks",
        body="Kan dere bruke ny kode til nøkkelboksen fra i morgen? Koden står i meldingen "
        "dere fikk på telefon.",
    )


def service_reply(question: PortalMessage, sent: datetime, author: str) -> PortalMessage:
    """The service answers a citizen's message (19), naming the staff member."""
    root = question.conversation.root if question.conversation else question.msg_id
    return _message(
        Process.EKONTAKT, Function.SERVICE_REPLY, "19", sent, to_portal=True,
        conversation=Conversation(parent=question.msg_id, root=root),
        patient=question.patient,
        subject="Nøkkelboks",
        body="Takk for beskjed. Vi bruker ny kode fra i morgen tidlig.",
        author=author,
    )


def planned_appointments_request(sent: datetime) -> PortalMessage:
    """Helsenorge asks for the citizen's planned visits (HentPlanlagteTimer, synchronous)."""
    return _message(
        Process.TIMERESERVASJON, Function.PLANNED_APPOINTMENTS_REQUEST, "HBT", sent,
        to_portal=False, ack=False,
    )


def sample_appointments(today: date) -> tuple[Appointment, ...]:
    """A planned weekday series, an assigned visit and a cancelled one."""
    tomorrow = today + timedelta(days=1)
    return (
        Appointment(
            uid="serie-4711",
            series="serie-4711",
            status=AppointmentStatus.PLANNED,
            start=_at(today, 8),
            end=_at(today, 10),
            service_id=HOME_NURSING_ID,
            service_name="Hjemmesykepleie",
            expected_duration=timedelta(minutes=30),
            recurrence=Recurrence(
                frequency=Frequency.WEEKLY,
                by_day=(Weekday.MO, Weekday.WE, Weekday.FR),
                until=today + timedelta(days=60),
                paused=(_at(today + timedelta(days=14), 8),),
            ),
            contact_her_id=HOME_NURSING.her_ids[1],
            organizer=HOME_NURSING.names[0],
            location="Hjemmebesøk",
        ),
        Appointment(
            uid="besok-98765",
            series="serie-4711",
            status=AppointmentStatus.ASSIGNED,
            start=_at(tomorrow, 8, 40),
            end=_at(tomorrow, 9, 10),
            service_id=HOME_NURSING_ID,
            service_name="Hjemmesykepleie",
            employees=("Ola Pleier", "Sámi Áilu Ŋuolla"),
            contact_her_id=HOME_NURSING.her_ids[1],
            organizer=HOME_NURSING.names[0],
            location="Hjemmebesøk",
        ),
        Appointment(
            uid="besok-98766",
            series="serie-5000",
            status=AppointmentStatus.CANCELLED,
            start=_at(tomorrow, 13),
            end=_at(tomorrow, 14),
            service_id=PRACTICAL_HELP_ID,
            service_name="Praktisk bistand",
            cancellation_reason=CancellationReason.BY_SERVICE,
            contact_her_id=HOME_NURSING.her_ids[1],
            organizer=HOME_NURSING.names[0],
            location="Hjemmebesøk",
        ),
    )


def planned_appointments_reply(request: PortalMessage, today: date) -> PortalMessage:
    """The answer to HentPlanlagteTimer: 01 with the visits from today on."""
    return _message(
        Process.TIMERESERVASJON, Function.PLANNED_APPOINTMENTS_REPLY, "01",
        request.generated_at + timedelta(seconds=1), to_portal=True, ack=False,
        conversation=Conversation(parent=request.msg_id, root=request.msg_id),
        patient=request.patient,
        appointments=sample_appointments(today),
    )


def period_cancellation(sent: datetime, first_day: date, days: int) -> PortalMessage:
    """A relative cancels every visit of both services for a period (ART, period form)."""
    return _message(
        Process.AVTALEAVBESTILLING, Function.CANCELLATION_REQUEST, "ART", sent,
        to_portal=False,
        on_behalf_of=RELATIVE,
        cancellation={  # the JSON form: the envelope says whose request it is
            "kind": CancellationKind.PERIOD,
            "start": _at(first_day, 0),
            "end": _at(first_day + timedelta(days=days), 0),
            "service_ids": (HOME_NURSING_ID, PRACTICAL_HELP_ID),
            "reason": "Mor er på ferie hos oss disse dagene.",
            "contact_her_id": HOME_NURSING.her_ids[1],
        },
    )


def cancellation_reply(
    request: PortalMessage, sent: datetime, affected: tuple[Appointment, ...]
) -> PortalMessage:
    """The municipality accepts a cancellation (08), naming the visits it cancelled."""
    return _message(
        Process(request.process), Function.CANCELLATION_REPLY, "08", sent, to_portal=True,
        conversation=Conversation(parent=request.msg_id, root=request.msg_id),
        patient=request.patient,
        decision=CancellationOutcome.ACCEPTED,
        body="Besøkene er avlyst. God ferie!",
        appointments=affected,
    )


def completed_visit(visit: Appointment, done_at: datetime) -> PortalMessage:
    """A visit registered done, pushed in real time (Avtaleutsending MOA, COMPLETED)."""
    completed = Appointment.model_validate({
        **dict(visit),
        "status": AppointmentStatus.COMPLETED,
        "completed_at": done_at,
        "description": "Medisiner gitt, sårstell utført.",
    })
    return _message(
        Process.AVTALEUTSENDING, Function.APPOINTMENT_NOTICE, "MOA", done_at, to_portal=True,
        appointments=(completed,),
    )


def receipt_for(
    message: PortalMessage, sent: datetime, *, error: str | None = None
) -> PortalMessage:
    """The AppRec the receiver of ``message`` sends back: OK, or rejected with ``error``."""
    return _message(
        Process.APPREC, Function.RECEIPT, "2" if error else "1", sent, to_portal=True,
        ack=False, sender=message.receiver, receiver=message.sender, patient=None,
        receipt=ApplicationReceipt(
            status=ReceiptStatus.REJECTED if error else ReceiptStatus.OK,
            errors=(ReceiptError(code=error),) if error else (),
            original_msg_id=message.msg_id,
            original_process=message.process,
            original_issued_at=message.generated_at,
        ),
    )


def service_overview(sent: datetime, since: date) -> PortalMessage:
    """The citizen's full list of open services (TjenesteOversikt)."""
    entries = tuple(
        OverviewEntry(service_id=service_id, name=name, her_id=HOME_NURSING.her_ids[1] or "",
                      start=since)
        for service_id, name in ((HOME_NURSING_ID, "Hjemmesykepleie"),
                                 (PRACTICAL_HELP_ID, "Praktisk bistand"))
    )
    return _message(
        Process.TJENESTEOVERSIKT, Function.SERVICE_OVERVIEW, "Oversikt", sent, to_portal=True,
        services=entries,
    )


def digital_status_change(sent: datetime, status: DigitalStatus) -> PortalMessage:
    """Helsenorge says the citizen became active or inactive (SDAB)."""
    return _message(
        Process.DIGITALBRUKER, Function.DIGITAL_STATUS_CHANGE, "SDAB", sent, to_portal=False,
        digital_status=status,
    )
