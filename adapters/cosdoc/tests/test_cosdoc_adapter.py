"""The CosDoc adapter's own choices: events per Hendelse type, native cancellations,
occurrences of recurring visits, checkpoints."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from cosdoc_support import FIRST_DAY, Running, running
from lxml import etree

from digidialog.adapters.contract import PeriodCancellation
from digidialog.domain import AppointmentStatus, CancellationKind, CancellationRequest
from digidialog.domain.events import (
    AppointmentChanged,
    CancellationDecided,
    StaffMessageWritten,
    VisitCompleted,
)
from digidialog.domain.timezone import OSLO
from digidialog.errors import InvalidRequest, UnknownAppointment
from digidialog_cosdoc.wire import Kommando, d, i

START = datetime.combine(FIRST_DAY, datetime.min.time(), tzinfo=OSLO)


@pytest.fixture
def cosdoc() -> Iterator[Running]:
    """A running mock with two seeded patients."""
    with running(seed_citizens=2) as started:
        yield started


def _patient(cosdoc: Running) -> tuple[int, str]:
    patient = min(cosdoc.mock.store.pasienter.values(), key=lambda p: p.nr)
    return patient.nr, patient.fodselsnummer


def _sent(cosdoc: Running, kommando: str) -> etree._Element:
    exchange = [e for e in cosdoc.mock.exchanges if e.kommando == kommando][-1]
    text = etree.fromstring(exchange.request).findtext(f".//{i('Dokument')}") or ""
    return etree.fromstring(base64.b64decode(text))


def test_capabilities() -> None:
    """Polled feed, native periods, mutual TLS, SOAP 1.1, local times, pages of 1000."""
    with running(seed_citizens=0) as cosdoc:
        capabilities = cosdoc.adapter().capabilities
    assert capabilities.vendor == "cosdoc"
    assert capabilities.period_cancellation is PeriodCancellation.NATIVE
    assert capabilities.local_times
    assert (capabilities.soap_version, capabilities.max_page_size) == ("1.1", 1000)


def test_a_recurring_planned_visit_comes_as_occurrences(cosdoc: Running) -> None:
    """The seed's weekday series is stored as occurrences (Gjentas J): one appointment each,
    planned, a window, no rule."""
    _, citizen = _patient(cosdoc)
    week = cosdoc.adapter().appointments(citizen, START, START + timedelta(days=7))
    planned = [a for a in week if a.status is AppointmentStatus.PLANNED]
    assert len(planned) == 5
    assert all(a.recurrence is None for a in planned)
    assert [a.start.astimezone(OSLO).hour for a in planned] == [8] * 5
    assert planned[0].service_name == "Hjemmesykepleie"


def test_each_event_type_becomes_its_domain_event(cosdoc: Running) -> None:
    """AVTALE, BESOK_UTFORT, MELDING and AVBESTILLING_SVAR, in feed order, ids kept."""
    store = cosdoc.mock.store
    number, citizen = _patient(cosdoc)
    adapter = cosdoc.adapter()
    visit = next(a for a in store.avtaler.values() if a.pasient_nr == number and a.status == "T")
    store.complete(visit.nr, "09:02:30")
    store.write_message(number, "Vi kommer kl. 10 i morgen")
    adapter.register_cancellation(CancellationRequest(
        request_id="c-1", citizen_id=citizen, kind=CancellationKind.PERIOD,
        start=START + timedelta(days=1), end=START + timedelta(days=2), service_ids=("101",)))
    store.decide(accept=True, comment="Ok, god bedring")
    batch = adapter.changes(None)
    kinds = [type(e) for e in batch.events]
    assert kinds[:2] == [VisitCompleted, StaffMessageWritten]
    assert kinds[-1] is CancellationDecided
    assert set(kinds[2:-1]) == {AppointmentChanged}
    done = batch.events[0]
    assert isinstance(done, VisitCompleted)
    assert done.occurred_at == done.appointment.completed_at
    assert done.citizen_id == citizen
    message = batch.events[1]
    assert isinstance(message, StaffMessageWritten)
    assert message.message.thread_id is None
    assert message.message.service_code == "101"
    assert message.message.author == "Kari Sykepleier"
    decided = batch.events[-1]
    assert isinstance(decided, CancellationDecided)
    assert decided.decision.request_id == "c-1"
    assert decided.decision.comment == "Ok, god bedring"
    cancelled = [e.appointment for e in batch.events if isinstance(e, AppointmentChanged)]
    assert {a.uid for a in cancelled} == set(decided.decision.affected_uids)
    assert all(a.status is AppointmentStatus.CANCELLED for a in cancelled)
    assert [e.event_id for e in batch.events] == [str(n) for n in range(1, len(kinds) + 1)]
    assert batch.checkpoint == str(len(kinds))
    assert not batch.more


def test_the_checkpoint_pages_through_the_feed(cosdoc: Running) -> None:
    """limit is HENDELSER's Maks; a full page says more; the checkpoint is the last Id."""
    number, _ = _patient(cosdoc)
    for n in range(5):
        cosdoc.mock.store.write_message(number, f"Melding {n}")
    adapter = cosdoc.adapter()
    first = adapter.changes(None, limit=3)
    assert (len(first.events), first.checkpoint, first.more) == (3, "3", True)
    second = adapter.changes(first.checkpoint, limit=3)
    assert (len(second.events), second.checkpoint, second.more) == (2, "5", False)
    empty = adapter.changes(second.checkpoint)
    assert (empty.events, empty.checkpoint, empty.more) == ((), "5", False)
    adapter.acknowledge(second)
    with pytest.raises(InvalidRequest):
        adapter.changes("not-a-number")


