"""Profil's Visit elements to domain appointments: the hot path of every visit read.

No zeep deserialisation: each ``Visit`` is read straight from the lxml tree,
its children by position as the XSD orders them, every tag checked, and
becomes an :class:`~digidialog.domain.Appointment` at once. A 500-visit reply
is read several times faster than zeep reads it (``benchmarks/vendor_profil.py``).

A Visit that breaks the contract (a missing, unknown or misplaced element, an
unreadable value, a state outside 0-3, a field its state does not allow,
someone else's visit) is a :class:`MalformedReply` naming the rule and the
visit's position, never its content.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from operator import attrgetter

from lxml import etree

from digidialog.domain import (
    Appointment,
    AppointmentStatus,
    CancellationReason,
    Frequency,
    Recurrence,
    Weekday,
)
from digidialog.errors import MalformedReply
from digidialog.modelbuild import vendor_appointment
from digidialog_profil.localtime import local_instant
from digidialog_profil.wire import tag

STATES = (
    AppointmentStatus.PLANNED,
    AppointmentStatus.ASSIGNED,
    AppointmentStatus.COMPLETED,
    AppointmentStatus.CANCELLED,
)
"""Profil's State 0-3, in order."""

CANCELLED_BY = {"Client": CancellationReason.BY_CITIZEN, "Provider": CancellationReason.BY_SERVICE}

_VISIT = tag("Visit")
_NATIONAL_ID = tag("NationalId")
_FULL_NAME = tag("FullName")
_TOKEN = tag("ContinuationToken")
_BY_DAY = tag("ByDay")
_WEEKDAYS = {day.value: day for day in Weekday}


def number(text: str | None, what: str) -> str:
    """A Profil id as a string of digits without leading zeros."""
    if text is None or not text.isascii() or not text.isdigit():
        raise MalformedReply(f"{what} is not a number")
    return str(int(text))


_TAG = attrgetter("tag")
_VISIT_HEAD = [tag(name) for name in (
    "VisitId", "NationalId", "ServiceId", "State", "WindowStart", "WindowEnd")]
_LAST_MODIFIED = tag("LastModified")
# The children between WindowEnd and LastModified, in the XSD's order (Text is required).
_VISIT_MIDDLE = {tag(name): slot for slot, name in enumerate(
    ("Recurrence", "Employee", "Text", "DoneAt", "CancelledBy"))}
_STATE_CODES = {str(code): status for code, status in enumerate(STATES)}

# The fields appointment() passes, as model_fields_set after validation would hold them.
_PASSED = {"uid", "status", "start", "end", "service_id", "employees", "recurrence",
           "cancellation_reason", "description", "completed_at"}


def appointment(visit: etree._Element, citizen_id: str | None = None) -> Appointment:
    """One ``Visit`` element as an appointment (``uid`` is Profil's VisitId).

    With ``citizen_id``, the visit must be that citizen's. The children are
    read by position, as the XSD orders them, and every tag is checked; what
    a state allows (a Recurrence only in state 0, DoneAt only in 2,
    CancelledBy only in 3, an end not before the start) is the domain's rule,
    checked where the appointment is made.
    """
    children: list[etree._Element] = visit[:]  # type: ignore[assignment,index]
    tags = list(map(_TAG, children))
    if tags[:6] != _VISIT_HEAD or len(tags) < 8 or tags[-1] != _LAST_MODIFIED:
        raise MalformedReply("Visit elements are missing or out of order")
    middle: list[etree._Element | None] = [None] * 5
    position = -1
    for child, name in zip(children[6:-1], tags[6:-1], strict=True):
        slot = _VISIT_MIDDLE.get(name, -1)
        if slot <= position:
            raise MalformedReply("Visit elements are unknown, repeated or out of order")
        middle[slot] = child
        position = slot
    recurrence_element, employee, text, done_element, cancelled_by = middle
    if text is None:
        raise MalformedReply("Visit lacks Text")
    visit_id, owner, service, state = children[0].text, children[1].text, children[2].text, \
        children[3].text
    if citizen_id is not None and owner != citizen_id:
        raise MalformedReply("Visit belongs to another citizen")
    status = _STATE_CODES.get(state)  # type: ignore[arg-type]
    if status is None:
        raise MalformedReply("Visit State is not 0, 1, 2 or 3")
    start, end = local_instant(children[4]), local_instant(children[5])
    name = None if employee is None else _employee_name(employee)
    recurrence = None if recurrence_element is None else _recurrence(recurrence_element)
    done_at = None if done_element is None else local_instant(done_element)
    reason = None
    if cancelled_by is not None:
        reason = CANCELLED_BY.get(cancelled_by.text or "")
        if reason is None:
            raise MalformedReply("Visit has an unknown CancelledBy")
    uid = visit_id if visit_id and visit_id.isdigit() and visit_id[0] != "0" else number(
        visit_id, "VisitId")
    code = service if service and service.isdigit() and service[0] != "0" else number(
        service, "ServiceId")
    employees = (name,) if name else ()
    description = text.text or None
    return vendor_appointment({
        "uid": uid, "series": None, "status": status, "start": start, "end": end,
        "service_id": code, "service_name": None, "employees": employees,
        "expected_duration": None, "recurrence": recurrence, "cancellation_reason": reason,
        "description": description, "completed_at": done_at, "contact_her_id": None,
        "organizer": None, "location": None,
    }, _PASSED, "Profil")


