"""RFC 5545 RRULE strings (Gerica's ``Gjentakelse``) to and from the domain's Recurrence.

Gerica repeats planned visits DAILY or WEEKLY, every INTERVAL days or weeks,
on BYDAY weekdays, until a date (UNTIL) or for COUNT occurrences. Those are
exactly the parts the domain (and Helsenorge) can show; a rule using anything
else (MONTHLY, BYMONTH, BYSETPOS, ordinal weekdays such as ``1MO``) cannot be
shown faithfully and is refused rather than silently simplified.

UNTIL is read in every form RFC 5545 allows: a DATE (``20260630``), a UTC
DATE-TIME (``20260630T215959Z``) or a floating DATE-TIME (read on the Oslo
clock); the domain keeps the Oslo calendar date. It is written as a UTC
DATE-TIME at the last second of that Oslo date, the form RFC 5545 requires
when DTSTART carries a time zone, as Gerica's ``Start`` does.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from pydantic import ValidationError

from digidialog.domain import Frequency, Recurrence, Weekday
from digidialog.domain.timezone import OSLO
from digidialog.errors import MalformedReply

_FREQUENCIES = {"DAILY": Frequency.DAILY, "WEEKLY": Frequency.WEEKLY}
_WEEKDAYS = {day.value: day for day in Weekday}
_LAST_SECOND = time(23, 59, 59)


class RruleError(MalformedReply):
    """A Gjentakelse that is not an RRULE the domain can represent."""


def parse_rrule(text: str) -> Recurrence:
    """The domain recurrence for an RRULE value such as ``FREQ=WEEKLY;BYDAY=MO,TH``."""
    rule = text.strip()
    if rule.upper().startswith("RRULE:"):
        rule = rule[6:]
    parts: dict[str, str] = {}
    for part in rule.split(";"):
        name, sep, value = part.partition("=")
        name = name.strip().upper()
        if not sep or not name or not value.strip():
            raise RruleError("Gerica sent a Gjentakelse with a malformed rule part")
        if name in parts:
            raise RruleError(f"Gerica sent a Gjentakelse with {name} twice")
        parts[name] = value.strip().upper()
    frequency = _FREQUENCIES.get(parts.pop("FREQ", ""))
    if frequency is None:
        raise RruleError("Gerica sent a Gjentakelse whose FREQ is not DAILY or WEEKLY")
    interval = _positive(parts.pop("INTERVAL", "1"), "INTERVAL")
    by_day = _weekdays(parts.pop("BYDAY", ""))
    until = _until(parts.pop("UNTIL")) if "UNTIL" in parts else None
    count = _positive(parts.pop("COUNT"), "COUNT") if "COUNT" in parts else None
    if parts.pop("WKST", "MO") != "MO":
        # Weeks are counted from Monday in the domain (and in Norway); another start
        # day changes which weeks an INTERVAL>1 rule picks.
        raise RruleError("Gerica sent a Gjentakelse with a week start other than Monday")
    if parts:
        # Name the parts (rule names are short capitals), never echo other text.
        names = sorted(p if p.replace("-", "").isalpha() and len(p) <= 20 else "?" for p in parts)
        raise RruleError(
            "Gerica sent a Gjentakelse with parts the portal cannot show: " + ", ".join(names)
        )
    try:
        return Recurrence(
            frequency=frequency, interval=interval, by_day=by_day, until=until, count=count
        )
    except ValidationError as error:
        reason = error.errors()[0]["msg"]
        raise RruleError(f"Gerica sent a Gjentakelse the domain refuses: {reason}") from None


def format_rrule(recurrence: Recurrence) -> str:
    """The RRULE value for a domain recurrence (paused dates are not part of an RRULE)."""
    parts = [f"FREQ={recurrence.frequency.value}", f"INTERVAL={recurrence.interval}"]
    if recurrence.by_day:
        parts.append("BYDAY=" + ",".join(day.value for day in recurrence.by_day))
    if recurrence.until is not None:
        last = datetime.combine(recurrence.until, _LAST_SECOND, tzinfo=OSLO).astimezone(UTC)
        parts.append("UNTIL=" + last.strftime("%Y%m%dT%H%M%SZ"))
    if recurrence.count is not None:
        parts.append(f"COUNT={recurrence.count}")
    return ";".join(parts)


def _positive(value: str, name: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise RruleError(f"Gerica sent a Gjentakelse whose {name} is not a positive integer")
    return int(value)


def _weekdays(value: str) -> tuple[Weekday, ...]:
    if not value:
        return ()
    days: list[Weekday] = []
    for code in value.split(","):
        day = _WEEKDAYS.get(code.strip())
        if day is None:
            # Ordinals such as 1MO or -1FR belong to MONTHLY and YEARLY rules.
            raise RruleError("Gerica sent a Gjentakelse with a BYDAY the portal cannot show")
        days.append(day)
    return tuple(days)


def _until(value: str) -> date:
    try:
        if len(value) == 8:
            return datetime.strptime(value, "%Y%m%d").date()  # noqa: DTZ007 - a bare date
        if value.endswith("Z"):
            moment = datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
            return moment.astimezone(OSLO).date()
        # A floating DATE-TIME is local time: Gerica's local time is Oslo.
        return datetime.strptime(value, "%Y%m%dT%H%M%S").date()  # noqa: DTZ007 - floating
    except ValueError:
        raise RruleError("Gerica sent a Gjentakelse whose UNTIL is not a date") from None
