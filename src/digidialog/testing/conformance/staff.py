"""What staff do to visits, test by test: move, cancel, decide cancellations.

Each lever must reach the adapter through the vendor's change mechanism, as a
real EPJ's staff action would: a moved visit as an AppointmentChanged with its
new times, a cancelled one with status cancelled and the reason the vendor can
say, and a decided cancellation as exactly one CancellationDecided per request,
naming the visits it cancelled, whether the vendor cancels a period itself or
the adapter expands it visit by visit. Mixed into the class
:func:`~digidialog.testing.conformance.conformance_tests` makes.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from digidialog.adapters.contract import PeriodCancellation
from digidialog.domain import (
    Appointment,
    AppointmentStatus,
    CancellationKind,
    CancellationReason,
    CancellationRequest,
)
from digidialog.domain.events import AppointmentChanged, CancellationDecided
from digidialog.testing.conformance.appointments import (
    ASSIGNED,
    CANCELLED,
    COMPLETED,
    PLANNED,
    about,
    at,
    decisions,
)
from digidialog.testing.conformance.suite import drain
from digidialog.testing.harness import ConformanceHarness


def single(citizen: str, visit: Appointment) -> CancellationRequest:
    """The citizen's cancellation of one visit."""
    return CancellationRequest(
        request_id=str(uuid.uuid4()), citizen_id=citizen, kind=CancellationKind.SINGLE,
        start=visit.start, end=visit.end, appointment_uid=visit.uid,
        service_ids=(visit.service_id,) if visit.service_id else ())


def period(citizen: str, start: datetime, end: datetime, *services: str
           ) -> CancellationRequest:
    """The citizen's cancellation of everything of ``services`` in a period."""
    return CancellationRequest(
        request_id=str(uuid.uuid4()), citizen_id=citizen, kind=CancellationKind.PERIOD,
        start=start, end=end, service_ids=services, reason="På ferie")


