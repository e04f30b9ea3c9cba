"""The Profil mock's XML: replies and NotifyEvent built with lxml, request values read back.

This is the vendor's side of the wire, written on its own rather than with the
adapter's code, so that a mistake in one is caught by the other. The rules of
Oslo wall-clock time come from :mod:`digidialog.domain.timezone` as everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from lxml import etree

from digidialog.domain.timezone import (
    from_oslo_wall_clock,
    is_ambiguous_local,
    is_nonexistent_local,
    to_oslo,
)
from digidialog.errors import DigidialogError
from digidialog.xml import safe
from digidialog_profil.mock.state import Client, MockFault, OutboxEntry, Service, Visit
from digidialog_profil.wire import NAMESPACE, SOAP_NS, tag

_NSMAP = {"p": NAMESPACE}


def envelope(content: etree._Element) -> bytes:
    """A SOAP 1.2 envelope around one Body element, as UTF-8 bytes."""
    root = etree.Element(f"{{{SOAP_NS}}}Envelope", nsmap={"env": SOAP_NS, "p": NAMESPACE})
    etree.SubElement(root, f"{{{SOAP_NS}}}Body").append(content)
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


def _root(name: str) -> etree._Element:
    return etree.Element(tag(name), nsmap=_NSMAP)


def _add(parent: etree._Element, name: str, text: object) -> etree._Element:
    child = etree.SubElement(parent, tag(name))
    child.text = text if isinstance(text, str) else _lexical(text)
    return child


def _lexical(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def stamp(parent: etree._Element, name: str, instant: datetime) -> None:
    """An Oslo wall-clock element, with ``isDst`` in the repeated autumn hour."""
    local = to_oslo(instant)
    naive = local.replace(tzinfo=None)
    child = _add(parent, name, naive.isoformat())
    if is_ambiguous_local(naive):
        child.set("isDst", "true" if local.dst() != timedelta(0) else "false")


def instant(parent: etree._Element, name: str) -> datetime:
    """A request's wall-clock element as an instant; ``p:Invalid`` for a time that never was."""
    child = parent.find(tag(name))
    if child is None or not child.text:
        raise MockFault("Invalid", f"{name} is missing")
    naive = datetime.fromisoformat(child.text)
    if is_nonexistent_local(naive):
        raise MockFault("Invalid", f"{name} is a local time that does not exist")
    return from_oslo_wall_clock(naive, first_occurrence=child.get("isDst") not in ("false", "0"))


def person(element: etree._Element) -> tuple[str, str]:
    """A ``Person`` (OnBehalfOf, RequestedBy): national id and full name."""
    return element.findtext(tag("NationalId")) or "", element.findtext(tag("FullName")) or ""


def number(wrapper: str, name: str, value: int) -> etree._Element:
    """A response holding one number."""
    return text_reply(wrapper, name, str(value))


def text_reply(wrapper: str, name: str, value: str) -> etree._Element:
    """A response holding one value."""
    root = _root(wrapper)
    _add(root, name, value)
    return root


def services(items: Iterable[Service]) -> etree._Element:
    """GetServicesResponse."""
    root = _root("GetServicesResponse")
    for service in items:
        element = etree.SubElement(root, tag("Service"))
        _add(element, "ServiceId", service.service_id)
        _add(element, "Name", service.name)
        _add(element, "DigitalDialogEnabled", service.enabled)
    return root


def clients(items: Iterable[Client]) -> etree._Element:
    """GetClientsResponse."""
    root = _root("GetClientsResponse")
    for client in items:
        element = etree.SubElement(root, tag("Client"))
        _add(element, "ClientId", client.client_id)
        _add(element, "NationalId", client.national_id)
        _add(element, "FullName", client.full_name)
        for service_id in client.service_ids:
            _add(element, "ServiceId", service_id)
        _add(element, "DigitallyActive", client.active)
    return root


def visit_element(parent: etree._Element, visit: Visit) -> None:
    """A ``Visit``, children in the contract's order."""
    element = etree.SubElement(parent, tag("Visit"))
    _add(element, "VisitId", visit.visit_id)
    _add(element, "NationalId", visit.national_id)
    _add(element, "ServiceId", visit.service_id)
    _add(element, "State", visit.state)
    stamp(element, "WindowStart", visit.start)
    stamp(element, "WindowEnd", visit.end)
    series = visit.recurrence
    if series is not None and visit.state == 0:
        recurrence = etree.SubElement(element, tag("Recurrence"))
        _add(recurrence, "Frequency", series.frequency.value)
        _add(recurrence, "Interval", series.interval)
        for day in series.by_day:
            _add(recurrence, "ByDay", day.value)
        until = series.until or (to_oslo(visit.start).date() + timedelta(days=365))
        _add(recurrence, "Until", until.isoformat())
    if visit.employee and visit.state in (1, 2):
        _add(etree.SubElement(element, tag("Employee")), "FullName", visit.employee)
    _add(element, "Text", visit.text)
    if visit.done_at is not None and visit.state == 2:
        stamp(element, "DoneAt", visit.done_at)
    if visit.cancelled_by is not None and visit.state == 3:
        _add(element, "CancelledBy", visit.cancelled_by)
    stamp(element, "LastModified", visit.last_modified)


def visits_page(page: Iterable[Visit], token: str | None) -> etree._Element:
    """GetVisitsResponse: one page, and the token of the next one if there is one."""
    root = _root("GetVisitsResponse")
    for visit in page:
        visit_element(root, visit)
    if token is not None:
        _add(root, "ContinuationToken", token)
    return root


def single_visit(visit: Visit) -> etree._Element:
    """GetVisitResponse."""
    root = _root("GetVisitResponse")
    visit_element(root, visit)
    return root


def outbox(items: Iterable[OutboxEntry]) -> etree._Element:
    """GetOutboxMessagesResponse."""
    root = _root("GetOutboxMessagesResponse")
    for message in items:
        element = etree.SubElement(root, tag("OutboxMessage"))
        _add(element, "MessageId", message.message_id)
        if message.thread_external_id is not None:
            _add(element, "ThreadExternalId", message.thread_external_id)
        if message.in_reply_to is not None:
            _add(element, "InReplyTo", message.in_reply_to)
        _add(element, "ServiceId", message.service_id)
        _add(element, "NationalId", message.national_id)
        _add(element, "Subject", message.subject)
        _add(element, "Body", message.body)
        _add(element, "Author", message.author)
        stamp(element, "SentAt", message.sent_at)
        _add(element, "Interim", message.interim)
    return root


def notify_event(event_id: str, event_type: str, occurred_at: datetime, national_id: str,
                 visit_id: int | None, accepted: bool | None, comment: str | None) -> bytes:
    """A NotifyEvent envelope, as Profil pushes it."""
    root = _root("NotifyEvent")
    _add(root, "EventId", event_id)
    _add(root, "EventType", event_type)
    stamp(root, "OccurredAt", occurred_at)
    _add(root, "NationalId", national_id)
    if visit_id is not None:
        _add(root, "VisitId", visit_id)
    if accepted is not None:
        _add(root, "Accepted", accepted)
    if comment is not None:
        _add(root, "Comment", comment)
    return envelope(root)


def accepted(reply: bytes) -> bool:
    """Whether a NotifyEvent reply is ``NotifyEventResponse/Accepted = true``."""
    try:
        root = safe.parse(reply, max_bytes=64 * 1024)
    except DigidialogError:
        return False
    found = root.findtext(f"{{{SOAP_NS}}}Body/{tag('NotifyEventResponse')}/{tag('Accepted')}")
    return found in ("true", "1")
