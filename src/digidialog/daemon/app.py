"""The daemon assembled from its configuration: store, transport, adapters, engine, HTTP.

:class:`Daemon` is what ``digidialog run`` starts and what the other
operator commands (``status``, ``deadletter``, ``overdue``) open to read the
same store. Everything is built from a checked :class:`DaemonConfig`, so a
bad file has been refused before anything here runs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from digidialog.adapters import registry
from digidialog.adapters.contract import EpjAdapter
from digidialog.daemon.config_models import DaemonConfig, MunicipalityConfig
from digidialog.daemon.epj_health import EpjReachability, watch
from digidialog.daemon.health import Health
from digidialog.daemon.http import HttpServer
from digidialog.daemon.metrics import Metrics
from digidialog.daemon.nightly import refresh_nightly
from digidialog.daemon.protection import build_protection
from digidialog.daemon.runner import Runner
from digidialog.log import get_logger
from digidialog.protection.expiry import ExpiryWatch, inventory
from digidialog.protection.protector import CmsProtection
from digidialog.protection.transport import ProtectedTransport
from digidialog.store import Store
from digidialog.sync.context import Municipality, ServiceRoute
from digidialog.sync.engine import Engine, EngineSettings
from digidialog.sync.nightly import nightly_loops
from digidialog.transport import (
    Transport,
    async_queue,
    error_queue,
    sync_queue,
    syncreply_queue,
)
from digidialog.transport.amqp import AmqpTransport
from digidialog.transport.embedded import EmbeddedTransport

log = get_logger("daemon.app")

CERTIFICATE_CHECK_SECONDS = 3600.0
"""How often the daemon looks for certificates about to expire (each is logged once a day)."""


def open_store(config: DaemonConfig) -> Store:
    """The configured store, migrated to the current schema."""
    return Store.open(config.store.connection_url())


def transport_factory(config: DaemonConfig, store: Store,
                      protection: CmsProtection | None = None) -> Callable[[], Transport]:
    """Makes one transport per loop (AMQP connections are not shared between threads).

    With ``protection``, each is a :class:`ProtectedTransport` around the broker's.
    """
    broker = broker_factory(config, store)
    if protection is None:
        return broker
    return lambda: ProtectedTransport(broker(), protection)


def broker_factory(config: DaemonConfig, store: Store) -> Callable[[], Transport]:
    """Makes one bare transport to the configured broker (or the store's queues)."""
    portal = config.portal
    if portal.transport == "embedded":
        return lambda: EmbeddedTransport(store)
    url = portal.connection_url()
    if url is None:  # the configuration refuses amqp without a URL; kept for the type checker
        raise ValueError("the amqp transport needs [portal] url")
    return lambda: AmqpTransport(url, address_prefix=portal.address_prefix)


def queues_of(config: DaemonConfig) -> list[str]:
    """Every queue the daemon receives from or sends to on its own account."""
    names = [async_queue(config.portal.her_id), error_queue(config.portal.her_id),
             syncreply_queue(config.portal.her_id)]
    for municipality in config.municipalities:
        names += [async_queue(municipality.her_id), sync_queue(municipality.her_id),
                  error_queue(municipality.her_id)]
    return names


def declare_missing_queues(config: DaemonConfig, probe: Transport) -> list[str]:
    """Declare the configuration's queues that the broker lacks (durable); the names declared.

    ``probe`` is a bare transport (:func:`broker_factory`); the store's own queues need
    no declaring.
    """
    if isinstance(probe, AmqpTransport):
        return probe.declare_queues(queues_of(config))
    return []


def municipality_context(config: DaemonConfig, municipality: MunicipalityConfig,
                         adapter: EpjAdapter) -> Municipality:
    """What the engine needs to know about one configured municipality."""
    return Municipality(
        name=municipality.name, her_id=municipality.her_id, vendor=municipality.vendor,
        adapter=adapter,
        routes=tuple(ServiceRoute(s.vendor_code, s.service_id, s.her_id)
                     for s in municipality.services),
        portal_her_id=config.portal.her_id,
        statuses=tuple(status.value for status in municipality.statuses),
        require_registered_proxy=municipality.proxies == "register",
        nightly_at=municipality.nightly, welcome_message=municipality.welcome_message,
    )


def settings_of(config: DaemonConfig) -> EngineSettings:
    """The engine's timings from ``[engine]`` (its defaults where the file says nothing)."""
    return EngineSettings(lease_seconds=config.engine.lease_seconds,
                          poll_interval=config.engine.poll_interval)


class Daemon:
    """One running digidialog: every configured municipality in one process."""

    def __init__(self, config: DaemonConfig, store: Store, *,
                 engine_settings: EngineSettings | None = None) -> None:
        self.config = config
        self.store = store
        self.health = Health()
        self.metrics = Metrics()
        self.protection = build_protection(config)
        self.expiry = None if self.protection is None or config.portal.cms is None else \
            ExpiryWatch(self.protection,
                        warning=timedelta(days=config.portal.cms.expiry_warning_days))
        self.transports = transport_factory(config, store, self.protection)
        self.adapters: list[EpjAdapter] = []
        # The engine's own EPJ calls tell /readyz whether each EPJ answers (no probe calls).
        self.epj_reachability = EpjReachability()
        try:
            contexts = []
            for municipality in config.municipalities:
                adapter = registry.load(municipality.vendor).create(
                    municipality.epj.adapter_settings())
                self.adapters.append(adapter)
                watched = watch(adapter, municipality.her_id, self.epj_reachability)
                contexts.append(municipality_context(config, municipality, watched))
        except BaseException:
            self._close_adapters()
            raise
        self.engine = Engine(store, contexts, self.transports,
                             settings=engine_settings or settings_of(config),
                             observer=self.metrics)
        self.http = HttpServer.from_config(config.http, health=self.health, metrics=self.metrics)
        self._probe = broker_factory(config, store)()
        self.health.add_check("store", store.ping)
        self.health.add_check("broker", self._ping_transport)
        for municipality in config.municipalities:
            self.health.add_check(f"epj:{municipality.her_id}",
                                  self.epj_reachability.check(municipality.her_id))
        self.metrics.add_refresher(self._refresh_metrics)
        if self.expiry is not None:
            self.metrics.add_refresher(self._refresh_certificates)
        for context in contexts:
            endpoint = context.adapter.push_endpoint()
            if endpoint is not None:
                path = self.http.mount(context.her_id, endpoint)
                log.info("vendor push endpoint mounted", municipality=context.her_id, path=path)

    @classmethod
    def open(cls, config: DaemonConfig, *,
             engine_settings: EngineSettings | None = None) -> Daemon:
        """Open the store (migrating it) and build the daemon around it."""
        store = open_store(config)
        try:
            return cls(config, store, engine_settings=engine_settings)
        except BaseException:
            store.close()
            raise

    def prepare_queues(self) -> list[str]:
        """Declare the broker queues that are missing (durable); the names declared."""
        return declare_missing_queues(self.config, self._probe)

    def run(self, *, grace: float = 30.0) -> int:
        """Serve until SIGTERM or SIGINT; the exit status."""
        return self.runner(grace=grace).run()

    def runner(self, *, grace: float = 30.0) -> Runner:
        """Start serving HTTP and return the runner of every loop, not yet running.

        ``runner.run()`` serves until SIGTERM or SIGINT (or ``runner.stop()``, from
        another thread: the demo runs the daemon so), then closes the daemon.
        """
        declared = self.prepare_queues()
        if declared:
            log.info("broker queues declared", queues=declared)
        runner = Runner(grace=grace, metrics=self.metrics, health=self.health)
        for name, loop in self.engine.loops().items():
            runner.add(name, loop)
        if self.expiry is not None:
            runner.add("certificates", self._watch_certificates)
        for name, loop in nightly_loops(self.store, self.engine.municipalities,
                                        owner=self.engine.owner, clock=self.engine.clock,
                                        observer=self.metrics).items():
            runner.add(name, loop)
        runner.on_shutdown(self.close)
        self.http.start()
        host, port = self.http.address
        log.info("daemon started", municipalities=[m.her_id for m in self.config.municipalities],
                 listen=f"{host}:{port}", owner=self.engine.owner)
        return runner

    def close(self) -> None:
        """Stop serving HTTP, close the adapters, the transports and the store."""
        self.http.stop()
        self._probe.close()
        self._close_adapters()
        self.store.close()

    def _close_adapters(self) -> None:
        for adapter in self.adapters:
            adapter.close()

    def _ping_transport(self) -> None:
        if isinstance(self._probe, AmqpTransport):
            self._probe.ping()
        else:
            self.store.ping()

    def _watch_certificates(self, stop: threading.Event) -> None:
        """Log the certificates that expire soon, now and every hour after."""
        while self.expiry is not None and not stop.is_set():
            self.expiry.check()
            stop.wait(CERTIFICATE_CHECK_SECONDS)

    def _refresh_certificates(self, metrics: Metrics) -> None:
        if self.expiry is None:
            return
        now = datetime.now(UTC)
        for held in inventory(self.expiry.protection).certificates:
            metrics.set_certificate(*held.key, expires=held.expires,
                                    expiring=self.expiry.expiring(held, now))

    def _refresh_metrics(self, metrics: Metrics) -> None:
        now = datetime.now(UTC)
        checkpoints = {c.municipality: c.updated_at for c in self.store.checkpoints.all()}
        for municipality in self.config.municipalities:
            her_id = municipality.her_id
            metrics.set_queue_depth(her_id, "inbox", self.store.inbox.depth(her_id))
            metrics.set_queue_depth(her_id, "outbox", self.store.outbox.depth(her_id))
            metrics.set_dead_letters(her_id, self.store.dead_letters.count(her_id))
            metrics.set_overdue(her_id, len(self.store.threads.overdue(now, her_id)))
            metrics.set_vendor_checkpoint(her_id, checkpoints.get(her_id))
        refresh_nightly(metrics, self.store, [m.her_id for m in self.config.municipalities])
