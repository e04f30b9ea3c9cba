"""decode(bytes) -> PortalMessage and encode(PortalMessage) -> bytes, for every served process.

Decoding: hardened parse, validation against the project's schema set, the
envelope, then the process table decides what the Dialogmelding means and
which other documents must be there. Encoding does the same in reverse and
validates what it wrote before handing it out, so nothing invalid leaves.
"""

from __future__ import annotations

from lxml import etree
from pydantic import ValidationError

from digidialog.domain import (
    AppointmentStatus,
    CancellationKind,
    CancellationOutcome,
    CancellationReason,
    DigitalStatus,
)
from digidialog.errors import SchemaViolation
from digidialog.helsenorge import schemas, xmlsafe
from digidialog.helsenorge.apprec import STATUS_CODES, read_apprec, write_apprec
from digidialog.helsenorge.dialogmelding import (
    DialogContent,
    read_dialogmelding,
    write_dialogmelding,
)
from digidialog.helsenorge.message import Cancellation, Function, PortalMessage
from digidialog.helsenorge.msghead import (
    Envelope,
    add_attachment,
    add_document,
    read_envelope,
    write_envelope,
)
from digidialog.helsenorge.names import (
    APPREC,
    DIALOG,
    MSGHEAD,
    PASIENTRELASJON,
    PERSONER,
    TJENESTEOVERSIKT,
    XCAL,
    q,
)
from digidialog.helsenorge.pasientrelasjon import read_pasientrelasjon, write_pasientrelasjon
from digidialog.helsenorge.personer import read_personer, write_personer
from digidialog.helsenorge.processes import (
    OVERVIEW_CODE,
    Process,
    Route,
    Slot,
    process_of,
    route_for,
)
from digidialog.helsenorge.tjenesteoversikt import read_tjenesteoversikt, write_tjenesteoversikt
from digidialog.helsenorge.xcal import (
    CANCELLATION_PERIOD,
    Event,
    event_times,
    new_calendar,
    read_events,
    to_appointment,
    write_appointment,
    write_period_event,
    write_single_event,
)

PRODID = "digidialog"

_WITHOUT_PATIENT = {Function.DIGITAL_STATUS_QUERY, Function.DIGITAL_STATUS_REPLY}
_NOT_AT_HOME_CODE = "11"
_CANCELLED_CODE = "08"


# ---------------------------------------------------------------- decoding


def decode(data: bytes) -> PortalMessage:
    """Read a MsgHead message or an AppRec from untrusted bytes.

    Raises a :class:`~digidialog.errors.RejectedInput` subclass naming what is
    wrong and where: :class:`NotWellFormed`, :class:`SchemaViolation` or
    :class:`UnsupportedProcess`.
    """
    root = xmlsafe.parse(data, max_markup=xmlsafe.MAX_MARKUP)
    if root.tag == q(APPREC, "AppRec"):
        schemas.validate(root)
        return _decode_apprec(root)
    if root.tag != q(MSGHEAD, "MsgHead"):
        raise SchemaViolation(
            "root element is not MsgHead (namespace "
            f"{MSGHEAD}) nor AppRec 1.1",
            location="line 1",
        )
    schemas.validate(root)
    envelope = read_envelope(root)
    process, misspelt = process_of(envelope.type_value)
    warnings: list[str] = []
    if misspelt:
        warnings.append(
            f"MsgInfo/Type {envelope.type_value!r} read as {process.value!r} (misspelt in the "
            "official examples)"
        )
    return _Decoder(envelope, process, warnings).message()


def _decode_apprec(root: etree._Element) -> PortalMessage:
    receipt, sender, receiver, msg_id, generated_at = read_apprec(root)
    return _build(
        process=Process.APPREC.value,
        function=Function.RECEIPT,
        code=STATUS_CODES[receipt.status],
        msg_id=msg_id,
        generated_at=generated_at,
        ack=False,
        sender=sender,
        receiver=receiver,
        receipt=receipt,
    )


