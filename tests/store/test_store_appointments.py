"""Appointments, cancellations and the roster in the store, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta

from digidialog.domain import (
    Appointment,
    AppointmentStatus,
    Frequency,
    Recurrence,
    Weekday,
)
from digidialog.store import RosterService, Store
from digidialog.store.appointments import FOREVER, visible_until
from tests.store.conftest import T0

M = "1000001"
CITIZEN = "13116900216"


def visit(uid: str, hours: int, status: AppointmentStatus = AppointmentStatus.ASSIGNED,
          **extra: object) -> Appointment:
    start = T0 + timedelta(hours=hours)
    return Appointment(uid=uid, status=status, start=start, end=start + timedelta(minutes=30),
                       service_id="HSP", **extra)  # type: ignore[arg-type]


def test_a_newer_change_wins_and_an_older_one_is_ignored(store: Store) -> None:
    """Events taken out of order cannot undo a newer state."""
    with store.transaction() as conn:
        assert store.appointments.put(conn, M, CITIZEN, visit("A", 1), changed_at=T0) is None
        before = store.appointments.put(
            conn, M, CITIZEN, visit("A", 2, AppointmentStatus.CANCELLED),
            changed_at=T0 + timedelta(minutes=5))
        assert before is not None and before.status is AppointmentStatus.ASSIGNED
        store.appointments.put(conn, M, CITIZEN, visit("A", 3), changed_at=T0)
    stored = store.appointments.get(M, "A")
    assert stored is not None
    assert stored.status is AppointmentStatus.CANCELLED
    assert stored.appointment.start == T0 + timedelta(hours=2)


def test_only_what_is_still_visible_is_listed_in_start_order(store: Store) -> None:
    """A visit that ended before the given instant is left out."""
    with store.transaction() as conn:
        for uid, hours in (("late", 5), ("past", -3), ("soon", 1)):
            store.appointments.put(conn, M, CITIZEN, visit(uid, hours), changed_at=T0)
        store.appointments.put(conn, M, "other", visit("theirs", 2), changed_at=T0)
    listed = store.appointments.of_citizen(M, CITIZEN, visible_after=T0)
    assert [s.appointment.uid for s in listed] == ["soon", "late"]


def test_a_series_is_visible_until_its_last_occurrence() -> None:
    """Until a date, by count, or for ever."""
    window = visit("S", 1, AppointmentStatus.PLANNED)
    daily = Recurrence(frequency=Frequency.DAILY, until=date(2026, 3, 10))
    assert visible_until(window.model_copy(update={"recurrence": daily})).date() == \
        date(2026, 3, 10)
    weekly = Recurrence(frequency=Frequency.WEEKLY, by_day=(Weekday.MO,), count=3)
    last = visible_until(window.model_copy(update={"recurrence": weekly}))
    assert last.date() == date(2026, 3, 16)
    endless = Recurrence(frequency=Frequency.DAILY)
    assert visible_until(window.model_copy(update={"recurrence": endless})) == FOREVER


def test_reading_a_window_replaces_what_the_epj_no_longer_reports(store: Store) -> None:
    """Inside the window the EPJ's answer is the truth; outside it nothing changes."""
    with store.transaction() as conn:
        for uid, hours in (("kept", 1), ("removed", 2), ("outside", 100)):
            store.appointments.put(conn, M, CITIZEN, visit(uid, hours), changed_at=T0)
    assert store.appointments.window_read(M, CITIZEN) is None
    at = T0 + timedelta(minutes=1)
    with store.transaction() as conn:
        count = store.appointments.replace_window(
            conn, M, CITIZEN, T0, T0 + timedelta(days=2),
            [visit("kept", 1, AppointmentStatus.CANCELLED), visit("new", 3)], at=at)
    assert count == 2
    uids = {s.appointment.uid: s.status for s in store.appointments.of_citizen(M, CITIZEN)}
    assert uids == {"kept": AppointmentStatus.CANCELLED, "new": AppointmentStatus.ASSIGNED,
                    "outside": AppointmentStatus.ASSIGNED}
    assert store.appointments.window_read(M, CITIZEN) == at


def test_a_cancellation_is_kept_once_and_decided_once(store: Store) -> None:
    """A repeated request or a second decision changes nothing."""
    request = {"msg_id": "r1", "code": "ART"}
    with store.transaction() as conn:
        assert store.cancellations.add(conn, request_id="r1", municipality=M,
                                       citizen_id=CITIZEN, request=request, at=T0)
        assert not store.cancellations.add(conn, request_id="r1", municipality=M,
                                           citizen_id=CITIZEN, request={}, at=T0)
    assert store.cancellations.undecided(M) == 1
    with store.transaction() as conn:
        assert store.cancellations.decide(conn, "r1", outcome="accepted",
                                          affected=("A", "B"), at=T0)
        assert not store.cancellations.decide(conn, "r1", outcome="rejected", affected=(),
                                              at=T0)
    stored = store.cancellations.get("r1")
    assert stored is not None
    assert (stored.request, stored.outcome, stored.affected) == (request, "accepted",
                                                                  ("A", "B"))
    assert store.cancellations.undecided(M) == 0


def test_the_roster_is_replaced_by_each_listing(store: Store) -> None:
    """Services and recipients as the EPJ last listed them."""
    assert not store.roster.knows(M)
    with store.transaction() as conn:
        store.roster.put_services(conn, M, [RosterService("HSP", "Hjemmesykepleie", True),
                                            RosterService("OLD", "Gammel", True)], T0)
        store.roster.put_services(conn, M, [RosterService("HSP", "Hjemmesykepleie", True),
                                            RosterService("PB", "Praktisk bistand", False)], T0)
        store.roster.put_recipients(conn, M, "HSP", [CITIZEN, "other"], T0)
        store.roster.put_recipients(conn, M, "PB", [CITIZEN], T0)
        store.roster.put_recipients(conn, M, "PB", ["other"], T0)
    assert store.roster.knows(M)
    assert set(store.roster.services(M)) == {"HSP", "PB"}
    assert not store.roster.services(M)["PB"].open_for_dialog
    assert store.roster.services_of(M, CITIZEN) == {"HSP"}
    assert store.roster.services_of(M, "other") == {"HSP", "PB"}
