"""Profil's local wall-clock time with isDst, both ways, around both daylight-saving changes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree
from profil_support import started

from digidialog.domain.timezone import OSLO
from digidialog.errors import InvalidRequest, MalformedReply
from digidialog_profil.localtime import local_instant, to_wire, wire_param
from digidialog_profil.mock.harness import ProfilHarness, oslo
from digidialog_profil.wire import tag


def stamp(text: str, is_dst: str | None = None) -> etree._Element:
    """A timestamp element as Profil sends it."""
    element = etree.Element(tag("WindowStart"))
    element.text = text
    if is_dst is not None:
        element.set("isDst", is_dst)
    return element


@pytest.fixture
def harness() -> Iterator[ProfilHarness]:
    """A started mock, push endpoint and store."""
    with started() as running:
        yield running


# ------------------------------------------------------------ reading


def test_the_repeated_autumn_hour_is_read_by_isdst() -> None:
    """02:30 on 2026-10-25 happens twice: isDst true is summer time, false winter time."""
    first = local_instant(stamp("2026-10-25T02:30:00", "true"))
    second = local_instant(stamp("2026-10-25T02:30:00", "false"))
    assert first == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert second == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    assert second - first == timedelta(hours=1)


def test_no_isdst_in_the_repeated_hour_means_the_first_pass() -> None:
    """Profil: a timestamp without isDst in that hour is the first occurrence."""
    assert local_instant(stamp("2026-10-25T02:30:00")) == local_instant(
        stamp("2026-10-25T02:30:00", "true"))


def test_isdst_is_ignored_where_the_clock_is_unambiguous() -> None:
    """Outside the repeated hour the attribute adds nothing and changes nothing."""
    plain = local_instant(stamp("2026-07-01T12:00:00"))
    assert local_instant(stamp("2026-07-01T12:00:00", "false")) == plain
    assert plain == datetime(2026, 7, 1, 10, tzinfo=UTC)


@pytest.mark.parametrize("text", ["2026-03-29T02:00:00", "2026-03-29T02:30:00",
                                  "2026-03-29T02:59:59"])
def test_a_time_in_the_skipped_spring_hour_is_a_broken_reply(text: str) -> None:
    """02:00-03:00 on 2026-03-29 never happens in Oslo; a reply holding it is malformed."""
    with pytest.raises(MalformedReply, match="skipped"):
        local_instant(stamp(text))


def test_around_the_spring_gap() -> None:
    """01:59 is winter time and 03:00 summer time: one minute apart."""
    before = local_instant(stamp("2026-03-29T01:59:00"))
    after = local_instant(stamp("2026-03-29T03:00:00"))
    assert after - before == timedelta(minutes=1)


@pytest.mark.parametrize("text", [
    "2026-07-01T12:00:00Z", "2026-07-01T12:00:00+02:00", "2026-07-01T12:00:00.5+02:00",
    "2026-07-01 12:00:00", "2026-07-01T12:00", "2026-13-01T12:00:00", "12:00:00", "",
    "2026-07-01T25:00:00", "tomorrow morning",
])
def test_anything_but_an_offset_free_local_time_is_refused(text: str) -> None:
    """Profil sends local time without an offset; anything else is a broken reply."""
    with pytest.raises(MalformedReply):
        local_instant(stamp(text))


def test_fractions_of_a_second_are_kept() -> None:
    """xs:dateTime allows fractions; they survive."""
    assert local_instant(stamp("2026-07-01T12:00:00.250")).microsecond == 250_000


def test_isdst_must_be_a_boolean_in_the_repeated_hour() -> None:
    """An isDst that is neither true nor false cannot pick a pass."""
    with pytest.raises(MalformedReply, match="isDst"):
        local_instant(stamp("2026-10-25T02:30:00", "maybe"))


def test_the_memo_is_exact_because_oslo_changes_only_on_whole_hours() -> None:
    """Every offset change of Europe/Oslo in the tz database falls on a whole local hour,
    which is what memoising offsets per local hour relies on."""
    day = datetime(1900, 1, 1, tzinfo=UTC)
    changes = 0
    while day < datetime(2100, 1, 1, tzinfo=UTC):
        following = day + timedelta(days=1)
        if following.astimezone(OSLO).utcoffset() != day.astimezone(OSLO).utcoffset():
            # The offset changed within this day: find the first minute it holds.
            minute = day
            while minute.astimezone(OSLO).utcoffset() == day.astimezone(OSLO).utcoffset():
                minute += timedelta(minutes=1)
            local = minute.astimezone(OSLO)
            assert (local.minute, local.second) == (0, 0), local
            changes += 1
        day = following
    assert changes > 200  # twice a year since 1980, and the wartime changes before


# ------------------------------------------------------------ writing


def test_instants_in_the_repeated_hour_are_written_with_isdst() -> None:
    """Both passes of 02:30 get the same wall clock and the isDst that tells them apart."""
    assert to_wire(oslo(2026, 10, 25, 2, 30)) == ("2026-10-25T02:30:00", True)
    assert to_wire(oslo(2026, 10, 25, 2, 30, first=False)) == ("2026-10-25T02:30:00", False)
    assert to_wire(datetime(2026, 10, 25, 1, 30, tzinfo=UTC)) == ("2026-10-25T02:30:00", False)
    assert wire_param(oslo(2026, 10, 25, 2, 30, first=False)) == {
        "_value_1": "2026-10-25T02:30:00", "isDst": False}


def test_other_instants_are_written_without_isdst() -> None:
    """Outside the repeated hour the wall clock alone is unambiguous."""
    assert to_wire(datetime(2026, 3, 29, 1, 0, tzinfo=UTC)) == ("2026-03-29T03:00:00", None)
    assert wire_param(datetime(2026, 1, 5, 7, tzinfo=UTC)) == "2026-01-05T08:00:00"


def test_a_skipped_hour_wall_clock_is_never_written() -> None:
    """An Oslo-zoned datetime inside the spring gap names no instant: refused, not moved."""
    with pytest.raises(InvalidRequest, match="skipped"):
        to_wire(datetime(2026, 3, 29, 2, 30, tzinfo=OSLO))


def test_a_naive_datetime_is_never_written() -> None:
    """Without a zone there is no instant to send."""
    with pytest.raises(InvalidRequest):
        to_wire(datetime(2026, 7, 1, 12))


@given(st.datetimes(min_value=datetime(1980, 1, 1), max_value=datetime(2099, 12, 31),
                    timezones=st.just(UTC)))
def test_every_instant_survives_the_round_trip(instant: datetime) -> None:
    """Written as Profil's local time and read back, every instant is itself again."""
    text, is_dst = to_wire(instant)
    element = stamp(text, None if is_dst is None else ("true" if is_dst else "false"))
    assert local_instant(element) == instant


