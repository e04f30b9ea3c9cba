"""EKSPORT_AVTALER as a stream: the same appointments as a whole read, memory flat, hostile
streams refused quickly."""

from __future__ import annotations

import base64
import gc
import time
import tracemalloc
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta

import pytest
from cosdoc_support import FIRST_DAY, ONE_TRY, Running, running

from digidialog.domain import Appointment
from digidialog.domain.timezone import OSLO
from digidialog.errors import InvalidRequest, MalformedReply, VendorTimeout
from digidialog.testing.mockbase import Fault, FaultKind
from digidialog_cosdoc.export import read_appointments
from digidialog_cosdoc.mock.answers import Answer
from digidialog_cosdoc.mock.export import (
    DOCUMENT_END,
    DOCUMENT_START,
    ENVELOPE_END,
    ENVELOPE_START,
    avtale_xml,
    export_envelope,
    synthetic_records,
)
from digidialog_cosdoc.mock.state import Avtale
from digidialog_cosdoc.stream import Base64Chunks, EnvelopeStream, ExportLimits, Prefix
from digidialog_cosdoc.wire import Status

NAMES = {"101": "Hjemmesykepleie", "102": "Praktisk bistand"}
DAY = date(2026, 3, 2)


@pytest.fixture
def cosdoc() -> Iterator[Running]:
    """A running mock with four seeded patients."""
    with running(seed_citizens=4) as started:
        yield started


def read_stream(chunks: Iterable[bytes], limits: ExportLimits | None = None
                ) -> list[tuple[int, Appointment]]:
    """Everything an export stream yields, read the way the adapter reads it."""
    stream = EnvelopeStream(chunks, limits)
    prefix = stream.seek_document()
    assert isinstance(prefix, Prefix), "the reply should hold a Dokument"
    assert prefix.status == "0"
    return list(read_appointments(stream.document_bytes(), NAMES))


def envelope_around(document: bytes, *, split: int = 65536) -> list[bytes]:
    """An export reply carrying ``document`` (any bytes), cut into ``split``-byte chunks."""
    data = ENVELOPE_START + base64.b64encode(document) + ENVELOPE_END
    return [data[i : i + split] for i in range(0, len(data), split)]


def records(count: int) -> list[Avtale]:
    """``count`` synthetic records on :data:`DAY` for three patients."""
    return list(synthetic_records(count, DAY, [100_001, 100_002, 100_003]))


# ------------------------------------------------------------------ correctness


def test_the_export_matches_what_avtaler_returns(cosdoc: Running) -> None:
    """Over HTTPS: the streamed export holds exactly the digitally active patients' visits
    of the day, the same appointments AVTALER gives for each of them."""
    adapter = cosdoc.adapter()
    exported = list(adapter.export_appointments(FIRST_DAY))
    assert exported
    start = datetime.combine(FIRST_DAY, datetime.min.time(), tzinfo=OSLO)
    expected: set[tuple[str, Appointment]] = set()
    for patient in cosdoc.mock.store.pasienter.values():
        if patient.digital:
            for visit in adapter.appointments(patient.fodselsnummer, start,
                                              start + timedelta(days=1)):
                if visit.start.astimezone(OSLO).date() == FIRST_DAY:
                    expected.add((patient.fodselsnummer, visit))
    assert set(exported) == expected
    assert len(exported) == len(expected)


def test_a_large_synthetic_export_streams_over_https(cosdoc: Running) -> None:
    """Twenty thousand generated records arrive once each, text intact, in order."""
    cosdoc.mock.synthetic_export = 20_000
    exported = list(cosdoc.adapter().export_appointments(DAY))
    assert len(exported) == 20_000
    uids = [visit.uid for _, visit in exported]
    assert uids == [str(10_000_001 + n) for n in range(20_000)]
    assert exported[3][1].description == "Besøk hos Áilu Ŋuolla 👵🏽"
    known = {p.fodselsnummer for p in cosdoc.mock.store.pasienter.values()}
    assert {citizen for citizen, _ in exported} <= known


@pytest.mark.parametrize("split", [1, 7, 4096, 1 << 20])
def test_chunk_boundaries_do_not_matter(split: int) -> None:
    """One byte at a time or a megabyte at a time: the same records."""
    data = b"".join(export_envelope(records(300)))
    chunks = [data[i : i + split] for i in range(0, len(data), split)]
    assert read_stream(chunks) == read_stream([data])


def test_base64_broken_into_lines_is_read() -> None:
    """MIME-style line breaks inside the base64 (legal in xs:base64Binary) are skipped."""
    plain = read_stream(export_envelope(records(500)))
    wrapped = read_stream(export_envelope(records(500), line_length=76))
    assert wrapped == plain
    assert len(plain) == 500


