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
from functools import lru_cache

from lxml import etree

from digidialog.domain import (
    Appointment,
    AppointmentStatus,
    CancellationReason,
    CancellationRequest,
    Frequency,
    Recurrence,
    Weekday,
    normalise_service_id,
)
from digidialog.domain.assembly import (
    FIELDS,
    RECURRENCE_FIELDS,
    assemble_appointment,
    assemble_recurrence,
)
from digidialog.domain.timezone import (
    OSLO,
    from_oslo_wall_clock,
    is_second_occurrence,
    to_oslo,
)
from digidialog.errors import SchemaViolation
from digidialog.helsenorge.names import XCAL, q
from digidialog.xml.text import esc, leaf
from digidialog.xml.tree import line_of

TIME_WINDOW = "Tidsvindu"
CANCELLATION_PERIOD = "Avbestillingsperiode"
SERVICE_PREFIX = "TjenesteId:"
_SERVICE_PREFIX_LOWER = SERVICE_PREFIX.lower()
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


_TEXT = x("text")
# Tags looked up for every VEVENT, spelled out once rather than per call.
_UID, _PROPERTIES, _PARAMETERS, _CN = x("uid"), x("properties"), x("parameters"), x("cn")
_RECUR, _FREQ, _INTERVAL, _BYDAY, _UNTIL, _COUNT = (
    x("recur"), x("freq"), x("interval"), x("byday"), x("until"), x("count")
)


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


# ---------------------------------------------------------------- reading


def read_events(root: etree._Element, warnings: list[str]) -> list[Event]:
    """Every VEVENT of an ``icalendar`` element, in document order.

    ``root`` comes from :func:`digidialog.xml.safe.parse` (comments
    and processing instructions removed) and has passed the schema, so every
    property holds its optional ``parameters`` first and its value element
    last; the readers rely on that.
    """
    if root.tag != _ICALENDAR:
        raise SchemaViolation("expected an xCal icalendar element", location="iCalendar")
    return [_read_event(vevent, _pairs_of(vevent), warnings) for vevent in root.iter(_VEVENT)]


def _pairs_of(vevent: etree._Element) -> list[tuple[str, etree._Element]]:
    # Each property with its tag, in one tight pass: a reply of 200 visits holds some
    # 2500 properties, so the work per property is kept to an element and its tag. (One
    # XPath call for every property of the calendar was tried: no faster, and it holds
    # every property's proxy and tag string at once.) A VEVENT holds at most a
    # properties and a components element, in that order.
    for part in vevent:
        if part.tag == _PROPERTIES:
            return [(prop.tag, prop) for prop in part]
    return []


def _read_event(
    vevent: etree._Element, pairs: list[tuple[str, etree._Element]], warnings: list[str]
) -> Event:
    # A later duplicate wins; the few properties that may repeat are gathered from the
    # pairs, only where they occur. (lxml's tag-filtered iterchildren() would be
    # shorter, but setting up its tag matcher costs more than scanning these pairs.)
    found = dict(pairs)
    get = found.get
    start, end = get(_DTSTART), get(_DTEND)
    event = Event(
        start=None if start is None else _when(start, "dtstart"),
        end=None if end is None else _when(end, "dtend"),
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
        paused=[] if _EXDATE not in found else [
            _when(prop, "exdate") for tag, prop in pairs if tag == _EXDATE
        ],
        attendees=[] if _ATTENDEE not in found else [
            name for tag, prop in pairs if tag == _ATTENDEE and (name := _cn(prop))
        ],
        cancellation_reason=_value(get(_CANCELLATION_REASON)),
        element=vevent,
    )
    for tag, reader in _READERS.items():
        prop = get(tag)
        if prop is not None:
            reader(event, prop, warnings)
    return event


def _value(prop: etree._Element | None) -> str | None:
    # The text of a property's value (its last child); absent and empty read alike,
    # since every consumer treats both as "not given".
    if prop is None:
        return None
    return (prop[-1].text or "").strip() or None


def _when(prop: etree._Element, name: str) -> datetime:
    # A DATE-TIME value has a "T" and a DATE has none: both are pattern-checked by the
    # schema, so the text says which one the last child is without reading its tag.
    raw = prop[-1].text or ""
    if "T" in raw:
        return parse_date_time(raw, name, prop)
    return _instant(datetime.combine(_parse_date(raw, name, prop), time()), name, prop)


def parse_date_time(raw: str, name: str, element: etree._Element | None = None) -> datetime:
    """An xCal date-time (an instant in UTC): ``...Z`` is UTC, no offset is the Oslo clock.

    ``element``, when given, locates an error by its line.
    """
    try:
        value = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise SchemaViolation("not a valid date-time", location=_at(name, element)) from None
    return _instant(value, name, element)


