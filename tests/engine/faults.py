"""Deaths on purpose, for the exactly-once tests: a process that dies at a chosen line.

:class:`Crash` stands for the process dying: it is a ``BaseException``, so no
``except Exception`` in the engine stops it, and it ends the loop that raised
it as a kill would. What the loop's ``finally`` does after it (handing back
leases and unsettled deliveries) stands for what the broker and the leases'
expiry do after a real death, only sooner.

The wrappers put the death right after a real operation succeeded: the
broker's delivery stored but not settled, the EPJ's write done but not marked
done. Everything else is the real component underneath.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from typing import Any

from digidialog.adapters.contract import ChangeBatch, CitizenMessage, EpjReceipt
from digidialog.sync.engine import Engine
from digidialog.transport import Delivery, Envelope, Transport
from tests.engine.world import World


class Crash(BaseException):
    """The process dies here."""


@dataclass
class Deaths:
    """How many times something died, shared between the threads that may die."""

    armed: int = 1
    happened: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def strike(self, where: str) -> None:
        """Die (raise :class:`Crash`) while armed."""
        with self._lock:
            if self.armed <= 0:
                return
            self.armed -= 1
            self.happened += 1
        raise Crash(where)


class _DyingDelivery:
    """A delivery whose receiver dies when it is about to settle it."""

    def __init__(self, inner: Delivery, deaths: Deaths) -> None:
        self._inner = inner
        self._deaths = deaths

    @property
    def envelope(self) -> Envelope:
        return self._inner.envelope

    @property
    def queue(self) -> str:
        return self._inner.queue

    @property
    def redelivered(self) -> bool:
        return self._inner.redelivered

    def accept(self) -> None:
        self._deaths.strike("after storing, before settling")
        self._inner.accept()

    def release(self) -> None:
        self._inner.release()


class DiesBeforeSettling:
    """A transport whose receiver dies between storing a delivery and accepting it."""

    def __init__(self, inner: Transport, deaths: Deaths) -> None:
        self._inner = inner
        self._deaths = deaths

    def send(self, queue: str, envelope: Envelope) -> None:
        self._inner.send(queue, envelope)

    def receive(self, queue: str, timeout: float) -> Delivery | None:
        delivery = self._inner.receive(queue, timeout)
        return None if delivery is None else _DyingDelivery(delivery, self._deaths)

    def close(self) -> None:
        self._inner.close()


class RecordingTransport:
    """A transport that notes every delivery it hands out: (AMQP message-id, redelivered)."""

    def __init__(self, inner: Transport, seen: list[tuple[str, bool]]) -> None:
        self._inner = inner
        self._seen = seen

    def send(self, queue: str, envelope: Envelope) -> None:
        self._inner.send(queue, envelope)

    def receive(self, queue: str, timeout: float) -> Delivery | None:
        delivery = self._inner.receive(queue, timeout)
        if delivery is not None:
            self._seen.append((delivery.envelope.message_id, delivery.redelivered))
        return delivery

    def close(self) -> None:
        self._inner.close()


class WatchedAdapter:
    """An EPJ adapter that counts deliveries, notes the events its feed gives, and may die
    right after a delivery the EPJ accepted."""

    def __init__(self, inner: Any, deaths: Deaths | None = None) -> None:
        self._inner = inner
        self._deaths = deaths
        self.delivered: list[str] = []
        self.events: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def deliver_message(self, message: CitizenMessage) -> EpjReceipt:
        receipt: EpjReceipt = self._inner.deliver_message(message)
        self.delivered.append(message.message_id)
        if self._deaths is not None:
            self._deaths.strike("after the EPJ stored the message, before the job was done")
        return receipt

    def changes(self, checkpoint: str | None, limit: int = 500) -> ChangeBatch:
        batch: ChangeBatch = self._inner.changes(checkpoint, limit)
        self.events.extend(event.event_id for event in batch.events)
        return batch


@dataclass
class Running:
    """An engine's loops in threads, and the deaths among them."""

    engine: Engine
    stop: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)
    died: list[str] = field(default_factory=list)

    def halt(self) -> None:
        """Stop what still runs (a process dies whole)."""
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=10)


def start(engine: Engine, only: str | None = None) -> Running:
    """Run ``engine``'s loops (those whose name starts with ``only``) in threads."""
    running = Running(engine)

    def guarded(name: str, loop: Any) -> None:
        try:
            loop(running.stop)
        except Crash:
            running.died.append(name)

    for name, loop in engine.loops().items():
        if only is None or name.startswith(only):
            thread = threading.Thread(target=guarded, args=(name, loop), name=f"doomed-{name}",
                                      daemon=True)
            thread.start()
            running.threads.append(thread)
    return running


def engine_like(world: World, *, owner: str, adapter: Any | None = None,
                transport: Any | None = None) -> Engine:
    """An engine on the world's store, as a restarted daemon (its own ``owner``) would be,
    with the adapter or transport factory given."""
    base = world.engine
    municipalities = [m if adapter is None else replace(m, adapter=adapter)
                      for m in base.municipalities]
    return Engine(world.store, municipalities, transport or world.transport_factory,
                  settings=replace(base.settings, owner=owner), policy=base.policy)


def restart(world: World, engine: Engine) -> None:
    """Run ``engine`` as the world's engine from now on (stopped with the world)."""
    world.engine = engine
    world.start_engine()