def _build(**fields: object) -> PortalMessage:
    try:
        return PortalMessage.model_validate(fields)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "message"
        raise SchemaViolation(
            str(first["msg"]).removeprefix("Value error, "), location=where
        ) from None


class _Decoder:
    """Gives the documents of one envelope their meaning under its route."""

    def __init__(self, envelope: Envelope, process: Process, warnings: list[str]) -> None:
        self.envelope = envelope
        self.process = process
        self.warnings = warnings
        self.payloads: dict[str, list[etree._Element]] = {}
        for _description, payload in envelope.payloads:
            namespace = etree.QName(payload).namespace or ""
            self.payloads.setdefault(namespace, []).append(payload)

    def _one(self, namespace: str) -> etree._Element | None:
        found = self.payloads.get(namespace, [])
        return found[0] if found else None

    def message(self) -> PortalMessage:
        envelope = self.envelope
        if self.process is Process.TJENESTEOVERSIKT:
            content = DialogContent(slot=Slot.NONE, code=OVERVIEW_CODE)
        else:
            first = envelope.payloads[0][1] if envelope.payloads else None
            if first is None or first.tag != q(DIALOG, "Dialogmelding"):
                raise SchemaViolation("the first Document must be the Dialogmelding",
                                      location="Document[1]")
            content = read_dialogmelding(first)
        route = route_for(self.process, content.code, reading=True)
        if route.code != content.code:
            self.warnings.append(
                f"code {content.code!r} read as {route.code!r} (as in the official example)"
            )
        if envelope.patient is None and route.function not in _WITHOUT_PATIENT:
            raise SchemaViolation(
                f"{route.function.value} needs the citizen in MsgInfo/Patient",
                location="MsgInfo/Patient",
            )
        fields: dict[str, object] = {
            "process": self.process.value,
            "function": route.function,
            "code": route.code,
            "msg_id": envelope.msg_id,
            "generated_at": envelope.generated_at,
            "ack": envelope.ack,
            "conversation": envelope.conversation,
            "sender": envelope.sender,
            "receiver": envelope.receiver,
            "patient": envelope.patient,
            "subject": content.subject,
            "body": content.body,
            "body_format": content.body_format,
            "author": content.author,
            "interim": content.interim,
            "attachments": tuple(envelope.attachments),
        }
        relation = self._one(PASIENTRELASJON)
        if relation is not None:
            fields["on_behalf_of"] = read_pasientrelasjon(relation)
        fields.update(self._function_fields(route, content))
        fields["warnings"] = tuple(self.warnings)
        return _build(**fields)

    def _events(self, required: bool) -> list[Event]:
        calendar = self._one(XCAL)
        if calendar is None:
            if required:
                raise SchemaViolation("an iCalendar Document is required here", location="Document")
            return []
        return read_events(calendar, self.warnings)

    def _function_fields(self, route: Route, content: DialogContent) -> dict[str, object]:
        function = route.function
        if function is Function.PLANNED_APPOINTMENTS_REPLY:
            events = self._events(required=route.code == "01")
            return {"appointments": tuple(to_appointment(e, self.warnings) for e in events)}
        if function is Function.APPOINTMENT_NOTICE:
            status, reason = None, None
            if route.code in (_CANCELLED_CODE, _NOT_AT_HOME_CODE):
                status = AppointmentStatus.CANCELLED
                reason = (
                    CancellationReason.NOT_AT_HOME
                    if route.code == _NOT_AT_HOME_CODE
                    else CancellationReason.BY_SERVICE
                )
            appointments = []
            for event in self._events(required=True):
                if status is not None and not event.status and not event.cancellation_reason:
                    event.cancellation_reason = {
                        CancellationReason.NOT_AT_HOME: "Avlyst - ikke hjemme",
                        CancellationReason.BY_SERVICE: "Avlyst av tjeneste",
                    }[reason or CancellationReason.BY_SERVICE]
                appointments.append(to_appointment(event, self.warnings, default_status=status))
            return {"appointments": tuple(appointments)}
        if function is Function.CANCELLATION_REQUEST:
            return {"cancellation": self._cancellation(content), "body": None}
        if function is Function.CANCELLATION_REPLY:
            accepted = route.code == "08"
            default = AppointmentStatus.CANCELLED if accepted else None
            return {
                "decision": CancellationOutcome.ACCEPTED if accepted else CancellationOutcome.REJECTED,
                "appointments": tuple(
                    to_appointment(e, self.warnings, default_status=default)
                    for e in self._events(required=False)
                ),
            }
        if function is Function.DIGITAL_STATUS_CHANGE:
            status = {"1": DigitalStatus.ACTIVE, "2": DigitalStatus.INACTIVE}.get(
                content.coded_info or ""
            )
            if status is None:
                raise SchemaViolation("SDAB needs KodetOpplysning 1 (active) or 2 (inactive)",
                                      location="Foresporsel/KodetOpplysning")
            return {"digital_status": status}
        if function is Function.DIGITAL_STATUS_QUERY or (
            function is Function.DIGITAL_STATUS_REPLY and route.code == "28"
        ):
            personer = self._one(PERSONER)
            if personer is None:
                raise SchemaViolation("a Personer Document is required here", location="Document")
            return {"persons": read_personer(personer)}
        if function is Function.SERVICE_OVERVIEW:
            overview = self._one(TJENESTEOVERSIKT)
            if overview is None:
                raise SchemaViolation("a TjenesteOversikt Document is required",
                                      location="Document")
            return {"services": read_tjenesteoversikt(overview)}
        return {}

    def _cancellation(self, content: DialogContent) -> Cancellation:
        events = self._events(required=True)
        if not events:
            raise SchemaViolation("the cancellation names no appointment", location="iCalendar")
        period = [e for e in events if CANCELLATION_PERIOD in e.categories]
        first = period[0] if period else events[0]
        start, end = event_times(first, self.warnings)
        if period:
            service_ids = []
            for event in period:
                if event_times(event, self.warnings) != (start, end):
                    self.warnings.append("period VEVENTs disagree on the period; the first is used")
                if event.service_id and event.service_id not in service_ids:
                    service_ids.append(event.service_id)
            fields: dict[str, object] = {
                "kind": CancellationKind.PERIOD,
                "service_ids": tuple(service_ids),
            }
        else:
            fields = {
                "kind": CancellationKind.SINGLE,
                "uid": first.uid,
                "series": first.series or None,
                "service_ids": (first.service_id,) if first.service_id else (),
            }
        try:
            return Cancellation.model_validate(
                {
                    **fields,
                    "start": start,
                    "end": end,
                    "reason": content.body,
                    "contact_her_id": first.contact or None,
                }
            )
        except ValidationError as error:
            raise SchemaViolation(str(error.errors()[0]["msg"]).removeprefix("Value error, "),
                                  location="iCalendar") from None


