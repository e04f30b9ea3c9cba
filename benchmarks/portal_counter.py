"""The portal's side of the engine benchmark, in a process of its own: it takes the AppRecs.

In production the portal is another machine. Taking the AppRecs in the
engine's process would hand the engine's interpreter one more consumer's work
per message (about what the bare consumer spends on one), so the counter
runs in a child process and sends back, once ``count`` have arrived, every
body it accepted. The child is started, connected and attached to its queue
before the clock starts.
"""

from __future__ import annotations

import multiprocessing
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection

from digidialog.store import Store
from digidialog.transport import Transport
from digidialog.transport.amqp import AmqpTransport
from digidialog.transport.embedded import EmbeddedTransport

READY = "ready"


@dataclass(frozen=True)
class Where:
    """How the child reaches the queue: ``amqp`` with a broker's URL or ``embedded`` with a
    store's."""

    kind: str
    url: str
    queue: str


def _transport(where: Where) -> Transport:
    if where.kind == "amqp":
        return AmqpTransport(where.url)
    return EmbeddedTransport(Store.open(where.url, migrate=False))


def _collect(where: Where, count: int, patience: float, pipe: Connection) -> None:
    """The child: attach, say ready, accept ``count`` messages, send their bodies back."""
    try:
        transport = _transport(where)
        transport.receive(where.queue, timeout=0)  # connected and attached: the queue is empty
        pipe.send(READY)
        bodies: list[bytes] = []
        deadline = time.monotonic() + patience
        while len(bodies) < count and time.monotonic() < deadline:
            delivery = transport.receive(where.queue, timeout=0.5)
            if delivery is not None:
                bodies.append(delivery.envelope.body)
                delivery.accept()
        transport.close()
        pipe.send(bodies)
    except Exception as error:  # reported to the parent, which raises it as a failed run
        pipe.send(f"{type(error).__name__}: {error}")


class PortalCounter:
    """A child process that takes ``count`` messages from a queue; see the module docstring."""

    def __init__(self, where: Where, count: int, patience: float) -> None:
        context = multiprocessing.get_context("spawn")
        self._pipe, child = context.Pipe(duplex=False)
        self._process = context.Process(target=_collect, args=(where, count, patience, child),
                                        name="portal-counter", daemon=True)
        self.count = count
        self.patience = patience

    def start(self) -> None:
        """Start the child and wait until it is attached to its queue."""
        self._process.start()
        answer = self._receive(60)
        if answer != READY:
            raise RuntimeError(f"the portal counter failed: {answer}")

    def bodies(self) -> list[bytes]:
        """Wait for the child's ``count`` bodies; raise when fewer came in its patience."""
        answer = self._receive(self.patience + 30)
        if not isinstance(answer, list):
            raise RuntimeError(f"the portal counter failed: {answer}")
        if len(answer) < self.count:
            raise RuntimeError(f"only {len(answer)} of {self.count} AppRecs arrived in time")
        return answer

    def close(self) -> None:
        """Stop the child if it still runs."""
        if self._process.is_alive():
            self._process.terminate()
        self._process.join(10)

    def _receive(self, timeout: float) -> object:
        if not self._pipe.poll(timeout):
            raise RuntimeError("the portal counter did not answer in time")
        return self._pipe.recv()
