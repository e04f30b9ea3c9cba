"""The nightly job's store: runs made once and leased to one owner, progress only by the
holder, recipients paged by id, and an export's mark and sweep."""

from __future__ import annotations

from datetime import timedelta

import pytest

from digidialog.domain import Appointment, AppointmentStatus
from digidialog.store import Listed, Store
from tests.store.conftest import T0, ManualClock
from tests.store.nightly_workers import make_and_claim
from tests.store.workers import in_processes

NIGHT = "2026-03-02"


def test_a_night_is_made_once_and_a_further_run_is_the_next_generation(store: Store) -> None:
    """The unique key refuses a second first run; create_next counts on."""
    runs = store.nightly.runs
    first = runs.create("A", NIGHT, trigger="schedule", first_part="roster")
    assert first is not None
    assert runs.create("A", NIGHT, trigger="schedule", first_part="roster") is None
    again = runs.create_next("A", NIGHT, trigger="manual", first_part="roster")
    assert again is not None and again != first
    assert [(r.generation, r.trigger) for r in runs.of_night("A", NIGHT)] == [
        (1, "schedule"), (2, "manual")]
    assert runs.create("B", NIGHT, trigger="schedule", first_part="roster") is not None


def test_a_lease_is_held_by_one_until_it_expires(store: Store, clock: ManualClock) -> None:
    """Claimed by one; another only after expiry; the loser can neither advance nor finish."""
    runs = store.nightly.runs
    run = runs.create("A", NIGHT, trigger="schedule", first_part="roster")
    assert run is not None
    assert runs.claim(run, "w1", lease_seconds=60) is not None
    assert runs.claim(run, "w2", lease_seconds=60) is None
    assert runs.claim(run, "w1", lease_seconds=60) is not None, "the holder may claim again"
    clock.advance(61)
    taken = runs.claim(run, "w2", lease_seconds=60)
    assert taken is not None and taken.owner == "w2"
    with store.transaction() as conn:
        assert not runs.advance(conn, run, "w1", part="status", cursor="x", counts={},
                                lease_seconds=60)
        assert runs.advance(conn, run, "w2", part="status", cursor="123",
                            counts={"roster": {"recipients": 4}}, lease_seconds=60)
    assert not runs.finish(run, "w1", completed=True)
    assert not runs.renew(run, "w1", lease_seconds=60)
    resumed = runs.get(run)
    assert resumed is not None
    assert (resumed.part, resumed.cursor, resumed.counts) == (
        "status", "123", {"roster": {"recipients": 4}})
    assert runs.release(run, "w2", error="VendorUnavailable: the EPJ is down")
    held = runs.claim(run, "w3", lease_seconds=60)
    assert held is not None and held.error == "VendorUnavailable: the EPJ is down"
    assert runs.finish(run, "w3", completed=True)
    done = runs.get(run)
    assert done is not None and done.state == "completed" and done.error is None
    assert runs.claim(run, "w4", lease_seconds=60) is None, "a finished run is nobody's"
    assert runs.unfinished("A") == []


def test_a_dead_holder_can_be_taken_over_at_once(store: Store) -> None:
    """``take_over`` names an owner known dead: its live lease does not stand in the way."""
    runs = store.nightly.runs
    run = runs.create("A", NIGHT, trigger="manual", first_part="roster")
    assert run is not None and runs.claim(run, "host:1:dead", lease_seconds=300)
    assert runs.claim(run, "me", lease_seconds=60, take_over="host:2:other") is None
    assert runs.claim(run, "me", lease_seconds=60, take_over="host:1:dead") is not None


def test_processes_racing_for_tonight_get_one_run_and_one_holder(store_url: str,
                                                                   store: Store) -> None:
    """Four processes make and claim tonight's run at once: one row, one holder."""
    claimed = in_processes(make_and_claim, [(store_url, f"p{n}") for n in range(4)])
    assert len([c for c in claimed if c is not None]) == 1
    assert len(store.nightly.runs.of_night("A", "2026-03-02")) == 1


def test_recipients_are_paged_in_id_order_and_former_ones_kept(store: Store) -> None:
    """A run's page lists those it listed; ``or_told`` adds those sent an overview before."""
    citizens = store.nightly.citizens
    with store.transaction() as conn:
        citizens.record(conn, "A", [Listed(f"0{n}", f"P {n}", ("HSP",), False)
                                    for n in (3, 1, 2)], run_id=1)
        citizens.set_overviews(conn, "A", [("02", [{"service_id": "HSP"}], "h")], T0)
        citizens.record(conn, "A", [Listed("01", "P 1", ("HSP", "PB"), True),
                                    Listed("03", "P 3", (), False)], run_id=2)
    assert [c.citizen_id for c in citizens.page("A", after=None, limit=10, run_id=2)] == [
        "01", "03"]
    assert [c.citizen_id for c in citizens.page("A", after="01", limit=10, run_id=2,
                                                or_told=True)] == ["02", "03"]
    one = citizens.get("A", "01")
    assert one is not None and one.services == ("HSP", "PB") and one.epj_active
    assert citizens.count("A", 2) == 2


def _visit(uid: str, start_hour: int) -> Appointment:
    start = T0 + timedelta(hours=start_hour)
    return Appointment(uid=uid, status=AppointmentStatus.ASSIGNED, start=start,
                       end=start + timedelta(minutes=30), service_id="HSP",
                       employees=("Kari",), description="Tilsyn")


@pytest.mark.parametrize("stamp_offset", [-60, 60])
def test_an_export_sweeps_what_it_did_not_report(store: Store, stamp_offset: int) -> None:
    """Of the day's rows of covered citizens, those older than the export go; a change
    stored after the export began stays; other citizens' rows are untouched."""
    bulk = store.nightly.appointments
    began = T0 + timedelta(minutes=5)
    with store.transaction() as conn:
        store.nightly.citizens.record(conn, "A", [Listed("01", "P", ("HSP",), True),
                                                  Listed("02", "Q", ("HSP",), True)], run_id=7)
        store.citizens.set_active(conn, "A", "01", True, T0, "SIDAB")
        store.citizens.set_active(conn, "A", "02", False, T0, "SIDAB")
        for uid, citizen in (("old", "01"), ("other", "02"), ("kept", "01")):
            store.appointments.put(conn, "A", citizen, _visit(uid, 2), changed_at=T0)
        store.appointments.put(conn, "A", "01", _visit("changed", 3),
                               changed_at=began + timedelta(seconds=stamp_offset))
        assert bulk.put_many(conn, "A", [("01", _visit("kept", 4)), ("01", _visit("new", 5))],
                             changed_at=began) == 2
        swept = bulk.sweep(conn, "A", run_id=7, start=T0, end=T0 + timedelta(days=1),
                           before=began)
    left = {s.appointment.uid for s in store.appointments.of_citizen("A", "01")}
    expected = {"kept", "new"} | ({"changed"} if stamp_offset > 0 else set())
    assert left == expected
    assert swept == (2 if stamp_offset < 0 else 1)
    assert {s.appointment.uid for s in store.appointments.of_citizen("A", "02")} == {"other"}
    kept = store.appointments.get("A", "kept")
    assert kept is not None and kept.appointment.start == T0 + timedelta(hours=4)
    with store.transaction() as conn:
        bulk.put_many(conn, "A", [("01", _visit("changed", 9))], changed_at=began)
    changed = store.appointments.get("A", "changed")
    assert changed is not None
    assert changed.appointment.start == T0 + timedelta(hours=3 if stamp_offset > 0 else 9), \
        "a row changed after the export began is not written over"
