"""Writing xCal: appointments and cancellations as VEVENT text.

The writers build text (see :mod:`digidialog.xml.text`); the encoder parses
the whole message once to validate it. Date-times are written on the Oslo
wall clock without an offset, except an instant in the second pass of the
repeated autumn hour, which is written in UTC (``...Z``) so that it stays
unambiguous. The vocabulary is :mod:`digidialog.helsenorge.xcal`.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from digidialog.domain import Appointment, CancellationRequest, Recurrence
from digidialog.domain.timezone import is_second_occurrence, to_oslo
from digidialog.helsenorge.names import XCAL
from digidialog.helsenorge.xcal import (
    CANCELLATION_PERIOD,
    REASON_TO_XCAL,
    SERVICE_PREFIX,
    STATUS_TO_XCAL,
    TIME_WINDOW,
    UNKNOWN_ADDRESS,
)
from digidialog.xml.text import esc, leaf


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
        _prop("status", STATUS_TO_XCAL[appointment.status]),
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
            _prop("x-cancellation-reason", REASON_TO_XCAL[appointment.cancellation_reason])
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
