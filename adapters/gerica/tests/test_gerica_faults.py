"""Gerica's faults become digidialog's errors: final or retriable, never leaking content."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from gerica_support import CITIZEN, adapter_for, oslo, served_mock, visit
from lxml import etree

from digidialog.adapters.contract import CitizenMessage
from digidialog.adapters.soap import CallPolicy, SoapFault
from digidialog.domain import CancellationKind, CancellationRequest
from digidialog.errors import (
    AuthenticationFailed,
    DigidialogError,
    FatalError,
    InvalidRequest,
    RetriableError,
    ServiceNotOpen,
    UnknownAppointment,
    UnknownCitizen,
    VendorRejected,
    VendorUnavailable,
)
from digidialog.testing.mockbase import Fault, FaultKind
from digidialog_gerica import GericaAdapter
from digidialog_gerica.faults import map_fault
from digidialog_gerica.mock import GericaMock
from digidialog_gerica.wire import NAMESPACE, NS

FREE_TEXT = "Mottaker 13116900216 Áilu Ŋuolla finnes ikke"


def _fault(code: str | None, faultcode: str = "Client") -> SoapFault:
    detail = None
    if code is not None:
        detail = etree.Element("detail")
        feil = etree.SubElement(detail, NS + "GericaFeil", nsmap={"g": NAMESPACE})
        etree.SubElement(feil, NS + "Kode").text = code
        etree.SubElement(feil, NS + "Beskrivelse").text = FREE_TEXT
    return SoapFault(code=faultcode, subcode=None, reason=FREE_TEXT, detail=detail,
                     http_status=500)


@pytest.mark.parametrize(
    ("code", "faultcode", "expected", "final"),
    [
        ("UKJENT_MOTTAKER", "Client", UnknownCitizen, True),
        ("UKJENT_AVTALE", "Client", UnknownAppointment, True),
        ("TJENESTE_IKKE_APEN", "Client", ServiceNotOpen, True),
        ("UGYLDIG_PERIODE", "Client", InvalidRequest, True),
        ("IKKE_AUTORISERT", "Client", AuthenticationFailed, True),
        ("MIDLERTIDIG_UTILGJENGELIG", "Server", VendorUnavailable, False),
        ("MIDLERTIDIG_UTILGJENGELIG", "Client", VendorUnavailable, False),
        (" UKJENT_AVTALE\n", "Client", UnknownAppointment, True),
        ("NY_KODE", "Client", VendorRejected, True),
        ("NY_KODE", "Server", VendorUnavailable, False),
        (None, "Client", InvalidRequest, True),
        (None, "Server", VendorUnavailable, False),
        (None, "VersionMismatch", InvalidRequest, True),
        (None, "MustUnderstand", InvalidRequest, True),
    ],
)
def test_each_fault_maps_to_its_error(
    code: str | None, faultcode: str, expected: type[DigidialogError], final: bool
) -> None:
    """The GericaFeil code decides; without one (or an unknown one) the faultcode does."""
    error = map_fault(_fault(code, faultcode))
    assert type(error) is expected
    assert isinstance(error, FatalError) is final
    assert isinstance(error, RetriableError) is not final
    assert "13116900216" not in str(error) and "Ŋuolla" not in str(error)
    if isinstance(error, VendorRejected) and code:
        assert error.code == code.strip()


@pytest.fixture
def mock() -> Iterator[GericaMock]:
    """A served mock with one visit."""
    with served_mock() as running:
        running.add_appointment(CITIZEN, visit("F1", oslo(2026, 3, 2, 8)))
        yield running


@pytest.fixture
def adapter(mock: GericaMock) -> Iterator[GericaAdapter]:
    """An adapter that tries once."""
    made = adapter_for(mock)
    yield made
    made.close()


def test_unknown_citizen(adapter: GericaAdapter) -> None:
    """HentAvtaler for someone Gerica does not serve: UKJENT_MOTTAKER."""
    with pytest.raises(UnknownCitizen):
        adapter.appointments("15076500565", oslo(2026, 3, 1), oslo(2026, 3, 2))


def test_invalid_period(adapter: GericaAdapter) -> None:
    """A period that ends before it starts: UGYLDIG_PERIODE."""
    with pytest.raises(InvalidRequest) as caught:
        adapter.appointments(CITIZEN, oslo(2026, 3, 2), oslo(2026, 3, 1))
    assert caught.value.code == "UGYLDIG_PERIODE"


def test_unknown_appointment(adapter: GericaAdapter) -> None:
    """Cancelling a visit Gerica does not hold for the citizen: UKJENT_AVTALE."""
    with pytest.raises(UnknownAppointment):
        adapter.register_cancellation(CancellationRequest(
            request_id="X-1", citizen_id=CITIZEN, kind=CancellationKind.SINGLE,
            start=oslo(2026, 3, 2, 8), end=oslo(2026, 3, 2, 9), appointment_uid="NOPE"))


def test_service_not_open(adapter: GericaAdapter) -> None:
    """A message to a service closed for digital dialog: TJENESTE_IKKE_APEN."""
    with pytest.raises(ServiceNotOpen):
        adapter.deliver_message(CitizenMessage(
            message_id="M-9", thread_id="M-9", service_code="TRYGG", citizen_id=CITIZEN,
            body="Hei", sent_at=oslo(2026, 3, 2, 12)))


def test_wrong_password(mock: GericaMock) -> None:
    """IKKE_AUTORISERT is final: one request, no retries."""
    adapter = GericaAdapter(mock.base_url, "digidialog", "feil",
                            policy=CallPolicy(timeout=2, attempts=4, backoff_initial=0.01))
    with pytest.raises(AuthenticationFailed):
        adapter.services()
    assert mock.requests_seen == ["HentTjenester"]


def test_naive_period_is_refused_before_sending(adapter: GericaAdapter, mock: GericaMock
                                                ) -> None:
    """A period without time zones is ambiguous; nothing is sent."""
    with pytest.raises(InvalidRequest):
        adapter.appointments(CITIZEN, datetime(2026, 3, 1), datetime(2026, 3, 2))
    assert "HentAvtaler" not in mock.requests_seen


def test_temporarily_unavailable_is_retried_until_it_passes(mock: GericaMock) -> None:
    """MIDLERTIDIG_UTILGJENGELIG twice, then an answer: the call succeeds on the third try."""
    mock.inject(Fault(kind=FaultKind.BUSY, times=2))
    adapter = adapter_for(mock, policy=CallPolicy(timeout=2, attempts=3, backoff_initial=0.01))
    assert adapter.services()
    assert mock.requests_seen.count("HentTjenester") == 3


def test_temporarily_unavailable_gives_up_after_the_attempts(mock: GericaMock) -> None:
    """Still unavailable after every attempt: the retriable error reaches the caller."""
    mock.inject(Fault(kind=FaultKind.BUSY, times=5))
    adapter = adapter_for(mock, policy=CallPolicy(timeout=2, attempts=2, backoff_initial=0.01))
    with pytest.raises(VendorUnavailable):
        adapter.services()
    assert mock.requests_seen.count("HentTjenester") == 2


def test_schema_refusal_by_gerica_is_final(mock: GericaMock) -> None:
    """A soap:Client fault without GericaFeil (the request broke Gerica's schema) is final."""
    adapter = adapter_for(mock)
    with pytest.raises(InvalidRequest):
        adapter.appointments("123", oslo(2026, 3, 1), oslo(2026, 3, 2))
