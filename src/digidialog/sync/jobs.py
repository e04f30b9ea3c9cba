"""The kinds of work in the inbox and the outbox, and how a portal message becomes a job.

Every job has a key that makes it idempotent: adding the same key twice adds
nothing. A message to the portal is encoded once, when its job is made, so
that a resend after a crash carries the same bytes and the same MsgId, and
the portal can tell it is a repeat.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from digidialog.helsenorge import PortalMessage, encode
from digidialog.store import Store
from digidialog.transport import Envelope, async_queue

# Inbox kinds: what arrived on a portal queue.
PORTAL_MESSAGE = "portal.message"

OVERSIZED = "oversized"
"""Meta key of a received message whose body was too large to keep: its size in bytes."""

# Outbox kinds: what remains to be done.
PORTAL_SEND = "portal.send"
"""Put encoded bytes on a portal queue (a message, an AppRec, an error report)."""
EPJ_EVENT = "epj.event"
"""An event the EPJ reported, to be turned into messages for the portal."""
EPJ_DELIVER = "epj.deliver"
"""Put a citizen's message into the EPJ."""
EPJ_DIGITAL_STATUS = "epj.digital-status"
"""Tell the EPJ a citizen became (in)active on Helsenorge."""
EPJ_CANCEL = "epj.cancel"
"""Register a citizen's cancellation in the EPJ."""
EPJ_READ_WINDOW = "epj.read-window"
"""Read a window of a citizen's appointments from the EPJ into the store."""
EPJ_JOBS = "epj."
"""The prefix of every outbox kind whose work calls the EPJ."""


def enqueue_first_read(store: Store, conn: Connection, *, municipality: str,
                       citizen_id: str) -> int | None:
    """On first contact with a citizen, read their appointments once (keyed: never twice)."""
    return store.outbox.add(conn, municipality=municipality, kind=EPJ_READ_WINDOW,
                            key=f"read-window:{municipality}:{citizen_id}:first",
                            payload=citizen_id.encode(), meta={})


def message_key(municipality: str, msg_id: str) -> str:
    """The inbox key of the portal message ``msg_id``."""
    return f"{municipality}:msg:{msg_id}"


def inbox_key(municipality: str, msg_id: str | None, body: bytes,
              message_id: str | None = None) -> str:
    """The idempotency key of a received message.

    Its MsgId when it has one: the portal resends a message under the same
    MsgId. An unreadable one is the same message only when redelivered, with
    the same AMQP message-id and body: two sends of the same bad bytes are two
    messages, and each is reported.
    """
    if msg_id:
        return message_key(municipality, msg_id)
    digest = hashlib.sha256((message_id or "").encode() + b"\0" + body).hexdigest()
    return f"{municipality}:sha256:{digest}"


def envelope_meta(envelope: Envelope) -> dict[str, Any]:
    """What the transport carried beside the body, kept with the stored message."""
    return {
        "subject": envelope.subject, "from_her_id": envelope.from_her_id,
        "to_her_id": envelope.to_her_id, "cpa_id": envelope.cpa_id,
        "message_id": envelope.message_id, "correlation_id": envelope.correlation_id,
        "reply_to": envelope.reply_to, "properties": dict(envelope.properties),
    }


def enqueue_portal_message(store: Store, conn: Connection, *, municipality: str, key: str,
                           message: PortalMessage, portal_her_id: str, at: datetime,
                           citizen_id: str | None = None) -> int | None:
    """Encode ``message`` and add the job that sends it to the portal's async queue.

    ``citizen_id`` names whose matter it is, so that an ``E35`` AppRec (not
    digitally active) can stop what is still waiting for them.
    """
    body = encode(message)
    meta = {
        "queue": async_queue(portal_her_id), "subject": message.process,
        "from_her_id": message.sender.service_her_id, "to_her_id": portal_her_id,
        "msg_id": message.msg_id, "process": message.process, "ack": message.ack,
        "citizen_id": citizen_id, "at": at.isoformat(),
        "error_codes": [e.code for e in message.receipt.errors] if message.receipt else [],
    }
    return store.outbox.add(conn, municipality=municipality, kind=PORTAL_SEND, key=key,
                            payload=body, meta=meta)


def enqueue_error_report(store: Store, conn: Connection, *, municipality: str, key: str,
                         sender_her_id: str, subject: str | None, condition: str,
                         description: str, original_message_id: str | None) -> int | None:
    """Add the job that reports an unreadable message on its sender's error queue.

    The report is a message of its own, as Helsenorge.Messaging sends it: the
    original's ``subject``, the condition and the original's AMQP message-id
    in its properties, and no body. Echoing the message would send a hostile
    50 MB document straight back, and store it twice more on the way.
    """
    meta = {
        "queue": f"{sender_her_id}_error", "subject": subject, "from_her_id": municipality,
        "to_her_id": sender_her_id, "msg_id": None, "ack": False, "citizen_id": None,
        "properties": {"errorCondition": condition, "errorDescription": description,
                       "originalMessageId": original_message_id or ""},
    }
    return store.outbox.add(conn, municipality=municipality, kind=PORTAL_SEND, key=key,
                            payload=b"", meta=meta)