def _instant(value: datetime, name: str, element: etree._Element | None) -> datetime:
    # In UTC: a time without an offset is on the Oslo clock. Refused where the clock
    # skips it, or where the instant lies beyond what datetime holds (year 1 or 9999).
    try:
        if value.tzinfo is not None:
            return value.astimezone(UTC)
        return from_oslo_wall_clock(value)
    except OverflowError:
        raise SchemaViolation("date-time out of range", location=_at(name, element)) from None
    except ValueError as error:
        raise SchemaViolation(str(error), location=_at(name, element)) from None


def _at(name: str, element: etree._Element | None) -> str:
    return name if element is None else f"{name} (line {line_of(element)})"


def _parse_date(raw: str, name: str, element: etree._Element) -> date:
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise SchemaViolation("not a valid date", location=_at(name, element)) from None


def _until_date(until: etree._Element) -> date:
    # A DATE is the last day itself; a DATE-TIME counts by the Oslo date it falls on.
    raw = until[-1].text or ""
    if "T" in raw:
        try:
            return to_oslo(parse_date_time(raw, "until", until)).date()
        except OverflowError:
            raise SchemaViolation("date-time out of range", location=_at("until", until)) from None
    return _parse_date(raw, "until", until)


@lru_cache(maxsize=1024)
def _duration(raw: str) -> tuple[timedelta, bool] | None:
    # A reply repeats a handful of durations (PT30M, PT45M) hundreds of times.
    match = _DURATION.match(raw)
    if not match or raw in {"P", "PT"}:
        return None
    try:
        parts = {k: int(v) for k, v in match.groupdict().items() if v}
        value = timedelta(
            weeks=parts.get("w", 0),
            days=parts.get("d", 0),
            hours=parts.get("h", 0),
            minutes=parts.get("tm", 0) + parts.get("m", 0),
            seconds=parts.get("s", 0),
        )
    except (ValueError, OverflowError):  # thousands of digits, or beyond timedelta's range
        return None
    return value, "m" in parts


def _read_recurrence(event: Event, prop: etree._Element, _warnings: list[str]) -> None:
    def invalid(reason: str) -> SchemaViolation:
        # The line is looked up only when there is something to report.
        return SchemaViolation(reason, location=f"rrule (line {line_of(prop)})")

    recur = prop[-1]
    if recur.tag != _RECUR:
        raise invalid("rrule without recur")
    parts, days, until_element = _recur_parts(recur, invalid)
    frequency = Frequency.__members__.get(parts.get(_FREQ, ""))
    if frequency is None:
        raise invalid("only DAILY and WEEKLY recurrences are supported, "
                      f"not {parts.get(_FREQ, '')[:20]!r}")
    until = None if until_element is None else _until_date(until_element)
    interval = _whole_number(parts.get(_INTERVAL) or "1")
    if interval is None or not 1 <= interval <= _MAX_INTERVAL:
        raise invalid(f"invalid recurrence: interval must be a whole number 1 to {_MAX_INTERVAL}")
    count_text = parts.get(_COUNT)
    count = None if not count_text else _whole_number(count_text)
    if count_text and (count is None or count < 1):
        raise invalid("invalid recurrence: count must be a whole number, at least 1")
    if until is not None and count is not None:
        raise invalid("invalid recurrence: it ends by until or by count, not both")
    # Every rule of Recurrence checked above (weekdays are unique by construction), so
    # it is assembled rather than validated a second time: see domain.assembly.
    event.recurrence = assemble_recurrence({
        "frequency": frequency,
        "interval": interval,
        "by_day": tuple(days),
        "until": until,
        "count": count,
        "paused": tuple(event.paused),
    }, _ALL_RECURRENCE_FIELDS)


def _recur_parts(
    recur: etree._Element, invalid: Callable[[str], SchemaViolation]
) -> tuple[dict[str, str], list[Weekday], etree._Element | None]:
    """The texts of a recur's parts by tag, its weekdays in order, and its until element."""
    parts: dict[str, str] = {}
    days: list[Weekday] = []
    until_element: etree._Element | None = None
    for part in recur:
        tag = part.tag
        if tag == _BYDAY:
            for token in (part.text or "").replace(" ", "").split(","):
                if not token:
                    continue
                day = _WEEKDAYS.get(token)  # a dictionary: calling the enum costs a µs
                if day is None:
                    raise invalid(f"unknown weekday {token[:5]!r}")
                if day not in days:
                    days.append(day)
        elif tag == _UNTIL:
            until_element = until_element if until_element is not None else part
        else:
            parts.setdefault(tag, (part.text or "").strip())
    return parts, days, until_element


def _whole_number(raw: str) -> int | None:
    # xs:integer allows a leading "+"; nine digits bound int() (a count of a billion
    # visits is already absurd) so a 5000-digit value is refused, not a crash.
    digits = raw.strip().removeprefix("+")
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 9:
        return None
    return int(digits)


