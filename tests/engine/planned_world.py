"""A world for HentPlanlagteTimer end to end: an EPJ mock holding visits in every status, the
engine running its loops, and the portal simulator asking synchronously.

The municipality configures three services: the mock's two open ones (with
Helsenorge TjenesteIds that differ from the EPJ's codes, as a real
configuration may have them) and its closed one. Visits are put in the mock
as the EPJ would hold them; the engine reads them on first contact (the
read-window job), as it does in production. The roster of services and
recipients is read from the EPJ by the engine's own directory, which is what
the nightly reconciliation does each night.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from digidialog.domain import (
    Appointment,
    AppointmentStatus,
    CancellationReason,
    Frequency,
    Recurrence,
)
from digidialog.domain.timezone import OSLO
from digidialog.store import Store
from digidialog.sync.context import Municipality, ServiceRoute
from digidialog.sync.directory import Directory
from digidialog.sync.engine import Engine, EngineSettings
from digidialog.sync.window import StoreRoster
from digidialog.testing import mocks
from digidialog.testing.harness import ConformanceHarness
from digidialog.testing.portal import PortalSimulator
from digidialog.transport import async_queue, error_queue, sync_queue, syncreply_queue
from tests.engine.world import backend_for, expire_test_queues, unique_her_id

NAME = "Eksempel kommune"
SEED_CODES = ("HSP", "PB")
"""The seed's codes of the two open services, which each mock maps to its own."""


@dataclass
class PlannedWorld:
    """What an end-to-end test of HentPlanlagteTimer drives and inspects."""

    harness: ConformanceHarness
    store: Store
    engine: Engine
    portal: PortalSimulator
    municipality: Municipality
    routes: dict[str, ServiceRoute]
    """By role: ``open``, ``second`` (both open) and ``closed``."""
    citizens: list[str]
    now: datetime
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def start_engine(self) -> None:
        """Run the engine's loops in threads, as a daemon does."""
        for name, loop in self.engine.loops().items():
            thread = threading.Thread(target=loop, args=(self._stop,), name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop_engine(self) -> None:
        """Stop the loops."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=10)

    def list_roster(self) -> None:
        """Read services and recipients from the EPJ into the store, as the nightly job does."""
        directory = Directory(self.harness.adapter(),
                              record=StoreRoster(self.store, self.municipality.her_id))
        for route in self.routes.values():
            directory.service(route.vendor_code)
            directory.recipient(self.citizens[0], route.vendor_code)

    def hold(self, citizen: str, appointment: Appointment) -> None:
        """The EPJ holds ``appointment`` for ``citizen`` (a seed, not a change).

        Seeded through each mock's own store until the harness offers a lever
        for visits in any status.
        """
        mock = self.harness.mock
        vendor = self.harness.vendor
        if vendor == "gerica":
            mock.add_appointment(citizen, appointment)  # type: ignore[attr-defined]
        elif vendor == "profil":
            with mock._lock:  # type: ignore[attr-defined]
                mock.state.add_appointment(citizen, appointment)  # type: ignore[attr-defined]
        else:
            mock.store.add_appointment(  # type: ignore[attr-defined]
                self.harness._nr(citizen), appointment, announce=False)  # type: ignore[attr-defined]


def visits_in_every_status(now: datetime) -> list[Appointment]:
    """A planned series from tomorrow, a cancelled future visit, and a past planned window,
    a past cancelled visit and a visit completed today (all three never shown)."""
    tomorrow = (now + timedelta(days=1)).replace(hour=8)
    past = now - timedelta(hours=4)
    return [
        Appointment(uid="serie-1", series="serie-1", status=AppointmentStatus.PLANNED,
                    start=tomorrow, end=tomorrow + timedelta(hours=2), service_id="HSP",
                    expected_duration=timedelta(minutes=30),
                    recurrence=Recurrence(frequency=Frequency.DAILY,
                                          until=(tomorrow + timedelta(days=6)).date())),
        Appointment(uid="avlyst-1", status=AppointmentStatus.CANCELLED,
                    start=tomorrow + timedelta(hours=5),
                    end=tomorrow + timedelta(hours=5, minutes=30), service_id="PB",
                    cancellation_reason=CancellationReason.BY_CITIZEN),
        Appointment(uid="vindu-0", status=AppointmentStatus.PLANNED, start=past,
                    end=past + timedelta(hours=1), service_id="HSP"),
        Appointment(uid="avlyst-0", status=AppointmentStatus.CANCELLED, start=past,
                    end=past + timedelta(minutes=30), service_id="PB",
                    cancellation_reason=CancellationReason.BY_SERVICE),
        Appointment(uid="utfort-0", status=AppointmentStatus.COMPLETED, start=past,
                    end=past + timedelta(minutes=30), service_id="HSP",
                    employees=("Kari Sykepleier",), completed_at=past + timedelta(minutes=40)),
    ]


@contextmanager
def planned_world(vendor: str, backend: str, tmp_path: Path, *, statuses: tuple[str, ...],
                  require_registered_proxy: bool = False) -> Iterator[PlannedWorld]:
    """A started world whose first citizen's EPJ holds visits in every status."""
    municipality, portal_her_id = unique_her_id(), unique_her_id()
    queues = [async_queue(municipality), sync_queue(municipality), error_queue(municipality),
              async_queue(portal_her_id), error_queue(portal_her_id),
              syncreply_queue(portal_her_id)]
    if backend == "production":
        expire_test_queues()
    now = datetime.now(OSLO).replace(minute=0, second=0, microsecond=0)
    with ExitStack() as stack:
        harness = mocks.start(vendor, seed_citizens=0)
        stack.callback(harness.stop)
        citizens = harness.seed_citizens(2)
        closed = next(s.code for s in harness.adapter().services() if not s.open_for_dialog)
        routes = {
            "open": ServiceRoute(harness.open_service(), "9", unique_her_id()),
            "second": ServiceRoute(harness.second_open_service(), "12", unique_her_id()),
            "closed": ServiceRoute(closed, "31", unique_her_id()),
        }
        store, factory = stack.enter_context(backend_for(backend, tmp_path, queues))
        context = Municipality(
            name=NAME, her_id=municipality, vendor=vendor, adapter=harness.adapter(),
            routes=tuple(routes.values()), portal_her_id=portal_her_id, statuses=statuses,
            require_registered_proxy=require_registered_proxy)
        engine = Engine(store, [context], factory, settings=EngineSettings(
            owner=f"test-{municipality}", receive_timeout=0.2, idle_wait=0.05,
            poll_interval=0.2, error_wait=0.2))
        portal_transport = factory()
        stack.callback(portal_transport.close)
        portal = PortalSimulator(portal_transport, portal_her_id=portal_her_id,
                                 names={municipality: NAME})
        here = PlannedWorld(harness, store, engine, portal, context, routes, citizens, now)
        harness.seed_visits(citizens[0], 3, now + timedelta(hours=30))
        for appointment in visits_in_every_status(now):
            here.hold(citizens[0], appointment)
        here.list_roster()
        portal.start()
        stack.callback(portal.stop)
        here.start_engine()
        stack.callback(here.stop_engine)
        yield here
