"""The wire itself: every operation's request and reply, NotifyEvent included, against the XSD.

Each exchange is recorded by the mock as bytes; the test validates both sides
against ``schemas/profil/profil-citizendialog.xsd``, checks the SOAP 1.2
envelope and the Content-Type with its ``action``, and that the answer element
is ``<Operation>Response``. The WSDLs are checked to describe the same nine
operations and the NotifyEvent service.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from lxml import etree
from profil_support import drain, started

from digidialog.adapters.contract import CitizenMessage, DigitalStatusUpdate
from digidialog.domain import CancellationKind, CancellationRequest
from digidialog_profil.faults import Subcode, fault_envelope
from digidialog_profil.mock.harness import OPEN, ProfilHarness
from digidialog_profil.wire import (
    CITIZEN_WSDL,
    NAMESPACE,
    NOTIFY_OPERATION,
    NOTIFY_WSDL,
    OPERATIONS,
    SOAP_NS,
    action,
    schema_errors,
    schema_file,
    tag,
)

WSDL = "http://schemas.xmlsoap.org/wsdl/"
SOAP12_BINDING = "http://schemas.xmlsoap.org/wsdl/soap12/"


@pytest.fixture
def harness() -> Iterator[ProfilHarness]:
    """A started mock, push endpoint and store."""
    with started() as running:
        yield running


def body_element(data: bytes) -> etree._Element:
    """The one element inside a SOAP 1.2 Envelope's Body."""
    envelope = etree.fromstring(data)
    assert envelope.tag == f"{{{SOAP_NS}}}Envelope"
    (body,) = envelope
    assert body.tag == f"{{{SOAP_NS}}}Body"
    (content,) = body
    return content


def exercise_every_operation(harness: ProfilHarness) -> None:
    """Drive the adapter through all nine operations and make the mock push each event type."""
    citizen = harness.seed_citizens(1)[0]
    start = datetime(2026, 10, 25, 0, 0, tzinfo=UTC)  # the repeated hour is in this period
    visits = harness.seed_visits(citizen, 3, start)
    adapter = harness.adapter()
    adapter.services()
    list(adapter.citizens())
    list(adapter.citizens(str(OPEN)))
    adapter.set_digital_status([DigitalStatusUpdate(national_id=citizen, active=True,
                                                    since=date(2026, 1, 1))])
    adapter.appointments(citizen, start, start + timedelta(days=1))
    adapter.deliver_message(CitizenMessage(
        message_id="m-1", thread_id="m-1", in_reply_to="9000001", service_code=str(OPEN),
        citizen_id=citizen, subject="Spørsmål", body="Hei ŋ 👵🏽",
        sent_at=datetime(2026, 10, 25, 1, 15, tzinfo=UTC)))
    adapter.register_cancellation(CancellationRequest(
        request_id=str(uuid.uuid4()), citizen_id=citizen, kind=CancellationKind.SINGLE,
        start=visits[0].start, end=visits[0].end, appointment_uid=visits[0].uid))
    harness.complete_visit(citizen, visits[1].uid)             # VisitDone
    harness.write_staff_message(citizen, "Svar")               # OutboxMessage
    harness.write_staff_message(citizen, "Lukket", kind="closing",  # ... with its MessageType
                                thread_id="T-1", in_reply_to="M-1")
    harness.decide_cancellations(accept=True)                  # CancellationDecision, VisitChanged
    drain(adapter)                                             # GetVisit, GetOutbox, Ack


def test_every_request_and_reply_follows_the_xsd(harness: ProfilHarness) -> None:
    """Nine operations and NotifyEvent, each recorded at least once, both ways valid."""
    exercise_every_operation(harness)
    seen: dict[str, int] = {}
    for exchange in harness.mock.exchanges:
        request = body_element(exchange.request)
        reply = body_element(exchange.reply)
        assert exchange.status == 200, exchange.operation
        assert request.tag == tag(exchange.operation)
        assert reply.tag == tag(f"{exchange.operation}Response")
        assert schema_errors(request) == [], exchange.operation
        assert schema_errors(reply) == [], exchange.operation
        media, _, parameters = exchange.content_type.partition(";")
        assert media == "application/soap+xml"
        assert "charset=utf-8" in parameters
        assert f'action="{action(exchange.operation)}"' in parameters
        seen[exchange.operation] = seen.get(exchange.operation, 0) + 1
    assert set(seen) == {*OPERATIONS, NOTIFY_OPERATION}


