"""Realistic sample messages for tests, the demo and users' own experiments.

Every builder returns a :class:`PortalMessage` that encodes to a valid
message. The people are synthetic: their national ids have valid check digits
but belong to no one (they are Helsenorge's published test persons).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from digidialog.domain import (
    Appointment,
    AppointmentStatus,
    CancellationKind,
    CancellationOutcome,
    CancellationReason,
    DigitalStatus,
    Frequency,
    OverviewEntry,
    Receipt,
    ReceiptError,
    ReceiptStatus,
    Recurrence,
    Relation,
    Weekday,
)
from digidialog.domain.timezone import OSLO
from digidialog.helsenorge.message import (
    Cancellation,
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


def citizen_message(sent: datetime, *, by_proxy: bool = True) -> PortalMessage:
    """A relative, holding a fullmakt, asks the home nursing service something (HE)."""
    return PortalMessage(
        process=Process.EKONTAKT.value,
        function=Function.CITIZEN_MESSAGE,
        code="HE",
        msg_id=new_msg_id(),
        generated_at=sent,
        sender=HELSENORGE,
        receiver=HOME_NURSING,
        patient=CITIZEN,
        on_behalf_of=RELATIVE if by_proxy else None,
        subject="Nøkkelboks",
        body="Kan dere bruke ny kode til nøkkelboksen fra i morgen? Koden står i meldingen "
        "dere fikk på telefon.",
    )


def service_reply(question: PortalMessage, sent: datetime, author: str) -> PortalMessage:
    """The service answers a citizen's message (19), naming the staff member."""
    root = question.conversation.root if question.conversation else question.msg_id
    return PortalMessage(
        process=Process.EKONTAKT.value,
        function=Function.SERVICE_REPLY,
        code="19",
        msg_id=new_msg_id(),
        generated_at=sent,
        conversation=Conversation(parent=question.msg_id, root=root),
        sender=HOME_NURSING,
        receiver=HELSENORGE,
        patient=question.patient,
        subject="Nøkkelboks",
        body="Takk for beskjed. Vi bruker ny kode fra i morgen tidlig.",
        author=author,
    )


def planned_appointments_request(sent: datetime) -> PortalMessage:
    """Helsenorge asks for the citizen's planned visits (HentPlanlagteTimer, synchronous)."""
    return PortalMessage(
        process=Process.TIMERESERVASJON.value,
        function=Function.PLANNED_APPOINTMENTS_REQUEST,
        code="HBT",
        msg_id=new_msg_id(),
        generated_at=sent,
        ack=False,
        sender=HELSENORGE,
        receiver=HOME_NURSING,
        patient=CITIZEN,
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
    return PortalMessage(
        process=Process.TIMERESERVASJON.value,
        function=Function.PLANNED_APPOINTMENTS_REPLY,
        code="01",
        msg_id=new_msg_id(),
        generated_at=request.generated_at + timedelta(seconds=1),
        ack=False,
        conversation=Conversation(parent=request.msg_id, root=request.msg_id),
        sender=HOME_NURSING,
        receiver=HELSENORGE,
        patient=request.patient,
        appointments=sample_appointments(today),
    )


def period_cancellation(sent: datetime, first_day: date, days: int) -> PortalMessage:
    """A relative cancels every visit of both services for a period (ART, period form)."""
    return PortalMessage(
        process=Process.AVTALEAVBESTILLING.value,
        function=Function.CANCELLATION_REQUEST,
        code="ART",
        msg_id=new_msg_id(),
        generated_at=sent,
        sender=HELSENORGE,
        receiver=HOME_NURSING,
        patient=CITIZEN,
        on_behalf_of=RELATIVE,
        cancellation=Cancellation(
            kind=CancellationKind.PERIOD,
            start=_at(first_day, 0),
            end=_at(first_day + timedelta(days=days), 0),
            service_ids=(HOME_NURSING_ID, PRACTICAL_HELP_ID),
            reason="Mor er på ferie hos oss disse dagene.",
            contact_her_id=HOME_NURSING.her_ids[1],
        ),
    )


def cancellation_reply(
    request: PortalMessage, sent: datetime, affected: tuple[Appointment, ...]
) -> PortalMessage:
    """The municipality accepts a cancellation (08), naming the visits it cancelled."""
    return PortalMessage(
        process=request.process,
        function=Function.CANCELLATION_REPLY,
        code="08",
        msg_id=new_msg_id(),
        generated_at=sent,
        conversation=Conversation(parent=request.msg_id, root=request.msg_id),
        sender=HOME_NURSING,
        receiver=HELSENORGE,
        patient=request.patient,
        decision=CancellationOutcome.ACCEPTED,
        body="Besøkene er avlyst. God ferie!",
        appointments=affected,
    )


def completed_visit(visit: Appointment, done_at: datetime) -> PortalMessage:
    """A visit registered done, pushed in real time (Avtaleutsending MOA, COMPLETED)."""
    completed = visit.model_copy(
        update={
            "status": AppointmentStatus.COMPLETED,
            "completed_at": done_at,
            "description": "Medisiner gitt, sårstell utført.",
        }
    )
    return PortalMessage(
        process=Process.AVTALEUTSENDING.value,
        function=Function.APPOINTMENT_NOTICE,
        code="MOA",
        msg_id=new_msg_id(),
        generated_at=done_at,
        sender=HOME_NURSING,
        receiver=HELSENORGE,
        patient=CITIZEN,
        appointments=(completed,),
    )


def receipt_for(
    message: PortalMessage, sent: datetime, *, error: str | None = None
) -> PortalMessage:
    """The AppRec the receiver of ``message`` sends back: OK, or rejected with ``error``."""
    return PortalMessage(
        process=Process.APPREC.value,
        function=Function.RECEIPT,
        code="2" if error else "1",
        msg_id=new_msg_id(),
        generated_at=sent,
        ack=False,
        sender=message.receiver,
        receiver=message.sender,
        receipt=Receipt(
            status=ReceiptStatus.REJECTED if error else ReceiptStatus.OK,
            errors=(ReceiptError(code=error),) if error else (),
            original_msg_id=message.msg_id,
            original_process=message.process,
            original_issued_at=message.generated_at,
        ),
    )


def service_overview(sent: datetime, since: date) -> PortalMessage:
    """The citizen's full list of open services (TjenesteOversikt)."""
    return PortalMessage(
        process=Process.TJENESTEOVERSIKT.value,
        function=Function.SERVICE_OVERVIEW,
        code="Oversikt",
        msg_id=new_msg_id(),
        generated_at=sent,
        sender=HOME_NURSING,
        receiver=HELSENORGE,
        patient=CITIZEN,
        services=(
            OverviewEntry(service_id=HOME_NURSING_ID, name="Hjemmesykepleie",
                          her_id=HOME_NURSING.her_ids[1], start=since),
            OverviewEntry(service_id=PRACTICAL_HELP_ID, name="Praktisk bistand",
                          her_id=HOME_NURSING.her_ids[1], start=since),
        ),
    )


def digital_status_change(sent: datetime, status: DigitalStatus) -> PortalMessage:
    """Helsenorge says the citizen became active or inactive (SDAB)."""
    return PortalMessage(
        process=Process.DIGITALBRUKER.value,
        function=Function.DIGITAL_STATUS_CHANGE,
        code="SDAB",
        msg_id=new_msg_id(),
        generated_at=sent,
        sender=HELSENORGE,
        receiver=HOME_NURSING,
        patient=CITIZEN,
        digital_status=status,
    )
