"""Period cancellations: expanded into one CancelVisit per visit, answered once for the period."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta

import pytest
from profil_support import drain, started

from digidialog.domain import (
    CancellationKind,
    CancellationRequest,
    Frequency,
    OnBehalfOf,
    Person,
    Recurrence,
    Relation,
)
from digidialog.domain.events import AppointmentChanged, CancellationDecided
from digidialog.domain.timezone import OSLO
from digidialog_profil.feed import EMPTY_PERIOD_COMMENT
from digidialog_profil.mock.harness import OPEN, SECOND_OPEN, ProfilHarness
from digidialog_profil.mock.state import CancelEntry

DAY = datetime(2026, 9, 7, 0, tzinfo=OSLO)
RELATIVE = Person(national_id="15076500565", given_name="Roland", family_name="Gundersen")


@pytest.fixture
def harness() -> Iterator[ProfilHarness]:
    """A started mock, push endpoint and store."""
    with started() as running:
        yield running


def period(citizen: str, start: datetime, end: datetime,
           services: tuple[int, ...] = (OPEN, SECOND_OPEN)) -> CancellationRequest:
    """A relative's period cancellation for the given services."""
    return CancellationRequest(
        request_id=str(uuid.uuid4()), citizen_id=citizen, kind=CancellationKind.PERIOD,
        start=start, end=end, service_ids=tuple(str(s) for s in services), reason="Ferie",
        requested_by=OnBehalfOf(person=RELATIVE, relation=Relation.FULLMAKT),
    )


def decisions(events: Sequence[object], request_id: str) -> list[CancellationDecided]:
    """The CancellationDecided events for one request."""
    return [e for e in events if isinstance(e, CancellationDecided)
            and e.decision.request_id == request_id]


def test_a_period_becomes_one_call_per_visit_of_the_chosen_services(
        harness: ProfilHarness) -> None:
    """Visits of both services inside the period are cancelled, each with its own
    ExternalId; a visit of another service, one outside the period and one already done
    are left alone."""
    citizen = harness.seed_citizens(1)[0]
    inside = [*harness.seed_visits(citizen, 2, DAY + timedelta(hours=8)),
              harness._visit(citizen, DAY + timedelta(hours=13), DAY + timedelta(hours=14),
                             service=SECOND_OPEN)]
    other_service = harness._visit(citizen, DAY + timedelta(hours=15),
                                   DAY + timedelta(hours=16), service=3)
    outside = harness.seed_visits(citizen, 1, DAY + timedelta(days=1, hours=8))[0]
    done = harness.seed_visits(citizen, 1, DAY + timedelta(hours=18))[0]
    harness.mock.state.complete(int(done.uid))
    request = period(citizen, DAY, DAY + timedelta(days=1))
    receipt = harness.adapter().register_cancellation(request)
    held = {e.external_id: e for e in harness.mock.state.cancellations.values()}
    assert sorted(e.visit_id for e in held.values()) == sorted(int(v.uid) for v in inside)
    assert set(held) == {f"{request.request_id}:{v.uid}" for v in inside}
    assert all(e.reason == "Ferie" and e.requested_by == (RELATIVE.national_id,
                                                          "Roland Gundersen")
               for e in held.values())
    assert receipt.accepted
    assert set((receipt.epj_reference or "").split(",")) == {v.uid for v in inside}
    assert other_service.uid not in (receipt.epj_reference or "")
    assert outside.uid not in (receipt.epj_reference or "")


def test_all_accepted_is_one_accepted_answer(harness: ProfilHarness) -> None:
    """Three visits, three decisions pushed one by one: one answer, after the last."""
    citizen = harness.seed_citizens(1)[0]
    visits = harness.seed_visits(citizen, 3, DAY + timedelta(hours=8))
    adapter = harness.adapter()
    request = period(citizen, DAY, DAY + timedelta(days=1))
    adapter.register_cancellation(request)
    _, checkpoint = drain(adapter)
    harness.decide_cancellations(accept=True)
    events, _ = drain(adapter, checkpoint)
    (answer,) = decisions(events, request.request_id)
    assert answer.decision.accepted
    assert sorted(answer.decision.affected_uids) == sorted(v.uid for v in visits)
    assert answer.citizen_id == citizen
    assert answer.event_id == f"profil-cancellation-{request.request_id}"
    cancelled = [e for e in events if isinstance(e, AppointmentChanged)]
    assert len(cancelled) == 3  # and each visit's new state, too


def test_one_refusal_makes_the_answer_rejected(harness: ProfilHarness) -> None:
    """Staff accept two visits and refuse one: rejected, naming the two that were
    cancelled, with the staff's comment."""
    citizen = harness.seed_citizens(1)[0]
    visits = harness.seed_visits(citizen, 3, DAY + timedelta(hours=8))
    adapter = harness.adapter()
    request = period(citizen, DAY, DAY + timedelta(days=1))
    adapter.register_cancellation(request)
    refused = f"{request.request_id}:{visits[1].uid}"
    with harness.mock._lock:
        harness.mock.state.cancellations[refused].status = "Rejected-later"
    harness.decide_cancellations(accept=True)
    with harness.mock._lock:
        harness.mock.state.cancellations[refused].status = "Pending"
    harness.decide_cancellations(accept=False)
    events, _ = drain(adapter)
    (answer,) = decisions(events, request.request_id)
    assert not answer.decision.accepted
    assert sorted(answer.decision.affected_uids) == sorted([visits[0].uid, visits[2].uid])
    assert answer.decision.comment == "Kan ikke avlyses"


