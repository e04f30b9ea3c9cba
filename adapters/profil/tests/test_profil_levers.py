"""The harness's appointment levers in Profil's own terms: the NotifyEvents they push and the
Visits on the wire (the shared suite checks what the adapter makes of them)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta

import pytest
from lxml import etree
from profil_support import started

from digidialog.domain import (
    AppointmentStatus,
    CancellationDecision,
    CancellationOutcome,
    CancellationReason,
    Frequency,
)
from digidialog.domain.timezone import OSLO
from digidialog_profil.feed import aggregate
from digidialog_profil.mock.harness import ProfilHarness
from digidialog_profil.store import Answer
from digidialog_profil.wire import tag

MONDAY = datetime(2026, 5, 4, 8, tzinfo=OSLO)


@pytest.fixture
def harness() -> Iterator[ProfilHarness]:
    """A started mock, push endpoint and store."""
    with started() as running:
        yield running


def _pushed(harness: ProfilHarness) -> list[tuple[str, str | None]]:
    """(EventType, VisitId) of every NotifyEvent Profil got through, in order."""
    events = []
    for exchange in harness.mock.exchanges:
        if exchange.operation == "NotifyEvent" and exchange.status == 200:
            event = etree.fromstring(exchange.request).find(f".//{tag('NotifyEvent')}")
            assert event is not None
            events.append((event.findtext(tag("EventType")) or "",
                           event.findtext(tag("VisitId"))))
    return events


def test_levers_push_what_profil_pushes(harness: ProfilHarness) -> None:
    """A visit seeded is VisitChanged, one seeded done VisitDone; moving and cancelling are
    VisitChanged; the old seed_visits and an unannounced seed push nothing."""
    (citizen,) = harness.seed_citizens(1)
    harness.seed_visits(citizen, 2, MONDAY)
    harness.seed_visit(citizen, status=AppointmentStatus.PLANNED, start=MONDAY,
                       end=MONDAY + timedelta(hours=2), announce=False)
    assert _pushed(harness) == []
    assigned = harness.seed_visit(citizen, status=AppointmentStatus.ASSIGNED, start=MONDAY,
                                  end=MONDAY + timedelta(hours=1), employees=("Kari",))
    done = harness.seed_visit(citizen, status=AppointmentStatus.COMPLETED, start=MONDAY,
                              end=MONDAY + timedelta(hours=1))
    harness.change_visit(citizen, assigned, start=MONDAY + timedelta(days=1),
                         end=MONDAY + timedelta(days=1, hours=1))
    harness.cancel_visit(citizen, assigned, reason=CancellationReason.BY_CITIZEN)
    assert _pushed(harness) == [("VisitChanged", assigned), ("VisitDone", done),
                                ("VisitChanged", assigned), ("VisitChanged", assigned)]
    visit = harness.mock.state.visits[int(assigned)]
    assert (visit.state, visit.cancelled_by, visit.employee) == (3, "Client", None)


def test_a_series_holds_until_and_no_pauses(harness: ProfilHarness) -> None:
    """Profil's Recurrence has no exceptions and a required Until: the series is held
    without the paused date, until a year on when none was given, and GetVisit says so."""
    (citizen,) = harness.seed_citizens(1)
    uid = harness.seed_planned_series(
        citizen, service_code=harness.open_service(), start=MONDAY,
        end=MONDAY + timedelta(hours=2), frequency=Frequency.DAILY, interval=3,
        paused=(MONDAY + timedelta(days=3),), announce=False)
    held = harness.mock.state.visits[int(uid)].recurrence
    assert held is not None
    assert (held.until, held.paused) == (date(2027, 5, 4), ())
    (expected,) = harness.expected_planned(citizen, uid)
    assert expected.recurrence == held
    assert [a for a in harness.visits(citizen) if a.uid == uid] == [expected]


def test_decide_cancellation_needs_a_registered_request(harness: ProfilHarness) -> None:
    """A request the adapter never planned is a LookupError, not a silent no-op."""
    with pytest.raises(LookupError):
        harness.decide_cancellation("never-registered", accept=True)


def test_one_answer_says_a_repeated_comment_once() -> None:
    """Staff give each visit of a period the same comment: the answer carries it once;
    different comments are kept, in visit order."""
    answer = Answer(request_id="r-1", citizen_id="13116900216", parts=(
        (11, False, "Vi må komme"), (12, False, "Vi må komme"), (13, True, "Avlyst"),
        (14, True, None)))
    decision = aggregate(answer)
    assert decision == CancellationDecision(
        request_id="r-1", outcome=CancellationOutcome.REJECTED, affected_uids=("13", "14"),
        comment="Vi må komme; Avlyst")
