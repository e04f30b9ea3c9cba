"""Time zones, working days, answer deadlines and recurrences."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from pydantic import ValidationError

from digidialog.domain import (
    Appointment,
    AppointmentStatus,
    Frequency,
    Recurrence,
    Weekday,
    answer_deadline,
    is_overdue,
    is_working_day,
    next_working_day,
)
from digidialog.domain.timezone import (
    OSLO,
    from_oslo_wall_clock,
    is_ambiguous_local,
    is_nonexistent_local,
    is_second_occurrence,
)


def test_public_holidays_and_weekends_are_not_working_days() -> None:
    """17 May, Christmas Day, Easter Monday and Saturdays are not working days."""
    assert not is_working_day(date(2026, 5, 17))
    assert not is_working_day(date(2026, 12, 25))
    assert not is_working_day(date(2026, 4, 6))
    assert not is_working_day(date(2026, 11, 21))
    assert is_working_day(date(2026, 11, 23))


@pytest.mark.parametrize(
    ("received", "due"),
    [
        ("2026-11-23T10:00:00+01:00", "2026-11-25T00:00:00+01:00"),  # Monday -> end of Tuesday
        ("2026-11-27T16:00:00+01:00", "2026-12-01T00:00:00+01:00"),  # Friday -> end of Monday
        ("2026-11-21T09:00:00+01:00", "2026-11-24T00:00:00+01:00"),  # Saturday -> end of Monday
        ("2026-12-23T12:00:00+01:00", "2026-12-25T00:00:00+01:00"),  # 24 Dec is a working day
        ("2026-12-24T12:00:00+01:00", "2026-12-29T00:00:00+01:00"),  # Christmas -> end of 28th
        ("2026-04-01T12:00:00+02:00", "2026-04-08T00:00:00+02:00"),  # Easter -> end of 7 April
        ("2026-11-23T23:30:00+00:00", "2026-11-26T00:00:00+01:00"),  # already Tuesday in Oslo
    ],
)
def test_answer_deadline_is_end_of_next_working_day(received: str, due: str) -> None:
    """The deadline is midnight after the next working day, judged on the Oslo clock."""
    assert answer_deadline(datetime.fromisoformat(received)) == datetime.fromisoformat(due)


def test_overdue_only_when_unanswered_and_past() -> None:
    """A message is overdue after its deadline unless it was answered."""
    received = datetime(2026, 11, 23, 10, tzinfo=OSLO)
    assert not is_overdue(received, datetime(2026, 11, 24, 23, 59, tzinfo=OSLO), answered=False)
    assert is_overdue(received, datetime(2026, 11, 25, 0, 0, tzinfo=OSLO), answered=False)
    assert not is_overdue(received, datetime(2026, 11, 26, tzinfo=OSLO), answered=True)
    assert next_working_day(date(2026, 12, 24)) == date(2026, 12, 28)


def test_dst_edges_are_named_not_guessed() -> None:
    """The repeated autumn hour is ambiguous; the skipped spring hour does not exist."""
    assert is_ambiguous_local(datetime(2026, 10, 25, 2, 30))
    assert not is_ambiguous_local(datetime(2026, 10, 25, 3, 30))
    assert is_nonexistent_local(datetime(2026, 3, 29, 2, 30))
    with pytest.raises(ValueError, match="skipped"):
        from_oslo_wall_clock(datetime(2026, 3, 29, 2, 30))
    first = from_oslo_wall_clock(datetime(2026, 10, 25, 2, 30))
    second = from_oslo_wall_clock(datetime(2026, 10, 25, 2, 30), first_occurrence=False)
    assert second - first == timedelta(hours=1)
    assert not is_second_occurrence(first)
    assert is_second_occurrence(second)


def test_naive_timestamps_are_refused() -> None:
    """Domain timestamps must carry a zone: a naive one is a validation error."""
    with pytest.raises(ValidationError, match="time zone"):
        Appointment(uid="a", status=AppointmentStatus.ASSIGNED,
                    start=datetime(2026, 1, 1, 8), end=datetime(2026, 1, 1, 9))


def test_appointment_invariants() -> None:
    """End after start; recurrence only when planned; reasons only when cancelled."""
    start = datetime(2026, 1, 5, 8, tzinfo=OSLO)
    with pytest.raises(ValidationError, match="end is before start"):
        Appointment(uid="a", status=AppointmentStatus.ASSIGNED, start=start,
                    end=start - timedelta(minutes=1))
    with pytest.raises(ValidationError, match="only planned"):
        Appointment(uid="a", status=AppointmentStatus.ASSIGNED, start=start, end=start,
                    recurrence=Recurrence(frequency=Frequency.DAILY))
    with pytest.raises(ValidationError, match="until or by count"):
        Recurrence(frequency=Frequency.DAILY, until=date(2026, 2, 1), count=3)


def test_weekly_recurrence_keeps_the_wall_clock_across_dst() -> None:
    """A Monday/Wednesday 08:00 series stays at 08:00 across the March change; pauses skip."""
    first = datetime(2026, 3, 23, 8, tzinfo=OSLO)
    paused = datetime(2026, 3, 30, 8, tzinfo=OSLO)
    rule = Recurrence(frequency=Frequency.WEEKLY, by_day=(Weekday.MO, Weekday.WE),
                      paused=(paused,))
    starts = list(rule.occurrences(first, date(2026, 4, 2)))
    assert [s.date().isoformat() for s in starts] == ["2026-03-23", "2026-03-25", "2026-04-01"]
    assert {s.hour for s in starts} == {8}
    assert starts[0].utcoffset() == timedelta(hours=1)
    assert starts[-1].utcoffset() == timedelta(hours=2)


def test_recurrence_interval_and_count() -> None:
    """Every second week, at most three occurrences; daily every third day."""
    first = datetime(2026, 1, 5, 9, tzinfo=OSLO)  # a Monday
    biweekly = Recurrence(frequency=Frequency.WEEKLY, interval=2, by_day=(Weekday.MO,), count=3)
    assert [s.day for s in biweekly.occurrences(first, date(2026, 12, 31))] == [5, 19, 2]
    daily = Recurrence(frequency=Frequency.DAILY, interval=3, until=date(2026, 1, 12))
    assert [s.day for s in daily.occurrences(first, date(2026, 12, 31))] == [5, 8, 11]