def test_a_period_without_visits_is_answered_rejected_without_asking_profil(
        harness: ProfilHarness) -> None:
    """Nothing to cancel: no CancelVisit, and one rejected answer with a comment."""
    citizen = harness.seed_citizens(1)[0]
    adapter = harness.adapter()
    request = period(citizen, DAY, DAY + timedelta(days=1))
    receipt = adapter.register_cancellation(request)
    assert receipt.accepted and receipt.epj_reference is None
    assert harness.cancellations(request.request_id) == 0
    (answer,) = decisions(drain(adapter)[0], request.request_id)
    assert not answer.decision.accepted
    assert answer.decision.comment == EMPTY_PERIOD_COMMENT


def test_a_visit_profil_refuses_at_once_counts_as_refused(harness: ProfilHarness) -> None:
    """Profil answers p:Invalid for one visit (done meanwhile): the rest is registered, and
    the answer is rejected once the rest is decided."""
    citizen = harness.seed_citizens(1)[0]
    visits = harness.seed_visits(citizen, 2, DAY + timedelta(hours=8))
    adapter = harness.adapter()
    request = period(citizen, DAY, DAY + timedelta(days=1))
    real_cancel = harness.mock.state.cancel

    def done_meanwhile(entry: CancelEntry) -> str:
        if entry.visit_id == int(visits[0].uid):
            harness.mock.state.complete(int(visits[0].uid))
        return real_cancel(entry)

    harness.mock.state.cancel = done_meanwhile  # type: ignore[method-assign]
    adapter.register_cancellation(request)
    assert harness.cancellations(request.request_id) == 1
    events, checkpoint = drain(adapter)
    assert decisions(events, request.request_id) == []  # the other visit is still pending
    harness.decide_cancellations(accept=True)
    (answer,) = decisions(drain(adapter, checkpoint)[0], request.request_id)
    assert not answer.decision.accepted
    assert answer.decision.affected_uids == (visits[1].uid,)


def test_repeating_a_request_repeats_nothing(harness: ProfilHarness) -> None:
    """The same request again, even after Profil decided it: the stored expansion is reused,
    no new cancellation appears, and the citizen still gets exactly one answer."""
    citizen = harness.seed_citizens(1)[0]
    harness.seed_visits(citizen, 2, DAY + timedelta(hours=8))
    adapter = harness.adapter()
    request = period(citizen, DAY, DAY + timedelta(days=1))
    first = adapter.register_cancellation(request)
    harness.decide_cancellations(accept=True)
    harness.seed_visits(citizen, 1, DAY + timedelta(hours=20))  # a new visit in the period
    again = adapter.register_cancellation(request)
    assert again == first
    assert harness.cancellations(request.request_id) == 2
    assert len(decisions(drain(adapter)[0], request.request_id)) == 1


def test_a_series_reaching_beyond_the_period_is_not_cancelled_whole(
        harness: ProfilHarness) -> None:
    """Profil cancels a planned series as one Visit. A series with occurrences after the
    period is refused without being sent (cancelling it would cancel them too); one that
    lies inside the period is cancelled."""
    citizen = harness.seed_citizens(1)[0]
    start = DAY + timedelta(hours=8)
    with harness.mock._lock:
        harness.mock.state.add_visit(  # a series running on after the period
            citizen, OPEN, 0, start.astimezone(UTC),
            (start + timedelta(hours=2)).astimezone(UTC),
            recurrence=Recurrence(frequency=Frequency.DAILY, until=date(2026, 12, 31)))
        within = harness.mock.state.add_visit(
            citizen, SECOND_OPEN, 0, start.astimezone(UTC),
            (start + timedelta(hours=2)).astimezone(UTC),
            recurrence=Recurrence(frequency=Frequency.DAILY, until=date(2026, 9, 9)))
    adapter = harness.adapter()
    request = period(citizen, DAY, DAY + timedelta(days=3))
    adapter.register_cancellation(request)
    held = {e.visit_id for e in harness.mock.state.cancellations.values()}
    assert held == {within.visit_id}
    harness.decide_cancellations(accept=True)
    (answer,) = decisions(drain(adapter)[0], request.request_id)
    assert not answer.decision.accepted
    assert answer.decision.affected_uids == (str(within.visit_id),)


def test_a_single_cancellation_is_one_call(harness: ProfilHarness) -> None:
    """A single visit: one CancelVisit, one answer with the visit's uid."""
    citizen = harness.seed_citizens(1)[0]
    (visit,) = harness.seed_visits(citizen, 1, DAY + timedelta(hours=8))
    adapter = harness.adapter()
    request = CancellationRequest(
        request_id=str(uuid.uuid4()), citizen_id=citizen, kind=CancellationKind.SINGLE,
        start=visit.start, end=visit.end, appointment_uid=visit.uid, service_ids=(str(OPEN),))
    adapter.register_cancellation(request)
    assert harness.cancellations(request.request_id) == 1
    harness.decide_cancellations(accept=True)
    (answer,) = decisions(drain(adapter)[0], request.request_id)
    assert answer.decision.accepted and answer.decision.affected_uids == (visit.uid,)
