"""One municipality's whole world for end-to-end tests: a vendor mock, a store, a transport,
the engine running its loops, and the portal simulator.

Two backends: ``embedded`` (SQLite file, queues in the store: the default of a
local run) and ``production`` (PostgreSQL and RabbitMQ over AMQP 1.0). Every
world has HER-ids of its own, so worlds on one broker never share a queue;
RabbitMQ drops such queues a minute after their last use (a policy the
fixture sets once).
"""

from __future__ import annotations

import random
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from digidialog.store import Store
from digidialog.sync.context import Municipality, ServiceRoute
from digidialog.sync.engine import Engine, EngineSettings
from digidialog.testing import mocks
from digidialog.testing.harness import ConformanceHarness
from digidialog.testing.portal import PortalSimulator
from digidialog.testing.services import amqp_url
from digidialog.transport import Transport, async_queue, error_queue, sync_queue
from digidialog.transport.amqp import AmqpTransport
from digidialog.transport.embedded import EmbeddedTransport
from tests.store.conftest import fresh_postgres_schema

T = TypeVar("T")
TEST_QUEUE_PREFIX = "97"
"""Test worlds' HER-ids start with this, so a broker policy can expire their queues."""


def unique_her_id() -> str:
    """A HER-id no other world uses: nine digits, as long as real ones get (and as the
    domain's service models allow)."""
    return TEST_QUEUE_PREFIX + "".join(random.choices("0123456789", k=7))  # noqa: S311


def eventually(probe: Callable[[], T | None], timeout: float = 10.0, what: str = "") -> T:
    """The first truthy answer of ``probe`` within ``timeout`` seconds, else fail."""
    deadline = time.monotonic() + timeout
    while True:
        answer = probe()
        if answer:
            return answer
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(0.05)


@dataclass
class World:
    """Everything one end-to-end test drives and inspects."""

    vendor: str
    harness: ConformanceHarness
    store: Store
    engine: Engine
    portal: PortalSimulator
    municipality: str
    service: str
    """The level-2 HER-id of the open, configured service."""
    service_code: str
    second_service: str
    """The level-2 HER-id of a second open, configured service."""
    second_service_code: str
    unconfigured_service: str
    """A HER-id in the municipality that no configured service has."""
    citizens: list[str]
    transport_factory: Callable[[], Transport]
    """The engine's transports (wrapped as the world was asked to)."""
    bare_transport_factory: Callable[[], Transport]
    """Transports to the same queues, unwrapped (raw bytes in, error queues read)."""
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def start_engine(self) -> None:
        """Run the engine's loops in threads, as a daemon does."""
        self._stop.clear()
        for name, loop in self.engine.loops().items():
            thread = threading.Thread(target=loop, args=(self._stop,), name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop_engine(self) -> None:
        """Stop the loops, letting in-flight work finish or go back."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=10)
        self._threads.clear()


def expire_test_queues() -> None:
    """Have RabbitMQ drop test worlds' queues a minute after their last use."""
    rabbitmqctl = shutil.which("rabbitmqctl")
    if rabbitmqctl is None:
        return
    subprocess.run(
        [rabbitmqctl, "-q", "set_policy", "--apply-to", "queues", "digidialog-test-worlds",
         f"^{TEST_QUEUE_PREFIX}[0-9]+_", '{"expires": 60000}'],
        capture_output=True, timeout=60, check=False)


@contextmanager
def backend_for(backend: str, tmp_path: Path, queues: list[str]
                ) -> Iterator[tuple[Store, Callable[[], Transport]]]:
    """A migrated store and a transport factory of ``backend``."""
    with ExitStack() as stack:
        if backend == "embedded":
            store = Store.open(f"sqlite:///{tmp_path / 'digidialog.db'}")
            stack.callback(store.close)
            yield store, lambda: EmbeddedTransport(store)
            return
        url = amqp_url()
        store = Store.open(stack.enter_context(fresh_postgres_schema()))
        stack.callback(store.close)
        declaring = AmqpTransport(url)
        declaring.declare_queues(queues)
        declaring.close()
        yield store, lambda: AmqpTransport(url)


@dataclass(frozen=True)
class Addresses:
    """The HER-ids of one world, none shared with another world."""

    municipality: str
    portal: str
    service: str
    second_service: str
    unconfigured_service: str

    @classmethod
    def fresh(cls) -> Addresses:
        """New HER-ids."""
        return cls(*(unique_her_id() for _ in range(5)))

    def queues(self) -> list[str]:
        """The queues the world uses on a broker."""
        return [async_queue(self.municipality), sync_queue(self.municipality),
                error_queue(self.municipality), async_queue(self.portal),
                sync_queue(self.portal), error_queue(self.portal), f"{self.portal}_syncreply"]


def _as_it_is(transport: Transport) -> Transport:
    return transport


@contextmanager
def world(vendor: str, backend: str, tmp_path: Path, *, citizens: int = 2,
          statuses: tuple[str, ...] = ("planned", "assigned", "cancelled"),
          addresses: Addresses | None = None, extra_queues: tuple[str, ...] = (),
          engine_transport: Callable[[Transport], Transport] = _as_it_is,
          portal_transport: Callable[[Transport], Transport] = _as_it_is) -> Iterator[World]:
    """A started world; everything stopped and removed afterwards.

    The municipality has two configured services and shows ``statuses``.
    ``engine_transport`` and ``portal_transport`` wrap each side's transport
    (message protection, fault injection); ``extra_queues`` are declared too.
    """
    at = addresses or Addresses.fresh()
    if backend == "production":
        expire_test_queues()
    with ExitStack() as stack:
        harness = mocks.start(vendor, seed_citizens=0)
        stack.callback(harness.stop)
        code, second_code = harness.open_service(), harness.second_open_service()
        seeded = harness.seed_citizens(citizens)
        store, bare = stack.enter_context(
            backend_for(backend, tmp_path, [*at.queues(), *extra_queues]))

        def factory() -> Transport:
            return engine_transport(bare())

        context = Municipality(
            name="Eksempel kommune", her_id=at.municipality, vendor=vendor,
            adapter=harness.adapter(),
            routes=(ServiceRoute(code, code, at.service),
                    ServiceRoute(second_code, second_code, at.second_service)),
            portal_her_id=at.portal, statuses=statuses)
        engine = Engine(store, [context], factory, settings=EngineSettings(
            owner=f"test-{at.municipality}", receive_timeout=0.2, idle_wait=0.05,
            poll_interval=0.2, error_wait=0.2))
        portal_side = portal_transport(bare())
        stack.callback(portal_side.close)
        portal = PortalSimulator(portal_side, portal_her_id=at.portal,
                                 names={at.municipality: "Eksempel kommune",
                                        at.service: "Hjemmesykepleien",
                                        at.second_service: "Praktisk bistand"})
        here = World(vendor, harness, store, engine, portal, at.municipality, at.service, code,
                     at.second_service, second_code, at.unconfigured_service, seeded, factory,
                     bare)
        portal.start()
        stack.callback(portal.stop)
        here.start_engine()
        stack.callback(here.stop_engine)
        yield here
