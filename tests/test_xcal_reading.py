"""Reading xCal VEVENTs: unusual shapes, and the hand-checked values.

``xcal_reader.read_events`` reads each property's value as its last child (the
schema puts ``parameters`` first). Recurrences and appointments are then
built without pydantic's validation (``digidialog.modelbuild``, which checks
the models' rules first). These tests pin unusual VEVENT shapes (comments, no
properties), the values read where the schema leaves a choice (DATE or
DATE-TIME, a later duplicate), the recurrence checks and their error
messages, extreme values, and that what is assembled is exactly what
validation would make.

Inputs are the benchmark's SvarPlanlagteTimer fixture, encoded by the codec
and edited as bytes; ``decode`` validates against the schema first, so each
refusal case states which layer refuses it (the schema's messages name an
``Element``, the reader's name the ``rrule`` or ``vevent`` and its line).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import cache

import pytest
from benchmarks import fixtures
from lxml import etree

from digidialog.domain import Appointment, AppointmentStatus, Recurrence, Weekday
from digidialog.errors import SchemaViolation
from digidialog.helsenorge import PortalMessage, decode, encode, xcal_reader, xcal_writer
from digidialog.helsenorge.names import XCAL, q

SMALL = 12
"""Appointments in the reply most cases edit: every kind appears three times."""

_ICALENDAR = q(XCAL, "icalendar")


@cache
def _reply(count: int = SMALL) -> bytes:
    """The fixture's SvarPlanlagteTimer with ``count`` appointments, as the codec writes it."""
    return encode(fixtures.planned_appointments_reply(count))


def _one_per_line(data: bytes) -> bytes:
    """``data`` with each VEVENT starting a line, so that a line names one VEVENT."""
    return data.replace(b"<vevent>", b"\n<vevent>")


def _vevent_starts(data: bytes) -> list[int]:
    """Where each VEVENT's line starts in ``data`` (after :func:`_one_per_line`)."""
    return [m.start() for m in re.finditer(rb"\n<vevent>", data)]


def _appointment(match: Callable[[Appointment], bool]) -> Appointment:
    """The first appointment of the small fixture that ``match`` accepts."""
    return next(a for a in fixtures.appointments(SMALL) if match(a))


def _counted() -> Appointment:
    """A planned appointment whose recurrence ends by count."""
    return _appointment(lambda a: a.recurrence is not None and a.recurrence.count is not None)


def _until() -> Appointment:
    """A planned appointment whose recurrence ends on a date."""
    return _appointment(lambda a: a.recurrence is not None and a.recurrence.until is not None)


def _assigned() -> Appointment:
    """An assigned appointment (no recurrence, two employees)."""
    return _appointment(lambda a: a.status is AppointmentStatus.ASSIGNED)


def _vevent_span(data: bytes, uid: str) -> tuple[int, int]:
    """Where the VEVENT of ``uid`` starts and ends in ``data``."""
    at = data.index(f"<uid><text>{uid}</text></uid>".encode())
    return data.rindex(b"<vevent>", 0, at), data.index(b"</vevent>", at)


def _edit_vevent(data: bytes, uid: str, pattern: bytes, replacement: bytes) -> bytes:
    """``data`` with the one match of the regex ``pattern`` in ``uid``'s VEVENT replaced."""
    start, stop = _vevent_span(data, uid)
    edited, found = re.subn(pattern, replacement, data[start:stop])
    assert found == 1, f"{pattern!r} matched {found} times in the VEVENT of {uid}"
    return data[:start] + edited + data[stop:]


def _line_of_vevent(data: bytes, uid: str) -> int:
    """The source line of ``uid``'s VEVENT (meaningful after :func:`_one_per_line`)."""
    return data[: _vevent_span(data, uid)[0]].count(b"\n") + 1


def _by_uid(message: PortalMessage, uid: str) -> Appointment:
    """The one appointment of ``message`` with ``uid``."""
    (found,) = [a for a in message.appointments if a.uid == uid]
    return found


def _calendar(data: bytes, parser: etree.XMLParser | None = None) -> etree._Element:
    """The ``icalendar`` element of a message, parsed by lxml without the schema."""
    found = etree.fromstring(data, parser).find(f".//{_ICALENDAR}")
    assert found is not None
    return found


