"""Hostile or broken answers from Profil: refused with a clear error, quickly, never hanging."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial

import pytest
from profil_support import started
from werkzeug.wrappers import Request, Response

from digidialog.adapters.contract import CitizenMessage
from digidialog.adapters.patience import Patience
from digidialog.adapters.soap import CallPolicy
from digidialog.domain.events import VisitCompleted
from digidialog.errors import (
    AuthenticationFailed,
    BrokenReply,
    DigidialogError,
    InvalidRequest,
    MalformedReply,
    RetriableError,
    UnknownAppointment,
    UnknownCitizen,
    VendorTimeout,
)
from digidialog.testing.conformance import HOSTILE_REPLIES
from digidialog.testing.mockbase import Fault, FaultKind
from digidialog_profil.feed import PARK_AFTER
from digidialog_profil.mock import wire as mock_wire
from digidialog_profil.mock.harness import ProfilHarness

ONE_TRY = CallPolicy(timeout=1.0, attempts=1)
START = datetime(2026, 6, 1, 6, tzinfo=UTC)


def uids(events: Sequence[object]) -> list[str]:
    """The uids of the completed visits among ``events``."""
    return [e.appointment.uid for e in events if isinstance(e, VisitCompleted)]


@pytest.fixture
def harness() -> Iterator[ProfilHarness]:
    """A started mock, push endpoint and store."""
    with started() as running:
        yield running


@pytest.mark.parametrize(("kind", "expected"), HOSTILE_REPLIES)
def test_hostile_replies_to_a_visit_read(harness: ProfilHarness, kind: FaultKind,
                                         expected: type[DigidialogError]) -> None:
    """Each broken or hostile GetVisits answer is its retriable error, within seconds."""
    citizen = harness.seed_citizens(1)[0]
    harness.seed_visits(citizen, 2, START)
    harness.mock.inject(Fault(kind=kind, operation="GetVisits", retry_after=1))
    began = time.monotonic()
    with pytest.raises(expected) as caught:
        harness.adapter(policy=ONE_TRY).appointments(citizen, START, START + timedelta(days=1))
    assert isinstance(caught.value, RetriableError)
    assert time.monotonic() - began < 10
    assert citizen not in str(caught.value)


@pytest.mark.parametrize(("code", "operation", "expected"), [
    ("NotFound", "GetVisits", UnknownCitizen),
    ("NotFound", "GetVisit", UnknownAppointment),
    ("Unauthorized", "GetVisits", AuthenticationFailed),
])
def test_not_found_says_what_was_not_found(harness: ProfilHarness, code: str, operation: str,
                                           expected: type[DigidialogError]) -> None:
    """p:NotFound becomes UnknownCitizen or UnknownAppointment, by what was asked."""
    citizen = harness.seed_citizens(1)[0]
    (visit,) = harness.seed_visits(citizen, 1, START)
    harness.mock.inject(Fault(kind=FaultKind.VENDOR_FAULT, code=code, operation=operation))
    adapter = harness.adapter(policy=ONE_TRY)
    read = (partial(adapter.appointments, citizen, START, START + timedelta(days=1))
            if operation == "GetVisits" else partial(adapter._call, "GetVisit",
                                                     VisitId=int(visit.uid)))
    with pytest.raises(expected):
        read()


def test_a_reply_that_trickles_in_forever_times_out(harness: ProfilHarness) -> None:
    """A reply whose bytes keep coming, each just before the read timeout, is cut off at the
    call's deadline instead of holding the caller for as long as the sender likes."""
    def trickle(request: Request) -> Response:
        def body() -> Iterator[bytes]:
            yield b'<?xml version="1.0"?>'
            for _ in range(200):
                time.sleep(0.1)
                yield b" "
        return Response(body(), content_type="application/soap+xml")

    server = harness.mock.server
    assert server is not None
    server.clear()
    server.expect_request("/CitizenDialogService").respond_with_handler(trickle)
    began = time.monotonic()
    with pytest.raises(VendorTimeout):
        harness.adapter(policy=CallPolicy(timeout=0.5, attempts=1, deadline=2.0)).services()
    assert time.monotonic() - began < 5