def test_a_period_is_one_native_avbestill(cosdoc: Running) -> None:
    """Period and services in one AVBESTILL; the end rounded up to the minute."""
    _, citizen = _patient(cosdoc)
    cosdoc.mock.recording = True
    adapter = cosdoc.adapter()
    receipt = adapter.register_cancellation(CancellationRequest(
        request_id="p-1", citizen_id=citizen, kind=CancellationKind.PERIOD,
        start=datetime(2026, 3, 2, 7, 30, 15, tzinfo=UTC),
        end=datetime(2026, 3, 4, 22, 59, 1, tzinfo=UTC),
        service_ids=("101", "102"), reason="Ferie hos datteren"))
    assert receipt.epj_reference
    sent = _sent(cosdoc, "AVBESTILL")
    assert [etree.QName(c).localname for c in sent] == [
        "EksternId", "PasientNr", "FraDato", "FraKl", "TilDato", "TilKl", "TjenesteId",
        "TjenesteId", "Grunn"]
    assert [c.text for c in sent][2:6] == ["2026-03-02", "08:30", "2026-03-05", "00:00"]
    assert cosdoc.count("AVBESTILL") == 1


def test_a_single_cancellation_without_a_service_looks_it_up(cosdoc: Running) -> None:
    """AvtaleNr and the appointment's own service (from HENT_AVTALE) when none was named."""
    number, citizen = _patient(cosdoc)
    visit = next(a for a in cosdoc.mock.store.avtaler.values()
                 if a.pasient_nr == number and a.status == "T")
    cosdoc.mock.recording = True
    cosdoc.adapter().register_cancellation(CancellationRequest(
        request_id="s-1", citizen_id=citizen, kind=CancellationKind.SINGLE, start=START,
        end=START, appointment_uid=str(visit.nr)))
    sent = _sent(cosdoc, "AVBESTILL")
    assert sent.findtext(d("AvtaleNr")) == str(visit.nr)
    assert sent.findtext(d("TjenesteId")) == str(visit.tjeneste_id)
    assert cosdoc.count(Kommando.HENT_AVTALE) == 1


def test_a_single_cancellation_of_something_else_is_refused(cosdoc: Running) -> None:
    """A uid that is not a CosDoc AvtaleNr cannot be cancelled here."""
    _, citizen = _patient(cosdoc)
    with pytest.raises(UnknownAppointment):
        cosdoc.adapter().register_cancellation(CancellationRequest(
            request_id="s-2", citizen_id=citizen, kind=CancellationKind.SINGLE, start=START,
            end=START, appointment_uid="gerica-17", service_ids=("101",)))
