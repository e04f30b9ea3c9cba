"""Gjentakelse: RFC 5545 RRULE strings to the domain's Recurrence and back."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from digidialog.domain import Frequency, Recurrence, Weekday
from digidialog.errors import MalformedReply
from digidialog_gerica.rrule import format_rrule, parse_rrule

recurrences = st.builds(
    lambda frequency, interval, days, end, until, count: Recurrence(
        frequency=frequency, interval=interval,
        by_day=tuple(d for d in Weekday if d in days),
        until=until if end == "until" else None, count=count if end == "count" else None,
    ),
    st.sampled_from(Frequency),
    st.integers(1, 52),
    st.sets(st.sampled_from(Weekday)),
    st.sampled_from(["until", "count", "never"]),
    st.dates(date(2024, 1, 1), date(2035, 12, 31)),
    st.integers(1, 500),
)


@given(recurrences)
def test_every_recurrence_survives_the_round_trip(recurrence: Recurrence) -> None:
    """Whatever the domain can express comes back unchanged from its RRULE."""
    assert parse_rrule(format_rrule(recurrence)) == recurrence


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("FREQ=DAILY", Recurrence(frequency=Frequency.DAILY)),
        ("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH",
         Recurrence(frequency=Frequency.WEEKLY, interval=2, by_day=(Weekday.MO, Weekday.TH))),
        ("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;UNTIL=20260630",
         Recurrence(frequency=Frequency.WEEKLY, by_day=(Weekday.MO, Weekday.TU, Weekday.WE,
                                                        Weekday.TH, Weekday.FR),
                    until=date(2026, 6, 30))),
        ("FREQ=DAILY;COUNT=10", Recurrence(frequency=Frequency.DAILY, count=10)),
        ("RRULE:FREQ=DAILY;INTERVAL=3", Recurrence(frequency=Frequency.DAILY, interval=3)),
        ("freq=weekly;byday=sa,su;wkst=MO",
         Recurrence(frequency=Frequency.WEEKLY, by_day=(Weekday.SA, Weekday.SU))),
    ],
)
def test_rules_as_gerica_writes_them(rule: str, expected: Recurrence) -> None:
    """Typical rules, with or without the RRULE: prefix, in any letter case."""
    assert parse_rrule(rule) == expected


@pytest.mark.parametrize(
    ("until", "oslo_date"),
    [
        ("20260630", date(2026, 6, 30)),  # a DATE
        ("20260630T215959Z", date(2026, 6, 30)),  # 23:59:59 in Oslo (summer time)
        ("20260630T220000Z", date(2026, 7, 1)),  # already midnight in Oslo
        ("20261231T225959Z", date(2026, 12, 31)),  # winter time: UTC+1
        ("20260630T080000", date(2026, 6, 30)),  # floating local time
    ],
)
def test_until_in_every_form_is_an_oslo_date(until: str, oslo_date: date) -> None:
    """UNTIL as a DATE, a UTC DATE-TIME or a floating DATE-TIME gives the Oslo date."""
    assert parse_rrule(f"FREQ=DAILY;UNTIL={until}").until == oslo_date


def test_until_is_written_as_the_last_second_of_the_oslo_day_in_utc() -> None:
    """RFC 5545 wants UTC when DTSTART has an offset; the day must still include 23:59."""
    summer = Recurrence(frequency=Frequency.DAILY, until=date(2026, 6, 30))
    winter = Recurrence(frequency=Frequency.DAILY, until=date(2026, 12, 31))
    assert format_rrule(summer) == "FREQ=DAILY;INTERVAL=1;UNTIL=20260630T215959Z"
    assert format_rrule(winter) == "FREQ=DAILY;INTERVAL=1;UNTIL=20261231T225959Z"


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=MONTHLY",
        "FREQ=YEARLY;BYMONTH=3",
        "FREQ=WEEKLY;BYDAY=1MO",
        "FREQ=WEEKLY;BYSETPOS=1",
        "FREQ=WEEKLY;WKST=SU;INTERVAL=2",
        "FREQ=DAILY;INTERVAL=0",
        "FREQ=DAILY;INTERVAL=x",
        "FREQ=DAILY;COUNT=5;UNTIL=20260101",
        "FREQ=DAILY;FREQ=WEEKLY",
        "INTERVAL=2",
        "FREQ=DAILY;;",
        "FREQ=DAILY;UNTIL=2026-06-30",
        "FREQ=WEEKLY;BYDAY=MO,MO",
        "",
    ],
)
def test_rules_the_portal_cannot_show_are_refused(rule: str) -> None:
    """Anything beyond DAILY/WEEKLY with INTERVAL, BYDAY, UNTIL, COUNT is a MalformedReply."""
    with pytest.raises(MalformedReply):
        parse_rrule(rule)


def test_refusals_never_quote_the_rule() -> None:
    """Error messages name the rule part, not the text Gerica sent."""
    with pytest.raises(MalformedReply) as caught:
        parse_rrule("FREQ=WEEKLY;X-NOTE=13116900216;13116900216=1")
    assert "13116900216" not in str(caught.value)
    assert "X-NOTE" in str(caught.value)
