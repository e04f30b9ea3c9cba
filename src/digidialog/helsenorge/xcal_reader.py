"""Reading xCal: each VEVENT into an :class:`Event`, then into a domain Appointment.

The vocabulary is :mod:`digidialog.helsenorge.xcal`, the values (date-times,
durations, recurrence rules) :mod:`digidialog.helsenorge.xcal_values`.

Quirks of real files read here, and never written: ``TjenesteId: 9`` with a
space and any letter case, ``P30M`` meaning thirty minutes, an empty
``<interval/>``, several weekdays in one ``byday``, a ``dtend`` before its
``dtstart``, a VEVENT without ``status``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from lxml import etree

from digidialog.domain import (
    Appointment,
    AppointmentStatus,
    CancellationReason,
    Recurrence,
    normalise_service_id,
)
from digidialog.domain.timezone import OSLO, to_oslo
from digidialog.errors import SchemaViolation
from digidialog.helsenorge.xcal import (
    SERVICE_PREFIX,
    TIME_WINDOW,
    XCAL_TO_REASON,
    XCAL_TO_STATUS,
    x,
)
from digidialog.helsenorge.xcal_values import (
    at,
    date_or_date_time,
    parse_date_time,
    parse_duration,
    parse_recurrence,
)
from digidialog.modelbuild import FIELDS, RefusedValues, appointment
from digidialog.xml.tree import line_of

# Tags looked up for every VEVENT, spelled out once rather than per call.
_ICALENDAR, _VEVENT, _PROPERTIES, _TEXT = x("icalendar"), x("vevent"), x("properties"), x("text")
_DTSTART, _DTEND, _UID, _RELATED_TO, _CONTACT, _STATUS = (
    x("dtstart"), x("dtend"), x("uid"), x("related-to"), x("contact"), x("status"))
_SUMMARY, _DESCRIPTION, _LOCATION, _CATEGORIES, _ATTENDEE, _EXDATE = (
    x("summary"), x("description"), x("location"), x("categories"), x("attendee"), x("exdate"))
_ORGANIZER, _COMPLETED, _EXPECTED_DURATION, _CANCELLATION_REASON, _RRULE = (
    x("organizer"), x("completed"), x("x-expected-duration"), x("x-cancellation-reason"),
    x("rrule"))
_PARAMETERS, _CN = x("parameters"), x("cn")

_SERVICE_PREFIX_LOWER = SERVICE_PREFIX.lower()
_PASSED = set(FIELDS)
"""to_appointment passes every field, as model_fields_set after validation would hold them."""


@dataclass(slots=True)
class Event:
    """The properties of one VEVENT, read but not yet given a domain meaning."""

    start: datetime | None = None
    end: datetime | None = None
    uid: str | None = None
    series: str | None = None
    contact: str | None = None
    status: str | None = None
    summary: str | None = None
    description: str | None = None
    location: str | None = None
    categories: list[str] = field(default_factory=list)
    expected_duration: timedelta | None = None
    recurrence: Recurrence | None = None
    paused: list[datetime] = field(default_factory=list)
    attendees: list[str] = field(default_factory=list)
    organizer: str | None = None
    cancellation_reason: str | None = None
    completed: datetime | None = None
    element: etree._Element | None = None
    """The VEVENT read, kept to name its line in an error (looked up only then)."""

    @property
    def line(self) -> int | None:
        """The VEVENT's source line, if it was read from a document."""
        return None if self.element is None else line_of(self.element)

    @property
    def where(self) -> str:
        """The VEVENT and its line, to locate an error."""
        return f"vevent (line {self.line})"

    @property
    def service_id(self) -> str | None:
        """The TjenesteId named in categories, normalised."""
        for category in self.categories:
            if category.lower().startswith(_SERVICE_PREFIX_LOWER):
                return normalise_service_id(category)
        return None


# ---------------------------------------------------------------- VEVENT to Event


def read_events(root: etree._Element, warnings: list[str]) -> list[Event]:
    """Every VEVENT of an ``icalendar`` element, in document order.

    ``root`` comes from :func:`digidialog.xml.safe.parse` (comments
    and processing instructions removed) and has passed the schema, so every
    property holds its optional ``parameters`` first and its value element
    last; the readers rely on that.
    """
    if root.tag != _ICALENDAR:
        raise SchemaViolation("expected an xCal icalendar element", location="iCalendar")
    return [_read_event(vevent, warnings) for vevent in root.iter(_VEVENT)]


def _properties(vevent: etree._Element) -> list[tuple[str, etree._Element]]:
    """Each property of a VEVENT with its tag, in document order."""
    # A reply of 200 visits holds some 2500 properties, so the work per property is kept
    # to an element and its tag. (One XPath call for every property of the calendar was
    # tried: no faster, and it holds every property's proxy and tag string at once.) A
    # VEVENT holds at most a properties and a components element, in that order.
    for part in vevent:
        if part.tag == _PROPERTIES:
            return [(prop.tag, prop) for prop in part]
    return []