def test_padding_split_across_chunks_is_caught() -> None:
    """base64 that pads and then goes on is refused even when the two land in two chunks."""
    decoder = Base64Chunks()
    assert decoder.feed(b"QQ==") == b"A"
    with pytest.raises(MalformedReply, match="after its padding"):
        decoder.feed(b"QUJD")


def test_an_empty_export() -> None:
    """No appointments that day is an empty root; an empty Dokument is no document at all."""
    assert read_stream(export_envelope([])) == []
    empty = ENVELOPE_START.replace(b"<Dokument>", b"<Dokument/>") + ENVELOPE_END.replace(
        b"</Dokument>", b"")
    with pytest.raises(MalformedReply, match="empty"):
        read_stream([empty])


def test_a_record_the_domain_refuses_is_skipped_not_fatal() -> None:
    """One record with a broken time is skipped and logged; the others come through."""
    good = records(3)
    broken = records(1)[0]
    broken.fra_kl = "25:00"
    document = DOCUMENT_START + b"".join(avtale_xml(a) for a in (good[0], broken, *good[1:]))
    got = read_stream(envelope_around(document + DOCUMENT_END))
    assert len(got) == 3


def test_memory_stays_flat_when_the_export_grows() -> None:
    """Peak Python memory while streaming 40,000 records is no more than for 10,000
    (plus a little): nothing accumulates per record."""

    def peak(count: int) -> int:
        gc.collect()
        tracemalloc.start()
        try:
            stream = EnvelopeStream(export_envelope(synthetic_records(count, DAY, [1, 2, 3])))
            stream.seek_document()
            for _ in read_appointments(stream.document_bytes(), NAMES):
                pass
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    small, large = peak(10_000), peak(40_000)
    assert large < small + 512 * 1024, (small, large)
    assert large < 8 * 1024 * 1024


# ------------------------------------------------------------------ statuses over HTTPS


def test_status_3_is_retried_before_the_first_record(cosdoc: Running) -> None:
    """CosDoc busy on the export: retried, then streamed."""
    cosdoc.mock.synthetic_export = 100
    cosdoc.mock.inject(Fault(kind=FaultKind.BUSY, operation="EKSPORT_AVTALER", times=2))
    assert len(list(cosdoc.adapter().export_appointments(DAY))) == 100
    assert cosdoc.count("EKSPORT_AVTALER") == 3


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        (Answer(Status.INVALID_REQUEST, "ugyldig dato"), InvalidRequest),
        (Answer(Status.OK), MalformedReply),
    ],
    ids=["status 1", "status 0 without a document"],
)
def test_an_export_answer_without_a_document(cosdoc: Running, reply: Answer,
                                             error: type[Exception]) -> None:
    """A small answer instead of the stream is read like any answer."""
    cosdoc.mock.script("EKSPORT_AVTALER", reply)
    with pytest.raises(error):
        list(cosdoc.adapter(policy=ONE_TRY).export_appointments(DAY))


def test_a_soap_fault_on_the_export(cosdoc: Running) -> None:
    """A fault (broken envelope) is final."""
    cosdoc.mock.inject(Fault(kind=FaultKind.VENDOR_FAULT, code="SOAP",
                             operation="EKSPORT_AVTALER"))
    with pytest.raises(InvalidRequest):
        list(cosdoc.adapter(policy=ONE_TRY).export_appointments(DAY))


def _endless() -> Iterator[bytes]:
    # A well-formed export that would go on for a billion records.
    return export_envelope(synthetic_records(10**9, DAY, [100_001]))


def _drip() -> Iterator[bytes]:
    # A well-formed export, one record every tenth of a second.
    pieces = iter(export_envelope(synthetic_records(10**9, DAY, [100_001])))
    yield next(pieces)
    for piece in pieces:
        for start in range(0, len(piece), 400):
            time.sleep(0.1)
            yield piece[start : start + 400]


def test_an_endless_export_is_cut_at_the_byte_limit(cosdoc: Running) -> None:
    """A reply that never ends stops at the configured size, quickly."""
    cosdoc.mock.script("EKSPORT_AVTALER", _endless())
    began = time.monotonic()
    with pytest.raises(MalformedReply, match="larger than the limit"):
        list(cosdoc.adapter(policy=ONE_TRY, limits=ExportLimits(max_bytes=5_000_000))
             .export_appointments(DAY))
    assert time.monotonic() - began < 10


def test_a_dripping_export_is_cut_at_the_deadline(cosdoc: Running) -> None:
    """A reply trickling in, each piece within the read timeout, ends at the deadline."""
    cosdoc.mock.script("EKSPORT_AVTALER", _drip())
    began = time.monotonic()
    with pytest.raises(VendorTimeout):
        list(cosdoc.adapter(policy=ONE_TRY, limits=ExportLimits(max_seconds=1.0))
             .export_appointments(DAY))
    assert time.monotonic() - began < 5


# ------------------------------------------------------------------ hostile streams


