"""The harness's appointment levers in Gerica's own terms: what reaches HentEndringer and
HentAvtaler on the wire (the shared suite checks what the adapter makes of it)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, datetime, timedelta

import pytest
from lxml import etree

from digidialog.domain import (
    AppointmentStatus,
    CancellationKind,
    CancellationReason,
    CancellationRequest,
    Frequency,
    Weekday,
)
from digidialog.domain.timezone import OSLO
from digidialog_gerica.mock.harness import GericaHarness
from digidialog_gerica.wire import NS

MONDAY = datetime(2026, 5, 4, 8, tzinfo=OSLO)


@pytest.fixture
def harness() -> Iterator[GericaHarness]:
    """A started Gerica harness."""
    running = GericaHarness()
    running.start()
    try:
        yield running
    finally:
        running.stop()


def _avtaler(harness: GericaHarness, operation: str) -> list[etree._Element]:
    """Every Avtale in the mock's answers to ``operation`` so far."""
    found: list[etree._Element] = []
    for exchange in harness.mock.exchanges:
        if exchange.operation == operation:
            found.extend(etree.fromstring(exchange.reply).iter(NS + "Avtale"))
    return found


def test_a_series_is_one_rrule_without_paused_dates(harness: GericaHarness) -> None:
    """The series goes out as one Avtale whose Gjentakelse is the rule alone: an RRULE
    string has no EXDATE, so the paused date is not on the wire at all."""
    (citizen,) = harness.seed_citizens(1)
    uid = harness.seed_planned_series(
        citizen, service_code="PB", start=MONDAY, end=MONDAY + timedelta(hours=2),
        frequency=Frequency.WEEKLY, by_day=(Weekday.MO, Weekday.TH),
        until=date(2026, 6, 30), paused=(MONDAY + timedelta(days=7),))
    harness.visits(citizen)
    (avtale,) = _avtaler(harness, "HentAvtaler")
    assert avtale.findtext(NS + "AvtaleId") == uid
    assert avtale.findtext(NS + "Gjentakelse") == (
        "FREQ=WEEKLY;INTERVAL=1;BYDAY=MO,TH;UNTIL=20260630T215959Z")
    assert b"EXDATE" not in etree.tostring(avtale)
    (expected,) = harness.expected_planned(citizen, uid)
    assert expected.recurrence is not None and expected.recurrence.paused == ()


def test_announced_levers_are_endringer_in_order(harness: GericaHarness) -> None:
    """Seeding (announced), moving and cancelling are each one Endring of Type AVTALE with
    the Avtale as it then was; the old seed_visits and an unannounced seed record none."""
    (citizen,) = harness.seed_citizens(1)
    harness.seed_visits(citizen, 2, MONDAY)
    quiet = harness.seed_visit(citizen, status=AppointmentStatus.PLANNED, start=MONDAY,
                               end=MONDAY + timedelta(hours=1), announce=False)
    assert harness.mock.state.feed == []
    uid = harness.seed_visit(citizen, status=AppointmentStatus.ASSIGNED, start=MONDAY,
                             end=MONDAY + timedelta(minutes=30), employees=("Kari", "Ola"))
    harness.change_visit(citizen, uid, start=MONDAY + timedelta(hours=3),
                         end=MONDAY + timedelta(hours=4))
    harness.cancel_visit(citizen, uid, reason=CancellationReason.NOT_AT_HOME)
    feed = harness.mock.state.feed
    assert [(c.kind, getattr(c.payload, "avtale_id", None)) for c in feed] == [
        ("AVTALE", uid)] * 3
    first, moved, cancelled = (c.payload for c in feed)
    assert getattr(first, "employee", None) == "Kari"
    assert getattr(moved, "start", None) == MONDAY + timedelta(hours=3)
    assert (getattr(cancelled, "status", None), getattr(cancelled, "cancelled_by", None)) == (
        "AVLYST", "TJENESTE")
    assert quiet not in {getattr(c.payload, "avtale_id", None) for c in feed}


def test_one_avbestilling_decided_by_its_id(harness: GericaHarness) -> None:
    """decide_cancellation records one Avbestillingssvar for the id it names; the other
    stays pending; an unknown id is a LookupError."""
    (citizen,) = harness.seed_citizens(1)
    first, second = (harness.seed_visit(citizen, status=AppointmentStatus.ASSIGNED,
                                        start=MONDAY + timedelta(hours=h),
                                        end=MONDAY + timedelta(hours=h, minutes=30),
                                        announce=False) for h in (0, 2))
    adapter = harness.adapter()
    ids = []
    for uid in (first, second):
        request = CancellationRequest(
            request_id=str(uuid.uuid4()), citizen_id=citizen, kind=CancellationKind.SINGLE,
            start=MONDAY, end=MONDAY, appointment_uid=uid, service_ids=("HSP",))
        adapter.register_cancellation(request)
        ids.append(request.request_id)
    harness.decide_cancellation(ids[1], accept=True, comment="Greit")
    answers = [c.payload for c in harness.mock.state.feed if c.kind == "AVBESTILLINGSSVAR"]
    assert [(getattr(a, "request_id", None), getattr(a, "affected", None)) for a in answers] == [
        (ids[1], (second,))]
    assert not harness.mock.state.cancellations[ids[0]].decided
    with pytest.raises(LookupError):
        harness.decide_cancellation("never-registered", accept=True)