_MAX_INTERVAL = next(
    rule.le for rule in Recurrence.model_fields["interval"].metadata if hasattr(rule, "le")
)
_ALL_RECURRENCE_FIELDS = set(RECURRENCE_FIELDS)
_WEEKDAYS = {day.value: day for day in Weekday}


def _cn(prop: etree._Element) -> str | None:
    # The common name parameter, read by position where the schema fixes it: parameters
    # come first in a property, and a cn parameter holds one text value.
    parameters = prop[0]
    if parameters.tag == _PARAMETERS:
        for parameter in parameters:
            if parameter.tag == _CN:
                return (parameter[-1].text or "").strip() or None
    return None


def _read_expected(event: Event, prop: etree._Element, warnings: list[str]) -> None:
    """An iCalendar duration; ``P30M`` (as in the guide's example) means 30 minutes."""
    raw = (prop[-1].text or "").strip()
    read = _duration(raw)
    if read is None:
        raise SchemaViolation("not a valid duration", location=_at("x-expected-duration", prop))
    event.expected_duration, as_minutes = read
    if as_minutes:
        warnings.append(f"{_at('x-expected-duration', prop)}: duration {raw!r} read as minutes "
                        "(written PT..M)")


def _read_organizer(event: Event, prop: etree._Element, _warnings: list[str]) -> None:
    event.organizer = _cn(prop)


def _read_completed(event: Event, prop: etree._Element, _warnings: list[str]) -> None:
    event.completed = parse_date_time(prop[-1].text or "", "completed", prop)


_ICALENDAR, _VEVENT, _DTSTART, _DTEND, _CATEGORIES, _ATTENDEE, _EXDATE = (
    x("icalendar"), x("vevent"), x("dtstart"), x("dtend"), x("categories"), x("attendee"),
    x("exdate"),
)
_RELATED_TO, _CONTACT, _STATUS, _SUMMARY, _DESCRIPTION, _LOCATION, _CANCELLATION_REASON = (
    x("related-to"), x("contact"), x("status"), x("summary"), x("description"),
    x("location"), x("x-cancellation-reason"),
)
# Read after the rest of the event: the recurrence takes the paused occurrences along.
_READERS: dict[str, Callable[[Event, etree._Element, list[str]], None]] = {
    x("x-expected-duration"): _read_expected,
    x("rrule"): _read_recurrence,
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
    planned, an exact time assigned.
    """
    start, end = event.start, event.end
    if start is None or end is None or end < start:
        start, end = event_times(event, warnings)
    status = _XCAL_TO_STATUS.get((event.status or "").upper())
    if status is None:
        if event.status:
            raise SchemaViolation(f"unknown status {event.status[:20]!r}", location=event.where)
        planned = event.recurrence is not None or TIME_WINDOW in event.categories
        status = default_status or (
            AppointmentStatus.PLANNED if planned else AppointmentStatus.ASSIGNED
        )
    reason = default_reason if not event.status else None
    if event.cancellation_reason:
        reason = _XCAL_TO_REASON.get(event.cancellation_reason)
        if reason is None:
            raise SchemaViolation("unknown x-cancellation-reason", location=event.where)
    uid = event.uid or ""
    if not uid or len(uid) > 255:
        raise SchemaViolation("uid must be 1 to 255 characters", location=event.where)
    duration = event.expected_duration
    if duration is not None and duration <= _NO_TIME:
        raise SchemaViolation("x-expected-duration must be positive", location=event.where)
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
        # The recurrence holds the paused occurrences (exdate) already.
        "recurrence": event.recurrence if status is AppointmentStatus.PLANNED else None,
        "cancellation_reason": reason if status is AppointmentStatus.CANCELLED else None,
        "description": event.description or None,
        "completed_at": event.completed if status is AppointmentStatus.COMPLETED else None,
        "contact_her_id": event.contact or None,
        "organizer": event.organizer,
        "location": event.location or None,
    }, _ALL_FIELDS)


_ALL_FIELDS = set(FIELDS)
_NO_TIME = timedelta(0)


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


def single_event_text(cancellation: CancellationRequest) -> str:
    """The VEVENT naming the one appointment a citizen cancels."""
    parts = [
        _when_prop("dtstart", cancellation.start),
        _when_prop("dtend", cancellation.end),
        _prop("uid", cancellation.appointment_uid or ""),
    ]
    if cancellation.series is not None:
        parts.append(f"<related-to><uri>{esc(cancellation.series)}</uri></related-to>")
    parts.append(_prop("contact", cancellation.contact_her_id))
    if cancellation.service_ids:
        parts.append(f"<categories>{leaf('text', SERVICE_PREFIX + cancellation.service_ids[0])}"
                     "</categories>")
    return _event(parts)
