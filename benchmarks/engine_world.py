"""One municipality's world for the engine benchmark: EPJ mock, store, transport, portal.

Assembled as ``tests/engine/world.py`` assembles it for the end-to-end tests,
without pytest: the Gerica mock through :func:`digidialog.testing.mocks.start`,
a migrated store, a transport factory and a :class:`PortalSimulator` that
sends the citizen messages. Two backends:

- ``production``: PostgreSQL (a fresh schema, dropped afterwards) and RabbitMQ
  over AMQP 1.0 (fresh queues, deleted afterwards where ``rabbitmqctl`` is at
  hand);
- ``embedded``: a SQLite file with the queues in the store, the default of a
  local run.

The servers are the ones the tests use (``$DIGIDIALOG_TEST_POSTGRES``,
``$DIGIDIALOG_TEST_AMQP``, or the local defaults).
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, redirect_stderr
from dataclasses import dataclass
from pathlib import Path

from benchmarks.portal_counter import Where
from digidialog.store import Store
from digidialog.sync.context import Municipality, ServiceRoute
from digidialog.sync.engine import Engine, EngineSettings
from digidialog.testing import mocks
from digidialog.testing.harness import ConformanceHarness
from digidialog.testing.portal import PortalSimulator, Sent
from digidialog.testing.services import (
    DEFAULT_AMQP,
    DEFAULT_POSTGRES,
    fresh_postgres_schema,
    listening,
)
from digidialog.transport import Transport, async_queue, error_queue, sync_queue
from digidialog.transport.amqp import AmqpTransport
from digidialog.transport.embedded import EmbeddedTransport

PRODUCTION = "production"
EMBEDDED = "embedded"
BACKEND_NAMES = {PRODUCTION: "PostgreSQL + RabbitMQ", EMBEDDED: "SQLite + embedded"}
VENDOR = "gerica"
CITIZENS = 5
"""Citizens receiving the open service; the messages are spread over them."""


def postgres() -> str:
    """The PostgreSQL URL the benchmark uses."""
    return os.environ.get("DIGIDIALOG_TEST_POSTGRES", DEFAULT_POSTGRES)


def broker() -> str:
    """The AMQP URL the benchmark uses."""
    return os.environ.get("DIGIDIALOG_TEST_AMQP", DEFAULT_AMQP)


def missing_servers() -> str | None:
    """Why the production backend cannot be measured here, or ``None`` when it can."""
    if not listening(postgres(), 5432):
        return "PostgreSQL is not listening"
    if not listening(broker(), 5672):
        return "no AMQP broker is listening"
    return None


@contextmanager
def quiet() -> Iterator[None]:
    """Logs into the void while measuring.

    The engine's are written as the daemon writes them (to stderr), then dropped,
    or kept in the file ``$BENCH_LOG`` names; the mock's HTTP access log is not
    written at all (a real EPJ keeps its own, elsewhere, not in the engine's
    process).
    """
    werkzeug = logging.getLogger("werkzeug")
    level = werkzeug.level
    werkzeug.setLevel(logging.WARNING)
    try:
        with open(os.environ.get("BENCH_LOG", os.devnull), "w") as void, redirect_stderr(void):
            yield
    finally:
        werkzeug.setLevel(level)


def _her_id() -> str:
    """A HER-id no other world uses (the tests' worlds start theirs with 97)."""
    return f"98{uuid.uuid4().int % 10**8:08d}"


def _delete_queues(names: list[str]) -> None:
    rabbitmqctl = shutil.which("rabbitmqctl")
    if rabbitmqctl is None:
        return  # they stay, empty; the broker's own policies may expire them
    for name in names:
        subprocess.run([rabbitmqctl, "-q", "delete_queue", name],  # noqa: S603 - fixed argv
                       capture_output=True, check=False, timeout=60)


@contextmanager
def _backend(backend: str, directory: Path, queues: list[str]
             ) -> Iterator[tuple[Store, Callable[[], Transport]]]:
    with ExitStack() as stack:
        if backend == EMBEDDED:
            store = Store.open(f"sqlite:///{directory / f'bench-{uuid.uuid4().hex[:8]}.db'}")
            stack.callback(store.close)
            yield store, lambda: EmbeddedTransport(store)
            return
        url = broker()
        store = Store.open(stack.enter_context(fresh_postgres_schema(postgres(), prefix="bench")))
        stack.callback(store.close)
        stack.callback(_delete_queues, queues)
        declaring = AmqpTransport(url)
        try:
            declaring.declare_queues(queues)
        finally:
            declaring.close()
        yield store, lambda: AmqpTransport(url)


@dataclass
class BenchWorld:
    """What a measurement drives: the store, the portal, the EPJ mock and the engine's parts."""

    backend: str
    harness: ConformanceHarness
    store: Store
    transport_factory: Callable[[], Transport]
    municipality: Municipality
    service: str
    """The level-2 HER-id of the open, configured service."""
    citizens: list[str]
    portal: PortalSimulator

    @property
    def apprec_queue(self) -> str:
        """Where the engine puts its AppRecs: the portal's async queue."""
        return async_queue(self.municipality.portal_her_id)

    def apprec_source(self) -> Where:
        """Where another process finds the AppRecs."""
        if self.backend == PRODUCTION:
            return Where("amqp", broker(), self.apprec_queue)
        return Where("embedded", self.store.url, self.apprec_queue)

    def preload(self, count: int) -> list[Sent]:
        """Put ``count`` citizen messages on the municipality's queue; what was sent."""
        return [
            self.portal.send_citizen_message(
                self.municipality.her_id, self.service, self.citizens[n % len(self.citizens)],
                body=f"Melding nummer {n}: kan dere komme en halvtime senere i morgen?",
            )
            for n in range(count)
        ]

    def engine(self, settings: EngineSettings | None = None) -> Engine:
        """A new engine over this world, with the daemon's default timings."""
        settings = settings or EngineSettings(owner=f"bench-{self.municipality.her_id}")
        return Engine(self.store, [self.municipality], self.transport_factory,
                      settings=settings)


@contextmanager
def bench_world(backend: str, directory: Path, *, vendor: str = VENDOR,
                statuses: tuple[str, ...] = ("planned", "assigned", "cancelled")
                ) -> Iterator[BenchWorld]:
    """A world on ``backend`` with nothing running yet; everything removed afterwards.

    ``vendor``'s mock plays the EPJ; the municipality shows ``statuses``.
    """
    municipality, portal_her_id, service = _her_id(), _her_id(), _her_id()
    queues = [async_queue(municipality), sync_queue(municipality), error_queue(municipality),
              async_queue(portal_her_id), error_queue(portal_her_id)]
    with ExitStack() as stack:
        harness = mocks.start(vendor, seed_citizens=0)
        stack.callback(harness.stop)
        code = harness.open_service()
        citizens = harness.seed_citizens(CITIZENS)
        store, factory = stack.enter_context(_backend(backend, directory, queues))
        context = Municipality(
            name="Eksempel kommune", her_id=municipality, vendor=vendor,
            adapter=harness.adapter(),
            routes=(ServiceRoute(code, code, service),
                    ServiceRoute(harness.second_open_service(), harness.second_open_service(),
                                 _her_id())),
            portal_her_id=portal_her_id, statuses=statuses)
        portal_transport = factory()
        stack.callback(portal_transport.close)
        portal = PortalSimulator(portal_transport, portal_her_id=portal_her_id,
                                 names={municipality: "Eksempel kommune",
                                        service: "Hjemmesykepleien"})
        yield BenchWorld(backend, harness, store, factory, context, service, citizens, portal)
