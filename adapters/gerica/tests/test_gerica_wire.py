"""On the wire, adapter and mock say exactly what vendors.md says Gerica says.

Every operation is called through the adapter against the mock; each request
and each answer recorded by the mock is then checked: SOAP 1.1 envelope,
Content-Type, the quoted SOAPAction, the WS-Security UsernameToken with a
PasswordText password, and the body element valid against the project's XSD.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from gerica_support import (
    CITIZEN,
    SOAP11,
    adapter_for,
    body_of,
    envelope,
    oslo,
    post,
    schema_errors,
    served_mock,
    visit,
)
from lxml import etree

from digidialog.adapters.contract import CitizenMessage, DigitalStatusUpdate
from digidialog.domain import (
    AppointmentStatus,
    CancellationKind,
    CancellationRequest,
    Frequency,
    OnBehalfOf,
    Person,
    Recurrence,
    Relation,
)
from digidialog.domain.timezone import OSLO
from digidialog.testing.mockbase import Fault, FaultKind
from digidialog_gerica.mock import GericaMock
from digidialog_gerica.mock.server import Exchange
from digidialog_gerica.wire import (
    NAMESPACE,
    NS,
    PLAIN_TEXT_TYPE,
    WSSE,
    Operation,
    format_instant,
)

RELATIVE = OnBehalfOf(person=Person(national_id="15076500565", given_name="Roland",
                                    family_name="Gundersen"), relation=Relation.FULLMAKT)


@pytest.fixture
def mock() -> Iterator[GericaMock]:
    """A served mock holding visits in every state."""
    with served_mock() as running:
        start = oslo(2026, 3, 2, 8)
        running.add_appointment(CITIZEN, visit("W1", start, 120, status=AppointmentStatus.PLANNED,
                                               recurrence=Recurrence(frequency=Frequency.DAILY)))
        running.add_appointment(CITIZEN, visit("W2", oslo(2026, 3, 3, 9)))
        running.add_appointment(CITIZEN, visit("W4", oslo(2026, 3, 3, 13), service="PB"))
        running.add_appointment(CITIZEN, visit("W3", oslo(2026, 3, 1, 9),
                                               status=AppointmentStatus.COMPLETED,
                                               completed_at=oslo(2026, 3, 1, 9, 40)))
        yield running


def _every_operation(mock: GericaMock) -> None:
    adapter = adapter_for(mock)
    adapter.services()
    list(adapter.citizens())
    list(adapter.citizens("HSP"))
    adapter.set_digital_status([DigitalStatusUpdate(national_id=CITIZEN, active=True,
                                                    since=oslo(2026, 3, 1).date())])
    adapter.appointments(CITIZEN, oslo(2026, 3, 1), oslo(2026, 3, 8))
    adapter.deliver_message(CitizenMessage(
        message_id="M-1", thread_id="M-1", service_code="HSP", citizen_id=CITIZEN,
        subject="Nøkkelboks", body="Kan dere bruke ny kode?", sent_at=oslo(2026, 3, 2, 12),
        on_behalf_of=RELATIVE))
    adapter.register_cancellation(CancellationRequest(
        request_id="C-1", citizen_id=CITIZEN, kind=CancellationKind.SINGLE,
        start=oslo(2026, 3, 3, 9), end=oslo(2026, 3, 3, 9, 30), appointment_uid="W2",
        service_ids=("HSP",)))
    adapter.register_cancellation(CancellationRequest(
        request_id="C-2", citizen_id=CITIZEN, kind=CancellationKind.PERIOD,
        start=oslo(2026, 3, 4), end=oslo(2026, 3, 6), service_ids=("HSP", "PB"),
        reason="Ferie", requested_by=RELATIVE))
    mock.decide_cancellations(accept=True, comment="Ok")
    mock.complete_visit("W4")
    mock.write_staff_message(CITIZEN, "Vi kommer kl. 9", reply_to="M-1", thread_id="M-1",
                             interim=True, kind="SVAR")
    adapter.changes(None)
    adapter.close()


def test_every_request_and_answer_follows_the_schema(mock: GericaMock) -> None:
    """All seven operations: requests and answers are SOAP 1.1 and valid against the XSD."""
    _every_operation(mock)
    seen = {exchange.operation for exchange in mock.exchanges}
    assert seen == {op.value for op in Operation}
    for exchange in mock.exchanges:
        assert exchange.status == 200, exchange.operation
        request, reply = body_of(exchange.request), body_of(exchange.reply)
        assert request.tag == NS + exchange.operation
        assert reply.tag == NS + exchange.operation + "Svar"
        assert schema_errors(request) == [], exchange.operation
        assert schema_errors(reply) == [], exchange.operation


def test_headers_and_ws_security(mock: GericaMock) -> None:
    """text/xml; charset=utf-8 both ways, the quoted SOAPAction, a PasswordText token."""
    _every_operation(mock)
    for exchange in mock.exchanges:
        assert exchange.request_headers["Content-Type"] == "text/xml; charset=utf-8"
        assert exchange.request_headers["Soapaction"] == f'"{NAMESPACE}/{exchange.operation}"'
        assert exchange.reply_headers["Content-Type"] == "text/xml; charset=utf-8"
        root = etree.fromstring(exchange.request)
        token = root.find(f"{{{SOAP11}}}Header/{{{WSSE}}}Security/{{{WSSE}}}UsernameToken")
        assert token is not None
        assert token.findtext(f"{{{WSSE}}}Username") == "digidialog"
        password = token.find(f"{{{WSSE}}}Password")
        assert password is not None and password.get("Type") == PLAIN_TEXT_TYPE


def _requests(mock: GericaMock, operation: Operation) -> list[etree._Element]:
    return [body_of(e.request) for e in mock.exchanges if e.operation == operation.value]


def test_requests_carry_what_the_contract_names(mock: GericaMock) -> None:
    """Offsets on instants, our ids as MeldingId and AvbestillingId, PaVegneAv, periods."""
    _every_operation(mock)
    (hent,) = _requests(mock, Operation.HENT_AVTALER)
    assert [c.tag[len(NS):] for c in hent] == [
        "Fodselsnummer", "Fra", "Til", "Side", "SideStorrelse"]
    assert hent.findtext(NS + "Fra") == "2026-03-01T00:00:00+01:00"
    assert hent.findtext(NS + "SideStorrelse") == "500"
    (lever,) = _requests(mock, Operation.LEVER_MELDING)
    assert lever.findtext(f"{NS}Melding/{NS}MeldingId") == "M-1"
    assert lever.findtext(f"{NS}Melding/{NS}Sendt") == "2026-03-02T12:00:00+01:00"
    assert lever.findtext(f"{NS}Melding/{NS}PaVegneAv/{NS}Navn") == "Roland Gundersen"
    single, period = _requests(mock, Operation.REGISTRER_AVBESTILLING)
    assert single.findtext(f"{NS}Avbestilling/{NS}AvtaleId") == "W2"
    assert single.find(f"{NS}Avbestilling/{NS}Periode") is None
    assert [c.text for c in period.iter(NS + "TjenesteKode")] == ["HSP", "PB"]
    assert period.findtext(f"{NS}Avbestilling/{NS}Periode/{NS}Til") == "2026-03-06T00:00:00+01:00"
    assert period.findtext(f"{NS}Avbestilling/{NS}InnsendtAv/{NS}Fodselsnummer") == "15076500565"
    (endringer,) = _requests(mock, Operation.HENT_ENDRINGER)
    assert endringer.findtext(NS + "EtterSekvens") == "0"


def test_answers_carry_offsets_and_optional_elements_only_where_due(mock: GericaMock) -> None:
    """Instants on the Oslo clock with offsets; Gjentakelse, Ansatt, UtfortTidspunkt as due."""
    _every_operation(mock)
    answer = next(body_of(e.reply) for e in mock.exchanges
                  if e.operation == Operation.HENT_AVTALER.value)
    avtaler = {a.findtext(NS + "AvtaleId"): a for a in answer.iter(NS + "Avtale")}
    assert avtaler["W1"].findtext(NS + "Start") == "2026-03-02T08:00:00+01:00"
    assert avtaler["W1"].findtext(NS + "Gjentakelse") == "FREQ=DAILY;INTERVAL=1"
    assert avtaler["W1"].find(NS + "Ansatt") is None
    assert avtaler["W3"].findtext(NS + "UtfortTidspunkt") == "2026-03-01T09:40:00+01:00"
    assert avtaler["W2"].findtext(f"{NS}Ansatt/{NS}Navn") == "Kari Sykepleier"
    assert [c.tag[len(NS):] for c in answer][-2:] == ["Side", "AntallSider"]


def _fault_of(response_body: bytes) -> tuple[str, str | None, etree._Element | None]:
    fault = body_of(response_body)
    assert fault.tag == f"{{{SOAP11}}}Fault"
    feil = fault.find("detail/" + NS + "GericaFeil")
    return fault.findtext("faultcode") or "", None if feil is None else feil.findtext(
        NS + "Kode"), feil


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (f"<g:HentAvtaler><g:Fodselsnummer>{'0' * 10}1</g:Fodselsnummer>"
         "<g:Fra>2026-01-01T00:00:00+01:00</g:Fra><g:Til>2026-01-02T00:00:00+01:00</g:Til>"
         "<g:Side>1</g:Side><g:SideStorrelse>10</g:SideStorrelse></g:HentAvtaler>",
         "UKJENT_MOTTAKER"),
        (f"<g:HentAvtaler><g:Fodselsnummer>{CITIZEN}</g:Fodselsnummer>"
         "<g:Fra>2026-01-02T00:00:00+01:00</g:Fra><g:Til>2026-01-01T00:00:00+01:00</g:Til>"
         "<g:Side>1</g:Side><g:SideStorrelse>10</g:SideStorrelse></g:HentAvtaler>",
         "UGYLDIG_PERIODE"),
    ],
)
def test_faults_are_soap_client_with_a_valid_gericafeil(
    mock: GericaMock, body: str, code: str
) -> None:
    """A GericaFeil fault: HTTP 500, text/xml, soap:Client, detail valid against the XSD."""
    response = post(mock, "HentAvtaler", envelope(body))
    assert response.status_code == 500
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
    faultcode, kode, feil = _fault_of(response.content)
    assert (faultcode, kode) == ("soap:Client", code)
    assert feil is not None and schema_errors(feil) == []


HENT = ("<g:HentAvtaler><g:Fodselsnummer>13116900216</g:Fodselsnummer>"
        "<g:Fra>2026-01-01T00:00:00+01:00</g:Fra><g:Til>2026-01-02T00:00:00+01:00</g:Til>"
        "<g:Side>1</g:Side><g:SideStorrelse>{size}</g:SideStorrelse></g:HentAvtaler>")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (envelope(HENT.format(size=501)), ("soap:Client", None)),  # SideStorrelse over 500
        (envelope(HENT.format(size=10).replace("+01:00</g:Fra>", "</g:Fra>")),
         ("soap:Client", None)),  # an instant without its offset
        (envelope(HENT.format(size=10), password="wrong"),  # noqa: S106 - a wrong one
         ("soap:Client", "IKKE_AUTORISERT")),
        (envelope(HENT.format(size=10), username=None), ("soap:Client", "IKKE_AUTORISERT")),
        (envelope(HENT.format(size=10), password_type="#PasswordDigest"),  # noqa: S106
         ("soap:Client", "IKKE_AUTORISERT")),
        (envelope(HENT.format(size=10), soap_ns="http://www.w3.org/2003/05/soap-envelope"),
         ("soap:VersionMismatch", None)),
        (envelope("<g:HentTjenester/>"), ("soap:Client", None)),  # body is not the SOAPAction
        (b"<soap:Envelope", ("soap:Client", None)),
    ],
)
def test_the_mock_refuses_what_gerica_would(
    mock: GericaMock, data: bytes, expected: tuple[str, str | None]
) -> None:
    """Schema-invalid bodies, bad credentials, SOAP 1.2, a body not matching the SOAPAction."""
    response = post(mock, "HentAvtaler", data)
    assert response.status_code == 500
    faultcode, kode, _ = _fault_of(response.content)
    assert (faultcode, kode) == expected


def test_the_mock_wants_text_xml(mock: GericaMock) -> None:
    """SOAP 1.1 is text/xml; another media type is refused."""
    response = post(mock, "HentTjenester", envelope("<g:HentTjenester/>"),
                    content_type="application/soap+xml; charset=utf-8")
    assert response.status_code == 500
    assert _fault_of(response.content)[0] == "soap:Client"


def test_busy_is_a_soap_server_fault_without_retry_after(mock: GericaMock) -> None:
    """MIDLERTIDIG_UTILGJENGELIG: HTTP 500, soap:Server, and no Retry-After header."""
    mock.inject(Fault(kind=FaultKind.BUSY))
    response = post(mock, "HentTjenester", envelope("<g:HentTjenester/>"))
    assert response.status_code == 500
    assert "Retry-After" not in response.headers
    faultcode, kode, feil = _fault_of(response.content)
    assert (faultcode, kode) == ("soap:Server", "MIDLERTIDIG_UTILGJENGELIG")
    assert feil is not None and schema_errors(feil) == []


def test_change_feed_sequences_increase_strictly(mock: GericaMock) -> None:
    """Sekvens starts at 1 and increases by one for each recorded change."""
    _every_operation(mock)
    answer = next(body_of(e.reply) for e in mock.exchanges
                  if e.operation == Operation.HENT_ENDRINGER.value)
    sequences = [int(e.findtext(NS + "Sekvens") or "0") for e in answer.iter(NS + "Endring")]
    assert sequences == list(range(1, len(sequences) + 1))
    assert answer.findtext(NS + "SisteSekvens") == str(len(sequences))
    kinds = [e.findtext(NS + "Type") for e in answer.iter(NS + "Endring")]
    # C-1 cancels W2 (the visit changes first), C-2's period holds no visit; then staff act.
    assert kinds == ["AVTALE", "AVBESTILLINGSSVAR", "AVBESTILLINGSSVAR", "AVTALE", "MELDING"]


def test_meldingstype_is_the_last_element_and_only_when_given(mock: GericaMock) -> None:
    """Each Meldingstype code, and none, in a HentEndringerSvar valid against the XSD."""
    codes = [None, "SVAR", "DIALOG", "ENGANGSKONTAKT", "AVSLUTNING"]
    for code in codes:
        in_thread = code in {"SVAR", "AVSLUTNING"}
        mock.write_staff_message(CITIZEN, "Hei", kind=code, thread_id="T-1" if in_thread
                                 else None, reply_to="M-1" if in_thread else None)
    adapter_for(mock).changes(None)
    answer = next(body_of(e.reply) for e in mock.exchanges
                  if e.operation == Operation.HENT_ENDRINGER.value)
    assert schema_errors(answer) == []
    meldinger = list(answer.iter(NS + "Melding"))
    assert [m.findtext(NS + "Meldingstype") for m in meldinger] == codes
    assert all(m[-1].tag == NS + "Meldingstype" for m in meldinger[1:])
    assert meldinger[0][-1].tag == NS + "Midlertidig"
    meldinger[1][-1].text = "PAMINNELSE"
    assert schema_errors(answer) != [], "the XSD holds Gerica to the four codes"


def test_recorded_exchanges_are_bounded() -> None:
    """The mock keeps the last 500 exchanges, so a long-running mock does not grow."""
    assert GericaMock(seed_citizens=0).exchanges.maxlen == 500


def test_timestamps_written_in_the_oslo_offset_of_their_day() -> None:
    """Winter +01:00, summer +02:00, as the contract's example shows."""
    assert format_instant(oslo(2026, 3, 29, 8).astimezone(OSLO)) == "2026-03-29T08:00:00+02:00"
    assert format_instant(oslo(2026, 1, 5, 8)) == "2026-01-05T08:00:00+01:00"


def test_exchange_type_is_public() -> None:
    """Tests and tools read the mock's exchanges through the Exchange record."""
    assert Exchange.__dataclass_fields__.keys() >= {"operation", "request", "reply", "status"}
