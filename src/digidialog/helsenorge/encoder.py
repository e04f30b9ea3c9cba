"""encode(PortalMessage) -> bytes for every process digidialog serves.

The writers build the message as text (see :mod:`digidialog.xml.text`); it is parsed once
and validated against the schemas before the same bytes are handed out, so
nothing invalid leaves. A message carrying data its function cannot carry
(appointments on a question, an interim flag on a notice, ...) is refused
rather than silently trimmed.
"""

from __future__ import annotations

from lxml import etree

from digidialog.domain import (
    AppointmentStatus,
    CancellationKind,
    CancellationOutcome,
    CancellationRequest,
    DigitalStatus,
)
from digidialog.errors import SchemaViolation
from digidialog.helsenorge import schemas
from digidialog.helsenorge.apprec import apprec_text
from digidialog.helsenorge.dialogmelding import DialogContent, dialogmelding_text
from digidialog.helsenorge.message import Function, PortalMessage
from digidialog.helsenorge.msghead import attachment_text, document_text, envelope_text
from digidialog.helsenorge.pasientrelasjon import pasientrelasjon_text
from digidialog.helsenorge.personer import personer_text
from digidialog.helsenorge.processes import Process, Route, Slot, route_for
from digidialog.helsenorge.tjenesteoversikt import tjenesteoversikt_text
from digidialog.helsenorge.xcal_writer import (
    appointment_text,
    calendar_text,
    period_event_text,
    single_event_text,
)
from digidialog.xml.text import check_characters

PRODID = "digidialog"
DECLARATION = "<?xml version='1.0' encoding='UTF-8'?>\n"

# The only parser that reads our own output: trusted text, but attachments may be large.
_OWN_OUTPUT = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)

F = Function
_CARRIERS: dict[str, frozenset[Function]] = {
    "appointments": frozenset({F.PLANNED_APPOINTMENTS_REPLY, F.APPOINTMENT_NOTICE,
                               F.BOOKING_CONFIRMATION, F.CANCELLATION_REPLY}),
    "cancellation": frozenset({F.CANCELLATION_REQUEST}),
    "decision": frozenset({F.CANCELLATION_REPLY}),
    "receipt": frozenset({F.RECEIPT}),
    "digital_status": frozenset({F.DIGITAL_STATUS_CHANGE}),
    "persons": frozenset({F.DIGITAL_STATUS_QUERY, F.DIGITAL_STATUS_REPLY}),
    "services": frozenset({F.SERVICE_OVERVIEW}),
    "interim": frozenset({F.SERVICE_REPLY}),
    "on_behalf_of": frozenset({F.CITIZEN_MESSAGE, F.CITIZEN_REPLY,
                               F.PLANNED_APPOINTMENTS_REQUEST, F.CANCELLATION_REQUEST}),
    "attachments": frozenset({F.CITIZEN_MESSAGE, F.SERVICE_REPLY, F.SERVICE_MESSAGE,
                              F.SERVICE_NOTICE, F.CITIZEN_REPLY, F.THREAD_CLOSED, F.REFUSAL,
                              F.ATTEST_REPLY}),
    "body": frozenset(set(Function) - {F.CANCELLATION_REQUEST, F.SERVICE_OVERVIEW, F.RECEIPT}),
    "subject": frozenset(set(Function) - {F.SERVICE_OVERVIEW, F.RECEIPT}),
    "author": frozenset(set(Function) - {F.SERVICE_OVERVIEW, F.RECEIPT}),
}


def carries(function: Function, field: str) -> bool:
    """Whether messages doing ``function`` can carry ``field`` (fields not listed always can)."""
    carriers = _CARRIERS.get(field)
    return carriers is None or function in carriers


def encode(message: PortalMessage, *, validate: bool = True) -> bytes:
    """Write ``message`` as UTF-8 XML that validates against the national schemas."""
    _check_carried(message)
    if message.function is Function.RECEIPT:
        if message.receipt is None:
            raise SchemaViolation("a receipt needs its receipt part", location="receipt")
        text = apprec_text(message.receipt, message.sender, message.receiver, message.msg_id,
                           message.generated_at)
    else:
        text = _msghead_text(message)
    try:
        data = (DECLARATION + text).encode("utf-8")
    except UnicodeEncodeError:
        raise _unwritable() from None
    if not validate:
        check_characters(text)
        return data
    try:
        root = etree.fromstring(data, _OWN_OUTPUT)
    except etree.XMLSyntaxError:
        # Our writers escape markup, so the parser refuses only characters XML cannot
        # carry: letting it find them saves a scan of the whole text.
        raise _unwritable() from None
    schemas.validate(root)
    return data


def _unwritable() -> SchemaViolation:
    return SchemaViolation(
        "text contains a character XML cannot carry (a control character)", location="text"
    )


def _check_carried(message: PortalMessage) -> None:
    """Refuse data the message's function cannot carry, instead of dropping it."""
    for field, carriers in _CARRIERS.items():
        value = getattr(message, field)
        if value not in (None, (), False) and message.function not in carriers:
            raise SchemaViolation(
                f"{message.function.value} does not carry {field}", location=field
            )