def _hostile_documents() -> dict[str, bytes]:
    one = avtale_xml(records(1)[0])
    return {
        "dtd in the document": b"<?xml version='1.0'?><!DOCTYPE EKSPORT_AVTALER [<!ENTITY x "
                               b"SYSTEM 'file:///etc/passwd'>]>" + DOCUMENT_START.split(b"\n")[1]
                               + b"&x;" + DOCUMENT_END,
        "billion laughs": b"<!DOCTYPE e [<!ENTITY a 'aaaaaaaaaa'><!ENTITY b '&a;&a;&a;'>]>"
                          + DOCUMENT_START.split(b"\n")[1] + b"&b;" + DOCUMENT_END,
        "another root": b"<AVTALER xmlns='urn:cosdoc:dokument:1'>" + one + b"</AVTALER>",
        "avtale nested deeper": DOCUMENT_START + b"<Gruppe>" + one + b"</Gruppe>" + DOCUMENT_END,
        "something beside avtale": DOCUMENT_START + one + b"<Annet/>" + one + DOCUMENT_END,
        "something after the last": DOCUMENT_START + one + b"<Annet/>" + DOCUMENT_END,
        "a record above 1 MiB": DOCUMENT_START + b"<Avtale><Tekst>" + b"x" * (3 << 20)
                                + b"</Tekst></Avtale>" + DOCUMENT_END,
        "unclosed": DOCUMENT_START + one,
        "not xml": b"\x00\x01binary",
    }


@pytest.mark.parametrize("name", list(_hostile_documents()))
def test_hostile_documents_are_refused(name: str) -> None:
    """DTDs, wrong structure, oversized records and broken XML end the stream with
    MalformedReply, fast."""
    began = time.monotonic()
    with pytest.raises(MalformedReply):
        read_stream(envelope_around(_hostile_documents()[name]))
    assert time.monotonic() - began < 5


def _document() -> bytes:
    return b"".join(export_envelope(records(2)))


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (b'<!DOCTYPE x [<!ENTITY e "x">]>' + _document(), "document type"),
        (_document().replace(b"<Dokument>", b"<Dokument><![CDATA[", 1), "CDATA"),
        (_document().replace(b"<Dokument>", b"<Dokument>&#65;", 1), "character reference"),
        (_document().replace(b"<Dokument>", b"<Dokument>$$$$", 1), "not valid base64"),
        (_document().replace(b"<Dokument>", b"<Dokument>QQ==", 1), "base64"),
        (_document().replace(b"</Dokument>", b"Q</Dokument>", 1), "truncated"),
        (_document()[:300], "ends inside"),
        (_document().replace(b"</soap:Envelope>", b"</soap:Envelope><more/>"), "broken"),
        (_document().replace(b"<Status>0</Status>", b""), "no Status"),
        (_document().replace(b"soap:Body", b"soap:Hode"), "not Envelope/Body"),
        (b"<x>" + b" " * 70_000 + b"</x>", "no Dokument"),
        (_document() + b" " * 70_000 + b"<x/>", "goes on"),
    ],
    ids=["dtd in the envelope", "cdata", "reference in base64", "not base64",
         "padding in the middle", "truncated base64", "ends inside Dokument",
         "garbage after the envelope", "no status", "wrong place", "no Dokument early",
         "endless tail"],
)
def test_hostile_envelopes_are_refused(reply: bytes, message: str) -> None:
    """Every way the envelope around the base64 can be wrong: a clear MalformedReply."""

    def read_all() -> None:
        stream = EnvelopeStream([reply[i : i + 1000] for i in range(0, len(reply), 1000)])
        prefix = stream.seek_document()
        if isinstance(prefix, bytes):
            raise MalformedReply("no Dokument in the whole reply")
        list(read_appointments(stream.document_bytes(), NAMES))

    with pytest.raises(MalformedReply, match=message):
        read_all()


def test_exports_day_after_day_read_the_patient_list_once(cosdoc: Running) -> None:
    """The nightly job reads PASIENTER (citizens), then exports day after day: the list
    just read maps the numbers, and no export reads it again while it is fresh."""
    adapter = cosdoc.adapter()
    cosdoc.mock.recording = True
    listed = list(adapter.citizens())
    exported = [list(adapter.export_appointments(FIRST_DAY + timedelta(days=n)))
                for n in range(3)]
    commands = [e.kommando for e in cosdoc.mock.exchanges]
    assert commands.count("PASIENTER") == 1 and commands.count("EKSPORT_AVTALER") == 3
    assert {citizen for day in exported for citizen, _ in day} <= {
        c.national_id for c in listed}
    fresh = cosdoc.adapter()
    cosdoc.mock.exchanges.clear()
    assert list(fresh.export_appointments(FIRST_DAY)) == exported[0]
    assert [e.kommando for e in cosdoc.mock.exchanges] == ["PASIENTER", "TJENESTER",
                                                           "EKSPORT_AVTALER"]
