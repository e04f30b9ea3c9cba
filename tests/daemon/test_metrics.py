"""The daemon's Prometheus metrics: names, labels, store-read gauges and refreshers."""

from __future__ import annotations

from datetime import UTC, datetime

import prometheus_client
from prometheus_client.parser import text_string_to_metric_families

from digidialog.daemon.metrics import Metrics

NAMES = [
    "digidialog_queue_depth", "digidialog_vendor_lag_seconds", "digidialog_overdue_messages",
    "digidialog_apprec_errors_total", "digidialog_dead_letters", "digidialog_nightly_runs_total",
    "digidialog_nightly_last_outcome", "digidialog_nightly_last_duration_seconds",
    "digidialog_nightly_last_run_timestamp_seconds",
    "digidialog_nightly_last_success_timestamp_seconds", "digidialog_messages_received_total",
    "digidialog_messages_sent_total", "digidialog_loop_restarts_total",
    "digidialog_metrics_refresh_errors_total",
]


def samples(metrics: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of the rendered text, by name and sorted labels."""
    text, _ = metrics.render()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text.decode())
            for s in family.samples}


class Clock:
    """A settable clock, so lag is exact."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_every_documented_metric_is_rendered_after_the_pipeline_reports() -> None:
    """Queue depths, lag, overdue, AppRec errors, dead letters, nightly, messages in and out."""
    metrics = Metrics()
    metrics.message_received("1000001", "DIALOG_INNBYGGER_EKONTAKT")
    metrics.message_sent("1000001", "APPREC")
    metrics.apprec_error("1000001", "E35", direction="received")
    metrics.set_queue_depth("1000001", "inbox", {"pending": 3, "done": 10})
    metrics.set_dead_letters("1000001", 2)
    metrics.set_overdue("1000001", 1)
    metrics.set_vendor_checkpoint("1000001", datetime.now(UTC))
    metrics.nightly_finished("1000001", completed=True, duration=12.5)
    metrics.loop_restarted("portal-1000001")
    text, content_type = metrics.render()
    assert content_type.startswith("text/plain")
    for name in NAMES:
        assert f"# TYPE {name} " in text.decode(), name
    got = samples(metrics)
    assert got[("digidialog_queue_depth", (("municipality", "1000001"), ("queue", "inbox"),
                                           ("state", "pending")))] == 3
    assert got[("digidialog_apprec_errors_total", (("code", "E35"), ("direction", "received"),
                                                   ("municipality", "1000001")))] == 1
    assert got[("digidialog_nightly_last_duration_seconds",
                (("municipality", "1000001"),))] == 12.5
    assert got[("digidialog_nightly_runs_total", (("municipality", "1000001"),
                                                  ("outcome", "completed")))] == 1


def test_the_registry_is_the_daemons_own() -> None:
    """Nothing lands in the global default registry, and two daemons do not collide."""
    first, second = Metrics(), Metrics()
    first.message_received("1000001", "X")
    assert prometheus_client.REGISTRY.get_sample_value(
        "digidialog_messages_received_total", {"municipality": "1000001", "kind": "X"}) is None
    assert second.registry.get_sample_value(
        "digidialog_messages_received_total", {"municipality": "1000001", "kind": "X"}) is None
    assert first.registry.get_sample_value(
        "digidialog_messages_received_total", {"municipality": "1000001", "kind": "X"}) == 1


def test_vendor_lag_is_computed_when_scraped() -> None:
    """Seconds since the last checkpoint, at the moment of the scrape; absent when unknown."""
    clock = Clock(1_800_000_000.0)
    metrics = Metrics(clock=clock)
    metrics.set_vendor_checkpoint("1000001", datetime.fromtimestamp(1_800_000_000 - 90, UTC))
    lag = ("digidialog_vendor_lag_seconds", (("municipality", "1000001"),))
    assert samples(metrics)[lag] == 90
    clock.now += 30
    assert samples(metrics)[lag] == 120
    metrics.set_vendor_checkpoint("1000001", None)
    assert lag not in samples(metrics)


def test_queue_states_that_emptied_go_to_zero() -> None:
    """A state missing from the next count is 0, not its last value."""
    metrics = Metrics()
    metrics.set_queue_depth("1000001", "outbox", {"pending": 4, "dead": 1})
    metrics.set_queue_depth("1000001", "outbox", {"done": 5})
    got = samples(metrics)
    key = ("municipality", "1000001"), ("queue", "outbox")
    assert got[("digidialog_queue_depth", (*key, ("state", "pending")))] == 0
    assert got[("digidialog_queue_depth", (*key, ("state", "dead")))] == 0
    assert got[("digidialog_queue_depth", (*key, ("state", "done")))] == 5


def test_refreshers_run_at_each_scrape_and_a_failing_one_is_counted() -> None:
    """Store-read gauges are set by callbacks at scrape time; one failing spoils nothing."""
    calls: list[int] = []

    def dead_letters(metrics: Metrics) -> None:
        calls.append(1)
        metrics.set_dead_letters("1000001", len(calls))

    def broken(_metrics: Metrics) -> None:
        raise ConnectionError("store unreachable")

    metrics = Metrics()
    metrics.add_refresher(broken)
    metrics.add_refresher(dead_letters)
    assert samples(metrics)[("digidialog_dead_letters", (("municipality", "1000001"),))] == 1
    got = samples(metrics)
    assert got[("digidialog_dead_letters", (("municipality", "1000001"),))] == 2
    assert got[("digidialog_metrics_refresh_errors_total", ())] == 2


def test_a_failed_nightly_run_keeps_the_last_success() -> None:
    """Outcome 0 and a new run time, while the last success timestamp stays."""
    metrics = Metrics()
    ok_at = datetime(2026, 3, 1, 1, 5, tzinfo=UTC)
    failed_at = datetime(2026, 3, 2, 1, 7, tzinfo=UTC)
    metrics.nightly_finished("1000001", completed=True, duration=300, at=ok_at)
    metrics.nightly_finished("1000001", completed=False, duration=420, at=failed_at)
    got = samples(metrics)
    municipality = (("municipality", "1000001"),)
    assert got[("digidialog_nightly_last_outcome", municipality)] == 0
    assert got[("digidialog_nightly_last_run_timestamp_seconds", municipality)] == (
        failed_at.timestamp())
    assert got[("digidialog_nightly_last_success_timestamp_seconds", municipality)] == (
        ok_at.timestamp())
    assert got[("digidialog_nightly_runs_total", (*municipality, ("outcome", "failed")))] == 1


def test_openmetrics_is_served_to_who_asks_for_it() -> None:
    """The Accept header chooses OpenMetrics when Prometheus prefers it."""
    metrics = Metrics()
    text, content_type = metrics.render("application/openmetrics-text; version=1.0.0")
    assert content_type.startswith("application/openmetrics-text")
    assert text.rstrip().endswith(b"# EOF")
