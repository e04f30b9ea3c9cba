"""Seeding visits through the control API, test by test: what the end-to-end tests rely on.

Each vendor's harness must seed a visit in any state and a planned series,
announce them as a real EPJ would announce a new visit (in its change feed or
push) unless told not to, and what the vendor cannot carry must be what the
harness says (:attr:`~digidialog.testing.harness.ConformanceHarness.employees_kept`,
:attr:`~digidialog.testing.harness.ConformanceHarness.cancellation_reasons`,
:meth:`~digidialog.testing.harness.ConformanceHarness.expected_planned`).
Mixed into the class :func:`~digidialog.testing.conformance.conformance_tests`
makes, beside the adapter suite whose ``harness`` and ``citizen`` fixtures they use.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest

from digidialog.domain import (
    Appointment,
    AppointmentStatus,
    CancellationReason,
    Frequency,
    Recurrence,
    Weekday,
)
from digidialog.domain.events import (
    AppointmentChanged,
    CancellationDecided,
    EpjEvent,
    VisitCompleted,
)
from digidialog.domain.timezone import OSLO
from digidialog.testing.conformance.suite import RELATIVE, drain
from digidialog.testing.harness import ConformanceHarness

SAMI = "Ŋuđđi boahtá iđđes"
"""A Sámi text (letters outside Latin-1) a visit must carry exactly."""
PLANNED, ASSIGNED = AppointmentStatus.PLANNED, AppointmentStatus.ASSIGNED
COMPLETED, CANCELLED = AppointmentStatus.COMPLETED, AppointmentStatus.CANCELLED


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """An Oslo wall-clock time on ``day``."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=OSLO)


def about(events: list[EpjEvent], uid: str) -> list[AppointmentChanged | VisitCompleted]:
    """The events about the visit ``uid``."""
    return [e for e in events if isinstance(e, AppointmentChanged | VisitCompleted)
            and e.appointment.uid == uid]


def decisions(events: list[EpjEvent], request_id: str) -> list[CancellationDecided]:
    """The decisions on our request ``request_id``."""
    return [e for e in events if isinstance(e, CancellationDecided)
            and e.decision.request_id == request_id]


def _check_reported(harness: ConformanceHarness, got: Appointment, asked: dict[str, Any]) -> None:
    """``got`` is the visit seeded with ``asked``, as far as the vendor carries it."""
    status = asked["status"]
    assert got.status is status
    assert (got.start, got.end) == (asked["start"], asked["end"])
    assert got.service_id == asked.get("service_code", harness.open_service())
    assert got.employees == tuple(asked.get("employees", ()))[: harness.employees_kept]
    assert got.description == asked.get("text")
    done = asked.get("done_at", asked["start"]) if status is COMPLETED else None
    assert got.completed_at == done
    reason = asked.get("cancelled_by", CancellationReason.BY_SERVICE)
    assert got.cancellation_reason == (
        harness.cancellation_reasons[reason] if status is CANCELLED else None)
    assert got.recurrence is None