def _assert_same_events(got: list[xcal_reader.Event], expected: list[xcal_reader.Event]) -> None:
    """Every field equal; the VEVENT elements compared by their line and tree position."""
    assert len(got) == len(expected)
    for index, (one, other) in enumerate(zip(got, expected, strict=True)):
        for field in dataclasses.fields(xcal_reader.Event):
            mine, theirs = getattr(one, field.name), getattr(other, field.name)
            if field.name == "element":
                assert mine is not None and theirs is not None
                assert mine.sourceline == theirs.sourceline, index
                assert mine.getroottree().getpath(mine) == theirs.getroottree().getpath(theirs)
            else:
                assert mine == theirs, f"event {index}: {field.name}"


# ------------------------------------------------ the shape of a VEVENT


def test_comments_and_processing_instructions_change_nothing() -> None:
    """Comments and PIs between and inside properties, VEVENTs and text decode as without."""
    data = _reply()
    noise = b"<!-- merknad --><?digidialog test?>"
    noisy = (
        data.replace(b"</dtstart>", b"</dtstart>" + noise)
        .replace(b"<properties>", b"<properties>" + noise)
        .replace(b"</parameters>", b"</parameters>" + noise)
        .replace(b"</cal-address>", b"</cal-address>" + noise)
        .replace(b"<recur>", b"<recur>" + noise)
        .replace(b"</vevent><vevent>", b"</vevent>" + noise + b"<vevent>")
        .replace("<text>Hjemmebesøk</text>".encode(), f"<text>Hjemme{noise.decode()}besøk</text>"
                 .encode())
    )
    assert noisy.count(b"<!--") > 5 * SMALL

    decoded = decode(noisy)

    assert decoded == decode(data) == fixtures.planned_appointments_reply(SMALL)
    assert decoded.warnings == ()


def test_read_events_with_comments_kept_matches_a_clean_calendar() -> None:
    """A tree keeping comments and PIs between properties reads the same events.

    decode's parser drops comments; lxml's default one keeps them, and the
    reader must pass over them rather than take them for properties.
    """
    data = _reply()
    noisy = data.replace(b"</dtend>", b"</dtend><!-- etter dtend --><?digidialog pi?>")
    clean_warnings: list[str] = []
    noisy_warnings: list[str] = []
    clean = xcal_reader.read_events(_calendar(data), clean_warnings)

    kept = xcal_reader.read_events(_calendar(noisy, etree.XMLParser()), noisy_warnings)

    _assert_same_events(kept, clean)
    assert noisy_warnings == clean_warnings == []


@pytest.mark.parametrize(
    "empty",
    [
        pytest.param(b"<vevent><components/></vevent>", id="no-properties"),
        pytest.param(b"<vevent><properties/><components/></vevent>", id="empty-properties"),
    ],
)
def test_vevent_without_properties_is_refused_naming_its_line(empty: bytes) -> None:
    """A VEVENT with no properties among others: "dtstart is missing" at its own line."""
    data = _one_per_line(_reply())
    sixth = _vevent_starts(data)[5]
    edited = data[:sixth] + b"\n" + empty + data[sixth:]
    line = data[:sixth].count(b"\n") + 2

    with pytest.raises(SchemaViolation, match="dtstart is missing") as refused:
        decode(edited)

    assert refused.value.location == f"vevent (line {line})"


def test_a_vevent_without_properties_reads_empty_and_the_others_unchanged() -> None:
    """read_events on a VEVENT without properties: an empty Event there, the rest unchanged."""
    data = _one_per_line(_reply())
    # At the end of the second VEVENT's line, so that every other VEVENT keeps its line.
    third = _vevent_starts(data)[2]
    edited = data[:third] + b"<vevent><components/></vevent>" + data[third:]
    line = data[:third].count(b"\n") + 1
    warnings: list[str] = []
    plain = xcal_reader.read_events(_calendar(data), [])

    events = xcal_reader.read_events(_calendar(edited), warnings)

    assert len(events) == SMALL + 1
    empty = events.pop(2)
    assert empty.element is not None and empty.line == line
    assert dataclasses.replace(empty, element=None) == xcal_reader.Event()
    # The others read as in the plain calendar, on the same lines.
    assert [e.line for e in events] == [e.line for e in plain]
    assert [dataclasses.replace(e, element=None) for e in events] == [
        dataclasses.replace(e, element=None) for e in plain
    ]
    with pytest.raises(SchemaViolation, match="dtstart is missing") as refused:
        xcal_reader.to_appointment(empty, warnings)
    assert refused.value.location == f"vevent (line {line})"
    assert warnings == []


