"""The mock and the adapter on the wire, against vendors.md and the project's own schemas.

Every command is recorded once with its request and reply; each envelope is
validated against the SOAP 1.1 and integration schemas, each document against
the request or answer schema, and the details the contract fixes (SOAPAction,
content type, ISO-8859-1, the root named after the command both ways) are
checked one by one.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from cosdoc_support import FIRST_DAY, Running, running, svar_parts, utfor
from lxml import etree

from digidialog.adapters.contract import CitizenMessage, DigitalStatusUpdate
from digidialog.domain import CancellationKind, CancellationRequest
from digidialog.domain.timezone import OSLO
from digidialog.errors import InvalidRequest, UnknownAppointment, UnknownCitizen
from digidialog_cosdoc.documents import answer_schema, envelope_schema, problems, request_schema
from digidialog_cosdoc.mock.server import Exchange
from digidialog_cosdoc.wire import SOAP_ENVELOPE_NS, Kommando, d, i


@pytest.fixture
def cosdoc() -> Iterator[Running]:
    """A running mock with three seeded patients."""
    with running() as started:
        yield started


def _every_command(cosdoc: Running) -> list[Exchange]:
    """Drive the adapter through all twelve commands, recording the mock's traffic."""
    store = cosdoc.mock.store
    cosdoc.mock.recording = True
    adapter = cosdoc.adapter()
    citizen = next(iter(store.pasienter.values()))
    visit = next(a for a in store.avtaler.values()
                 if a.pasient_nr == citizen.nr and a.status == "T")
    adapter.services()
    list(adapter.citizens())
    adapter.patients.forget(citizen.fodselsnummer)
    start = datetime.combine(FIRST_DAY, datetime.min.time(), tzinfo=OSLO)
    adapter.appointments(citizen.fodselsnummer, start, start + timedelta(days=3))
    adapter.set_digital_status([DigitalStatusUpdate(national_id=citizen.fodselsnummer,
                                                    active=True, since=FIRST_DAY)])
    adapter.deliver_message(CitizenMessage(
        message_id="m-1", thread_id="m-1", service_code="101",
        citizen_id=citizen.fodselsnummer, subject="Nøkkel", body="Hei fra Ŋuolla 👵",
        sent_at=start))
    adapter.register_cancellation(CancellationRequest(
        request_id=str(uuid.uuid4()), citizen_id=citizen.fodselsnummer,
        kind=CancellationKind.SINGLE, start=start, end=start, appointment_uid=str(visit.nr)))
    store.write_message(citizen.nr, "Vi kommer litt senere i dag", melding_type="VARSEL")
    store.decide(accept=True)
    adapter.changes(None, limit=1000)
    list(adapter.export_appointments(FIRST_DAY))
    cosdoc.mock.recording = False
    return list(cosdoc.mock.exchanges)


def _document(envelope: etree._Element, wrapper: str) -> bytes | None:
    text = envelope.findtext(f"{{{SOAP_ENVELOPE_NS}}}Body/{i(wrapper)}/{i('Dokument')}")
    return None if text is None else base64.b64decode(text)


def _check_document(data: bytes, kommando: str, schema: etree.XMLSchema) -> None:
    assert data.startswith(b"<?xml version='1.0' encoding='ISO-8859-1'?>"), kommando
    root = etree.fromstring(data)
    assert root.tag == d(kommando), kommando
    assert problems(root, schema) == [], kommando


def test_every_command_follows_the_contract(cosdoc: Running) -> None:
    """Twelve commands, each request and reply valid against the schemas, as vendors.md says."""
    exchanges = _every_command(cosdoc)
    assert {e.kommando for e in exchanges} == set(Kommando)
    for exchange in exchanges:
        assert exchange.headers["Soapaction"] == '"urn:cosdoc:integrasjon:1/Utfor"'
        assert exchange.headers["Content-Type"] == "text/xml; charset=utf-8"
        request = etree.fromstring(exchange.request)
        assert envelope_schema().validate(request), exchange.kommando
        assert request.findtext(f".//{i('Kommando')}") == exchange.kommando
        document = _document(request, "Utfor")
        assert document is not None
        _check_document(document, exchange.kommando, request_schema())
        reply = exchange.reply
        if reply is None:  # the export is streamed: read it again below
            reply = cosdoc.post(exchange.request).content
        else:
            assert exchange.status == 200
        envelope = etree.fromstring(reply)
        assert envelope_schema().validate(envelope), exchange.kommando
        assert envelope.findtext(f".//{i('Status')}") == "0", exchange.kommando
        answer = _document(envelope, "UtforSvar")
        assert answer is not None, exchange.kommando
        _check_document(answer, exchange.kommando, answer_schema())


