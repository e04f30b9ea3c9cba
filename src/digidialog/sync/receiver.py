"""From a portal queue into the inbox: stored durably first, settled with the broker after.

If the store cannot take a message, the delivery is released and comes back
later; if the process dies between storing and settling, the broker delivers
it again and the inbox, keyed on MsgId, takes it only once. Either way the
message has exactly one effect.
"""

from __future__ import annotations

from digidialog.log import get_logger
from digidialog.store import Store
from digidialog.sync.header import peek_header
from digidialog.sync.jobs import PORTAL_MESSAGE, envelope_meta, inbox_key
from digidialog.sync.observer import EngineObserver
from digidialog.transport import Transport

log = get_logger("sync.receiver")


def receive_one(transport: Transport, store: Store, *, municipality: str, queue: str,
                timeout: float, observer: EngineObserver | None = None) -> bool:
    """Move at most one message from ``queue`` to the inbox; ``True`` if one arrived."""
    delivery = transport.receive(queue, timeout=timeout)
    if delivery is None:
        return False
    envelope = delivery.envelope
    header = peek_header(envelope.body)
    key = inbox_key(municipality, header.msg_id if header else None, envelope.body)
    try:
        with store.transaction() as conn:
            added = store.inbox.add(conn, municipality=municipality, kind=PORTAL_MESSAGE,
                                    key=key, payload=envelope.body,
                                    meta=envelope_meta(envelope))
    except BaseException:
        # not stored: hand it back, the broker gives it to us (or another daemon) again
        delivery.release()
        raise
    delivery.accept()
    if observer is not None and added is not None:
        observer.message_received(municipality, envelope.subject or "unknown")
    log.info("portal message received", queue=queue, msg_id=header.msg_id if header else None,
             amqp_message_id=envelope.message_id, duplicate=added is None,
             redelivered=delivery.redelivered)
    return True