# ------------------------------------------------ values where the schema leaves a choice


@pytest.mark.parametrize(
    ("written", "day"),
    [
        pytest.param(b"2025-12-31T23:30:00", date(2025, 12, 31), id="oslo-clock"),
        pytest.param(b"2025-12-31T23:30:00Z", date(2026, 1, 1), id="utc-after-oslo-midnight"),
        pytest.param(b"2025-12-31T22:59:59Z", date(2025, 12, 31), id="utc-before-oslo-midnight"),
        pytest.param(b"2025-06-30T22:30:00Z", date(2025, 7, 1), id="utc-in-summer-time"),
    ],
)
def test_until_as_date_time_reads_as_its_oslo_date(written: bytes, day: date) -> None:
    """An rrule's until given as a DATE-TIME ends on the Oslo calendar date it falls on."""
    original = _until()
    assert original.recurrence is not None
    edited = _edit_vevent(
        _reply(), original.uid,
        rb"<until><date>[^<]*</date></until>", b"<until><date-time>" + written
        + b"</date-time></until>",
    )

    read = _by_uid(decode(edited), original.uid)

    assert read.recurrence == original.recurrence.model_copy(update={"until": day})
    assert read == original.model_copy(update={"recurrence": read.recurrence})


@pytest.mark.parametrize(
    ("day", "instant", "next_instant"),
    [
        pytest.param("2025-03-04", datetime(2025, 3, 3, 23, tzinfo=UTC),
                     datetime(2025, 3, 4, 23, tzinfo=UTC), id="winter"),
        pytest.param("2025-07-01", datetime(2025, 6, 30, 22, tzinfo=UTC),
                     datetime(2025, 7, 1, 22, tzinfo=UTC), id="summer"),
        pytest.param("2025-03-30", datetime(2025, 3, 29, 23, tzinfo=UTC),
                     datetime(2025, 3, 30, 22, tzinfo=UTC), id="day-summer-time-starts"),
        pytest.param("2025-10-26", datetime(2025, 10, 25, 22, tzinfo=UTC),
                     datetime(2025, 10, 26, 23, tzinfo=UTC), id="day-summer-time-ends"),
    ],
)
def test_date_value_reads_as_oslo_midnight(
    day: str, instant: datetime, next_instant: datetime
) -> None:
    """A dtstart, dtend or exdate given as a DATE is midnight on the Oslo clock that day."""
    planned = _counted()
    next_day = (date.fromisoformat(day) + timedelta(days=1)).isoformat()
    data = _edit_vevent(_reply(), planned.uid, rb"<dtstart>.*?</dtstart>",
                        f"<dtstart><date>{day}</date></dtstart>".encode())
    data = _edit_vevent(data, planned.uid, rb"<dtend>.*?</dtend>",
                        f"<dtend><date>{next_day}</date></dtend>".encode())
    data = _edit_vevent(data, planned.uid, rb"<exdate>.*?</exdate>",
                        f"<exdate><date>{next_day}</date></exdate>".encode())

    message = decode(data)
    read = _by_uid(message, planned.uid)

    assert read.start == instant and read.start.tzinfo is UTC
    assert read.end == next_instant
    assert read.recurrence is not None and read.recurrence.paused == (next_instant,)
    assert message.warnings == ()


def test_later_duplicate_of_a_single_valued_property_wins() -> None:
    """Two summary, location and dtstart properties in a VEVENT: the later of each is read."""
    assigned = _assigned()
    later_start = assigned.start + timedelta(minutes=10)
    data = _reply()
    for name, value in (
        ("summary", "<text>Kveldsbesøk</text>"),
        ("location", "<text>Dagsenteret</text>"),
        ("dtstart", f"<date-time>{xcal_writer.format_date_time(later_start)}</date-time>"),
    ):
        data = _edit_vevent(data, assigned.uid, f"(</{name}>)".encode(),
                            rf"\1<{name}>{value}</{name}>".encode())

    message = decode(data)
    read = _by_uid(message, assigned.uid)

    assert read == assigned.model_copy(update={
        "service_name": "Kveldsbesøk", "location": "Dagsenteret", "start": later_start,
    })
    assert message.warnings == ()


