"""What the daemon's /metrics says about deadlines and the nightly job, read from its store.

``digidialog_overdue_messages`` counts the threads past their answer deadline;
the nightly gauges follow the latest run in the store, whichever daemon
worked it: completed (outcome 1, its duration and end), or handed back with
an error to be retried (outcome 0, the last success kept).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from digidialog.daemon.app import Daemon
from digidialog.daemon.config import embedded_default
from digidialog.testing import mocks
from digidialog.testing.harness import ConformanceHarness
from tests.daemon.test_metrics import samples

MUNICIPALITY = "1000001"
LABELS = (("municipality", MUNICIPALITY),)


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[Daemon]:
    """A daemon (not running) on a SQLite file, its EPJ a Gerica mock."""
    harness: ConformanceHarness = mocks.start("gerica", seed_citizens=0)
    settings = harness.settings()
    config = embedded_default([{
        "name": "Eksempel kommune", "her_id": MUNICIPALITY, "vendor": "gerica",
        "epj": {"base_url": settings.base_url, "username": settings.username,
                "password": settings.password},
        "service": [{"vendor_code": "HSP", "her_id": "1000002"}],
    }], store_url=f"sqlite:///{tmp_path / 'digidialog.db'}", listen="127.0.0.1:0")
    made = Daemon.open(config)
    yield made
    made.close()
    harness.stop()


def test_overdue_threads_are_counted(daemon: Daemon) -> None:
    """Past its deadline with only an interim answer counts; answered or not yet due does not."""
    store = daemon.store
    now = datetime.now(UTC)
    with store.transaction() as conn:
        for root, deadline in (("late", now - timedelta(hours=2)),
                               ("later", now + timedelta(hours=5)),
                               ("answered", now - timedelta(hours=3))):
            store.threads.open(conn, root=root, municipality=MUNICIPALITY, service_code="HSP",
                               service_her_id="1000002", citizen_id="13116900216",
                               opened_at=now - timedelta(days=2))
            store.threads.note_citizen_message(conn, root, f"{root}-1",
                                               now - timedelta(days=2), deadline)
        store.threads.note_answer(conn, "late", now - timedelta(hours=1), interim=True)
        store.threads.note_answer(conn, "answered", now - timedelta(hours=1), interim=False)
    got = samples(daemon.metrics)
    assert got[("digidialog_overdue_messages", LABELS)] == 1, "an interim answer is no answer"


def test_the_nightly_gauges_follow_the_store(daemon: Daemon) -> None:
    """A completed run sets outcome 1; tonight's run failing and handed back sets 0."""
    runs = daemon.store.nightly.runs
    made = runs.create(MUNICIPALITY, "2026-03-01", trigger="schedule", first_part="roster")
    assert made is not None and runs.claim(made, "other-daemon", lease_seconds=60)
    assert runs.finish(made, "other-daemon", completed=True)
    got = samples(daemon.metrics)
    assert got[("digidialog_nightly_last_outcome", LABELS)] == 1
    done = runs.get(made)
    assert done is not None and done.finished_at is not None
    assert got[("digidialog_nightly_last_success_timestamp_seconds", LABELS)] == (
        done.finished_at.timestamp())

    tonight = runs.create(MUNICIPALITY, "2026-03-02", trigger="schedule", first_part="roster")
    assert tonight is not None and runs.claim(tonight, "other-daemon", lease_seconds=60)
    assert runs.release(tonight, "other-daemon", error="VendorUnavailable: down")
    got = samples(daemon.metrics)
    assert got[("digidialog_nightly_last_outcome", LABELS)] == 0
    assert got[("digidialog_nightly_last_success_timestamp_seconds", LABELS)] == (
        done.finished_at.timestamp())