class AppointmentConformance:
    """Seeding visits and series (mixed into the class ``conformance_tests`` makes)."""

    def test_seeded_visits_in_every_state(self, harness: ConformanceHarness, citizen: str
                                          ) -> None:
        """A visit seeded in each state comes back from the adapter as asked, as far as the
        vendor carries it (employees, cancellation reasons), Sámi text exactly; ``visits``
        shows the same; unannounced seeding leaves the feed quiet."""
        day = date(2026, 4, 13)
        second = harness.second_open_service()
        asked: dict[str, dict[str, Any]] = {
            "planned": {"status": PLANNED, "start": at(day, 8), "end": at(day, 10),
                        "text": SAMI},
            "assigned": {"status": ASSIGNED, "start": at(day, 11), "end": at(day, 11, 30),
                         "service_code": second, "text": SAMI,
                         "employees": ("Kari Nordmann", "Ánde Ŋuolla")},
            "completed": {"status": COMPLETED, "start": at(day, 12), "end": at(day, 12, 45),
                          "employees": ("Ola Pleier",), "text": "Tilsyn",
                          "done_at": at(day, 12, 40) + timedelta(seconds=30)},
            "done_at_start": {"status": COMPLETED, "start": at(day, 13),
                              "end": at(day, 13, 30)},
            "cancelled": {"status": CANCELLED, "start": at(day, 14), "end": at(day, 14, 30)},
            "not_at_home": {"status": CANCELLED, "start": at(day, 15), "end": at(day, 15, 30),
                            "cancelled_by": CancellationReason.NOT_AT_HOME},
            "by_citizen": {"status": CANCELLED, "start": at(day, 16), "end": at(day, 16, 30),
                           "cancelled_by": CancellationReason.BY_CITIZEN},
        }
        adapter = harness.adapter()
        _, checkpoint = drain(adapter, None)
        uids = {name: harness.seed_visit(citizen, announce=False, **args)
                for name, args in asked.items()}
        assert len(set(uids.values())) == len(uids)
        found = {a.uid: a for a in adapter.appointments(citizen, at(day, 0), at(day, 23))}
        for name, args in asked.items():
            _check_reported(harness, found[uids[name]], args)
        held = {a.uid: a for a in harness.visits(citizen)}
        assert {uid: held[uid] for uid in uids.values()} == {
            uid: found[uid] for uid in uids.values()}
        events, _ = drain(adapter, checkpoint)
        assert not [e for uid in uids.values() for e in about(events, uid)]

    def test_seeding_refuses_what_no_epj_holds(self, harness: ConformanceHarness, citizen: str
                                               ) -> None:
        """Employees on a planned visit, a reason on one not cancelled, a series starting
        off its own days: refused, not stored as something else; a citizen the EPJ does not
        know, or a visit not theirs, is a LookupError."""
        start = at(date(2026, 4, 14), 8)  # a Tuesday
        with pytest.raises(LookupError):
            harness.seed_visit(RELATIVE.national_id, status=PLANNED, start=start, end=start)
        with pytest.raises(LookupError):
            harness.cancel_visit(citizen, "404")
        with pytest.raises(ValueError, match="employees"):
            harness.seed_visit(citizen, status=PLANNED, start=start, end=start,
                               employees=("Kari",))
        with pytest.raises(ValueError, match="cancelled_by"):
            harness.seed_visit(citizen, status=ASSIGNED, start=start, end=start,
                               cancelled_by=CancellationReason.BY_CITIZEN)
        series: dict[str, Any] = {"service_code": harness.open_service(), "start": start,
                                  "end": start + timedelta(hours=1)}
        with pytest.raises(ValueError, match="start is not an occurrence"):
            harness.seed_planned_series(citizen, frequency=Frequency.WEEKLY,
                                        by_day=(Weekday.MO,), **series)
        with pytest.raises(ValueError, match="paused instant is not an occurrence"):
            harness.seed_planned_series(citizen, frequency=Frequency.DAILY, interval=2,
                                        paused=(start + timedelta(days=1),), **series)
        with pytest.raises(ValueError, match="until"):
            harness.seed_planned_series(citizen, frequency=Frequency.DAILY,
                                        until=date(2026, 4, 1), **series)
        assert harness.visits(citizen) == []

    def test_seeding_is_announced(self, harness: ConformanceHarness, citizen: str) -> None:
        """A seeded visit is announced as a new visit in the vendor's change mechanism (one
        done as done), a series with it; ``announce=False`` announces nothing."""
        day = date(2026, 4, 20)
        adapter = harness.adapter()
        _, checkpoint = drain(adapter, None)
        assigned = harness.seed_visit(citizen, status=ASSIGNED, start=at(day, 8),
                                      end=at(day, 9), employees=("Kari Nordmann",))
        done = harness.seed_visit(citizen, status=COMPLETED, start=at(day, 10),
                                  end=at(day, 11), employees=("Kari Nordmann",))
        quiet = harness.seed_visit(citizen, status=PLANNED, start=at(day, 12), end=at(day, 13),
                                   announce=False)
        series = harness.seed_planned_series(
            citizen, service_code=harness.second_open_service(), start=at(day, 14),
            end=at(day, 16), frequency=Frequency.DAILY, until=day + timedelta(days=2))
        events, _ = drain(adapter, checkpoint)
        (new,) = about(events, assigned)
        assert isinstance(new, AppointmentChanged)
        assert new.citizen_id == citizen and new.appointment.status is ASSIGNED
        (completed,) = about(events, done)
        assert isinstance(completed, VisitCompleted)
        assert completed.appointment.status is COMPLETED
        assert about(events, quiet) == []
        for expected in harness.expected_planned(citizen, series):
            (announced,) = about(events, expected.uid)
            assert isinstance(announced, AppointmentChanged)
            assert announced.appointment == expected

    @pytest.mark.parametrize("case", ["weekly-paused", "daily-open-ended"])
    def test_planned_series_as_the_vendor_carries_it(
        self, harness: ConformanceHarness, citizen: str, case: str
    ) -> None:
        """A series comes back exactly as ``expected_planned`` says, and that is what was
        asked, as far as the vendor carries it: the rule (paused dates only where carried)
        or, for a vendor without rules, every occurrence but the paused ones."""
        first = at(date(2026, 5, 4), 8)  # a Monday
        if case == "weekly-paused":
            asked = Recurrence(frequency=Frequency.WEEKLY, until=date(2026, 5, 29),
                               by_day=(Weekday.MO, Weekday.WE, Weekday.FR),
                               paused=(first + timedelta(days=9),))
            service = harness.second_open_service()
        else:
            asked = Recurrence(frequency=Frequency.DAILY, interval=2)
            service = harness.open_service()
        uid = harness.seed_planned_series(
            citizen, service_code=service, start=first, end=first + timedelta(hours=2),
            frequency=asked.frequency, by_day=asked.by_day, interval=asked.interval,
            until=asked.until, paused=asked.paused, text=SAMI, announce=False)
        expected = harness.expected_planned(citizen, uid)
        assert uid in {e.uid for e in expected}
        last = max(e.end for e in expected) + timedelta(days=1)
        found = {a.uid: a for a in harness.adapter().appointments(
            citizen, first - timedelta(days=1), last)}
        assert {e.uid: found.get(e.uid) for e in expected} == {e.uid: e for e in expected}
        for appointment in expected:
            assert appointment.status is PLANNED
            assert appointment.service_id == service
            assert appointment.description == SAMI
            assert appointment.end - appointment.start == timedelta(hours=2)
        rules = [e.recurrence for e in expected if e.recurrence is not None]
        if rules:
            (rule,) = rules
            assert len(expected) == 1 and expected[0].start == first
            assert (rule.frequency, rule.interval, rule.by_day) == (
                asked.frequency, asked.interval, asked.by_day)
            assert asked.until is None or rule.until == asked.until
            assert set(rule.paused) <= set(asked.paused)
        else:
            starts = sorted(e.start for e in expected)
            assert starts == list(asked.occurrences(first, starts[-1].date()))
            assert starts[0] == first
            assert set(asked.paused).isdisjoint(starts)
            if asked.until is not None:
                assert starts == list(asked.occurrences(first, asked.until))
