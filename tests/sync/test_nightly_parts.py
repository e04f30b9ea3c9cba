"""The nightly job's pieces on their own: the messages it writes (valid against the official
schemas), who counts as newly active, what it does with a name XML cannot carry or a
service no overview can list, and whose lease it may take over."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from digidialog.domain import Appointment
from digidialog.errors import FatalError
from digidialog.helsenorge import Function, decode, encode
from digidialog.store import CitizenStatus, Listed, NightlyCitizen, Store
from digidialog.sync.context import Municipality, ServiceRoute
from digidialog.sync.nightly import NightlyContext, RunState, status
from digidialog.sync.nightly.messages import (
    check_routes,
    overview_digest,
    overview_entries,
    service_overview,
    status_question,
    welcome,
)
from digidialog.sync.nightly.run import owner_is_dead
from digidialog.sync.nightly.welcome import newly_active
from digidialog.testing import samples

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
HSP = ServiceRoute("HSP", "HSP", "1000002")
PB = ServiceRoute("PB", "12", "1000003")


class NoEpj:
    """An adapter the parts tested here never call."""

    def __getattr__(self, name: str) -> object:
        raise AssertionError(f"the EPJ was called: {name}")


MUNICIPALITY = Municipality(name="Eksempel kommune", her_id="1000001", vendor="gerica",
                            adapter=NoEpj(), routes=(HSP, PB),  # type: ignore[arg-type]
                            portal_her_id="100000")


def citizen(national_id: str = samples.CITIZEN.id, name: str = "Line Danser", *,
            active_seen: bool | None = None) -> NightlyCitizen:
    """A recipient as the store keeps them."""
    return NightlyCitizen("1000001", national_id, name, ("HSP", "PB"), False, 1, None, None,
                          None, None, active_seen)


def test_the_nightly_messages_pass_the_official_schemas(
    official_validate: Callable[[bytes], list[str]],
) -> None:
    """SIDAB with a Personer list and no Patient; TjenesteOversikt; the welcome as EKI."""
    asked = [citizen(), citizen(samples.RELATIVE.id, "Roland Gundersen")]
    question = status_question(MUNICIPALITY, asked, NOW)
    entries = overview_entries([(HSP, "Hjemmesykepleie"), (PB, "Praktisk bistand")], None,
                               date(2026, 3, 2))
    overview = service_overview(MUNICIPALITY, (HSP, "Hjemmesykepleie"), asked[0], entries, NOW)
    hello = welcome(MUNICIPALITY, (HSP, "Hjemmesykepleie"), asked[0], "Velkommen!", NOW)
    for message in (question, overview, hello):
        data = encode(message)
        assert official_validate(data) == [], message.function
        assert decode(data) == message
    assert question.patient is None and [p.id for p in question.persons] == [
        c.citizen_id for c in asked]
    assert question.sender.her_ids == ("1000001",)
    assert [(e.service_id, e.her_id) for e in overview.services] == [("HSP", "1000002"),
                                                                     ("12", "1000003")]
    assert (hello.function, hello.code, hello.conversation) == (Function.SERVICE_NOTICE, "EKI",
                                                                None)


def test_an_overview_keeps_each_services_first_day_and_its_fingerprint() -> None:
    """A service listed before keeps its start; a new one starts today; same list, same print."""
    first = overview_entries([(HSP, "Hjemmesykepleie")], None, date(2026, 3, 2))
    kept = [e.model_dump(mode="json") for e in first]
    later = overview_entries([(HSP, "Hjemmesykepleie"), (PB, "Praktisk bistand")], kept,
                             date(2026, 3, 9))
    assert [e.start for e in later] == [date(2026, 3, 2), date(2026, 3, 9)]
    again = overview_entries([(HSP, "Hjemmesykepleie")], kept, date(2026, 3, 9))
    assert overview_digest(again) == overview_digest(first) != overview_digest(later)
    assert overview_digest(()) != overview_digest(first)


def test_a_service_no_overview_can_list_is_refused_by_name() -> None:
    """A HER-id of ten digits (the configuration takes any digits) names the service."""
    with pytest.raises(FatalError, match=r"'HSP'.*her_id"):
        check_routes([(replace(HSP, her_id="1234567890"), "Hjemmesykepleie")], NOW.date())
    check_routes([(HSP, "Hjemmesykepleie")], NOW.date())


def status_of(active: bool, source: str) -> CitizenStatus:
    """A stored digital status."""
    return CitizenStatus("1000001", samples.CITIZEN.id, active, NOW, source)


def test_who_is_newly_active() -> None:
    """Active now and not when the last run looked, or new since; the first run counts only
    the portal's own announcements (SDAB)."""
    sdab, asked = status_of(True, "SDAB"), status_of(True, "SIDAB")
    assert newly_active(citizen(active_seen=False), asked, first_run=False)
    assert not newly_active(citizen(active_seen=True), asked, first_run=False)
    assert newly_active(citizen(active_seen=None), asked, first_run=False)
    assert newly_active(citizen(active_seen=None), sdab, first_run=True)
    assert not newly_active(citizen(active_seen=None), asked, first_run=True)
    assert not newly_active(citizen(active_seen=False), status_of(False, "SIDAB"),
                            first_run=False)
    assert not newly_active(citizen(active_seen=False), None, first_run=False)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A store on a SQLite file."""
    with Store.open(f"sqlite:///{tmp_path / 'store.db'}") as opened:
        yield opened


def test_a_name_xml_cannot_carry_leaves_that_person_out_not_the_batch(store: Store) -> None:
    """The question goes out without the person, counted; a single message is skipped and
    the transaction goes on."""
    hostile = citizen(samples.RELATIVE.id, "Roland\x01 Gundersen")
    run = store.nightly.runs.create("1000001", "2026-03-02", trigger="manual",
                                    first_part="status")
    assert run is not None
    record = store.nightly.runs.claim(run, "me", lease_seconds=60)
    assert record is not None
    context = NightlyContext(store=store, municipality=MUNICIPALITY, owner="me",
                             clock=lambda: NOW)
    state = RunState(context, record)
    with store.transaction() as conn:
        store.nightly.citizens.record(conn, "1000001", [
            Listed(c.citizen_id, c.name, c.services, False) for c in (citizen(), hostile)], run)
        asked = status._ask(context, state, conn, "sidab:test", [citizen(), hostile], NOW)
        assert not context.send(conn, "welcome:test", welcome(
            MUNICIPALITY, (HSP, "Hjemmesykepleie"), hostile, "Velkommen!", NOW))
    assert asked == 1
    assert state.of("status") == {"unwritable": 1, "questions": 1, "asked": 1}
    job = store.outbox.get_by_key("sidab:test")
    assert job is not None
    assert [p.id for p in decode(job.payload).persons] == [samples.CITIZEN.id]
    assert store.outbox.get_by_key("welcome:test") is None


def test_only_a_holder_known_dead_is_taken_over() -> None:
    """A process on this host that is gone; never one elsewhere, never a live one."""
    host = socket.gethostname()
    assert not owner_is_dead(None)
    assert not owner_is_dead(f"{host}:{os.getpid()}:abc")
    assert not owner_is_dead(f"elsewhere-{host}:1:abc")
    assert not owner_is_dead("nightly-test")
    assert owner_is_dead(f"{host}:{2**22 + 12345}:abc")


def test_a_stored_appointment_stays_a_domain_appointment(store: Store) -> None:
    """What the bulk writer stores reads back as the same appointment, in UTC."""
    visit = samples.planned_appointments_reply(
        samples.planned_appointments_request(NOW), NOW.date()).appointments[1]
    with store.transaction() as conn:
        store.nightly.appointments.put_many(conn, "1000001", [(samples.CITIZEN.id, visit)],
                                            changed_at=NOW)
    stored = store.appointments.get("1000001", visit.uid)
    assert stored is not None and stored.citizen_id == samples.CITIZEN.id
    back: Appointment = stored.appointment
    assert back.start == visit.start and back.start.tzinfo is not None
    assert stored.changed_at == NOW
    assert back.model_dump(exclude={"start", "end", "completed_at"}) == visit.model_dump(
        exclude={"start", "end", "completed_at"})
    assert timedelta(0) < back.end - back.start
