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

# Outbox kinds: what remains to be done.
PORTAL_SEND = "portal.send"
"""Put encoded bytes on a portal queue (a message, an AppRec, an error report)."""
EPJ_EVENT = "epj.event"
"""An event the EPJ reported, to be turned into messages for the portal."""
EPJ_DELIVER = "epj.deliver"
"""Put a citizen's message into the EPJ."""
EPJ_DIGITAL_STATUS = "epj.digital-status"
"""Tell the EPJ a citizen became (in)active on Helsenorge."""


def inbox_key(municipality: str, msg_id: str | None, body: bytes) -> str:
    """The idempotency key of a received message: its MsgId, or its digest when unreadable."""
    if msg_id:
        return f"{municipality}:msg:{msg_id}"
    return f"{municipality}:sha256:{hashlib.sha256(body).hexdigest()}"


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
                         body: bytes, sender_her_id: str, condition: str, description: str,
                         original_message_id: str | None) -> int | None:
    """Add the job that reports an unreadable message on its sender's error queue."""
    meta = {
        "queue": f"{sender_her_id}_error", "subject": None, "from_her_id": municipality,
        "to_her_id": sender_her_id, "msg_id": None, "ack": False, "citizen_id": None,
        "properties": {"errorCondition": condition, "errorDescription": description,
                       "originalMessageId": original_message_id or ""},
    }
    return store.outbox.add(conn, municipality=municipality, kind=PORTAL_SEND, key=key,
                            payload=body, meta=meta)