def _employee_name(employee: etree._Element) -> str | None:
    # Employee holds one FullName; indexing is much cheaper than an ElementPath find.
    if len(employee) != 1 or employee[0].tag != _FULL_NAME:
        raise MalformedReply("Visit has an Employee without exactly one FullName")
    return employee[0].text


_FREQUENCY = tag("Frequency")
_INTERVAL = tag("Interval")
_UNTIL = tag("Until")
_FREQUENCIES = {f.value: f for f in Frequency}


def _recurrence(element: etree._Element) -> Recurrence:
    """A structured Recurrence: Frequency, Interval, ByDay*, Until, in that order."""
    children: list[etree._Element] = element[:]  # type: ignore[assignment,index]
    if list(map(_TAG, children)) != _recurrence_tags(len(children)):
        raise MalformedReply("a Recurrence is not Frequency, Interval, ByDay*, Until")
    return _recurrence_of(tuple(child.text for child in children))


@lru_cache(maxsize=1024)
def _recurrence_of(texts: tuple[str | None, ...]) -> Recurrence:
    """The Recurrence these child texts describe; cached, since a series is usually
    shared by many visits and a Recurrence is immutable."""
    frequency, interval, *days, until = texts
    try:
        return Recurrence(
            frequency=_FREQUENCIES[frequency or ""], interval=int(interval or ""),
            by_day=tuple(_WEEKDAYS[day or ""] for day in days),
            until=date.fromisoformat(until or ""),
        )
    except (ValueError, KeyError):
        # ValidationError is a ValueError: an interval of 0, a weekday twice, ...
        raise MalformedReply("Visit has an unreadable Recurrence") from None


def _recurrence_tags(count: int) -> list[str]:
    return [_FREQUENCY, _INTERVAL, *([_BY_DAY] * max(0, count - 3)), _UNTIL]


def visits_page(
    response: etree._Element, citizen_id: str | None = None
) -> tuple[list[Appointment], str | None]:
    """A ``GetVisitsResponse``: its appointments and the token of the next page, if any.

    With ``citizen_id``, a visit of anyone else is refused: showing it would
    show one citizen another's calendar.
    """
    children: list[etree._Element] = response[:]  # type: ignore[assignment,index]
    token = None
    if children and children[-1].tag == _TOKEN:
        token = children.pop().text or None
    if list(map(_TAG, children)).count(_VISIT) != len(children):
        raise MalformedReply("GetVisitsResponse holds something other than Visit elements")
    try:
        return [appointment(visit, citizen_id) for visit in children], token
    except MalformedReply:
        # Read again one by one, only to say which visit is broken.
        for position, visit in enumerate(children, start=1):
            try:
                appointment(visit, citizen_id)
            except MalformedReply as error:
                raise MalformedReply(f"Visit {position} of the page: {error}") from None
        raise


def single_visit(response: etree._Element) -> tuple[Appointment, str]:
    """A ``GetVisitResponse``'s one visit, and whose it is (its NationalId)."""
    visit = response.find(_VISIT)
    if visit is None:
        raise MalformedReply("GetVisitResponse holds no Visit")
    return appointment(visit), visit.findtext(_NATIONAL_ID) or ""