# ---------------------------------------------------------------- encoding


def encode(message: PortalMessage, *, validate: bool = True) -> bytes:
    """Write ``message`` as UTF-8 XML that validates against the national schemas."""
    if message.function is Function.RECEIPT:
        if message.receipt is None:
            raise SchemaViolation("a receipt needs its receipt part", location="receipt")
        root = write_apprec(
            message.receipt, message.sender, message.receiver, message.msg_id, message.generated_at
        )
    else:
        root = _encode_msghead(message)
    if validate:
        schemas.validate(root)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _encode_msghead(message: PortalMessage) -> etree._Element:
    try:
        process = Process(message.process)
    except ValueError:
        raise SchemaViolation(
            f"process {message.process[:60]!r} is not one digidialog writes", location="process"
        ) from None
    route = route_for(process, message.code)
    if route.function is not message.function:
        raise SchemaViolation(
            f"code {message.code!r} in {process.value} is {route.function.value}, "
            f"not {message.function.value}",
            location="function",
        )
    if message.patient is None and route.function not in _WITHOUT_PATIENT:
        raise SchemaViolation(f"{route.function.value} needs a patient", location="patient")
    root = write_envelope(
        process.value,
        process.display_name,
        message.msg_id,
        message.generated_at,
        ack=message.ack,
        conversation=message.conversation,
        sender=message.sender,
        receiver=message.receiver,
        patient=message.patient,
    )
    issued = message.generated_at
    if route.slot is not Slot.NONE:
        add_document(root, _dialogmelding(message, route), issued, route.display_name)
    for payload, description in _payloads(message, route):
        add_document(root, payload, issued, description)
    for attachment in message.attachments:
        add_attachment(root, attachment, issued)
    return root