# ------------------------------------------------ recurrence checks


@pytest.mark.parametrize(
    ("pattern", "replacement", "says"),
    [
        pytest.param(rb"<interval>\d+</interval>", b"<interval>0</interval>",
                     r"^rrule \(line \d+\): invalid recurrence: interval must be a whole "
                     r"number 1 to 366$", id="interval-0"),
        pytest.param(rb"<interval>\d+</interval>", b"<interval>367</interval>",
                     r"invalid recurrence: interval must be a whole number 1 to 366",
                     id="interval-367"),
        pytest.param(rb"<interval>\d+</interval>", b"<interval>hver</interval>",
                     r"invalid recurrence: interval must be a whole number", id="interval-text"),
        pytest.param(rb"<interval>\d+</interval>", b"<interval>-1</interval>",
                     r"invalid recurrence: interval must be a whole number", id="interval-neg"),
        pytest.param(rb"<interval>\d+</interval>", b"<interval>1.5</interval>",
                     r"invalid recurrence: interval must be a whole number",
                     id="interval-fraction"),
        pytest.param(rb"<count>\d+</count>", b"<count>0</count>",
                     r"^rrule \(line \d+\): invalid recurrence: count must be a whole number, "
                     r"at least 1$", id="count-0"),
        pytest.param(rb"<count>\d+</count>", b"<count>-3</count>",
                     r"invalid recurrence: count must be a whole number, at least 1",
                     id="count-negative"),
        # The schema types count as xs:integer, so it refuses these before the reader.
        pytest.param(rb"<count>\d+</count>", b"<count>tjue</count>",
                     r"^line \d+: Element 'count': .*xs:integer", id="count-text"),
        # The schema's recur holds until or count, never both.
        pytest.param(rb"(<count>\d+</count>)", rb"<until><date>2025-12-31</date></until>\1",
                     r"^line \d+: Element 'count': This element is not expected",
                     id="until-and-count"),
    ],
)
def test_invalid_recurrence_is_refused(pattern: bytes, replacement: bytes, says: str) -> None:
    """Recurrence values out of the model's range are refused as SchemaViolation, located."""
    planned = _counted()
    data = _one_per_line(_reply())
    edited = _edit_vevent(data, planned.uid, pattern, replacement)

    with pytest.raises(SchemaViolation, match=says) as refused:
        decode(edited)

    line = _line_of_vevent(data, planned.uid)
    assert refused.value.location in {f"rrule (line {line})", f"line {line}"}


def test_reader_refuses_until_and_count_where_the_schema_was_not_asked() -> None:
    """read_events itself refuses an rrule with until and count (the schema's rule, rechecked)."""
    planned = _counted()
    data = _one_per_line(_reply())
    edited = _edit_vevent(data, planned.uid, rb"(<count>\d+</count>)",
                          rb"<until><date>2025-12-31</date></until>\1")

    with pytest.raises(SchemaViolation, match="invalid recurrence: it ends by until or by "
                       "count, not both") as refused:
        xcal_reader.read_events(_calendar(edited), [])

    assert refused.value.location == f"rrule (line {_line_of_vevent(data, planned.uid)})"


def test_recurrence_bounds_are_accepted() -> None:
    """Interval 366 and count 1, the model's limits, are read as they are written."""
    planned = _counted()
    data = _edit_vevent(_reply(), planned.uid, rb"<interval>\d+</interval>",
                        b"<interval>366</interval>")
    data = _edit_vevent(data, planned.uid, rb"<count>\d+</count>", b"<count> 1 </count>")

    read = _by_uid(decode(data), planned.uid)

    assert read.recurrence is not None
    assert (read.recurrence.interval, read.recurrence.count) == (366, 1)
    assert Recurrence.model_validate(read.recurrence.model_dump()) == read.recurrence


@pytest.mark.parametrize(
    "byday",
    [
        pytest.param(b"<byday>MO,MO,WE</byday>", id="within-one"),
        pytest.param(b"<byday>MO</byday><byday>WE,MO</byday>", id="across-two"),
    ],
)
def test_repeated_weekday_is_read_once(byday: bytes) -> None:
    """A weekday named twice is kept once, so the unvalidated Recurrence still obeys the model."""
    weekly = _appointment(lambda a: a.recurrence is not None and bool(a.recurrence.by_day))
    data = _edit_vevent(_reply(), weekly.uid, rb"<byday>[^<]*</byday>", byday)

    read = _by_uid(decode(data), weekly.uid)

    assert read.recurrence is not None
    assert read.recurrence.by_day == (Weekday.MO, Weekday.WE)
    assert Recurrence.model_validate(read.recurrence.model_dump()) == read.recurrence


