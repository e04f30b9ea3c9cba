"""ProtectedTransport: any transport, with CMS sign-then-encrypt on the wire.

``send`` signs the body as the HER-id it is from (``from_her_id``) and
encrypts it for the party it is to (``to_her_id``), with the content type
``application/pkcs7-mime; smime-type=signed-and-enveloped-data``. ``receive``
decrypts and verifies that the party named by ``fromHerId`` signed it, and
hands on the MsgHead bytes. Synchronous requests and their replies
(``_sync``, ``_syncreply``) are protected like everything else.

Two kinds of message pass as they are:

- anything on an ``_error`` queue: the reports there carry no body, and
  Helsenorge.Messaging neither encrypts nor decrypts them;
- a received body larger than :data:`MAX_PROTECTED_BYTES`: it is not opened
  (decrypting 50 MB of a flood costs what the flood wants it to cost); the
  engine's receiver refuses it as too large, as it does any such body.

A received message that cannot be unprotected is **not** lost and not
raised: the delivery is handed on with its raw body and the application
properties :data:`~digidialog.protection.PROTECTION_ERROR` (the
errorCondition) and :data:`~digidialog.protection.PROTECTION_ERROR_DESCRIPTION`,
so that the engine stores it like any other (nothing is settled before it is
stored) and then reports it on the sender's ``_error`` queue and parks it.
Those two properties are removed from whatever arrives, so only this wrapper
can set them.
"""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType

from digidialog.log import get_logger
from digidialog.protection import MARKERS, PROTECTION_ERROR, PROTECTION_ERROR_DESCRIPTION
from digidialog.protection.errors import ProtectionError
from digidialog.protection.protector import CmsProtection
from digidialog.transport.base import Delivery, Envelope, Transport
from digidialog.xml.safe import MAX_DOCUMENT_BYTES

log = get_logger("protection.transport")

SIGNED_AND_ENVELOPED = "application/pkcs7-mime; smime-type=signed-and-enveloped-data"
"""The content type of a protected message (Helsenorge.Messaging's ``SignedAndEnveloped``)."""

MAX_PROTECTED_BYTES = MAX_DOCUMENT_BYTES + 256 * 1024
"""The largest body opened: the largest document read, plus room for CMS and certificates."""

ERROR_QUEUE_SUFFIX = "_error"
INTERNAL_ERROR = "transport:internal-error"
"""The condition of a failure that is our fault (a bug), not the sender's."""


def passes_unprotected(queue: str) -> bool:
    """Whether messages on ``queue`` travel as they are (the ``_error`` queues)."""
    return queue.endswith(ERROR_QUEUE_SUFFIX)


class ProtectedDelivery:
    """A delivery of the inner transport, showing the unprotected (or marked) envelope."""

    def __init__(self, inner: Delivery, envelope: Envelope) -> None:
        self._inner = inner
        self._envelope = envelope

    @property
    def envelope(self) -> Envelope:
        """What arrived, unprotected; or raw and marked when that failed."""
        return self._envelope

    @property
    def queue(self) -> str:
        """The queue it arrived on."""
        return self._inner.queue

    @property
    def redelivered(self) -> bool:
        """Whether it was handed out before."""
        return self._inner.redelivered

    def accept(self) -> None:
        """Settle it with the inner transport."""
        self._inner.accept()

    def release(self) -> None:
        """Hand it back to the inner transport."""
        self._inner.release()


class ProtectedTransport:
    """Wraps ``inner``: protects sends, unprotects receives, with ``protection``."""

    def __init__(self, inner: Transport, protection: CmsProtection) -> None:
        self.inner = inner
        self.protection = protection

    def send(self, queue: str, envelope: Envelope) -> None:
        """Sign and encrypt the body, then send; raises :class:`ProtectionError` if it cannot."""
        if passes_unprotected(queue):
            self.inner.send(queue, envelope)
            return
        body = self.protection.protect(envelope.body, sender=envelope.from_her_id,
                                       receiver=envelope.to_her_id)
        self.inner.send(queue, replace(envelope, body=body, content_type=SIGNED_AND_ENVELOPED))

    def receive(self, queue: str, timeout: float) -> ProtectedDelivery | None:
        """The next message on ``queue``, unprotected (or raw and marked), or ``None``."""
        delivery = self.inner.receive(queue, timeout)
        if delivery is None:
            return None
        envelope = delivery.envelope
        if any(marker in envelope.properties for marker in MARKERS):
            envelope = replace(envelope, properties=MappingProxyType(
                {k: v for k, v in envelope.properties.items() if k not in MARKERS}))
        if passes_unprotected(queue) or len(envelope.body) > MAX_PROTECTED_BYTES:
            return ProtectedDelivery(delivery, envelope)
        try:
            content = self.protection.unprotect(envelope.body, sender=envelope.from_her_id)
        except ProtectionError as error:
            log.warning("received message could not be unprotected", queue=queue,
                        amqp_message_id=envelope.message_id, from_her_id=envelope.from_her_id,
                        condition=error.condition, problem=str(error))
            return ProtectedDelivery(delivery, _marked(envelope, error.condition, str(error)))
        except Exception as error:  # a bug here must not make the message a poison pill
            log.exception("unprotecting a received message failed unexpectedly", queue=queue,
                          amqp_message_id=envelope.message_id)
            return ProtectedDelivery(delivery, _marked(
                envelope, INTERNAL_ERROR, f"could not be read ({type(error).__name__})"))
        return ProtectedDelivery(delivery, replace(envelope, body=content))

    def close(self) -> None:
        """Close the inner transport."""
        self.inner.close()


def _marked(envelope: Envelope, condition: str, description: str) -> Envelope:
    """``envelope`` as it arrived, with the marker properties saying why it was not opened."""
    marked = {**envelope.properties, PROTECTION_ERROR: condition,
              PROTECTION_ERROR_DESCRIPTION: description}
    return replace(envelope, properties=MappingProxyType(marked))