def test_message_type_is_the_last_element_and_only_when_given(harness: ProfilHarness) -> None:
    """Each MessageType, and none, in a GetOutboxMessagesResponse valid against the XSD."""
    citizen = harness.seed_citizens(1)[0]
    kinds = [None, "answer", "dialog", "notice", "closing"]
    for kind in kinds:
        in_thread = kind in {"answer", "closing"}
        harness.write_staff_message(citizen, "Hei", kind=kind,
                                    thread_id="T-1" if in_thread else None,
                                    in_reply_to="M-1" if in_thread else None)
    drain(harness.adapter())
    reply = next(body_element(e.reply) for e in harness.mock.exchanges
                 if e.operation == "GetOutboxMessages")
    assert schema_errors(reply) == []
    messages = list(reply.iter(tag("OutboxMessage")))
    assert [m.findtext(tag("MessageType")) for m in messages] == [
        None, "Reply", "Dialog", "Notice", "Closing"]
    assert [m[-1].tag for m in messages] == [tag("Interim")] + [tag("MessageType")] * 4
    messages[1][-1].text = "Reminder"
    assert schema_errors(reply) != [], "the XSD holds Profil to the four values"


def test_local_times_on_the_wire_have_no_offset(harness: ProfilHarness) -> None:
    """Every timestamp element both ways is wall-clock text; isDst only where it belongs."""
    exercise_every_operation(harness)
    stamps = {"From", "To", "WindowStart", "WindowEnd", "DoneAt", "LastModified", "SentAt",
              "OccurredAt"}
    found_dst = False
    for exchange in harness.mock.exchanges:
        for data in (exchange.request, exchange.reply):
            for element in etree.fromstring(data).iter():
                if etree.QName(element).localname in stamps:
                    text = element.text or ""
                    assert len(text) in (19, 26) and "+" not in text and "Z" not in text
                    if element.get("isDst") is not None:
                        found_dst = True
                        assert text.startswith("2026-10-25T02:")
    assert found_dst


def test_faults_are_soap_12_with_a_profil_subcode() -> None:
    """env:Fault with Code env:Sender or env:Receiver and Subcode p:<reason>."""
    for subcode in Subcode:
        root = etree.fromstring(fault_envelope(
            "Receiver" if subcode is Subcode.BUSY else "Sender", subcode, "why"))
        fault = root[0][0]
        assert fault.tag == f"{{{SOAP_NS}}}Fault"
        code = fault.find(f"{{{SOAP_NS}}}Code")
        assert code is not None
        assert code.findtext(f"{{{SOAP_NS}}}Value") in ("env:Sender", "env:Receiver")
        value = code.find(f"{{{SOAP_NS}}}Subcode/{{{SOAP_NS}}}Value")
        assert value is not None and value.text == f"p:{subcode}"
        assert value.nsmap["p"] == NAMESPACE


def _operations(wsdl_name: str) -> dict[str, str]:
    document = etree.parse(str(schema_file(wsdl_name)))
    binding = document.find(f"{{{WSDL}}}binding")
    assert binding is not None
    assert binding.find(f"{{{SOAP12_BINDING}}}binding") is not None  # SOAP 1.2
    actions = {}
    for operation in binding.iterfind(f"{{{WSDL}}}operation"):
        soap = operation.find(f"{{{SOAP12_BINDING}}}operation")
        assert soap is not None
        actions[operation.get("name", "")] = soap.get("soapAction", "")
    return actions


def test_the_wsdls_describe_the_contract() -> None:
    """The service WSDL binds the nine operations with their actions over SOAP 1.2; the
    notification WSDL binds NotifyEvent, the service digidialog hosts."""
    assert _operations(CITIZEN_WSDL) == {op: action(op) for op in OPERATIONS}
    assert _operations(NOTIFY_WSDL) == {NOTIFY_OPERATION: action(NOTIFY_OPERATION)}