def test_a_broken_detail_stops_the_feed_at_that_event(harness: ProfilHarness) -> None:
    """GetVisit answers garbage for the second event: the first comes through, the batch
    ends before the broken one (more is set), and the next read starts again at that event.
    With nothing read before the broken one, the error itself is raised (retriable)."""
    citizen = harness.seed_citizens(1)[0]
    first, second = harness.seed_visits(citizen, 2, START)
    harness.complete_visit(citizen, first.uid)
    harness.complete_visit(citizen, second.uid)
    adapter = harness.adapter(policy=ONE_TRY)
    harness.mock.inject(Fault(kind=FaultKind.MALFORMED_XML, operation="GetVisit"))
    with pytest.raises(MalformedReply):
        adapter.changes(None)
    assert uids(adapter.changes(None, limit=1).events) == [first.uid]
    harness.mock.inject(Fault(kind=FaultKind.MALFORMED_XML, operation="GetVisit"))
    batch = adapter.changes(None)  # the first is already resolved; the second breaks
    assert uids(batch.events) == [first.uid]
    assert batch.more
    rest = adapter.changes(batch.checkpoint)
    assert uids(rest.events) == [second.uid]
    assert not rest.more


def test_a_visit_of_someone_else_is_never_reported(harness: ProfilHarness) -> None:
    """An event whose visit Profil says belongs to another citizen is parked, not shown."""
    citizen, other = harness.seed_citizens(2)
    (visit,) = harness.seed_visits(other, 1, START)
    harness.mock.notify("VisitChanged", citizen, visit_id=int(visit.uid))
    batch = harness.adapter().changes(None)
    assert batch.events == () and batch.checkpoint == "1"


def test_a_visit_page_for_another_citizen_is_refused(harness: ProfilHarness) -> None:
    """GetVisits for one citizen answered with another's visit: a MalformedReply."""
    citizen, other = harness.seed_citizens(2)
    stranger = harness.mock.state.add_visit(other, 1, 1, START, START + timedelta(hours=1))

    def wrong_citizen(request: Request) -> Response:
        page = mock_wire.visits_page([stranger], None)
        return Response(mock_wire.envelope(page), content_type="application/soap+xml")

    server = harness.mock.server
    assert server is not None
    server.clear()
    server.expect_request("/CitizenDialogService").respond_with_handler(wrong_citizen)
    with pytest.raises(MalformedReply, match="another citizen") as caught:
        harness.adapter(policy=ONE_TRY).appointments(citizen, START, START + timedelta(days=1))
    assert other not in str(caught.value)


def test_text_xml_cannot_carry_is_refused_before_sending(harness: ProfilHarness) -> None:
    """A control character in a message is an InvalidRequest, not a crash, and nothing
    reaches Profil."""
    citizen = harness.seed_citizens(1)[0]
    message = CitizenMessage(message_id="m-ctl", thread_id="m-ctl", service_code="1",
                             citizen_id=citizen, body="nøkkel\x0bboks",
                             sent_at=datetime(2026, 6, 1, 8, tzinfo=UTC))
    with pytest.raises(InvalidRequest, match="XML cannot carry"):
        harness.adapter().deliver_message(message)
    assert "PostInboxMessage" not in harness.mock.requests_seen


def test_an_event_whose_replies_stay_broken_waits_then_is_parked(
        harness: ProfilHarness) -> None:
    """GetVisit truncated again and again for one event: a reply that cannot be read says
    nothing of the visit, so the batch fails as on a network error (a staff message must not
    be lost to a proxy truncating replies for a while), more often than a record Profil
    cannot describe would be tried. Only when the patience runs out is that event parked
    (read as nothing), and the events behind it come through."""
    citizen = harness.seed_citizens(1)[0]
    first, second = harness.seed_visits(citizen, 2, START)
    harness.complete_visit(citizen, first.uid)
    harness.complete_visit(citizen, second.uid)
    adapter = harness.adapter(policy=ONE_TRY)
    clock = ManualClock()
    adapter._feed.patience = Patience(seconds=600, clock=clock)
    tries = PARK_AFTER + 2
    harness.mock.inject(Fault(kind=FaultKind.TRUNCATED, operation="GetVisit", times=tries + 1))
    for _ in range(tries):
        with pytest.raises(BrokenReply):
            adapter.changes(None)
        clock.now += 60
    clock.now += 600
    batch = adapter.changes(None)
    assert uids(batch.events) == [second.uid]
    assert batch.checkpoint == "2"


class ManualClock:
    """A monotonic clock moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_event_profil_refuses_to_detail_is_parked_at_once(harness: ProfilHarness) -> None:
    """A final fault on GetVisit (p:Invalid) will not get better: parked on the first try."""
    citizen = harness.seed_citizens(1)[0]
    first, second = harness.seed_visits(citizen, 2, START)
    harness.complete_visit(citizen, first.uid)
    harness.complete_visit(citizen, second.uid)
    harness.mock.inject(Fault(kind=FaultKind.VENDOR_FAULT, code="Invalid", operation="GetVisit"))
    assert uids(harness.adapter(policy=ONE_TRY).changes(None).events) == [second.uid]
