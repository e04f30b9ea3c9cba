"""Everything a crash run drives: vendor mocks, PostgreSQL, RabbitMQ, the portal, the daemons.

:func:`crash_world` starts it all and takes it all down again. The HER-ids
are fresh for every world (queues on a shared broker never mix), and start
with ``97``, so that a broker policy drops the queues of finished runs.
"""

from __future__ import annotations

import random
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from digidialog.domain.timezone import OSLO
from digidialog.store import Store
from digidialog.testing import mocks
from digidialog.testing.crash.config import PUSH_PASSWORD, PUSH_USERNAME, Site, config_text
from digidialog.testing.crash.process import DaemonProcess, free_port
from digidialog.testing.portal import PortalSimulator
from digidialog.testing.services import amqp_url, fresh_postgres_schema
from digidialog.transport import async_queue, error_queue, sync_queue
from digidialog.transport.amqp import AmqpTransport

QUEUE_PREFIX = "97"
"""Crash worlds' HER-ids start with this (as the end-to-end tests' do)."""
PORTAL_MAX_BACKOFF = 1.0
"""Seconds at most between the portal simulator's attempts to reach a broker that is away."""
DEFAULT_ENGINE: Mapping[str, object] = {"lease_seconds": 5.0, "poll_interval": 0.5}
"""Short leases and polls: a killed daemon's work is taken up again within seconds."""


def nightly_far_away() -> str:
    """A ``nightly`` time twelve hours from now (Oslo): a run that asks for no nightly job
    gets none, whenever it runs (the default, 02:00, would start one in the early morning)."""
    return (datetime.now(OSLO) + timedelta(hours=12)).strftime("%H:%M")


def her_id(rng: random.Random) -> str:
    """A fresh HER-id for queues no other world uses: nine digits, as long as real ones get
    (a TjenesteOversikt cannot list a service under a longer one)."""
    return QUEUE_PREFIX + "".join(rng.choices("0123456789", k=7))


def expire_queues() -> None:
    """Have RabbitMQ drop test worlds' queues a minute after their last use."""
    rabbitmqctl = shutil.which("rabbitmqctl")
    if rabbitmqctl is None:
        return
    subprocess.run(  # noqa: S603 - a fixed command
        [rabbitmqctl, "-q", "set_policy", "--apply-to", "queues", "digidialog-test-worlds",
         f"^{QUEUE_PREFIX}[0-9]+_", '{"expires": 60000}'],
        capture_output=True, timeout=60, check=False)


@dataclass
class CrashWorld:
    """The sites (municipality + vendor mock), the portal, the store, the daemons."""

    sites: list[Site]
    portal: PortalSimulator
    store: Store
    daemons: list[DaemonProcess]
    folder: Path
    store_url: str
    portal_her_id: str
    rewrite: Callable[[Mapping[str, object]], None] = lambda _: None
    """Writes every daemon's configuration again with these ``[[municipality]]`` keys."""
    notes: list[str] = field(default_factory=list)
    """Lines a kind of traffic adds to the report (figures that are not counts)."""

    def configure_municipalities(self, **keys: object) -> None:
        """Set ``[[municipality]]`` keys (``nightly``, ``welcome_message``) for every site,
        as an operator edits the file; only before the daemons start (they read it then)."""
        if any(daemon.running() for daemon in self.daemons):
            raise RuntimeError("configure the municipalities before the daemons start")
        self.rewrite({"nightly": nightly_far_away(), **keys})

    def site(self, municipality: str) -> Site:
        """The site of a municipality's HER-id."""
        return next(s for s in self.sites if s.municipality == municipality)

    def point_pushes(self, daemon: DaemonProcess | None = None) -> None:
        """Have each pushing vendor (Profil) push to ``daemon`` (default: the first)."""
        target = daemon or self.daemons[0]
        for site in self.sites:
            push_to = getattr(site.harness.mock, "push_to", None)
            if push_to is not None:
                # Few quick tries: a dead daemon keeps the lever (staff) waiting otherwise;
                # what does not get through is resent by redeliver_pushes.
                push_to(target.url + site.push_path(), PUSH_USERNAME, PUSH_PASSWORD,
                        attempts=2, backoff=0.05)

    def redeliver_pushes(self) -> None:
        """Profil resends what it could not push; so does its mock, when asked."""
        for site in self.sites:
            redeliver = getattr(site.harness.mock, "redeliver", None)
            if redeliver is not None:
                redeliver()


