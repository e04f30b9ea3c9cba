"""The demo's world: three vendor mocks, one daemon serving a municipality on each, the portal.

Everything runs in this process, as a municipality would run it on one
machine: the daemon is :class:`digidialog.daemon.app.Daemon` with the
embedded default configuration (SQLite, queues in the store), its loops
and HTTP server running until the demo ends; Profil pushes to the daemon's
own endpoint. The portal simulator plays Helsenorge over the same store's
queues and declares the demo's citizens digitally active on its side.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from digidialog.daemon.app import Daemon
from digidialog.daemon.config import embedded_default
from digidialog.helsenorge import Patient
from digidialog.sync.context import Municipality
from digidialog.sync.engine import EngineSettings
from digidialog.testing import mocks
from digidialog.testing.harness import ConformanceHarness
from digidialog.testing.portal import PortalSimulator
from digidialog.transport.embedded import EmbeddedTransport

PORTAL_HER_ID = "100000"
PUSH_USER, PUSH_PASSWORD = "profil", "demo-push-secret"
WELCOME = ("Velkommen til digital dialog med hjemmetjenesten! Her kan du sende oss "
           "meldinger, se når vi kommer og avbestille besøk.")


@dataclass(frozen=True)
class Place:
    """One municipality of the demo, on one vendor's EPJ."""

    name: str
    her_id: str
    vendor: str


PLACES = (
    Place("Fjordvik kommune", "1010001", "gerica"),
    Place("Bakkestad kommune", "1020001", "profil"),
    Place("Elvedal kommune", "1030001", "cosdoc"),
)


@dataclass
class Municipal:
    """A running municipality: its mock EPJ, its context in the daemon, its citizen."""

    place: Place
    harness: ConformanceHarness
    context: Municipality
    citizen: Patient
    services: tuple[tuple[str, str, str], ...]

    @property
    def first_service(self) -> str:
        """The level-2 HER-id of the first open service (home nursing)."""
        return self.services[0][1]


@dataclass
class Stage:
    """The running demo: the daemon, the portal simulator and every municipality."""

    daemon: Daemon
    portal: PortalSimulator
    municipalities: list[Municipal]
    folder: Path


def _config_tables(place: Place, harness: ConformanceHarness, folder: Path
                   ) -> tuple[dict[str, object], tuple[tuple[str, str, str], ...]]:
    settings = harness.settings()
    epj: dict[str, object] = {"base_url": settings.base_url}
    for key in ("username", "password", "client_cert", "client_key", "ca"):
        value = getattr(settings, key)
        if value is not None:
            epj[key] = str(value)
    epj.update(settings.options)
    if place.vendor == "profil":
        epj.update(push_username=PUSH_USER, push_password=PUSH_PASSWORD,
                   event_store=str(folder / "profil-events.sqlite3"))
    adapter = harness.adapter()
    names = {s.code: s.name for s in adapter.services()}
    codes = (harness.open_service(), harness.second_open_service())
    base = int(place.her_id)
    services = tuple((code, str(base + 1 + n), names.get(code, code))
                     for n, code in enumerate(codes))
    table: dict[str, object] = {
        "name": place.name, "her_id": place.her_id, "vendor": place.vendor,
        "statuses": ["planned", "assigned", "cancelled", "completed"],
        "welcome_message": WELCOME, "epj": epj,
        "service": [{"vendor_code": code, "her_id": her_id} for code, her_id, _ in services],
    }
    return table, services


LEFT_BEHIND = ("demo.db", "demo.db-wal", "demo.db-shm", "profil-events.sqlite3",
               "profil-events.sqlite3-wal", "profil-events.sqlite3-shm")
"""What a run leaves in its folder, removed before the next: every demo starts afresh."""


@contextmanager
def stage(folder: Path) -> Iterator[Stage]:
    """Start everything (the store in ``folder``); stop and close it all afterwards."""
    for name in LEFT_BEHIND:
        (folder / name).unlink(missing_ok=True)
    with ExitStack() as stack:
        harnesses = []
        for place in PLACES:
            harness = mocks.start(place.vendor, seed_citizens=0)
            stack.callback(harness.stop)
            harnesses.append(harness)
        tables, services = zip(*(_config_tables(p, h, folder)
                                 for p, h in zip(PLACES, harnesses, strict=True)),
                               strict=True)
        config = embedded_default(list(tables), store_url=f"sqlite:///{folder / 'demo.db'}",
                                  portal_her_id=PORTAL_HER_ID, listen="127.0.0.1:0")
        daemon = Daemon.open(config, engine_settings=EngineSettings(
            owner="demo", receive_timeout=0.2, idle_wait=0.05, poll_interval=0.5))
        runner = daemon.runner(grace=10)
        thread = threading.Thread(target=runner.run, name="demo-daemon", daemon=True)
        thread.start()
        stack.callback(thread.join, 15)
        stack.callback(runner.stop)
        host, port = daemon.http.address
        municipals = []
        for place, harness, offered in zip(PLACES, harnesses, services, strict=True):
            if place.vendor == "profil":
                harness.mock.push_to(  # type: ignore[attr-defined]
                    f"http://{host}:{port}/epj/{place.her_id}/ProfilNotify",
                    PUSH_USER, PUSH_PASSWORD)
            context = next(m for m in daemon.engine.municipalities if m.her_id == place.her_id)
            citizen_id = harness.seed_citizens(1)[0]
            record = next(c for c in harness.adapter().citizens() if c.national_id == citizen_id)
            given, _, family = record.name.rpartition(" ")
            municipals.append(Municipal(
                place, harness, context,
                Patient(id=citizen_id, given_name=given or record.name, family_name=family),
                offered))
        transport = EmbeddedTransport(daemon.store)
        stack.callback(transport.close)
        names = {m.place.her_id: m.place.name for m in municipals}
        names.update({her_id: name for m in municipals for _, her_id, name in m.services})
        portal = PortalSimulator(transport, portal_her_id=PORTAL_HER_ID, names=names)
        portal.start()
        stack.callback(portal.stop)
        yield Stage(daemon, portal, municipals, folder)