def test_melding_type_is_the_last_element_and_only_when_given(cosdoc: Running) -> None:
    """Each Type code, and none, in HENT_MELDING answers valid against the answer schema."""
    store = cosdoc.mock.store
    citizen = next(iter(store.pasienter.values()))
    codes = [None, "SVAR", "DIALOG", "VARSEL", "AVSLUTT"]
    for code in codes:
        in_thread = code in {"SVAR", "AVSLUTT"}
        store.write_message(citizen.nr, "Hei", melding_type=code,
                            trad_id="T-1" if in_thread else None,
                            svar_pa="E-1" if in_thread else None)
    cosdoc.mock.recording = True
    cosdoc.adapter().changes(None, limit=1000)
    cosdoc.mock.recording = False
    meldinger = []
    for exchange in cosdoc.mock.exchanges:
        if exchange.kommando == Kommando.HENT_MELDING and exchange.reply is not None:
            answer = _document(etree.fromstring(exchange.reply), "UtforSvar")
            assert answer is not None
            _check_document(answer, Kommando.HENT_MELDING, answer_schema())
            meldinger.append(etree.fromstring(answer)[0])
    assert [m.findtext(d("Type")) for m in meldinger] == codes
    assert [m[-1].tag for m in meldinger] == [d("Midlertidig")] + [d("Type")] * 4
    meldinger[1][-1].text = "PAMINNELSE"
    assert problems(meldinger[1].getparent(), answer_schema()) != [], "four codes only"


def test_patients_are_numbers_on_the_wire(cosdoc: Running) -> None:
    """Only FINN_PASIENT, PASIENTER and PaVegneAv carry a national id; the rest PasientNr."""
    exchanges = _every_command(cosdoc)
    ids = {p.fodselsnummer.encode() for p in cosdoc.mock.store.pasienter.values()}
    for exchange in exchanges:
        request = _document(etree.fromstring(exchange.request), "Utfor") or b""
        if exchange.kommando != Kommando.FINN_PASIENT:
            assert not any(national_id in request for national_id in ids), exchange.kommando


def test_a_message_is_latin1_with_references_on_the_wire(cosdoc: Running) -> None:
    """SEND_MELDING carries Ŋ and the emoji as character references."""
    exchanges = _every_command(cosdoc)
    sent = next(e for e in exchanges if e.kommando == Kommando.SEND_MELDING)
    document = _document(etree.fromstring(sent.request), "Utfor") or b""
    assert b"Hei fra &#330;uolla &#128117;" in document
    assert cosdoc.mock.store.sendt["m-1"].fields["Tekst"] == "Hei fra Ŋuolla 👵"


