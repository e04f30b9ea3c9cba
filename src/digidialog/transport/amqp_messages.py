"""An :class:`~digidialog.transport.base.Envelope` as an AMQP 1.0 message, and back.

The mapping follows what Helsenorge's own client (NHN's Helsenorge.Messaging)
puts on the wire:

- the payload is one binary *data* section;
- ``subject`` is the process name (``APPREC`` for receipts);
- the application properties ``fromHerId``, ``toHerId``, ``cpaId`` and
  ``applicationTimeStamp`` are all *strings*: HER-ids in decimal, the
  timestamp as ``yyyy-MM-ddTHH:mm:ssZ`` in UTC (so it keeps whole seconds);
- ``message-id``, ``correlation-id``, ``reply-to`` and ``content-type`` are the
  message properties of those names; messages are durable.

Reading is lenient, because what arrives comes from other parties: an integer
HER-id, an AMQP timestamp, a UUID message-id or a string body are turned into
the envelope's types; a value that cannot be read (an unparseable timestamp)
becomes ``None``; even bytes that are not an AMQP message at all arrive as an
envelope carrying those bytes. Nothing here raises on input, so the engine can
answer the sender instead of losing the message.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from proton import Message, timestamp

from digidialog.log import get_logger
from digidialog.transport.base import Envelope

FROM_HER_ID = "fromHerId"
TO_HER_ID = "toHerId"
CPA_ID = "cpaId"
APPLICATION_TIMESTAMP = "applicationTimeStamp"
NAMED_PROPERTIES = frozenset({FROM_HER_ID, TO_HER_ID, CPA_ID, APPLICATION_TIMESTAMP})

_TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"

log = get_logger(__name__)


@dataclass(frozen=True)
class Received:
    """What a received transfer says: the envelope and whether it was handed out before."""

    envelope: Envelope
    redelivered: bool


def to_message(envelope: Envelope) -> Message:
    """The durable AMQP message that carries ``envelope``."""
    properties: dict[str, str] = {
        key: value for key, value in envelope.properties.items() if key not in NAMED_PROPERTIES
    }
    named = {
        FROM_HER_ID: envelope.from_her_id,
        TO_HER_ID: envelope.to_her_id,
        CPA_ID: envelope.cpa_id,
        APPLICATION_TIMESTAMP: _format_timestamp(envelope.application_timestamp),
    }
    properties.update({key: value for key, value in named.items() if value is not None})
    # inferred=True makes proton write bytes as a data section, not an amqp-value.
    message = Message(body=bytes(envelope.body), inferred=True, durable=True,
                      properties=properties)
    message.id = envelope.message_id
    if envelope.subject is not None:
        message.subject = envelope.subject
    if envelope.correlation_id is not None:
        message.correlation_id = envelope.correlation_id
    if envelope.reply_to is not None:
        message.reply_to = envelope.reply_to
    if envelope.content_type:
        message.content_type = envelope.content_type
    return message


def from_transfer(data: bytes) -> Received:
    """The envelope in the encoded message ``data``; never raises.

    Bytes that proton cannot decode arrive as an envelope whose body is those
    bytes, so that the engine reports them to the sender rather than losing them.
    """
    message = Message()
    try:
        message.decode(data)
        recognised = any(part is not None for part in (
            message.body, message.properties, message.id, message.subject))
    except Exception as error:  # any decoding failure is the sender's doing, not ours
        log.warning("amqp_message_undecodable", error=type(error).__name__, size=len(data))
        recognised = False
    if not recognised and data:  # proton may also "decode" garbage into an empty message
        return Received(Envelope(body=bytes(data), message_id="", content_type=""), False)
    return from_message(message)


def from_message(message: Message) -> Received:
    """The envelope a decoded message carries, read leniently."""
    raw: Mapping[Any, Any] = message.properties if isinstance(message.properties, Mapping) else {}
    properties = {str(key): value for key, value in raw.items()}
    extra = {
        key: text
        for key, value in properties.items()
        if key not in NAMED_PROPERTIES and (text := _text(value)) is not None
    }
    envelope = Envelope(
        body=_body(message.body),
        subject=_text(message.subject),
        from_her_id=_text(properties.get(FROM_HER_ID)),
        to_her_id=_text(properties.get(TO_HER_ID)),
        cpa_id=_text(properties.get(CPA_ID)),
        application_timestamp=_timestamp(properties.get(APPLICATION_TIMESTAMP)),
        message_id=_text(message.id) or "",
        correlation_id=_text(message.correlation_id),
        reply_to=_text(message.reply_to),
        content_type=_content_type(message),
        properties=MappingProxyType(extra),
    )
    # Without a header, first-acquirer is false: "may have been handed out before".
    redelivered = bool(message.delivery_count) or not message.first_acquirer
    return Received(envelope, redelivered)


def _content_type(message: Message) -> str:
    # proton 0.40 reports a missing content-type as the symbol "None".
    value = _text(message.content_type)
    return "" if value in (None, "None") else value


def _format_timestamp(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:  # the contract says UTC; a naive value is taken as such
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime(_TIMESTAMP_FORMAT)


def _text(value: Any) -> str | None:
    """A property value as text, whatever AMQP type the sender gave it."""
    if value is None:
        return None
    if isinstance(value, str):  # also proton's symbol and char
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", errors="replace")
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):  # int(): proton's ulong and timestamp print as "ulong(5)"
        return str(int(value))
    return str(value)


def _timestamp(value: Any) -> datetime | None:
    """``applicationTimeStamp`` as an aware UTC datetime, or ``None`` when unreadable."""
    try:
        if isinstance(value, timestamp):  # an AMQP timestamp: milliseconds since the epoch
            return datetime.fromtimestamp(int(value) / 1000, UTC)
        if isinstance(value, datetime):
            moment = value
        elif isinstance(value, str | bytes):
            text = value.decode("ascii", errors="replace") if isinstance(value, bytes) else value
            moment = datetime.fromisoformat(text.strip())
        else:
            return None
    except (ValueError, OverflowError, OSError):
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _body(body: Any) -> bytes:
    """The payload as bytes: a data section as it is, an amqp-value as best we can."""
    if body is None:
        return b""
    if isinstance(body, bytes | bytearray | memoryview):
        return bytes(body)
    if isinstance(body, str):
        return body.encode("utf-8")
    if isinstance(body, list) and all(isinstance(part, bytes | memoryview) for part in body):
        return b"".join(bytes(part) for part in body)
    return str(body).encode("utf-8")