# ------------------------------------------------ assembly without validation


def test_assembled_models_equal_their_validated_copies() -> None:
    """Every decoded appointment and recurrence is what pydantic's validation would make."""
    decoded = decode(_reply(fixtures.APPOINTMENT_COUNT))
    assert len(decoded.appointments) == fixtures.APPOINTMENT_COUNT

    assert PortalMessage.model_validate(decoded.model_dump()) == decoded
    recurrences = 0
    for appointment in decoded.appointments:
        copy = Appointment.model_validate(appointment.model_dump())
        assert copy == appointment
        assert appointment.model_fields_set == copy.model_fields_set
        assert hash(appointment) == hash(copy)
        assert appointment.model_dump_json() == copy.model_dump_json()
        for instant in (appointment.start, appointment.end):
            assert instant.tzinfo is UTC
        recurrence = appointment.recurrence
        if recurrence is None:
            continue
        recurrences += 1
        validated = Recurrence.model_validate(recurrence.model_dump())
        assert validated == recurrence
        assert recurrence.model_fields_set == validated.model_fields_set
        assert hash(recurrence) == hash(validated)
        assert all(paused.tzinfo is UTC for paused in recurrence.paused)
    assert recurrences == fixtures.APPOINTMENT_COUNT // 4


# ------------------------------------------------ extreme values the schema lets through


@pytest.mark.parametrize(
    ("pattern", "replacement"),
    [
        pytest.param(rb"<interval>\d+</interval>",
                     b"<interval>" + b"0" * 4300 + b"1</interval>", id="interval"),
        pytest.param(rb"<count>\d+</count>", b"<count>" + b"0" * 4300 + b"1</count>", id="count"),
    ],
)
def test_overlong_recurrence_number_is_refused(pattern: bytes, replacement: bytes) -> None:
    """An interval or count of 4301 digits is refused as SchemaViolation, not a ValueError."""
    planned = _counted()
    edited = _edit_vevent(_reply(), planned.uid, pattern, replacement)

    with pytest.raises(SchemaViolation, match="invalid recurrence"):
        decode(edited)


def test_signed_count_reads_as_its_value() -> None:
    """A schema-valid count of '+5' reads as 5."""
    planned = _counted()
    edited = _edit_vevent(_reply(), planned.uid, rb"<count>\d+</count>", b"<count>+5</count>")

    read = _by_uid(decode(edited), planned.uid)

    assert read.recurrence is not None and read.recurrence.count == 5


@pytest.mark.parametrize(
    ("pattern", "replacement"),
    [
        pytest.param(rb"<duration>[^<]*</duration>", b"<duration>PT99999999999999M</duration>",
                     id="duration-too-long"),
        pytest.param(rb"<duration>[^<]*</duration>",
                     b"<duration>PT" + b"1" * 4301 + b"M</duration>", id="duration-digits"),
        pytest.param(rb"<dtstart>.*?</dtstart>", b"<dtstart><date>0001-01-01</date></dtstart>",
                     id="dtstart-year-1"),
        pytest.param(rb"<exdate>.*?</exdate>",
                     b"<exdate><date-time>0001-01-01T00:00:00</date-time></exdate>",
                     id="exdate-year-1"),
    ],
)
def test_out_of_range_value_is_refused(pattern: bytes, replacement: bytes) -> None:
    """A duration or date beyond what datetime holds is refused as SchemaViolation."""
    planned = _counted()
    edited = _edit_vevent(_reply(), planned.uid, pattern, replacement)

    with pytest.raises(SchemaViolation):
        decode(edited)


def test_until_past_the_last_representable_oslo_date_is_refused() -> None:
    """An until of 9999-12-31T23:30:00Z (year 10000 in Oslo) is refused as SchemaViolation."""
    original = _until()
    edited = _edit_vevent(
        _reply(), original.uid, rb"<until><date>[^<]*</date></until>",
        b"<until><date-time>9999-12-31T23:30:00Z</date-time></until>",
    )

    with pytest.raises(SchemaViolation):
        decode(edited)
