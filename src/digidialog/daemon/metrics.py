"""The daemon's Prometheus metrics, in a registry of its own, and the methods the pipeline calls.

What ``daemon.md`` promises on ``/metrics``: queue depths, vendor lag, overdue
messages, AppRec errors, dead letters, nightly outcome and duration (plus
messages in and out, loop restarts, and when the certificates of message
protection expire). Every name starts with
``digidialog_``; labels are municipality HER-ids, queue and state names,
process names and AppRec codes: never anything about a person.

Counters are bumped as things happen. Gauges that mirror the store (queue
depths, dead letters, overdue messages, checkpoints) are set by *refreshers*:
callables registered with :meth:`Metrics.add_refresher` and run when
``/metrics`` is scraped, so no timer thread reads the store behind the
operator's back and values are as fresh as the scrape. Vendor lag is computed
at scrape time from the last checkpoint each municipality reported.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Literal

from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector

from digidialog.log import get_logger

log = get_logger("daemon.metrics")

Refresher = Callable[["Metrics"], None]
"""Reads what the store knows and sets the gauges (``metrics.set_queue_depth(...)`` ...)."""

VENDOR_LAG = "digidialog_vendor_lag_seconds"


class Metrics:
    """Every metric of one daemon, and the one registry ``/metrics`` renders."""

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._clock = clock
        self._lock = threading.Lock()
        self._refresh_lock = threading.Lock()
        self._refreshers: list[Refresher] = []
        self._checkpoints: dict[str, float] = {}
        self._states_seen: dict[tuple[str, str], set[str]] = {}
        r = self.registry
        self.messages_received = Counter(
            "digidialog_messages_received_total", "Messages received from the portal.",
            ["municipality", "kind"], registry=r)
        self.messages_sent = Counter(
            "digidialog_messages_sent_total", "Messages sent to the portal.",
            ["municipality", "kind"], registry=r)
        self.apprec_errors = Counter(
            "digidialog_apprec_errors_total",
            "AppRecs reporting an error, by code; direction received (the portal refused "
            "ours) or sent (we refused the portal's).",
            ["municipality", "code", "direction"], registry=r)
        self.queue_depth = Gauge(
            "digidialog_queue_depth", "Work items in the store, by queue and state.",
            ["municipality", "queue", "state"], registry=r)
        self.dead_letters = Gauge(
            "digidialog_dead_letters", "Parked work not yet retried.",
            ["municipality"], registry=r)
        self.overdue_messages = Gauge(
            "digidialog_overdue_messages",
            "Citizen messages past their answer deadline and not answered.",
            ["municipality"], registry=r)
        self.nightly_runs = Counter(
            "digidialog_nightly_runs_total", "Nightly runs, by outcome (completed or failed).",
            ["municipality", "outcome"], registry=r)
        self.nightly_last_outcome = Gauge(
            "digidialog_nightly_last_outcome", "1 when the last nightly run completed, else 0.",
            ["municipality"], registry=r)
        self.nightly_last_duration = Gauge(
            "digidialog_nightly_last_duration_seconds", "How long the last nightly run took.",
            ["municipality"], registry=r)
        self.nightly_last_run = Gauge(
            "digidialog_nightly_last_run_timestamp_seconds", "When the last nightly run ended.",
            ["municipality"], registry=r)
        self.nightly_last_success = Gauge(
            "digidialog_nightly_last_success_timestamp_seconds",
            "When the last completed nightly run ended.", ["municipality"], registry=r)
        self.loop_restarts = Counter(
            "digidialog_loop_restarts_total", "Loops restarted after they failed.",
            ["loop"], registry=r)
        self.certificate_expiry = Gauge(
            "digidialog_certificate_expiry_timestamp_seconds",
            "When a certificate of message protection expires: owner own (our keys, holder "
            "their name) or party (holder its HER-id); use signing, encryption or previous "
            "encryption.", ["owner", "holder", "use"], registry=r)
        self.certificate_expiring = Gauge(
            "digidialog_certificate_expiring",
            "1 when a certificate of message protection expires within the warning period "
            "(30 days by default) or has expired, else 0.", ["owner", "holder", "use"],
            registry=r)
        self.refresh_errors = Counter(
            "digidialog_metrics_refresh_errors_total",
            "Refreshers that failed while /metrics was scraped (the gauges kept old values).",
            registry=r)
        r.register(_VendorLag(self))

    # ---------------------------------------------------------------- events

    def message_received(self, municipality: str, kind: str) -> None:
        """One message taken from the portal (``kind``: its process name, or ``APPREC``)."""
        self.messages_received.labels(municipality, kind).inc()

    def message_sent(self, municipality: str, kind: str) -> None:
        """One message handed to the portal's queue."""
        self.messages_sent.labels(municipality, kind).inc()

    def apprec_error(self, municipality: str, code: str, *,
                     direction: Literal["received", "sent"]) -> None:
        """An AppRec with error ``code`` (code system 8221) was received or sent."""
        self.apprec_errors.labels(municipality, code, direction).inc()

    def nightly_finished(self, municipality: str, *, completed: bool, duration: float,
                         at: datetime | None = None) -> None:
        """A nightly run ended: completed or failed, after ``duration`` seconds."""
        ended = self._clock() if at is None else at.timestamp()
        self.nightly_runs.labels(municipality, "completed" if completed else "failed").inc()
        self.nightly_last_outcome.labels(municipality).set(1 if completed else 0)
        self.nightly_last_duration.labels(municipality).set(duration)
        self.nightly_last_run.labels(municipality).set(ended)
        if completed:
            self.nightly_last_success.labels(municipality).set(ended)

    def loop_restarted(self, loop: str) -> None:
        """The runner restarted ``loop`` after it raised."""
        self.loop_restarts.labels(loop).inc()

    # ------------------------------------------------ what the store knows

    def set_queue_depth(self, municipality: str, queue: str, depths: Mapping[str, int]) -> None:
        """Counts per state of one queue (``inbox``, ``outbox``, ...); states now absent are 0."""
        with self._lock:
            seen = self._states_seen.setdefault((municipality, queue), set())
            seen.update(depths)
            states = sorted(seen)
        for state in states:
            self.queue_depth.labels(municipality, queue, state).set(depths.get(state, 0))

    def set_dead_letters(self, municipality: str, count: int) -> None:
        """Parked work of a municipality not yet retried."""
        self.dead_letters.labels(municipality).set(count)

    def set_overdue(self, municipality: str, count: int) -> None:
        """Citizen messages of a municipality past their deadline."""
        self.overdue_messages.labels(municipality).set(count)

    def set_certificate(self, owner: str, holder: str, use: str, *, expires: datetime,
                        expiring: bool) -> None:
        """A certificate of message protection: when it expires, and whether that is soon."""
        self.certificate_expiry.labels(owner, holder, use).set(expires.timestamp())
        self.certificate_expiring.labels(owner, holder, use).set(1 if expiring else 0)

    def set_vendor_checkpoint(self, municipality: str, at: datetime | None) -> None:
        """When the municipality's EPJ change feed last advanced (None: never)."""
        with self._lock:
            if at is None:
                self._checkpoints.pop(municipality, None)
            else:
                self._checkpoints[municipality] = at.timestamp()

    def vendor_lags(self) -> dict[str, float]:
        """Seconds since each municipality's last checkpoint, now."""
        now = self._clock()
        with self._lock:
            return {m: max(0.0, now - at) for m, at in self._checkpoints.items()}

    # ------------------------------------------------------------- scraping

    def add_refresher(self, refresher: Refresher) -> None:
        """Run ``refresher(self)`` before every scrape, to set the gauges read from the store."""
        with self._lock:
            self._refreshers.append(refresher)

    def refresh(self) -> None:
        """Run every refresher; one that fails is logged and counted, the others still run."""
        with self._lock:
            refreshers = list(self._refreshers)
        # One scrape refreshes at a time; a second one waits and gets the same fresh values.
        with self._refresh_lock:
            for refresher in refreshers:
                try:
                    refresher(self)
                except Exception as error:
                    self.refresh_errors.inc()
                    log.warning("metrics_refresh_failed", error_type=type(error).__name__,
                                error=str(error))

    def render(self, accept: str = "") -> tuple[bytes, str]:
        """Refresh, then the registry in the format ``accept`` asks for, and its content type."""
        self.refresh()
        encoder, content_type = choose_encoder(accept)
        return encoder(self.registry), content_type


class _VendorLag(Collector):
    """``digidialog_vendor_lag_seconds``, computed when collected so it is never stale."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def collect(self) -> Iterator[Metric]:
        """One sample per municipality that reported a checkpoint."""
        family = GaugeMetricFamily(VENDOR_LAG, "Seconds since the EPJ change feed last advanced.",
                                   labels=["municipality"])
        for municipality, lag in sorted(self._metrics.vendor_lags().items()):
            family.add_metric([municipality], lag)
        yield family