def _read_event(vevent: etree._Element, warnings: list[str]) -> Event:
    # A later duplicate wins; the few properties that may repeat are gathered from the
    # pairs, only where they occur. (lxml's tag-filtered iterchildren() would be
    # shorter, but setting up its tag matcher costs more than scanning these pairs.)
    pairs = _properties(vevent)
    found = dict(pairs)
    get = found.get
    start, end, expected = get(_DTSTART), get(_DTEND), get(_EXPECTED_DURATION)
    organizer, completed = get(_ORGANIZER), get(_COMPLETED)
    event = Event(
        start=None if start is None else date_or_date_time(start, "dtstart"),
        end=None if end is None else date_or_date_time(end, "dtend"),
        uid=_value(get(_UID)),
        series=_value(get(_RELATED_TO)),
        contact=_value(get(_CONTACT)),
        status=_value(get(_STATUS)),
        summary=_value(get(_SUMMARY)),
        description=_value(get(_DESCRIPTION)),
        location=_value(get(_LOCATION)),
        categories=[] if _CATEGORIES not in found else [
            (text.text or "").strip()
            for tag, prop in pairs if tag == _CATEGORIES
            for text in prop if text.tag == _TEXT
        ],
        expected_duration=None if expected is None else _expected_duration(expected, warnings),
        paused=[] if _EXDATE not in found else [
            date_or_date_time(prop, "exdate") for tag, prop in pairs if tag == _EXDATE
        ],
        attendees=[] if _ATTENDEE not in found else [
            name for tag, prop in pairs if tag == _ATTENDEE and (name := _cn(prop))
        ],
        organizer=None if organizer is None else _cn(organizer),
        cancellation_reason=_value(get(_CANCELLATION_REASON)),
        completed=None if completed is None else parse_date_time(
            completed[-1].text or "", "completed", completed),
        element=vevent,
    )
    rrule = get(_RRULE)
    if rrule is not None:
        # Read last: the recurrence takes the paused occurrences along.
        event.recurrence = parse_recurrence(rrule, event.paused)
    return event


def _value(prop: etree._Element | None) -> str | None:
    # The text of a property's value (its last child); absent and empty read alike,
    # since every consumer treats both as "not given".
    if prop is None:
        return None
    return (prop[-1].text or "").strip() or None


def _cn(prop: etree._Element) -> str | None:
    # The common name parameter, read by position where the schema fixes it: parameters
    # come first in a property, and a cn parameter holds one text value.
    parameters = prop[0]
    if parameters.tag == _PARAMETERS:
        for parameter in parameters:
            if parameter.tag == _CN:
                return (parameter[-1].text or "").strip() or None
    return None


def _expected_duration(prop: etree._Element, warnings: list[str]) -> timedelta:
    """An iCalendar duration; ``P30M`` (as in the guide's example) means 30 minutes."""
    raw = (prop[-1].text or "").strip()
    read = parse_duration(raw)
    if read is None:
        raise SchemaViolation("not a valid duration", location=at("x-expected-duration", prop))
    duration, as_minutes = read
    if as_minutes:
        warnings.append(f"{at('x-expected-duration', prop)}: duration {raw!r} read as minutes "
                        "(written PT..M)")
    return duration


# ---------------------------------------------------------------- Event to Appointment


def event_times(event: Event, warnings: list[str]) -> tuple[datetime, datetime]:
    """Start and end of an event, repairing an end that comes before the start.

    The official completed-visit example ends two years before it starts: the
    date of ``dtend`` is wrong, its clock time is plausible. The end is then
    taken as that clock time on the start's day if that is later, else as the
    start itself; either way a warning says so.
    """
    if event.start is None:
        raise SchemaViolation("dtstart is missing", location=event.where)
    end = event.end or event.start
    if end < event.start:
        local_start = to_oslo(event.start)
        candidate = datetime.combine(local_start.date(), to_oslo(end).time(), tzinfo=OSLO)
        end = candidate if candidate >= event.start else event.start
        warnings.append(
            f"{event.where}: dtend before dtstart; end taken as {to_oslo(end).isoformat()}"
        )
    return event.start, end


def to_appointment(
    event: Event,
    warnings: list[str],
    *,
    default_status: AppointmentStatus | None = None,
    default_reason: CancellationReason | None = None,
) -> Appointment:
    """The domain appointment an event describes.

    Without a ``status`` the caller's context decides (a cancellation that was
    accepted is cancelled); failing that, a time window or a recurrence means
    planned, an exact time assigned. What the status does not allow (a
    recurrence that is not planned, a reason on a visit not cancelled) is left
    out rather than refused.
    """
    start, end = event.start, event.end
    if start is None or end is None or end < start:
        start, end = event_times(event, warnings)
    status = XCAL_TO_STATUS.get((event.status or "").upper())
    if status is None:
        if event.status:
            raise SchemaViolation(f"unknown status {event.status[:20]!r}", location=event.where)
        planned = event.recurrence is not None or TIME_WINDOW in event.categories
        status = default_status or (
            AppointmentStatus.PLANNED if planned else AppointmentStatus.ASSIGNED
        )
    reason = default_reason if not event.status else None
    if event.cancellation_reason:
        reason = XCAL_TO_REASON.get(event.cancellation_reason)
        if reason is None:
            raise SchemaViolation("unknown x-cancellation-reason", location=event.where)
    try:
        # Built without validating twice; the model's rules are checked there (modelbuild).
        return appointment({
            "uid": event.uid or "",
            "series": event.series or None,
            "status": status,
            "start": start,
            "end": end,
            "service_id": event.service_id,
            "service_name": event.summary or None,
            "employees": tuple(event.attendees),
            "expected_duration": event.expected_duration,
            # The recurrence holds the paused occurrences (exdate) already.
            "recurrence": event.recurrence if status is AppointmentStatus.PLANNED else None,
            "cancellation_reason": reason if status is AppointmentStatus.CANCELLED else None,
            "description": event.description or None,
            "completed_at": event.completed if status is AppointmentStatus.COMPLETED else None,
            "contact_her_id": event.contact or None,
            "organizer": event.organizer,
            "location": event.location or None,
        }, _PASSED)
    except RefusedValues as error:
        raise SchemaViolation(str(error), location=event.where) from None