# ------------------------------------------------------------ through the adapter and mock


def test_the_adapter_never_sends_a_skipped_hour_time(harness: ProfilHarness) -> None:
    """A period starting inside the spring gap is refused before any request is made."""
    citizen = harness.seed_citizens(1)[0]
    adapter = harness.adapter()
    seen = len(harness.mock.requests_seen)
    with pytest.raises(InvalidRequest):
        adapter.appointments(citizen, datetime(2026, 3, 29, 2, 30, tzinfo=OSLO),
                             datetime(2026, 3, 30, tzinfo=OSLO))
    assert len(harness.mock.requests_seen) == seen


def test_profil_answers_invalid_for_a_time_that_does_not_exist(harness: ProfilHarness) -> None:
    """The mock, like Profil, refuses a skipped-hour time with p:Invalid."""
    citizen = harness.seed_citizens(1)[0]
    adapter = harness.adapter()
    with pytest.raises(InvalidRequest):
        adapter._call("GetVisits", NationalId=citizen, From="2026-03-29T02:30:00",
                      To="2026-03-30T00:00:00")


def test_isdst_travels_both_ways(harness: ProfilHarness) -> None:
    """A query starting on the second pass of 02:00 says isDst="false"; the visit on the
    second pass comes back with isDst="false" and its own instant."""
    citizen = harness.seed_citizens(1)[0]
    second_pass = oslo(2026, 10, 25, 2, 10, first=False)
    (visit,) = harness.seed_visits(citizen, 1, second_pass)
    first_pass = harness.seed_visits(citizen, 1, oslo(2026, 10, 25, 2, 0))[0]
    found = {a.uid: a for a in harness.adapter().appointments(
        citizen, oslo(2026, 10, 25, 2, 0, first=False), oslo(2026, 10, 25, 6))}
    assert found[visit.uid].start == visit.start
    assert first_pass.uid not in found  # 02:00 summer time ended before the second 02:00
    request, reply = next((e.request, e.reply) for e in reversed(harness.mock.exchanges)
                          if e.operation == "GetVisits")
    assert b'isDst="false">2026-10-25T02:00:00<' in request
    assert b'<p:WindowStart isDst="false">2026-10-25T02:10:00</p:WindowStart>' in reply