class StaffConformance:
    """What staff do to visits (mixed into the class ``conformance_tests`` makes)."""

    def test_staff_move_a_visit(self, harness: ConformanceHarness, citizen: str) -> None:
        """Moving a visit comes through the change mechanism once, with the new times; the
        adapter then reads it there. Another citizen's visit cannot be moved."""
        day = date(2026, 4, 27)
        uid = harness.seed_visit(citizen, status=ASSIGNED, start=at(day, 8), end=at(day, 9),
                                 employees=("Kari Nordmann",), announce=False)
        adapter = harness.adapter()
        _, checkpoint = drain(adapter, None)
        moved = (at(day + timedelta(days=1), 13, 15), at(day + timedelta(days=1), 14))
        harness.change_visit(citizen, uid, start=moved[0], end=moved[1])
        events, _ = drain(adapter, checkpoint)
        (changed,) = about(events, uid)
        assert isinstance(changed, AppointmentChanged)
        assert changed.citizen_id == citizen
        assert (changed.appointment.start, changed.appointment.end) == moved
        assert changed.appointment.status is ASSIGNED
        (read,) = [a for a in harness.visits(citizen) if a.uid == uid]
        assert (read.start, read.end) == moved
        (other,) = harness.seed_citizens(1)
        with pytest.raises(LookupError):
            harness.change_visit(other, uid, start=moved[0], end=moved[1])

    def test_staff_cancel_visits(self, harness: ConformanceHarness, citizen: str) -> None:
        """Each reason comes through the change mechanism as a cancelled visit, with the
        reason the vendor can say (``cancellation_reasons``); by the service by default."""
        day = date(2026, 4, 28)
        reasons = [None, *CancellationReason]
        uids = [harness.seed_visit(citizen, status=ASSIGNED, start=at(day, 8 + n),
                                   end=at(day, 8 + n, 30), employees=("Kari Nordmann",),
                                   announce=False)
                for n in range(len(reasons))]
        adapter = harness.adapter()
        _, checkpoint = drain(adapter, None)
        for uid, reason in zip(uids, reasons, strict=True):
            if reason is None:
                harness.cancel_visit(citizen, uid)
            else:
                harness.cancel_visit(citizen, uid, reason=reason)
        events, _ = drain(adapter, checkpoint)
        for uid, reason in zip(uids, reasons, strict=True):
            (changed,) = about(events, uid)
            assert isinstance(changed, AppointmentChanged)
            assert changed.appointment.status is CANCELLED
            assert changed.appointment.cancellation_reason is harness.cancellation_reasons[
                reason or CancellationReason.BY_SERVICE]

    def test_period_over_two_services_is_decided_once(
        self, harness: ConformanceHarness, citizen: str
    ) -> None:
        """A period over both services is registered natively or visit by visit, as the
        adapter says, and answered once, naming exactly the open visits in the period; each
        one arrives cancelled by the citizen. Deciding again answers nothing more."""
        day = date(2026, 6, 1)
        open_, second = harness.open_service(), harness.second_open_service()

        def seed(status: AppointmentStatus, start: datetime, service: str, **more: Any) -> str:
            return harness.seed_visit(citizen, status=status, start=start,
                                      end=start + timedelta(minutes=30), service_code=service,
                                      announce=False, **more)

        inside = {seed(ASSIGNED, at(day, 8), open_, employees=("Kari Nordmann",)),
                  seed(ASSIGNED, at(day, 10), second, employees=("Ola Pleier",)),
                  seed(PLANNED, at(day + timedelta(days=1), 12), second)}
        done = seed(COMPLETED, at(day, 9), open_)
        later = seed(ASSIGNED, at(day + timedelta(days=3), 8), open_)
        adapter = harness.adapter()
        _, checkpoint = drain(adapter, None)
        request = period(citizen, at(day, 0), at(day + timedelta(days=2), 0), open_, second)
        adapter.register_cancellation(request)
        expanded = adapter.capabilities.period_cancellation is PeriodCancellation.EXPANDED
        assert harness.cancellations(request.request_id) == (len(inside) if expanded else 1)
        harness.decide_cancellations(accept=True)
        events, checkpoint = drain(adapter, checkpoint)
        (decided,) = decisions(events, request.request_id)
        assert decided.decision.accepted
        assert sorted(decided.decision.affected_uids) == sorted(inside)
        for uid in inside:
            (changed,) = about(events, uid)
            assert changed.appointment.status is CANCELLED
            assert changed.appointment.cancellation_reason is harness.cancellation_reasons[
                CancellationReason.BY_CITIZEN]
        statuses = {a.uid: a.status for a in harness.visits(citizen)}
        assert {uid: statuses[uid] for uid in inside} == dict.fromkeys(inside, CANCELLED)
        assert (statuses[done], statuses[later]) == (COMPLETED, ASSIGNED)
        harness.decide_cancellations(accept=True)
        harness.decide_cancellation(request.request_id, False)
        again, _ = drain(adapter, checkpoint)
        assert not [e for e in again if isinstance(e, CancellationDecided)]

    def test_one_request_decided_at_a_time(self, harness: ConformanceHarness, citizen: str
                                           ) -> None:
        """``decide_cancellation`` answers the one request it names, once, with the comment
        staff gave (once, however many visits); the others wait. A request the EPJ never
        got is a LookupError."""
        day = date(2026, 6, 8)
        second = harness.second_open_service()
        alone = harness.seed_visit(citizen, status=ASSIGNED, start=at(day, 8),
                                    end=at(day, 8, 30), employees=("Kari Nordmann",),
                                    announce=False)
        pair = [harness.seed_visit(citizen, status=ASSIGNED, start=at(day, h),
                                   end=at(day, h, 30), service_code=second, announce=False,
                                   employees=("Ola Pleier",)) for h in (10, 11)]
        adapter = harness.adapter()
        visits = {a.uid: a for a in adapter.appointments(citizen, at(day, 0), at(day, 23))}
        _, checkpoint = drain(adapter, None)
        first = single(citizen, visits[alone])
        other = period(citizen, at(day, 9), at(day, 12), second)
        adapter.register_cancellation(first)
        adapter.register_cancellation(other)
        comment = "Vi må komme begge gangene – beklager"
        harness.decide_cancellation(other.request_id, False, comment)
        events, checkpoint = drain(adapter, checkpoint)
        (refused,) = decisions(events, other.request_id)
        assert not refused.decision.accepted
        assert refused.decision.comment == comment
        assert refused.decision.affected_uids == ()
        assert decisions(events, first.request_id) == []
        assert {a.uid: a.status for a in harness.visits(citizen)} == {
            alone: ASSIGNED, pair[0]: ASSIGNED, pair[1]: ASSIGNED}
        harness.decide_cancellation(other.request_id, True)
        harness.decide_cancellation(first.request_id, True)
        events, _ = drain(adapter, checkpoint)
        assert decisions(events, other.request_id) == []
        (accepted,) = decisions(events, first.request_id)
        assert accepted.decision.accepted
        assert accepted.decision.affected_uids == (alone,)
        with pytest.raises(LookupError):
            harness.decide_cancellation(str(uuid.uuid4()), True)

