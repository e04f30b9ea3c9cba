"""Profil's other replies to domain objects, and NotifyEvent to a stored event.

Services, clients, outbox messages and single numbers are read straight from
the lxml tree (visits, the hot path, are in :mod:`digidialog_profil.appointments`).
A reply that breaks the contract is a :class:`MalformedReply` naming the
element, never its content.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from lxml import etree
from pydantic import ValidationError

from digidialog.adapters.contract import CitizenRecord, VendorService
from digidialog.adapters.kinds import StaffKindCodes
from digidialog.domain.events import StaffMessage, StaffMessageKind
from digidialog.domain.national_id import inspect_national_id
from digidialog.errors import MalformedReply
from digidialog_profil.appointments import number
from digidialog_profil.localtime import local_instant
from digidialog_profil.wire import WIRE_EVENT_TYPES, EventType, tag

_SERVICE_ID = tag("ServiceId")
_TRUE_FALSE = {"true": True, "1": True, "false": False, "0": False}



def _boolean(text: str | None, what: str) -> bool:
    try:
        return _TRUE_FALSE[(text or "").strip()]
    except KeyError:
        raise MalformedReply(f"{what} is not a boolean") from None


def _text(element: etree._Element, name: str, what: str) -> str:
    child = element.find(tag(name))
    if child is None:
        raise MalformedReply(f"{what} lacks {name}")
    return child.text or ""


def _optional_text(element: etree._Element, name: str) -> str | None:
    child = element.find(tag(name))
    return None if child is None else (child.text or "")


def _time(element: etree._Element, name: str, what: str) -> datetime:
    child = element.find(tag(name))
    if child is None:
        raise MalformedReply(f"{what} lacks {name}")
    return local_instant(child)


def services(response: etree._Element) -> list[VendorService]:
    """A ``GetServicesResponse``."""
    return [
        VendorService(
            code=number(_text(s, "ServiceId", "Service"), "ServiceId"),
            name=_text(s, "Name", "Service"),
            open_for_dialog=_boolean(_text(s, "DigitalDialogEnabled", "Service"),
                                     "DigitalDialogEnabled"),
        )
        for s in response.iterfind(tag("Service"))
    ]


def citizens(response: etree._Element) -> list[CitizenRecord]:
    """A ``GetClientsResponse`` (Profil's ClientId stays inside the adapter)."""
    records = []
    for client in response.iterfind(tag("Client")):
        try:
            records.append(CitizenRecord(
                national_id=_text(client, "NationalId", "Client"),
                name=_text(client, "FullName", "Client"),
                service_codes=tuple(number(s.text, "ServiceId")
                                    for s in client.iterfind(_SERVICE_ID)),
                digitally_active=_boolean(_text(client, "DigitallyActive", "Client"),
                                          "DigitallyActive"),
            ))
        except ValidationError:
            raise MalformedReply("a Client has an invalid NationalId or field") from None
    return records


def staff_messages(response: etree._Element) -> list[StaffMessage]:
    """A ``GetOutboxMessagesResponse``: staff messages, each with Profil's MessageId."""
    messages = []
    for item in response.iterfind(tag("OutboxMessage")):
        try:
            messages.append(StaffMessage(
                vendor_message_id=number(_text(item, "MessageId", "OutboxMessage"), "MessageId"),
                thread_id=_optional_text(item, "ThreadExternalId") or None,
                in_reply_to=_optional_text(item, "InReplyTo") or None,
                service_code=number(_text(item, "ServiceId", "OutboxMessage"), "ServiceId"),
                citizen_id=_text(item, "NationalId", "OutboxMessage"),
                subject=_text(item, "Subject", "OutboxMessage") or None,
                body=_text(item, "Body", "OutboxMessage"),
                author=_text(item, "Author", "OutboxMessage") or None,
                sent_at=_time(item, "SentAt", "OutboxMessage"),
                interim=_boolean(_text(item, "Interim", "OutboxMessage"), "Interim"),
                kind=message_type(_optional_text(item, "MessageType"),
                                  _optional_text(item, "MessageId")),
            ))
        except ValidationError:
            raise MalformedReply("an OutboxMessage has an invalid NationalId or field") from None
    return messages


MESSAGE_TYPES = StaffKindCodes({
    "Reply": StaffMessageKind.ANSWER,
    "Dialog": StaffMessageKind.DIALOG,
    "Notice": StaffMessageKind.NOTICE,
    "Closing": StaffMessageKind.CLOSING,
}, unknown_event="profil.unknown_message_type", id_key="message_id")
"""OutboxMessage/MessageType values and the kind of staff message each one is."""

message_type = MESSAGE_TYPES.read
"""The kind a code names; ``None`` (derive it) when absent or unknown."""


def integer(response: etree._Element, name: str) -> int:
    """The one number an answer such as ``SetDigitalStatusResponse/Updated`` carries."""
    return int(number(_text(response, name, etree.QName(response).localname), name))


@dataclass(frozen=True)
class PushedEvent:
    """A NotifyEvent as stored: ids only, the details are fetched later."""

    event_id: str
    event_type: EventType
    occurred_at: datetime
    national_id: str
    visit_id: int | None = None
    accepted: bool | None = None
    comment: str | None = None


def pushed_event(element: etree._Element) -> PushedEvent:
    """A schema-valid ``NotifyEvent`` element; ValueError if it breaks a rule the XSD cannot say."""
    event_type = EventType(_text(element, "EventType", "NotifyEvent"))
    if event_type not in WIRE_EVENT_TYPES:
        raise ValueError("not an event type Profil sends")
    national_id = _text(element, "NationalId", "NotifyEvent")
    inspect_national_id(national_id)  # its ValueError names the check, never the number
    visit = _optional_text(element, "VisitId")
    accepted = _optional_text(element, "Accepted")
    if event_type in (EventType.VISIT_CHANGED, EventType.VISIT_DONE,
                      EventType.CANCELLATION_DECISION) and visit is None:
        raise ValueError(f"a {event_type} event names no VisitId")
    if (event_type is EventType.CANCELLATION_DECISION) != (accepted is not None):
        raise ValueError("Accepted belongs to CancellationDecision events, and only to them")
    try:
        return PushedEvent(
            event_id=_text(element, "EventId", "NotifyEvent").lower(),
            event_type=event_type,
            occurred_at=_time(element, "OccurredAt", "NotifyEvent"),
            national_id=national_id,
            visit_id=None if visit is None else int(number(visit, "VisitId")),
            accepted=None if accepted is None else _boolean(accepted, "Accepted"),
            comment=_optional_text(element, "Comment") or None,
        )
    except MalformedReply as error:
        raise ValueError(str(error)) from None
