"""The PasientNr cache: one FINN_PASIENT per citizen, reverse look-ups through PASIENTER."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from cosdoc_support import FIRST_DAY, Running, running

from digidialog.adapters.contract import CitizenMessage, DigitalStatusUpdate
from digidialog.domain import CancellationKind, CancellationRequest
from digidialog.domain.events import StaffMessageWritten
from digidialog.domain.timezone import OSLO
from digidialog_cosdoc.patients import PatientNumbers

START = datetime.combine(FIRST_DAY, datetime.min.time(), tzinfo=OSLO)


@pytest.fixture
def cosdoc() -> Iterator[Running]:
    """A running mock with five seeded patients."""
    with running(seed_citizens=5) as started:
        yield started


def _citizen(cosdoc: Running, index: int = 0) -> tuple[int, str]:
    patient = sorted(cosdoc.mock.store.pasienter.values(), key=lambda p: p.nr)[index]
    return patient.nr, patient.fodselsnummer


def test_one_finn_pasient_per_citizen(cosdoc: Running) -> None:
    """Reads and writes for the same citizen ask FINN_PASIENT once, then use the cache."""
    adapter = cosdoc.adapter()
    _, citizen = _citizen(cosdoc)
    for _ in range(3):
        adapter.appointments(citizen, START, START + timedelta(days=2))
    adapter.set_digital_status([DigitalStatusUpdate(national_id=citizen, active=True,
                                                    since=FIRST_DAY)])
    adapter.deliver_message(CitizenMessage(message_id="m", thread_id="m", service_code="101",
                                           citizen_id=citizen, body="Hei", sent_at=START))
    adapter.register_cancellation(CancellationRequest(
        request_id="c", citizen_id=citizen, kind=CancellationKind.PERIOD, start=START,
        end=START + timedelta(days=1), service_ids=("101",)))
    assert cosdoc.count("FINN_PASIENT") == 1
    _, other = _citizen(cosdoc, 1)
    adapter.appointments(other, START, START + timedelta(days=1))
    assert cosdoc.count("FINN_PASIENT") == 2


def test_the_citizen_list_fills_the_cache(cosdoc: Running) -> None:
    """After PASIENTER has been read, no citizen needs FINN_PASIENT at all."""
    adapter = cosdoc.adapter()
    everyone = [c.national_id for c in adapter.citizens()]
    for citizen in everyone:
        adapter.appointments(citizen, START, START + timedelta(days=1))
    assert len(everyone) == 5
    assert cosdoc.count("FINN_PASIENT") == 0


def test_an_event_for_an_unseen_patient_is_resolved_through_pasienter(cosdoc: Running) -> None:
    """A Hendelse names a PasientNr never looked up: PASIENTER is read, once."""
    adapter = cosdoc.adapter()
    number, citizen = _citizen(cosdoc, 2)
    cosdoc.mock.store.write_message(number, "Husk legetimen")
    cosdoc.mock.store.write_message(number, "Og ta med medisinlisten")
    batch = adapter.changes(None)
    written = [e for e in batch.events if isinstance(e, StaffMessageWritten)]
    assert [e.citizen_id for e in written] == [citizen, citizen]
    assert cosdoc.count("PASIENTER") == 1
    assert cosdoc.count("FINN_PASIENT") == 0


def test_events_of_an_unlisted_patient_are_skipped_without_rescanning(cosdoc: Running) -> None:
    """An event for a PasientNr that PASIENTER does not list is skipped; the list is not read
    again for every such event."""
    adapter = cosdoc.adapter()
    number, _ = _citizen(cosdoc)
    cosdoc.mock.store.write_message(number, "Først")
    store = cosdoc.mock.store
    ghost = replace(store.pasienter[number], nr=999_999, fodselsnummer="01010100000")
    store.pasienter[ghost.nr] = ghost
    store.write_message(ghost.nr, "Til en som er borte")
    store.write_message(ghost.nr, "Og en til")
    del store.pasienter[ghost.nr]
    batch = adapter.changes(None)
    assert len(batch.events) == 1
    assert batch.checkpoint == "3"
    assert cosdoc.count("PASIENTER") == 1


def test_a_renumbered_patient_is_looked_up_again(cosdoc: Running) -> None:
    """CosDoc answers Status 2 for a cached number it no longer knows: the adapter asks
    FINN_PASIENT again and retries with the new number."""
    adapter = cosdoc.adapter()
    number, citizen = _citizen(cosdoc)
    before = adapter.appointments(citizen, START, START + timedelta(days=3))
    store = cosdoc.mock.store
    moved = replace(store.pasienter.pop(number), nr=555_555)
    store.pasienter[moved.nr] = moved
    for avtale in store.avtaler.values():
        if avtale.pasient_nr == number:
            avtale.pasient_nr = moved.nr
    after = adapter.appointments(citizen, START, START + timedelta(days=3))
    assert [a.uid for a in after] == [a.uid for a in before]
    assert adapter.patients.cached_number(citizen) == 555_555
    assert cosdoc.count("FINN_PASIENT") == 2


class _FakeVendor:
    """FINN_PASIENT and PASIENTER over a dict, counting calls."""

    def __init__(self, count: int) -> None:
        self.people = {100 + n: f"{n:011d}" for n in range(count)}
        self.finds = 0
        self.pages = 0

    def find(self, national_id: str) -> int:
        """FINN_PASIENT."""
        self.finds += 1
        return next(nr for nr, ident in self.people.items() if ident == national_id)

    def page(self, after: int) -> tuple[list[tuple[int, str]], int | None]:
        """PASIENTER, ten to a page."""
        self.pages += 1
        numbers = sorted(nr for nr in self.people if nr > after)
        chunk = numbers[:10]
        return [(nr, self.people[nr]) for nr in chunk], chunk[-1] if numbers[10:] else None


def test_reverse_look_ups_stop_reading_once_found() -> None:
    """The scan stops at the page holding the number, and remembers what it read."""
    vendor = _FakeVendor(35)
    numbers = PatientNumbers(vendor.find, vendor.page)
    assert numbers.national_id_of(112) == f"{12:011d}"
    assert vendor.pages == 2
    assert numbers.national_id_of(105) == f"{5:011d}"
    assert vendor.pages == 2
    assert numbers.number_of(f"{3:011d}") == 103
    assert vendor.finds == 0


def test_a_batch_scans_the_list_at_most_once() -> None:
    """Misses after a complete scan since ``scanned_since`` do not read the list again;
    a later batch does, and finds a patient added in between."""
    vendor = _FakeVendor(5)
    now = [0.0]
    numbers = PatientNumbers(vendor.find, vendor.page, clock=lambda: now[0])
    batch = numbers.clock()
    assert numbers.national_id_of(7, scanned_since=batch) is None
    assert numbers.national_id_of(8, scanned_since=batch) is None
    assert vendor.pages == 1
    now[0] = 61
    vendor.people[7] = "12345678901"
    assert numbers.national_id_of(7, scanned_since=numbers.clock()) == "12345678901"
    assert vendor.pages == 2


def test_paging_that_does_not_move_on_ends() -> None:
    """A vendor that says "more" but hands out the same EtterPasientNr cannot loop us."""
    calls = []

    def page(after: int) -> tuple[list[tuple[int, str]], int | None]:
        calls.append(after)
        return [(1, "01010100000")], 1

    numbers = PatientNumbers(lambda _: 1, page)
    assert numbers.load_all() == 1
    assert calls == [0, 1]
