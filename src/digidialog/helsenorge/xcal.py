"""xCal (iCalendar 2.0 in XML, RFC 6321) as Helsenorge's Digihelse profile uses it.

Each VEVENT is one appointment: ``dtstart``/``dtend`` (the time window of a
planned visit, otherwise the booked time), ``uid``, ``related-to`` (the
series), ``contact`` (the HER-id owning it), ``status`` (TENTATIVE,
CONFIRMED, COMPLETED, CANCELLED), ``summary`` (the service's name),
``categories`` (``Tidsvindu``, ``TjenesteId:<id>``), ``x-expected-duration``,
``rrule`` (DAILY or WEEKLY) with one ``exdate`` per paused occurrence,
``attendee`` per employee, ``organizer`` (the municipality) and
``x-cancellation-reason``.

Times: xCal date-times without an offset are Oslo wall-clock times. When we
write an instant that falls in the repeated autumn hour's second pass, we
write it in UTC (``...Z``) instead, so it stays unambiguous.

Quirks of real files read here, and never written: ``TjenesteId: 9`` with a
space and any letter case, ``P30M`` meaning thirty minutes, an empty
``<interval/>``, several weekdays in one ``byday``, a ``dtend`` before its
``dtstart``, a VEVENT without ``status``.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from lxml import etree
from pydantic import ValidationError

from digidialog.domain import (
    Appointment,
    AppointmentStatus,
    CancellationReason,
    Frequency,
    Recurrence,
    Weekday,
    normalise_service_id,
)
from digidialog.domain.assembly import FIELDS, assemble_appointment
from digidialog.domain.timezone import (
    OSLO,
    from_oslo_wall_clock,
    is_second_occurrence,
    to_oslo,
)
from digidialog.errors import SchemaViolation
from digidialog.helsenorge.message import Cancellation
from digidialog.helsenorge.names import XCAL, q
from digidialog.helsenorge.xmltext import esc, leaf
from digidialog.helsenorge.xmltree import child, line_of, text_of

TIME_WINDOW = "Tidsvindu"
CANCELLATION_PERIOD = "Avbestillingsperiode"
SERVICE_PREFIX = "TjenesteId:"
UNKNOWN_ADDRESS = "mailto:ikke-oppgitt@helsenorge.invalid"
"""cal-address is mandatory; ``.invalid`` says plainly that no address is known."""

_STATUS_TO_XCAL = {
    AppointmentStatus.PLANNED: "TENTATIVE",
    AppointmentStatus.ASSIGNED: "CONFIRMED",
    AppointmentStatus.COMPLETED: "COMPLETED",
    AppointmentStatus.CANCELLED: "CANCELLED",
}
_XCAL_TO_STATUS = {v: k for k, v in _STATUS_TO_XCAL.items()}
_REASON_TO_XCAL = {
    CancellationReason.BY_SERVICE: "Avlyst av tjeneste",
    CancellationReason.NOT_AT_HOME: "Avlyst - ikke hjemme",
    CancellationReason.BY_CITIZEN: "Avlyst av tjenestemottaker selv",
    CancellationReason.ON_BEHALF_OF_CITIZEN: "Avlyst på vegne av tjenestemottaker",
}
_XCAL_TO_REASON = {v: k for k, v in _REASON_TO_XCAL.items()}
_DURATION = re.compile(
    r"^P(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?"
    r"(?:T(?:(?P<h>\d+)H)?(?:(?P<tm>\d+)M)?(?:(?P<s>\d+)S)?|(?P<m>\d+)M)?$"
)


def x(local: str) -> str:
    """An xCal element name."""
    return q(XCAL, local)


_TEXT, _DATE_TIME, _DATE, _URI = x("text"), x("date-time"), x("date"), x("uri")
# Tags looked up for every VEVENT, spelled out once rather than per call.
_UID, _PROPERTIES, _PARAMETERS, _CN = x("uid"), x("properties"), x("parameters"), x("cn")
_RECUR, _FREQ, _INTERVAL, _BYDAY, _UNTIL, _COUNT = (
    x("recur"), x("freq"), x("interval"), x("byday"), x("until"), x("count")
)
_TEXTUAL = frozenset({_TEXT, _URI, _UID})


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
    line: int | None = None

    @property
    def service_id(self) -> str | None:
        """The TjenesteId named in categories, normalised."""
        for category in self.categories:
            if category.strip().lower().startswith(SERVICE_PREFIX.lower()):
                return normalise_service_id(category)
        return None


# ---------------------------------------------------------------- reading


def read_events(root: etree._Element, warnings: list[str]) -> list[Event]:
    """Every VEVENT of an ``icalendar`` element, in document order."""
    if root.tag != x("icalendar"):
        raise SchemaViolation("expected an xCal icalendar element", location="iCalendar")
    return [_read_event(v, warnings) for v in root.iter(x("vevent"))]


def _read_event(vevent: etree._Element, warnings: list[str]) -> Event:
    event = Event(line=line_of(vevent))
    properties = child(vevent, _PROPERTIES)
    if properties is None:
        return event
    # One pass over the properties. Text and time properties (most of them) are read
    # inline: a reply of 200 visits holds some 4000 properties, and a function call
    # per property is a visible share of decoding.
    for prop in properties:
        tag = prop.tag
        name = _TEXT_PROPERTIES.get(tag)
        if name is not None:
            setattr(event, name, _text(prop))
            continue
        name = _TIME_PROPERTIES.get(tag)
        if name is not None:
            setattr(event, name, _when(prop, name))
            continue
        reader = _READERS.get(tag)
        if reader is not None:
            reader(event, prop, warnings)
    return event


def _text(prop: etree._Element) -> str:
    # Plain loops over the few children: cheaper than lxml's find() or tag-filtered iterators.
    for value in prop:
        if value.tag in _TEXTUAL:
            return (value.text or "").strip()
    return ""


def _when(prop: etree._Element, name: str) -> datetime:
    # The property element travels instead of its line: a line is looked up only for an
    # error message, and a 200-visit reply reads some 500 times.
    for value in prop:
        if value.tag == _DATE_TIME:
            return parse_date_time(value.text or "", name, prop)
        if value.tag == _DATE:
            day = _parse_date(value.text or "", f"{name} (line {line_of(prop)})")
            return from_oslo_wall_clock(datetime.combine(day, time()))
    raise SchemaViolation("a date-time value is missing",
                          location=f"{name} (line {line_of(prop)})")


def parse_date_time(raw: str, name: str, element: etree._Element | None = None) -> datetime:
    """An xCal date-time (an instant in UTC): ``...Z`` is UTC, no offset is the Oslo clock.

    ``element``, when given, locates an error by its line.
    """
    try:
        value = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise SchemaViolation("not a valid date-time", location=_at(name, element)) from None
    if value.tzinfo is not None:
        return value.astimezone(UTC)
    try:
        return from_oslo_wall_clock(value)
    except ValueError as error:
        raise SchemaViolation(str(error), location=_at(name, element)) from None


def _at(name: str, element: etree._Element | None) -> str:
    return name if element is None else f"{name} (line {line_of(element)})"


def _parse_date(raw: str, where: str) -> date:
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise SchemaViolation("not a valid date", location=where) from None


def parse_duration(raw: str, where: str, warnings: list[str]) -> timedelta:
    """An iCalendar duration; ``P30M`` (as in the guide's example) means 30 minutes."""
    match = _DURATION.match(raw.strip())
    if not match or raw.strip() in {"P", "PT"}:
        raise SchemaViolation("not a valid duration", location=where)
    parts = {k: int(v) for k, v in match.groupdict().items() if v}
    if "m" in parts:
        warnings.append(f"{where}: duration {raw.strip()!r} read as minutes (written PT..M)")
    return timedelta(
        weeks=parts.get("w", 0),
        days=parts.get("d", 0),
        hours=parts.get("h", 0),
        minutes=parts.get("tm", 0) + parts.get("m", 0),
        seconds=parts.get("s", 0),
    )


def _read_recurrence(event: Event, prop: etree._Element, warnings: list[str]) -> None:
    recur = child(prop, _RECUR)
    where = f"rrule (line {prop.sourceline})"
    if recur is None:
        raise SchemaViolation("rrule without recur", location=where)
    frequency = (text_of(recur, _FREQ) or "").strip()
    if frequency not in Frequency.__members__:
        raise SchemaViolation(
            f"only DAILY and WEEKLY recurrences are supported, not {frequency[:20]!r}",
            location=where,
        )
    interval_text = (text_of(recur, _INTERVAL) or "").strip()
    days: list[Weekday] = []
    for byday in recur.iterchildren(_BYDAY):
        for token in (byday.text or "").replace(" ", "").split(","):
            if token and token not in Weekday.__members__:
                raise SchemaViolation(f"unknown weekday {token[:5]!r}", location=where)
            if token and Weekday(token) not in days:
                days.append(Weekday(token))
    until_element = child(recur, _UNTIL)
    until = (
        None if until_element is None
        else to_oslo(_when(until_element, "until")).date()
    )
    count_text = text_of(recur, _COUNT)
    try:
        event.recurrence = Recurrence(
            frequency=Frequency(frequency),
            interval=int(interval_text) if interval_text else 1,
            by_day=tuple(days),
            until=until,
            count=int(count_text) if count_text else None,
        )
    except (ValidationError, ValueError) as error:
        raise SchemaViolation(
            f"invalid recurrence: {error.__class__.__name__}", location=where
        ) from None


def _cn(prop: etree._Element) -> str | None:
    # The first parameters/cn/text in document order, as find() with that path
    # would give, without the cost of lxml's Python ElementPath.
    for parameters in prop:
        if parameters.tag == _PARAMETERS:
            for cn in parameters:
                if cn.tag == _CN:
                    for text in cn:
                        if text.tag == _TEXT:
                            return (text.text or "").strip() or None
    return None


def _read_categories(event: Event, prop: etree._Element, _warnings: list[str]) -> None:
    event.categories.extend((t.text or "").strip() for t in prop.iterchildren(_TEXT))


def _read_expected(event: Event, prop: etree._Element, warnings: list[str]) -> None:
    raw = prop.findtext(x("duration")) or ""
    where = f"x-expected-duration (line {prop.sourceline})"
    event.expected_duration = parse_duration(raw, where, warnings)


def _read_exdate(event: Event, prop: etree._Element, _warnings: list[str]) -> None:
    event.paused.append(_when(prop, "exdate"))


def _read_attendee(event: Event, prop: etree._Element, _warnings: list[str]) -> None:
    name = _cn(prop)
    if name:
        event.attendees.append(name)


def _read_organizer(event: Event, prop: etree._Element, _warnings: list[str]) -> None:
    event.organizer = _cn(prop)


def _read_completed(event: Event, prop: etree._Element, _warnings: list[str]) -> None:
    for value in prop:
        if value.tag in (x("utc-date-time"), _DATE_TIME):
            event.completed = parse_date_time(value.text or "", "completed", prop)


_TEXT_PROPERTIES = {
    x("uid"): "uid",
    x("related-to"): "series",
    x("contact"): "contact",
    x("status"): "status",
    x("summary"): "summary",
    x("description"): "description",
    x("location"): "location",
    x("x-cancellation-reason"): "cancellation_reason",
}
_TIME_PROPERTIES = {x("dtstart"): "start", x("dtend"): "end"}
_READERS: dict[str, Callable[[Event, etree._Element, list[str]], None]] = {
    x("categories"): _read_categories,
    x("x-expected-duration"): _read_expected,
    x("rrule"): _read_recurrence,
    x("exdate"): _read_exdate,
    x("attendee"): _read_attendee,
    x("organizer"): _read_organizer,
    x("completed"): _read_completed,
}


def event_times(event: Event, warnings: list[str]) -> tuple[datetime, datetime]:
    """Start and end of an event, repairing an end that comes before the start.

    The official completed-visit example ends two years before it starts: the
    date of ``dtend`` is wrong, its clock time is plausible. The end is then
    taken as that clock time on the start's day if that is later, else as the
    start itself; either way a warning says so.
    """
    where = f"vevent (line {event.line})"
    if event.start is None:
        raise SchemaViolation("dtstart is missing", location=where)
    end = event.end or event.start
    if end < event.start:
        local_start = to_oslo(event.start)
        candidate = datetime.combine(local_start.date(), to_oslo(end).time(), tzinfo=OSLO)
        end = candidate if candidate >= event.start else event.start
        warnings.append(f"{where}: dtend before dtstart; end taken as {to_oslo(end).isoformat()}")
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
    planned, an exact time assigned.
    """
    where = f"vevent (line {event.line})"
    start, end = event_times(event, warnings)
    status = _XCAL_TO_STATUS.get((event.status or "").upper())
    if status is None:
        if event.status:
            raise SchemaViolation(f"unknown status {event.status[:20]!r}", location=where)
        planned = event.recurrence is not None or TIME_WINDOW in event.categories
        status = default_status or (
            AppointmentStatus.PLANNED if planned else AppointmentStatus.ASSIGNED
        )
    reason = default_reason if not event.status else None
    if event.cancellation_reason:
        reason = _XCAL_TO_REASON.get(event.cancellation_reason)
        if reason is None:
            raise SchemaViolation("unknown x-cancellation-reason", location=where)
    recurrence = event.recurrence
    if recurrence is not None and event.paused:
        # Validated, not model_copy(update=...), which skips validation and would keep the
        # paused instants on the Oslo zoneinfo instead of storing them in UTC.
        recurrence = Recurrence.model_validate({**dict(recurrence), "paused": tuple(event.paused)})
    uid = event.uid or ""
    if not uid or len(uid) > 255:
        raise SchemaViolation("uid must be 1 to 255 characters", location=where)
    duration = event.expected_duration
    if duration is not None and duration.total_seconds() <= 0:
        raise SchemaViolation("x-expected-duration must be positive", location=where)
    # Every value is checked and typed as the model's validation would store it (instants
    # in UTC, the state rules kept by the conditions below): see domain.assembly.
    return assemble_appointment({
        "uid": uid,
        "series": event.series or None,
        "status": status,
        "start": start,
        "end": end,
        "service_id": event.service_id,
        "service_name": event.summary or None,
        "employees": tuple(event.attendees),
        "expected_duration": duration,
        "recurrence": recurrence if status is AppointmentStatus.PLANNED else None,
        "cancellation_reason": reason if status is AppointmentStatus.CANCELLED else None,
        "description": event.description or None,
        "completed_at": event.completed if status is AppointmentStatus.COMPLETED else None,
        "contact_her_id": event.contact or None,
        "organizer": event.organizer,
        "location": event.location or None,
    }, _ALL_FIELDS)


_ALL_FIELDS = set(FIELDS)


# ---------------------------------------------------------------- writing


def format_date_time(value: datetime) -> str:
    """Oslo wall-clock time, or UTC with ``Z`` in the repeated hour's second pass."""
    local = to_oslo(value)
    # zoneinfo marks the second pass through a repeated hour with fold=1 on conversion.
    if local.fold and is_second_occurrence(local):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"
    return local.replace(tzinfo=None).isoformat()


def format_duration(value: timedelta) -> str:
    """An RFC 5545 duration such as ``PT30M`` or ``P1DT2H``."""
    seconds = int(value.total_seconds())
    days, seconds = divmod(seconds, 86400)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    clock = "".join(f"{n}{u}" for n, u in ((hours, "H"), (minutes, "M"), (seconds, "S")) if n)
    return "P" + (f"{days}D" if days else "") + (f"T{clock}" if clock else ("" if days else "T0S"))


def calendar_text(prodid: str, events: list[str]) -> str:
    """An ``icalendar`` document holding the given VEVENT texts."""
    return (
        f'<icalendar xmlns="{XCAL}"><vcalendar><properties>'
        f"<version><text>2.0</text></version><prodid>{leaf('text', prodid)}</prodid>"
        f"</properties><components>{''.join(events)}</components></vcalendar></icalendar>"
    )


def _prop(name: str, value: str | None) -> str:
    return "" if value is None else f"<{name}><text>{esc(value)}</text></{name}>"


def _when_prop(name: str, value: datetime) -> str:
    return f"<{name}><date-time>{format_date_time(value)}</date-time></{name}>"


def _person_prop(name: str, cn: str) -> str:
    return (
        f"<{name}><parameters><cn><text>{esc(cn)}</text></cn></parameters>"
        f"<cal-address>{UNKNOWN_ADDRESS}</cal-address></{name}>"
    )


def _event(properties: list[str]) -> str:
    return f"<vevent><properties>{''.join(properties)}</properties><components/></vevent>"


def appointment_text(appointment: Appointment) -> str:
    """One VEVENT describing ``appointment``."""
    parts = [
        _when_prop("dtstart", appointment.start),
        _when_prop("dtend", appointment.end),
        _prop("uid", appointment.uid),
    ]
    if appointment.series is not None:
        parts.append(f"<related-to><uri>{esc(appointment.series)}</uri></related-to>")
    parts += [
        _prop("contact", appointment.contact_her_id),
        _prop("status", _STATUS_TO_XCAL[appointment.status]),
        _prop("summary", appointment.service_name),
        _prop("description", appointment.description),
        _prop("location", appointment.location),
    ]
    categories = [TIME_WINDOW] if appointment.is_time_window else []
    if appointment.service_id is not None:
        categories.append(SERVICE_PREFIX + appointment.service_id)
    if categories:
        parts.append(f"<categories>{''.join(leaf('text', c) for c in categories)}</categories>")
    if appointment.expected_duration is not None:
        parts.append(
            "<x-expected-duration><duration>"
            f"{format_duration(appointment.expected_duration)}</duration></x-expected-duration>"
        )
    if appointment.cancellation_reason is not None:
        parts.append(
            _prop("x-cancellation-reason", _REASON_TO_XCAL[appointment.cancellation_reason])
        )
    if appointment.recurrence is not None:
        parts.append(_recurrence_text(appointment.recurrence))
    parts += [_person_prop("attendee", employee) for employee in appointment.employees]
    if appointment.organizer is not None:
        parts.append(_person_prop("organizer", appointment.organizer))
    if appointment.completed_at is not None:
        stamp = appointment.completed_at.astimezone(UTC).replace(tzinfo=None)
        parts.append(f"<completed><utc-date-time>{stamp.isoformat(timespec='microseconds')}Z"
                     "</utc-date-time></completed>")
    return _event(parts)


def _recurrence_text(recurrence: Recurrence) -> str:
    parts = [f"<rrule><recur><freq>{recurrence.frequency.value}</freq>"]
    if recurrence.until is not None:
        parts.append(f"<until><date>{recurrence.until.isoformat()}</date></until>")
    if recurrence.count is not None:
        parts.append(f"<count>{recurrence.count}</count>")
    parts.append(f"<interval>{recurrence.interval}</interval>")
    if recurrence.by_day:
        # One comma-separated byday, as in the national implementation guide's examples.
        parts.append(f"<byday>{','.join(d.value for d in recurrence.by_day)}</byday>")
    parts.append("</recur></rrule>")
    parts += [_when_prop("exdate", paused) for paused in recurrence.paused]
    return "".join(parts)


def period_event_text(
    start: datetime, end: datetime, service_id: str, contact_her_id: str | None
) -> str:
    """One VEVENT of a period cancellation (digidialog's convention, see the README)."""
    return _event([
        _when_prop("dtstart", start),
        _when_prop("dtend", end),
        _prop("uid", str(uuid.uuid4())),
        _prop("contact", contact_her_id),
        f"<categories>{leaf('text', CANCELLATION_PERIOD)}"
        f"{leaf('text', SERVICE_PREFIX + service_id)}</categories>",
    ])


def single_event_text(cancellation: Cancellation) -> str:
    """The VEVENT naming the one appointment a citizen cancels."""
    parts = [
        _when_prop("dtstart", cancellation.start),
        _when_prop("dtend", cancellation.end),
        _prop("uid", cancellation.uid or ""),
    ]
    if cancellation.series is not None:
        parts.append(f"<related-to><uri>{esc(cancellation.series)}</uri></related-to>")
    parts.append(_prop("contact", cancellation.contact_her_id))
    if cancellation.service_ids:
        parts.append(f"<categories>{leaf('text', SERVICE_PREFIX + cancellation.service_ids[0])}"
                     "</categories>")
    return _event(parts)
