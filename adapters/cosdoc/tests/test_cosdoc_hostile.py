"""Hostile or broken CosDoc answers, for every kind of call: refused with a clear error, fast,
and never at the expense of the events behind them."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

import pytest
from cosdoc_support import FIRST_DAY, ONE_TRY, Running, running

from digidialog.adapters.contract import CitizenMessage, EpjAdapter
from digidialog.adapters.patience import Patience
from digidialog.domain.events import StaffMessageWritten
from digidialog.domain.timezone import OSLO
from digidialog.errors import BrokenReply, MalformedReply, RetriableError
from digidialog.testing.conformance import HOSTILE_REPLIES
from digidialog.testing.mockbase import Fault, FaultKind
from digidialog_cosdoc.documents import build
from digidialog_cosdoc.mock.answers import Answer, avtale_fields
from digidialog_cosdoc.mock.server import utfor_svar
from digidialog_cosdoc.wire import Kommando, Status

START = datetime.combine(FIRST_DAY, datetime.min.time(), tzinfo=OSLO)


@pytest.fixture
def cosdoc() -> Iterator[Running]:
    """A running mock with two seeded patients."""
    with running(seed_citizens=2) as started:
        yield started


def _citizen(cosdoc: Running) -> str:
    return min(cosdoc.mock.store.pasienter.values(), key=lambda p: p.nr).fodselsnummer


CALLS: dict[str, tuple[str, Callable[[EpjAdapter, str], object]]] = {
    "appointments": ("AVTALER", lambda a, c: a.appointments(c, START, START + timedelta(days=1))),
    "changes": ("HENDELSER", lambda a, c: a.changes(None)),
    "deliver": ("SEND_MELDING", lambda a, c: a.deliver_message(CitizenMessage(
        message_id="m", thread_id="m", service_code="101", citizen_id=c, body="Hei",
        sent_at=START))),
    "citizens": ("PASIENTER", lambda a, c: list(a.citizens())),
    "export": ("EKSPORT_AVTALER", lambda a, c: list(a.export_appointments(FIRST_DAY))),
}


@pytest.mark.parametrize("call", list(CALLS))
@pytest.mark.parametrize(("kind", "expected"), HOSTILE_REPLIES)
def test_hostile_envelopes_on_every_call(cosdoc: Running, call: str, kind: FaultKind,
                                         expected: type[Exception]) -> None:
    """Each broken or hostile reply to each kind of call becomes its retriable error, fast."""
    kommando, run = CALLS[call]
    citizen = _citizen(cosdoc)
    adapter = cosdoc.adapter(policy=ONE_TRY)
    adapter.services()
    adapter.patients.number_of(citizen)
    cosdoc.mock.inject(Fault(kind=kind, operation=kommando))
    began = time.monotonic()
    with pytest.raises(expected) as caught:
        run(adapter, citizen)
    assert isinstance(caught.value, RetriableError)
    assert time.monotonic() - began < 10


def _answer(document: bytes) -> bytes:
    return utfor_svar(Answer(Status.OK, None, document))


HOSTILE_DOCUMENTS = {
    "dtd": b"<?xml version='1.0'?><!DOCTYPE AVTALER [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>"
           b"<AVTALER xmlns='urn:cosdoc:dokument:1'>&x;</AVTALER>",
    "billion laughs": b"<!DOCTYPE AVTALER [<!ENTITY a 'aaaaaaaaaa'><!ENTITY b '&a;&a;&a;&a;'>]>"
                      b"<AVTALER xmlns='urn:cosdoc:dokument:1'>&b;</AVTALER>",
    "another command's answer": b"<HENDELSER xmlns='urn:cosdoc:dokument:1'/>",
    "no namespace": b"<AVTALER/>",
    "not xml": b"\x89PNG\r\n",
    "utf-16": "<AVTALER xmlns='urn:cosdoc:dokument:1'/>".encode("utf-16"),
    "deep": b"<AVTALER xmlns='urn:cosdoc:dokument:1'>" + b"<a>" * 300 + b"</a>" * 300
            + b"</AVTALER>",
}


@pytest.mark.parametrize("name", list(HOSTILE_DOCUMENTS))
def test_hostile_documents_inside_a_good_envelope(cosdoc: Running, name: str) -> None:
    """The base64 document is parsed as carefully as the envelope: refused, clearly."""
    cosdoc.mock.script("AVTALER", _answer(HOSTILE_DOCUMENTS[name]))
    with pytest.raises(MalformedReply, match="AVTALER"):
        CALLS["appointments"][1](cosdoc.adapter(policy=ONE_TRY), _citizen(cosdoc))


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (utfor_svar(Answer(Status.OK)), "no Dokument"),
        (utfor_svar(Answer(Status.OK)).replace(b"<Status>0", b"<Status>7"), "Status"),
        (utfor_svar(Answer(Status.OK)).replace(b"UtforSvar", b"Svar"), "not UtforSvar"),
        (utfor_svar(Answer(Status.OK)).replace(b"<Status>0</Status>",
                                              b"<Status>0</Status><Dokument>%%%</Dokument>"),
         "base64"),
    ],
    ids=["status 0, no document", "unknown status", "not UtforSvar", "not base64"],
)
def test_broken_answers_are_refused(cosdoc: Running, reply: bytes, message: str) -> None:
    """An UtforSvar that does not follow the contract is a MalformedReply saying how."""
    cosdoc.mock.script("AVTALER", reply)
    with pytest.raises(MalformedReply, match=message):
        CALLS["appointments"][1](cosdoc.adapter(policy=ONE_TRY), _citizen(cosdoc))


def test_another_patients_appointment_is_never_shown(cosdoc: Running) -> None:
    """AVTALER answering with someone else's visit: it is dropped, the citizen's kept."""
    store = cosdoc.mock.store
    mine, theirs = sorted(store.pasienter)
    own = next(a for a in store.avtaler.values() if a.pasient_nr == mine and a.dato == FIRST_DAY)
    other = next(a for a in store.avtaler.values() if a.pasient_nr == theirs)
    cosdoc.mock.script("AVTALER", _answer(build(Kommando.AVTALER, [
        ("Avtale", avtale_fields(own)), ("Avtale", avtale_fields(other))])))
    found = CALLS["appointments"][1](cosdoc.adapter(), store.pasienter[mine].fodselsnummer)
    assert [a.uid for a in found] == [str(own.nr)]  # type: ignore[attr-defined]


def test_an_unusable_event_does_not_hold_back_the_feed(cosdoc: Running) -> None:
    """A message whose details come back hostile is skipped (a broken document inside a whole
    envelope is not a transport accident, so it is not retried); the next one comes through
    and the checkpoint moves past both."""
    number = min(cosdoc.mock.store.pasienter)
    cosdoc.mock.store.write_message(number, "Den første")
    cosdoc.mock.store.write_message(number, "Den andre")
    hostile = _answer(HOSTILE_DOCUMENTS["dtd"].replace(b"AVTALER", b"HENT_MELDING"))
    cosdoc.mock.script("HENT_MELDING", hostile)
    batch = cosdoc.adapter().changes(None)
    assert [e.message.body for e in batch.events if isinstance(e, StaffMessageWritten)] == [
        "Den andre"]
    assert batch.checkpoint == "2"


def test_details_answered_broken_hold_the_feed_until_the_patience_runs_out(
        cosdoc: Running) -> None:
    """HENT_MELDING truncated (a proxy at fault, say): nothing is known of the message, so
    the batch fails and is read again, as on a network error, rather than the message being
    lost. Only after the patience is it skipped, and the one behind it comes through."""
    number = min(cosdoc.mock.store.pasienter)
    cosdoc.mock.store.write_message(number, "Den første")
    cosdoc.mock.store.write_message(number, "Den andre")
    adapter = cosdoc.adapter(policy=ONE_TRY)
    clock = ManualClock()
    adapter._events.patience = Patience(seconds=600, clock=clock)  # type: ignore[attr-defined]
    cosdoc.mock.inject(Fault(FaultKind.TRUNCATED, operation="HENT_MELDING", times=4))
    for _ in range(3):
        with pytest.raises(BrokenReply):
            adapter.changes(None)
        clock.now += 60
    clock.now += 600
    batch = adapter.changes(None)
    assert [e.message.body for e in batch.events if isinstance(e, StaffMessageWritten)] == [
        "Den andre"]
    assert batch.checkpoint == "2"


def test_details_answered_broken_for_a_while_lose_nothing(cosdoc: Running) -> None:
    """Broken replies to HENT_MELDING, then whole ones: the message comes through."""
    number = min(cosdoc.mock.store.pasienter)
    cosdoc.mock.store.write_message(number, "Kommer likevel")
    adapter = cosdoc.adapter(policy=ONE_TRY)
    cosdoc.mock.inject(Fault(FaultKind.MALFORMED_XML, operation="HENT_MELDING", times=3))
    for _ in range(3):
        with pytest.raises(BrokenReply):
            adapter.changes(None)
    batch = adapter.changes(None)
    assert [e.message.body for e in batch.events if isinstance(e, StaffMessageWritten)] == [
        "Kommer likevel"]


class ManualClock:
    """A monotonic clock moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_events_out_of_order_stop_the_batch(cosdoc: Running) -> None:
    """Ids that do not grow would replay or reorder the feed: MalformedReply, checkpoint kept."""
    cosdoc.mock.script("HENDELSER", _answer(build(Kommando.HENDELSER, [
        ("Hendelse", [("Id", 5), ("Type", "MELDING"), ("PasientNr", 100001), ("Ref", "M1")]),
        ("Hendelse", [("Id", 4), ("Type", "MELDING"), ("PasientNr", 100001), ("Ref", "M2")]),
    ])))
    with pytest.raises(MalformedReply, match="out of order"):
        cosdoc.adapter(policy=ONE_TRY).changes("3")


def test_details_of_another_patient_are_skipped(cosdoc: Running) -> None:
    """A HENT_AVTALE answer about a different patient than the Hendelse names is not
    attributed to the citizen."""
    store = cosdoc.mock.store
    mine, theirs = sorted(store.pasienter)
    other = next(a for a in store.avtaler.values() if a.pasient_nr == theirs)
    mine_visit = next(a for a in store.avtaler.values() if a.pasient_nr == mine)
    store.complete(mine_visit.nr)
    cosdoc.mock.script("HENT_AVTALE", _answer(build(Kommando.HENT_AVTALE, [
        ("Avtale", avtale_fields(other))])))
    batch = cosdoc.adapter().changes(None)
    assert batch.events == ()
    assert batch.checkpoint == "1"