def _route(message: PortalMessage) -> Route:
    try:
        process = Process(message.process)
    except ValueError:
        raise SchemaViolation(
            f"process {message.process[:60]!r} is not one digidialog writes", location="process"
        ) from None
    route = route_for(process, message.code, function=message.function)
    if message.patient is None and route.needs_patient:
        raise SchemaViolation(f"{route.function.value} needs a patient", location="patient")
    _check_required(message, route)
    return route


def _check_required(message: PortalMessage, route: Route) -> None:
    """What a function cannot do without, and what its code implies."""
    function, code = route.function, route.code
    needs: list[tuple[bool, str]] = [
        (function is F.CANCELLATION_REQUEST and message.cancellation is None, "cancellation"),
        (function is F.DIGITAL_STATUS_CHANGE and message.digital_status is None,
         "digital_status"),
        (function in {F.APPOINTMENT_NOTICE, F.BOOKING_CONFIRMATION} and not message.appointments,
         "appointments"),
        (code == "01" and function is F.PLANNED_APPOINTMENTS_REPLY and not message.appointments,
         "appointments (01 lists visits; use 02 for none)"),
        (code == "28" and not message.persons, "persons (28 lists them; use 29 for none)"),
    ]
    for missing, what in needs:
        if missing:
            raise SchemaViolation(f"{function.value} ({code}) needs {what}", location=what)
    forbidden = [
        (code == "02" and bool(message.appointments), "appointments (02 means none)"),
        (code == "29" and bool(message.persons), "persons (29 means none)"),
    ]
    for present, what in forbidden:
        if present:
            raise SchemaViolation(f"{function.value} ({code}) cannot carry {what}", location=what)
    if function is F.CANCELLATION_REPLY:
        expected = CancellationOutcome.ACCEPTED if code == "08" else CancellationOutcome.REJECTED
        if message.decision is not expected:
            raise SchemaViolation(f"code {code} is decision {expected.value}",
                                  location="decision")


def _msghead_text(message: PortalMessage) -> str:
    route = _route(message)
    process = route.process
    issued = message.generated_at
    parts = [envelope_text(
        process.value, process.display_name, message.msg_id, issued,
        ack=message.ack, conversation=message.conversation, sender=message.sender,
        receiver=message.receiver, patient=message.patient,
    )]
    if route.slot is not Slot.NONE:
        parts.append(document_text(_dialogmelding(message, route), issued, route.display_name))
    parts += [document_text(payload, issued, description)
              for payload, description in _payloads(message, route)]
    parts += [attachment_text(attachment, issued) for attachment in message.attachments]
    parts.append("</MsgHead>")
    return "".join(parts)


def _dialogmelding(message: PortalMessage, route: Route) -> str:
    coded = None
    body = message.body
    if route.function is F.DIGITAL_STATUS_CHANGE:
        coded = "1" if message.digital_status is DigitalStatus.ACTIVE else "2"
    elif route.function is F.CANCELLATION_REQUEST:
        coded = "2"  # 1101 "accepts another practitioner": mandatory in ART, meaningless here
        body = message.cancellation.reason if message.cancellation else None
    return dialogmelding_text(
        DialogContent(
            slot=route.slot, code=route.code, code_system=route.code_system,
            subject=message.subject, body=body, body_format=message.body_format,
            author=message.author, coded_info=coded, interim=message.interim,
        ),
        route.display_name,
    )


def _payloads(message: PortalMessage, route: Route) -> list[tuple[str, str]]:
    payloads: list[tuple[str, str]] = []
    function = route.function
    if function is F.CANCELLATION_REQUEST and message.cancellation is not None:
        payloads.append((_cancellation_calendar(message.cancellation), "iCalendarAvbestilling"))
    elif message.appointments:
        events = [appointment_text(a) for a in message.appointments]
        payloads.append((calendar_text(PRODID, events), _calendar_description(message)))
    if message.on_behalf_of is not None:
        payloads.append((pasientrelasjon_text(message.on_behalf_of), "Pasientrelasjon"))
    if function is F.DIGITAL_STATUS_QUERY or (function is F.DIGITAL_STATUS_REPLY
                                             and route.code == "28"):
        payloads.append((personer_text(message.persons), "Personer"))
    if function is F.SERVICE_OVERVIEW:
        payloads.append((tjenesteoversikt_text(message.services), "Tjenesteoversikt"))
    return payloads


def _calendar_description(message: PortalMessage) -> str:
    if any(a.status is AppointmentStatus.COMPLETED for a in message.appointments):
        return "iCalendarUtførtTime"
    return "iCalendarFremdtidigeAvtaler"


def _cancellation_calendar(cancellation: CancellationRequest) -> str:
    if cancellation.kind is CancellationKind.PERIOD:
        events = [period_event_text(cancellation.start, cancellation.end, service_id,
                                    cancellation.contact_her_id)
                  for service_id in cancellation.service_ids]
    else:
        events = [single_event_text(cancellation)]
    return calendar_text(PRODID, events)
