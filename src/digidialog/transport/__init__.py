"""How bytes reach the portal: one small contract, three transports.

:mod:`~digidialog.transport.base` is the contract; ``amqp`` speaks AMQP 1.0 to a
real broker, ``embedded`` keeps queues in the store, ``memory`` lives in one
process for unit tests.
"""

from digidialog.transport.base import (
    APPREC_SUBJECT,
    Delivery,
    Envelope,
    Transport,
    async_queue,
    error_queue,
    request,
    sync_queue,
    syncreply_queue,
)

__all__ = [
    "APPREC_SUBJECT",
    "Delivery",
    "Envelope",
    "Transport",
    "async_queue",
    "error_queue",
    "request",
    "sync_queue",
    "syncreply_queue",
]
