"""decode(bytes) -> PortalMessage for every process digidialog serves.

Hardened parse, validation against the project's schema set, the envelope,
then the process table decides what the Dialogmelding means and which other
documents must be there.
"""

from __future__ import annotations

from collections.abc import Callable

from lxml import etree
from pydantic import ValidationError

from digidialog.domain import (
    AppointmentStatus,
    CancellationKind,
    CancellationOutcome,
    CancellationReason,
    CancellationRequest,
    DigitalStatus,
)
from digidialog.errors import SchemaViolation
from digidialog.helsenorge import schemas
from digidialog.helsenorge.apprec import STATUS_CODES, read_apprec
from digidialog.helsenorge.dialogmelding import (
    DialogContent,
    read_dialogmelding,
)
from digidialog.helsenorge.message import Function, PortalMessage, Representative
from digidialog.helsenorge.msghead import (
    Envelope,
    read_envelope,
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
from digidialog.helsenorge.pasientrelasjon import read_pasientrelasjon
from digidialog.helsenorge.personer import read_personer
from digidialog.helsenorge.processes import (
    OVERVIEW_CODE,
    Process,
    Route,
    Slot,
    process_of,
    route_for,
)
from digidialog.helsenorge.tjenesteoversikt import read_tjenesteoversikt
from digidialog.helsenorge.xcal import CANCELLATION_PERIOD
from digidialog.helsenorge.xcal_reader import Event, event_times, read_events, to_appointment
from digidialog.xml import safe

_APPREC_ROOT, _MSGHEAD_ROOT = q(APPREC, "AppRec"), q(MSGHEAD, "MsgHead")
_DIALOGMELDING = q(DIALOG, "Dialogmelding")



def decode(data: bytes) -> PortalMessage:
    """Read a MsgHead message or an AppRec from untrusted bytes.

    Raises a :class:`~digidialog.errors.RejectedInput` subclass naming what is
    wrong and where: :class:`NotWellFormed`, :class:`SchemaViolation` or
    :class:`UnsupportedProcess`.
    """
    root = safe.parse(data, max_markup=safe.MAX_MARKUP)
    tag = root.tag
    if tag == _APPREC_ROOT:
        schemas.validate(root)
        return _decode_apprec(root)
    if tag != _MSGHEAD_ROOT:
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
        self.representative: Representative | None = None
        for _description, payload in envelope.payloads:
            # The namespace of "{namespace}local", cut out rather than parsed by QName.
            tag = payload.tag
            namespace = tag[1 : tag.index("}")] if tag.startswith("{") else ""
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
            if first is None or first.tag != _DIALOGMELDING:
                raise SchemaViolation("the first Document must be the Dialogmelding",
                                      location="Document[1]")
            content = read_dialogmelding(first)
        route = route_for(self.process, content.code, slot=content.slot, reading=True)
        if route.code != content.code:
            self.warnings.append(
                f"code {content.code!r} read as {route.code!r} (as in the official example)"
            )
        if envelope.patient is None and route.needs_patient:
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
            self.representative = fields["on_behalf_of"] = read_pasientrelasjon(relation)
        fields.update(self._function_fields(route, content))
        fields["warnings"] = tuple(self.warnings)
        return _build(**fields)

    def _events(self, required: bool) -> list[Event]:
        calendar = self._one(XCAL)
        if calendar is None:
            if required:
                raise SchemaViolation("an iCalendar Document is required here",
                                      location="Document")
            return []
        return read_events(calendar, self.warnings)

    def _function_fields(self, route: Route, content: DialogContent) -> dict[str, object]:
        reader = _FUNCTION_READERS.get(route.function)
        return {} if reader is None else reader(self, route, content)

    def _planned_reply(self, route: Route, _content: DialogContent) -> dict[str, object]:
        events = self._events(required=route.code == "01")
        return {"appointments": tuple(to_appointment(e, self.warnings) for e in events)}

    def _notice(self, route: Route, _content: DialogContent) -> dict[str, object]:
        # The Avtale function, in Avtaleutsending or Timereservasjon: the same reading.
        # 08 and 11 say the visit was cancelled, by the service or because nobody was home,
        # whatever status the VEVENT itself carries (the official examples carry none).
        reason = _NOTICE_REASONS.get(route.code)
        status = AppointmentStatus.CANCELLED if reason else None
        return {"appointments": tuple(
            to_appointment(e, self.warnings, default_status=status, default_reason=reason)
            for e in self._events(required=True)
        )}

    def _cancellation_request(self, _route: Route, content: DialogContent) -> dict[str, object]:
        return {"cancellation": self._cancellation(content), "body": None}

    def _cancellation_reply(self, route: Route, _content: DialogContent) -> dict[str, object]:
        accepted = route.code == "08"
        default = AppointmentStatus.CANCELLED if accepted else None
        return {
            "decision": CancellationOutcome.ACCEPTED if accepted
            else CancellationOutcome.REJECTED,
            "appointments": tuple(
                to_appointment(e, self.warnings, default_status=default)
                for e in self._events(required=False)
            ),
        }

    def _status_change(self, _route: Route, content: DialogContent) -> dict[str, object]:
        status = {"1": DigitalStatus.ACTIVE, "2": DigitalStatus.INACTIVE}.get(
            content.coded_info or ""
        )
        if status is None:
            raise SchemaViolation("SDAB needs KodetOpplysning 1 (active) or 2 (inactive)",
                                  location="Foresporsel/KodetOpplysning")
        return {"digital_status": status}

    def _persons(self, route: Route, _content: DialogContent) -> dict[str, object]:
        if route.code == "29":
            return {}
        personer = self._one(PERSONER)
        if personer is None:
            raise SchemaViolation("a Personer Document is required here", location="Document")
        return {"persons": read_personer(personer)}

    def _overview(self, _route: Route, _content: DialogContent) -> dict[str, object]:
        overview = self._one(TJENESTEOVERSIKT)
        if overview is None:
            raise SchemaViolation("a TjenesteOversikt Document is required", location="Document")
        return {"services": read_tjenesteoversikt(overview)}

    def _cancellation(self, content: DialogContent) -> CancellationRequest:
        # The request as the domain has it: its id is the MsgId, it is the patient's, and
        # a Pasientrelasjon says who asked on their behalf.
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
                    self.warnings.append(
                        "period VEVENTs disagree on the period; the first is used"
                    )
                if event.service_id and event.service_id not in service_ids:
                    service_ids.append(event.service_id)
            fields: dict[str, object] = {
                "kind": CancellationKind.PERIOD,
                "service_ids": tuple(service_ids),
            }
        else:
            fields = {
                "kind": CancellationKind.SINGLE,
                "appointment_uid": first.uid,
                "series": first.series or None,
                "service_ids": (first.service_id,) if first.service_id else (),
            }
        patient = self.envelope.patient
        representative = self.representative
        try:
            return CancellationRequest.model_validate(
                {
                    **fields,
                    "request_id": self.envelope.msg_id,
                    "citizen_id": "" if patient is None else patient.id,  # refused above
                    "start": start,
                    "end": end,
                    "reason": content.body,
                    "requested_by": None if representative is None
                    else representative.to_on_behalf_of(),
                    "contact_her_id": first.contact or None,
                }
            )
        except ValidationError as error:
            raise SchemaViolation(str(error.errors()[0]["msg"]).removeprefix("Value error, "),
                                  location="iCalendar") from None


_NOTICE_REASONS = {
    "08": CancellationReason.BY_SERVICE,
    "11": CancellationReason.NOT_AT_HOME,
}
_FUNCTION_READERS: dict[
    Function, Callable[[_Decoder, Route, DialogContent], dict[str, object]]
] = {
    Function.PLANNED_APPOINTMENTS_REPLY: _Decoder._planned_reply,
    Function.APPOINTMENT_NOTICE: _Decoder._notice,
    Function.BOOKING_CONFIRMATION: _Decoder._notice,
    Function.CANCELLATION_REQUEST: _Decoder._cancellation_request,
    Function.CANCELLATION_REPLY: _Decoder._cancellation_reply,
    Function.DIGITAL_STATUS_CHANGE: _Decoder._status_change,
    Function.DIGITAL_STATUS_QUERY: _Decoder._persons,
    Function.DIGITAL_STATUS_REPLY: _Decoder._persons,
    Function.SERVICE_OVERVIEW: _Decoder._overview,
}