def _dialogmelding(message: PortalMessage, route: Route) -> etree._Element:
    coded = None
    if route.function is Function.DIGITAL_STATUS_CHANGE:
        if message.digital_status is None:
            raise SchemaViolation("a status change needs digital_status", location="digital_status")
        coded = "1" if message.digital_status is DigitalStatus.ACTIVE else "2"
    elif route.function is Function.CANCELLATION_REQUEST:
        coded = "2"  # 1101 "accepts another practitioner": mandatory in ART, meaningless here
    body = message.body
    if route.function is Function.CANCELLATION_REQUEST and message.cancellation is not None:
        body = message.cancellation.reason
    content = DialogContent(
        slot=route.slot,
        code=route.code,
        code_system=route.code_system,
        subject=message.subject,
        body=body,
        body_format=message.body_format,
        author=message.author,
        coded_info=coded,
        interim=message.interim,
    )
    return write_dialogmelding(content, route.display_name)


def _payloads(message: PortalMessage, route: Route) -> list[tuple[etree._Element, str]]:
    payloads: list[tuple[etree._Element, str]] = []
    function = route.function
    if function is Function.CANCELLATION_REQUEST:
        if message.cancellation is None:
            raise SchemaViolation("a cancellation request needs its cancellation part",
                                  location="cancellation")
        payloads.append((_cancellation_calendar(message.cancellation), "iCalendarAvbestilling"))
    elif message.appointments or (function is Function.PLANNED_APPOINTMENTS_REPLY
                                  and route.code == "01"):
        calendar, components = new_calendar(PRODID)
        for appointment in message.appointments:
            write_appointment(components, appointment)
        payloads.append((calendar, _calendar_description(message)))
    if message.on_behalf_of is not None:
        payloads.append((write_pasientrelasjon(message.on_behalf_of), "Pasientrelasjon"))
    if function is Function.DIGITAL_STATUS_QUERY or (
        function is Function.DIGITAL_STATUS_REPLY and route.code == "28"
    ):
        payloads.append((write_personer(message.persons), "Personer"))
    if function is Function.SERVICE_OVERVIEW:
        payloads.append((write_tjenesteoversikt(message.services), "Tjenesteoversikt"))
    return payloads


def _calendar_description(message: PortalMessage) -> str:
    if any(a.status is AppointmentStatus.COMPLETED for a in message.appointments):
        return "iCalendarUtførtTime"
    return "iCalendarFremdtidigeAvtaler"


def _cancellation_calendar(cancellation: Cancellation) -> etree._Element:
    calendar, components = new_calendar(PRODID)
    if cancellation.kind is CancellationKind.PERIOD:
        for service_id in cancellation.service_ids:
            write_period_event(components, cancellation.start, cancellation.end, service_id,
                               cancellation.contact_her_id)
    else:
        write_single_event(
            components,
            cancellation.start,
            cancellation.end,
            cancellation.uid or "",
            cancellation.series,
            cancellation.contact_her_id,
            cancellation.service_ids[0] if cancellation.service_ids else None,
        )
    return calendar