@pytest.mark.parametrize(
    ("kommando", "document", "status"),
    [
        ("SLETT_ALT", b"<SLETT_ALT xmlns='urn:cosdoc:dokument:1'/>", "1"),
        ("HENDELSER", b"<HENDELSER xmlns='urn:cosdoc:dokument:1'><EtterId>0</EtterId>"
                      b"<Maks>5000</Maks></HENDELSER>", "1"),
        ("AVTALER", b"<HENDELSER xmlns='urn:cosdoc:dokument:1'><EtterId>0</EtterId>"
                    b"<Maks>5</Maks></HENDELSER>", "1"),
        ("FINN_PASIENT", b"<FINN_PASIENT xmlns='urn:cosdoc:dokument:1'><Fodselsnummer>"
                         b"12345678901</Fodselsnummer><Ekstra/></FINN_PASIENT>", "1"),
        ("FINN_PASIENT", b"not xml", "1"),
        ("FINN_PASIENT", b"<FINN_PASIENT xmlns='urn:cosdoc:dokument:1'><Fodselsnummer>"
                         b"01010100000</Fodselsnummer></FINN_PASIENT>", "2"),
        ("HENT_AVBESTILLINGSSVAR", b"<HENT_AVBESTILLINGSSVAR xmlns='urn:cosdoc:dokument:1'>"
                                   b"<Ref>A1</Ref></HENT_AVBESTILLINGSSVAR>", "2"),
    ],
    ids=["unknown command", "Maks above 1000", "root not the command", "extra element",
         "not xml", "unknown patient", "no decision yet"],
)
def test_the_mock_answers_bad_requests_with_a_status(
    cosdoc: Running, kommando: str, document: bytes, status: str
) -> None:
    """Invalid requests are Status 1 and unknown things Status 2, on HTTP 200, no document;
    the Feiltekst names where, never the value."""
    reply = cosdoc.post(utfor(kommando, document))
    assert reply.status_code == 200
    assert reply.headers["Content-Type"] == "text/xml; charset=utf-8"
    got, feiltekst, answer = svar_parts(reply.content)
    assert (got, answer) == (status, None)
    assert feiltekst
    assert "12345678901" not in feiltekst
    assert envelope_schema().validate(etree.fromstring(reply.content))


@pytest.mark.parametrize(
    ("body", "action", "content_type"),
    [
        (utfor("TJENESTER", b"<TJENESTER xmlns='urn:cosdoc:dokument:1'/>"),
         "urn:cosdoc:integrasjon:1/Annet", "text/xml; charset=utf-8"),
        (utfor("TJENESTER", b"<TJENESTER xmlns='urn:cosdoc:dokument:1'/>"),
         "urn:cosdoc:integrasjon:1/Utfor", "application/soap+xml; charset=utf-8"),
        (b"<s:Envelope xmlns:s='http://schemas.xmlsoap.org/soap/envelope/'><s:Body>",
         "urn:cosdoc:integrasjon:1/Utfor", "text/xml; charset=utf-8"),
        (utfor("TJENESTER", b"x").replace(b"Kommando>", b"Ordre>"),
         "urn:cosdoc:integrasjon:1/Utfor", "text/xml; charset=utf-8"),
    ],
    ids=["wrong SOAPAction", "SOAP 1.2 content type", "broken XML", "not an Utfor"],
)
def test_a_broken_envelope_is_a_soap_fault(cosdoc: Running, body: bytes, action: str,
                                           content_type: str) -> None:
    """What is not an Utfor envelope gets soap:Fault soap:Client on HTTP 500."""
    reply = cosdoc.post(body, action=action, content_type=content_type)
    assert reply.status_code == 500
    fault = etree.fromstring(reply.content).find(f".//{{{SOAP_ENVELOPE_NS}}}Fault")
    assert fault is not None
    assert fault.findtext("faultcode") == "soap:Client"


def test_statuses_become_the_error_that_fits_the_command(cosdoc: Running) -> None:
    """Status 2 is UnknownCitizen or UnknownAppointment by command; Status 1 InvalidRequest;
    the Feiltekst is kept on the error, out of its message."""
    adapter = cosdoc.adapter()
    start = datetime(2026, 3, 2, tzinfo=OSLO)
    with pytest.raises(UnknownCitizen) as unknown:
        adapter.appointments("01010100000", start, start + timedelta(days=1))
    assert "01010100000" not in str(unknown.value)
    citizen = next(iter(cosdoc.mock.store.pasienter.values())).fodselsnummer
    with pytest.raises(UnknownAppointment):
        adapter.register_cancellation(CancellationRequest(
            request_id="c-1", citizen_id=citizen, kind=CancellationKind.SINGLE,
            start=start, end=start, appointment_uid="999", service_ids=("101",)))
    with pytest.raises(InvalidRequest) as closed:
        adapter.deliver_message(CitizenMessage(
            message_id="m-2", thread_id="m-2", service_code="103", citizen_id=citizen,
            body="Hemmelig", sent_at=start))
    assert closed.value.code == "1"
    assert closed.value.feiltekst == "tjenesten er ikke åpen for digital dialog"  # type: ignore[attr-defined]
    assert "Hemmelig" not in str(closed.value)
