"""The AMQP transport's parts that need no broker: the wire mapping and the error translation."""

from __future__ import annotations

import inspect
from datetime import UTC, datetime, timedelta, timezone

import proton
import proton.handlers
import proton.reactor
import proton.utils
import pytest
from proton import Message

from digidialog.errors import DigidialogError, FatalError, TransportUnavailable
from digidialog.transport import (
    Envelope,
    amqp,
    amqp_connection,
    amqp_errors,
    amqp_keeper,
    amqp_messages,
)
from digidialog.transport.amqp_errors import translated
from digidialog.transport.amqp_messages import from_message, from_transfer, to_message

DATA_SECTION = b"\x00\x53\x75"  # described type 0x75: a binary data section
VALUE_SECTION = b"\x00\x53\x77"  # described type 0x77: an amqp-value section


def proton_exception_classes() -> set[type[BaseException]]:
    """Every exception class proton's public modules (and our AMQP modules) can name."""
    found: set[type[BaseException]] = set()
    for module in (proton, proton.utils, proton.reactor, proton.handlers, amqp, amqp_connection,
                   amqp_errors, amqp_keeper, amqp_messages):
        for _, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, BaseException) and value.__module__.startswith("proton"):
                found.add(value)
    return found


def test_every_proton_exception_becomes_a_digidialog_error() -> None:
    """Whatever proton raises inside translated() leaves it as one of our errors."""
    classes = proton_exception_classes()
    assert proton.Timeout in classes and proton.utils.LinkDetached in classes
    for cls in classes:
        error = cls.__new__(cls)  # some want a link or connection to build; the type is the point
        Exception.__init__(error, "boom")
        with pytest.raises(DigidialogError) as caught, translated("doing it"):
            raise error
        assert caught.value.__cause__ is error
        assert str(caught.value).startswith("doing it: ")


def test_translation_says_what_to_do_next() -> None:
    """Broker trouble is retriable; a message proton cannot encode is not."""
    with pytest.raises(TransportUnavailable, match="did not answer in time"), translated("x"):
        raise proton.Timeout("slow")
    with pytest.raises(TransportUnavailable, match="network failed"), translated("x"):
        raise ConnectionRefusedError("refused")
    with pytest.raises(FatalError, match="cannot be encoded"), translated("x"):
        raise proton.MessageException("bad key")
    with pytest.raises(ValueError, match="ours"), translated("x"):
        raise ValueError("ours")  # not proton's: left alone


def test_the_body_travels_as_a_data_section_with_string_properties() -> None:
    """As Helsenorge.Messaging writes it: binary data; HER-ids and timestamp as strings."""
    envelope = Envelope(
        body=b"<MsgHead/>", subject="APPREC", from_her_id="100000", to_her_id="1000001",
        cpa_id="cpa", application_timestamp=datetime(2024, 5, 1, 14, 30, 15, 999,
                                                      tzinfo=timezone(timedelta(hours=2))),
        properties={"toHerId": "ignored: the named field wins", "errorCondition": "x"},
    )
    message = to_message(envelope)
    encoded = message.encode()
    assert DATA_SECTION in encoded and VALUE_SECTION not in encoded
    assert message.durable
    assert message.properties == {
        "fromHerId": "100000", "toHerId": "1000001", "cpaId": "cpa",
        "applicationTimeStamp": "2024-05-01T12:30:15Z", "errorCondition": "x",
    }
    back = from_transfer(encoded)
    assert back.envelope.application_timestamp == datetime(2024, 5, 1, 12, 30, 15, tzinfo=UTC)
    assert back.envelope.to_her_id == "1000001"


@pytest.mark.parametrize(
    ("first_acquirer", "delivery_count", "redelivered"),
    [(True, 0, False), (True, 2, True), (False, 0, True)],
)
def test_redelivered_comes_from_the_header(first_acquirer: bool, delivery_count: int,
                                           redelivered: bool) -> None:
    """RabbitMQ clears first-acquirer on a requeued message; others count deliveries."""
    message = Message(body=b"<x/>", inferred=True, first_acquirer=first_acquirer,
                      delivery_count=delivery_count)
    assert from_transfer(message.encode()).redelivered is redelivered


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-05-01T12:30:15Z", datetime(2024, 5, 1, 12, 30, 15, tzinfo=UTC)),
        ("2024-05-01T14:30:15+02:00", datetime(2024, 5, 1, 12, 30, 15, tzinfo=UTC)),
        ("2024-05-01T12:30:15.123", datetime(2024, 5, 1, 12, 30, 15, 123000, tzinfo=UTC)),
        (proton.timestamp(0), datetime(1970, 1, 1, tzinfo=UTC)),
        ("yesterday", None),
        ("", None),
        (proton.timestamp(10**18), None),
        (3.5, None),
    ],
)
def test_application_timestamps_are_read_leniently(raw: object, expected: datetime | None) -> None:
    """ISO texts with or without offset, AMQP timestamps; anything else is no timestamp."""
    message = Message(body=b"", inferred=True, properties={"applicationTimeStamp": raw})
    assert from_message(message).envelope.application_timestamp == expected


def test_bytes_that_are_no_amqp_message_still_arrive() -> None:
    """A transfer proton cannot decode is handed on as its raw bytes, not dropped or raised."""
    received = from_transfer(b"\x00\x53\x70garbage")
    assert received.envelope.body == b"\x00\x53\x70garbage"
    assert received.envelope.message_id == ""


def test_a_message_without_ids_or_content_type_reads_as_empty() -> None:
    """Missing message-id and content-type become empty strings, not invented values."""
    envelope = from_transfer(Message(body=b"<x/>", inferred=True).encode()).envelope
    assert (envelope.body, envelope.message_id, envelope.content_type) == (b"<x/>", "", "")
    assert envelope.subject is None and envelope.reply_to is None
