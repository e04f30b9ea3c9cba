"""xCal's values read: date-times, dates, durations, whole numbers and recurrence rules.

Date-times without an offset are on the Oslo wall clock (the domain's
:func:`~digidialog.domain.timezone.from_oslo_wall_clock` turns them into
instants; in the repeated autumn hour they mean the first pass, a time in the
skipped spring hour is refused); ``...Z`` is UTC. Errors locate the property
by name and line, never quote its value.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

from lxml import etree

from digidialog.domain import Frequency, Recurrence, Weekday
from digidialog.domain.appointments import INTERVAL_MAX
from digidialog.domain.timezone import from_oslo_wall_clock, to_oslo
from digidialog.errors import SchemaViolation
from digidialog.helsenorge.xcal import x
from digidialog.modelbuild import RECURRENCE_FIELDS, RefusedValues, recurrence
from digidialog.xml.tree import line_of

_DURATION = re.compile(
    r"^P(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?"
    r"(?:T(?:(?P<h>\d+)H)?(?:(?P<tm>\d+)M)?(?:(?P<s>\d+)S)?|(?P<m>\d+)M)?$"
)
_RECUR, _FREQ, _INTERVAL, _BYDAY, _UNTIL, _COUNT = (
    x("recur"), x("freq"), x("interval"), x("byday"), x("until"), x("count"))
_WEEKDAYS = {day.value: day for day in Weekday}  # a dictionary: calling the enum costs a µs
_RECURRENCE_PASSED = set(RECURRENCE_FIELDS)
"""parse_recurrence passes every field, as model_fields_set after validation would hold them."""
_MOST_DIGITS = 9
"""Whole numbers longer than this are refused: a count of a billion visits is already absurd,
and the bound keeps int() from chewing on a 5000-digit value."""


def at(name: str, element: etree._Element | None) -> str:
    """An error location: the property's name, and its line when the element is known."""
    return name if element is None else f"{name} (line {line_of(element)})"


def parse_date_time(raw: str, name: str, element: etree._Element | None = None) -> datetime:
    """An xCal date-time (an instant in UTC): ``...Z`` is UTC, no offset is the Oslo clock.

    ``element``, when given, locates an error by its line.
    """
    try:
        value = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise SchemaViolation("not a valid date-time", location=at(name, element)) from None
    return _instant(value, name, element)


def parse_date(raw: str, name: str, element: etree._Element) -> date:
    """An xCal date (``YYYY-MM-DD``)."""
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise SchemaViolation("not a valid date", location=at(name, element)) from None


def date_or_date_time(prop: etree._Element, name: str) -> datetime:
    """The instant a property's value names; a DATE is its first moment on the Oslo clock."""
    # A DATE-TIME value has a "T" and a DATE has none: both are pattern-checked by the
    # schema, so the text says which one the last child is without reading its tag.
    raw = prop[-1].text or ""
    if "T" in raw:
        return parse_date_time(raw, name, prop)
    return _instant(datetime.combine(parse_date(raw, name, prop), time()), name, prop)


def until_date(until: etree._Element) -> date:
    """A recurrence's last day: a DATE is the day itself, a DATE-TIME the Oslo date it falls on."""
    raw = until[-1].text or ""
    if "T" in raw:
        try:
            return to_oslo(parse_date_time(raw, "until", until)).date()
        except OverflowError:
            raise SchemaViolation("date-time out of range", location=at("until", until)) from None
    return parse_date(raw, "until", until)


@lru_cache(maxsize=1024)
def parse_duration(raw: str) -> tuple[timedelta, bool] | None:
    """An RFC 5545 duration, and whether it was written ``P..M`` (months, meaning minutes);
    ``None`` if it is not a duration."""
    # Cached: a reply repeats a handful of durations (PT30M, PT45M) hundreds of times.
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


def whole_number(raw: str) -> int | None:
    """An ``xs:integer`` of at most nine digits (a leading ``+`` allowed), or ``None``."""
    digits = raw.strip().removeprefix("+")
    if not (digits.isascii() and digits.isdigit()) or len(digits) > _MOST_DIGITS:
        return None
    return int(digits)


def parse_recurrence(prop: etree._Element, paused: list[datetime]) -> Recurrence:
    """An ``rrule`` property as a Recurrence pausing ``paused`` (the VEVENT's exdates).

    DAILY and WEEKLY only; an empty ``interval`` is 1, several weekdays may share a
    ``byday``; the error names the rule broken and the line.
    """

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
    until = None if until_element is None else until_date(until_element)
    interval = whole_number(parts.get(_INTERVAL) or "1")
    if interval is None:
        raise invalid(f"invalid recurrence: interval must be a whole number 1 to {INTERVAL_MAX}")
    count_text = parts.get(_COUNT)
    count = None if not count_text else whole_number(count_text)
    if count_text and count is None:
        raise invalid("invalid recurrence: count must be a whole number, at least 1")
    try:
        # Built without validating twice; the model's rules are checked there (modelbuild).
        return recurrence({
            "frequency": frequency,
            "interval": interval,
            "by_day": tuple(days),
            "until": until,
            "count": count,
            "paused": tuple(paused),
        }, _RECURRENCE_PASSED)
    except RefusedValues as error:
        raise invalid(f"invalid recurrence: {error}") from None


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
                day = _WEEKDAYS.get(token)
                if day is None:
                    raise invalid(f"unknown weekday {token[:5]!r}")
                if day not in days:
                    days.append(day)
        elif tag == _UNTIL:
            until_element = until_element if until_element is not None else part
        else:
            parts.setdefault(tag, (part.text or "").strip())
    return parts, days, until_element


def _instant(value: datetime, name: str, element: etree._Element | None) -> datetime:
    # In UTC: a time without an offset is on the Oslo clock. Refused where the clock
    # skips it, or where the instant lies beyond what datetime holds (year 1 or 9999).
    try:
        if value.tzinfo is not None:
            return value.astimezone(UTC)
        return from_oslo_wall_clock(value)
    except OverflowError:
        raise SchemaViolation("date-time out of range", location=at(name, element)) from None
    except ValueError as error:
        raise SchemaViolation(str(error), location=at(name, element)) from None
