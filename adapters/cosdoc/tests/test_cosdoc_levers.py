"""The harness's appointment levers in CosDoc's own terms: Avtaler as CosDoc keeps them,
Hendelser as it logs them, Latin-1 documents as they go out (the shared suite checks what
the adapter makes of them)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, datetime, timedelta

import pytest
from cosdoc_support import svar_parts

from digidialog.domain import (
    AppointmentStatus,
    CancellationKind,
    CancellationRequest,
    Frequency,
    Weekday,
)
from digidialog.domain.timezone import OSLO
from digidialog_cosdoc.mock.harness import CosDocHarness
from digidialog_cosdoc.mock.state import NOTHING_TO_CANCEL
from digidialog_cosdoc.wire import HendelseType

MONDAY = datetime(2026, 5, 4, 8, tzinfo=OSLO)
SAMI = "Ŋuđđi boahtá iđđes"


@pytest.fixture
def harness() -> Iterator[CosDocHarness]:
    """A started CosDoc harness (mutual TLS), no seeded patients."""
    running = CosDocHarness(seed_citizens=0)
    running.start()
    try:
        yield running
    finally:
        running.stop()


def test_sami_text_travels_as_character_references(harness: CosDocHarness) -> None:
    """The AVTALER answer is Latin-1 with Ŋ and đ as character references, never '?',
    and the adapter reads the text back exactly."""
    (citizen,) = harness.seed_citizens(1)
    uid = harness.seed_visit(citizen, status=AppointmentStatus.ASSIGNED, start=MONDAY,
                             end=MONDAY + timedelta(minutes=30), employees=("Ánde",),
                             text=SAMI, announce=False)
    harness.mock.recording = True
    (read,) = harness.visits(citizen)
    assert (read.uid, read.description) == (uid, SAMI)
    (exchange,) = [e for e in harness.mock.exchanges if e.kommando == "AVTALER"]
    assert exchange.reply is not None
    _, _, document = svar_parts(exchange.reply)
    assert document is not None
    assert document.startswith(b"<?xml version='1.0' encoding='ISO-8859-1'?>")
    assert b"&#330;u&#273;&#273;i boaht\xe1 i&#273;&#273;es" in document
    assert b"?" not in document.split(b"?>", 1)[1]


def test_a_series_is_its_occurrences(harness: CosDocHarness) -> None:
    """Each occurrence is an Avtale with Gjentas J, logged AVTALE when announced; the
    paused one is not stored; the first one's Nr is the series' uid."""
    (citizen,) = harness.seed_citizens(1)
    uid = harness.seed_planned_series(
        citizen, service_code=harness.second_open_service(), start=MONDAY,
        end=MONDAY + timedelta(hours=2), frequency=Frequency.WEEKLY,
        by_day=(Weekday.MO, Weekday.WE), until=date(2026, 5, 17),
        paused=(MONDAY + timedelta(days=2),))
    store = harness.mock.store
    avtaler = sorted((a for a in store.avtaler.values()), key=lambda a: a.nr)
    assert [(a.dato, a.fra_kl, a.til_kl, a.gjentas, a.status, a.tjeneste_id) for a in avtaler] == [
        (date(2026, 5, d), "08:00", "10:00", True, "P", 102) for d in (4, 11, 13)]
    assert str(avtaler[0].nr) == uid
    assert [(h.type, h.ref) for h in store.hendelser] == [
        (HendelseType.AVTALE, str(a.nr)) for a in avtaler]
    assert [e.uid for e in harness.expected_planned(citizen, uid)] == [
        str(a.nr) for a in avtaler]


def test_levers_log_what_cosdoc_logs(harness: CosDocHarness) -> None:
    """A visit seeded done is BESOK_UTFORT; moved and cancelled are AVTALE with the new
    Dato/FraKl/TilKl and AvlystAv; an unannounced seed logs nothing."""
    (citizen,) = harness.seed_citizens(1)
    harness.seed_visit(citizen, status=AppointmentStatus.PLANNED, start=MONDAY,
                       end=MONDAY + timedelta(hours=1), announce=False)
    done = harness.seed_visit(citizen, status=AppointmentStatus.COMPLETED, start=MONDAY,
                              end=MONDAY + timedelta(hours=1),
                              done_at=MONDAY + timedelta(minutes=50, seconds=5))
    uid = harness.seed_visit(citizen, status=AppointmentStatus.ASSIGNED, start=MONDAY,
                             end=MONDAY + timedelta(hours=1), announce=False)
    harness.change_visit(citizen, uid, start=MONDAY + timedelta(days=1, hours=15),
                         end=MONDAY + timedelta(days=1, hours=16, minutes=15))
    harness.cancel_visit(citizen, uid)
    store = harness.mock.store
    assert [(h.type, h.ref) for h in store.hendelser] == [
        (HendelseType.BESOK_UTFORT, done), (HendelseType.AVTALE, uid),
        (HendelseType.AVTALE, uid)]
    assert store.avtaler[int(done)].utfort_kl == "08:50:05"
    moved = store.avtaler[int(uid)]
    assert (moved.dato, moved.fra_kl, moved.til_kl) == (date(2026, 5, 5), "23:00", "00:15")
    assert (moved.status, moved.avlyst_av) == ("A", "T")
    with pytest.raises(ValueError, match="under a day"):
        harness.change_visit(citizen, done, start=MONDAY, end=MONDAY + timedelta(days=1))


def test_accepting_nothing_to_cancel_is_a_refusal(harness: CosDocHarness) -> None:
    """A period staff accept that holds no open visit is answered Akseptert N, saying why,
    as Gerica's mock does, not "accepted, nothing cancelled"."""
    (citizen,) = harness.seed_citizens(1)
    adapter = harness.adapter()
    request = CancellationRequest(
        request_id=str(uuid.uuid4()), citizen_id=citizen, kind=CancellationKind.PERIOD,
        start=MONDAY, end=MONDAY + timedelta(days=1), service_ids=(harness.open_service(),))
    adapter.register_cancellation(request)
    harness.decide_cancellation(request.request_id, True, "Ok")
    held = harness.mock.store.avbestillinger[request.request_id]
    assert (held.decided, held.akseptert, held.kommentar, held.avtaler) == (
        True, False, NOTHING_TO_CANCEL, [])