def _sites(stack: ExitStack, vendors: Sequence[str], rng: random.Random, citizens: int,
           epj_options: Mapping[str, object]) -> list[Site]:
    sites = []
    for vendor in vendors:
        harness = mocks.start(vendor, seed_citizens=0)
        stack.callback(harness.stop)
        seeded = tuple(harness.seed_citizens(citizens))
        sites.append(Site(harness, her_id(rng), her_id(rng), her_id(rng), seeded,
                          dict(epj_options)))
    return sites


@contextmanager
def crash_world(vendors: Sequence[str], *, daemons: int = 1, citizens: int = 4,
                engine: Mapping[str, object] = DEFAULT_ENGINE,
                epj_options: Mapping[str, object] | None = None,
                folder: Path | None = None) -> Iterator[CrashWorld]:
    """Mocks started and seeded, a fresh PostgreSQL schema, the queues, the portal
    simulator receiving, and ``daemons`` daemon identities configured (not started).

    ``folder`` keeps the configurations and the daemons' logs (a temporary folder,
    removed afterwards, when not given).
    """
    names = random.Random()  # noqa: S311 - queue names, not secrets; never the run's seed
    with ExitStack() as stack:
        if folder is None:
            folder = Path(tempfile.mkdtemp(prefix="digidialog-crash-"))
            stack.callback(shutil.rmtree, folder, ignore_errors=True)
        folder.mkdir(parents=True, exist_ok=True)
        broker = amqp_url()
        store_url = stack.enter_context(fresh_postgres_schema(prefix="crash"))
        store = Store.open(store_url)
        stack.callback(store.close)
        sites = _sites(stack, vendors, names, citizens, epj_options or {})
        portal_her_id = her_id(names)
        expire_queues()
        declaring = AmqpTransport(broker)
        queues = [async_queue(portal_her_id), error_queue(portal_her_id)]
        for site in sites:
            queues += [async_queue(site.municipality), sync_queue(site.municipality),
                       error_queue(site.municipality)]
        declaring.declare_queues(queues)
        declaring.close()
        # The portal tries its broker again within a second or two of losing it: after a
        # broker restart, what is measured is how soon the daemon recovers, not the portal.
        transport = AmqpTransport(broker, max_backoff=PORTAL_MAX_BACKOFF)
        stack.callback(transport.close)
        portal = PortalSimulator(transport, portal_her_id=portal_her_id).start()
        stack.callback(portal.stop)
        processes = []
        for number in range(1, daemons + 1):
            name = f"daemon-{number}"
            own = folder / name
            own.mkdir(exist_ok=True)
            process = DaemonProcess(name, own / "digidialog.toml", free_port(),
                                    own / "daemon.log")
            stack.callback(process.terminate, 30.0)
            processes.append(process)

        def rewrite(municipality: Mapping[str, object]) -> None:
            for process in processes:
                process.config.write_text(config_text(
                    sites, store_url=store_url, amqp_url=broker, portal_her_id=portal_her_id,
                    listen=f"127.0.0.1:{process.port}", shared=folder, engine=engine,
                    municipality=municipality), encoding="utf-8")

        rewrite({"nightly": nightly_far_away()})
        world = CrashWorld(sites, portal, store, processes, folder, store_url, portal_her_id,
                           rewrite)
        world.point_pushes()
        yield world
