"""What digidialog sends to Profil: domain objects into the parameters zeep serialises.

zeep builds each request from the WSDL, in the schema's element order, and
refuses parameters that do not fit it. Instants go as Profil's Oslo
wall-clock text, with ``isDst`` in the repeated autumn hour
(:func:`~digidialog_profil.localtime.wire_param`); ids are Profil's numbers.
What Profil would refuse (a malformed national id, a service code that is
not a number) is an :class:`InvalidRequest` before anything is sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from digidialog.adapters.contract import CitizenMessage, DigitalStatusUpdate
from digidialog.domain import CancellationRequest, OnBehalfOf
from digidialog.domain.national_id import inspect_national_id
from digidialog.errors import InvalidRequest
from digidialog_profil.localtime import wire_param


def national_id(value: str) -> str:
    """A citizen's national id, checked before Profil sees it."""
    try:
        inspect_national_id(value)
    except ValueError:
        raise InvalidRequest("the citizen's national id is not valid") from None
    return value


def service_id(code: str) -> int:
    """Profil's ServiceId for one of its service codes."""
    if not code.isascii() or not code.isdigit():
        raise InvalidRequest("Profil service codes are numbers (ServiceId)")
    return int(code)


def clients(service_code: str | None) -> dict[str, Any]:
    """GetClients, for everyone or for one service."""
    return {} if service_code is None else {"ServiceId": service_id(service_code)}


def visits(citizen_id: str, start: datetime, end: datetime) -> dict[str, Any]:
    """GetVisits for a citizen's period (each page adds its ContinuationToken)."""
    if end < start:
        raise InvalidRequest("the period ends before it starts")
    return {"NationalId": national_id(citizen_id), "From": wire_param(start),
            "To": wire_param(end)}


def digital_status(updates: Sequence[DigitalStatusUpdate]) -> dict[str, Any]:
    """SetDigitalStatus: one ClientStatus per citizen."""
    return {"ClientStatus": [
        {"NationalId": u.national_id, "Active": u.active, "ActiveFrom": u.since}
        for u in updates
    ]}


def inbox_message(message: CitizenMessage) -> dict[str, Any]:
    """PostInboxMessage: ExternalId is our message id, the idempotency key."""
    return {"InboxMessage": {
        "ExternalId": message.message_id,
        "ThreadExternalId": message.thread_id,
        "InReplyTo": message.in_reply_to,
        "ServiceId": service_id(message.service_code),
        "NationalId": message.citizen_id,
        "Subject": message.subject or "",
        "Body": message.body,
        "SentAt": wire_param(message.sent_at),
        "OnBehalfOf": _person(message.on_behalf_of),
    }}


def cancel_visit(request: CancellationRequest, visit_id: int, external_id: str
                 ) -> dict[str, Any]:
    """CancelVisit for one visit of a request, idempotent on ``external_id``."""
    return {"ExternalId": external_id, "VisitId": visit_id, "Reason": request.reason,
            "RequestedBy": _person(request.requested_by)}


def _person(on_behalf_of: OnBehalfOf | None) -> dict[str, str] | None:
    if on_behalf_of is None:
        return None
    person = on_behalf_of.person
    return {"NationalId": person.national_id, "FullName": person.full_name}
